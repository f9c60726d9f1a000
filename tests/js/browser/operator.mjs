// Browser test driver: the operator page (operator.html) shows a dead-lettered order delivery with
// its last error, retries it, and shows the room's deliveries; the API key stays in the tab only.
// Run by RoomServer.Tests/Browser/OperatorPageInChromiumTests against a replica whose only webhook
// receiver refuses the first MaxAttempts deliveries and accepts the ones after.
//
//   BASE_URL       RoomServer, e.g. http://127.0.0.1:8080                                  (required)
//   API_KEY        RoomServer API key                                                       (required)
//   SCREENSHOT_DIR where the screenshots go                                                 (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)
//
// Steps: create and lock a room (API) → its order.submitted is dead-lettered; open the page in a
// fresh tab → it asks for the key; a wrong key is refused with a message; the right key shows the
// dead letter with the receiver's HTTP 422 and a retry button; the key is in sessionStorage, not
// localStorage, and survives a reload of the tab; the room's deliveries say dead; a focused Retry button
// keeps the focus (the same element) through the page's next refresh; a Retry the server refuses (429, routed
// by the test) says why, the message outlives the page's next refresh and the button works again; Retry →
// the dead letter goes, the message too, and the room's delivery turns delivered; a second room's dead
// letter (the receiver refuses again) stays when its Delete is not confirmed and goes when it is, and a refresh
// started before the delete and answered after it (held by the test) does not show it again; Retry all
// then says what it did; another tab asks for the key again; "Forget key" while a refresh is reading locks the
// page with no error (the refresh's answer is dropped).
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...} (exit 1).

import { api, createDriver, shot, STEP_TIMEOUT_MS, waitFor } from './kit.mjs';

const DELIVERY_TIMEOUT_MS = 20_000;
const BASE_URL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
const API_KEY = process.env.API_KEY ?? '';

const { report, log, step, run, launchBrowser } = createDriver('operator', { overallTimeoutMs: 90_000 });

async function newTab(browser) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  await page.goto(`${BASE_URL}/operator.html`, { waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
  return { context, page };
}

async function enterKey(page, key) {
  await page.fill('[data-testid=api-key]', key);
  await page.click('[data-testid=use-key]');
}

async function main() {
  const room = await step('create-and-lock-a-room', async () => {
    const created = await api('POST', '/api/rooms', { name: 'Operator test', menu: [{ id: 'soup', name: 'Soup', priceMinor: 700 }] });
    const locked = await api('PUT', `/api/rooms/${encodeURIComponent(created.roomId)}/state`, { state: 'locked' });
    return { id: created.roomId, orderId: `${created.roomId}:${locked.version}` };
  });
  report.roomId = room.id;

  const browser = await step('launch-browser', launchBrowser);
  const { page } = await step('open-the-page', () => newTab(browser));

  await step('it-asks-for-the-key', async () => {
    await waitFor(page, 'page', 'the key form', () => document.body.dataset.status === 'no-key');
    if (!(await page.isVisible('[data-testid=api-key]'))) throw new Error('no key field');
  });

  await step('a-wrong-key-is-refused', async () => {
    await enterKey(page, 'not-the-key-0123456789');
    await waitFor(page, 'page', 'the refusal', () => /refused/.test(document.querySelector('[data-testid=error]').textContent)
      && !document.querySelector('[data-testid=error]').hidden && document.body.dataset.status === 'no-key');
  });

  await step('the-dead-letter-shows-with-its-last-error', async () => {
    await enterKey(page, API_KEY);
    await waitFor(page, 'page', `a dead letter of ${room.orderId}`,
      (orderId) => [...document.querySelectorAll('[data-testid=dead-letters] li')].some((li) => li.dataset.orderId === orderId),
      room.orderId, DELIVERY_TIMEOUT_MS);
    const item = await page.evaluate((orderId) => {
      const li = [...document.querySelectorAll('[data-testid=dead-letters] li')].find((e) => e.dataset.orderId === orderId);
      return { text: li.textContent, retry: !!li.querySelector('button[data-testid^="retry-"]') };
    }, room.orderId);
    if (!item.text.includes('HTTP 422')) throw new Error(`the dead letter does not show the last error: ${item.text}`);
    if (!item.retry) throw new Error('the dead letter has no retry button');
    if (!(await page.isHidden('[data-testid=error]'))) throw new Error('the refusal message is still shown');
  });

  await step('the-key-stays-in-the-tab-only', async () => {
    const stored = await page.evaluate(() => ({ session: Object.values({ ...sessionStorage }), local: localStorage.length }));
    if (!stored.session.includes(API_KEY)) throw new Error('the key is not in sessionStorage');
    if (stored.local !== 0) throw new Error('something was written to localStorage');
    await page.reload({ waitUntil: 'domcontentloaded' });
    await waitFor(page, 'page', 'the page ready again without asking', () => document.body.dataset.status === 'ready');
  });

  await step('the-rooms-delivery-says-dead', async () => {
    await page.fill('[data-testid=room-id]', room.id);
    await page.click('[data-testid=show-order]');
    await waitFor(page, 'page', 'a dead delivery', () => [...document.querySelectorAll('[data-testid=delivery]')].some((d) => d.dataset.status === 'dead'));
    await shot(page, 'operator-dead-letter');
  });

  await step('a-focused-retry-button-keeps-the-focus-through-the-next-refresh', async () => {
    // The page refreshes every 5 s; rebuilding the list there dropped a keyboard user's focus on <body>.
    await page.focus(`[data-testid=dead-letters] li[data-order-id="${room.orderId}"] button[data-testid^="retry-"]`);
    const before = await page.evaluate(() => {
      window.focusedBeforeRefresh = document.activeElement;
      return { testid: document.activeElement.dataset.testid, refreshes: Number(document.body.dataset.refreshes) };
    });
    await waitFor(page, 'page', 'the next refresh', (n) => Number(document.body.dataset.refreshes) > n, before.refreshes, 10_000);
    const after = await page.evaluate(() => ({
      testid: document.activeElement?.dataset.testid ?? document.activeElement?.tagName,
      sameNode: document.activeElement === window.focusedBeforeRefresh,
    }));
    if (after.testid !== before.testid || !after.sameNode) {
      throw new Error(`the refresh moved the focus off ${before.testid}: ${JSON.stringify(after)}`);
    }
  });

  await step('a-refused-retry-says-why-and-the-message-outlives-the-next-refresh', async () => {
    const retries = '**/api/deadletters/*/retry';
    await page.route(retries, (route) => route.fulfill({
      status: 429,
      contentType: 'application/problem+json',
      headers: { 'retry-after': '1' },
      body: JSON.stringify({ title: 'rate limited', status: 429, code: 'rate_limited', detail: 'too many requests for this API key (test)' }),
    }));
    await page.click(`[data-testid=dead-letters] li[data-order-id="${room.orderId}"] button[data-testid^="retry-"]`);
    await waitFor(page, 'page', 'the refusal shown', () => !document.querySelector('[data-testid=error]').hidden
      && /too many requests/.test(document.querySelector('[data-testid=error]').textContent));
    // The letter's item is kept by the refresh the retry ends with (nothing in it changed): its button, disabled
    // while the retry ran, works again once it is over.
    const retry = `[data-testid=dead-letters] li[data-order-id="${room.orderId}"] button[data-testid^="retry-"]`;
    await waitFor(page, 'page', 'the retry button enabled again after the refused retry', (selector) => !document.querySelector(selector).disabled, retry);
    // Then the page's own 5 s refresh.
    const refreshes = await page.evaluate(() => Number(document.body.dataset.refreshes));
    await waitFor(page, 'page', 'a refresh after the refusal', (n) => Number(document.body.dataset.refreshes) > n, refreshes, 10_000);
    const after = await page.evaluate(() => ({
      hidden: document.querySelector('[data-testid=error]').hidden,
      text: document.querySelector('[data-testid=error]').textContent,
    }));
    if (after.hidden || !/too many requests/.test(after.text)) throw new Error(`the refresh cleared the refusal: ${JSON.stringify(after)}`);
    await page.unroute(retries);
  });

  await step('retry-delivers-it', async () => {
    await page.click(`[data-testid=dead-letters] li[data-order-id="${room.orderId}"] button[data-testid^="retry-"]`);
    await waitFor(page, 'page', 'the dead letter gone', (orderId) => ![...document.querySelectorAll('[data-testid=dead-letters] li')].some((li) => li.dataset.orderId === orderId),
      room.orderId, DELIVERY_TIMEOUT_MS);
    await waitFor(page, 'page', 'the delivery delivered', () => [...document.querySelectorAll('[data-testid=delivery]')].some((d) => d.dataset.status === 'delivered'),
      null, DELIVERY_TIMEOUT_MS);
    if (!(await page.isHidden('[data-testid=error]'))) throw new Error('the earlier refusal is still shown after a retry that worked');
    await shot(page, 'operator-delivered');
  });

  const secondOrderId = await step('delete-asks-first', async () => {
    const created = await api('POST', '/api/rooms', { name: 'Operator test 2', menu: [{ id: 'soup', name: 'Soup', priceMinor: 700 }] });
    const locked = await api('PUT', `/api/rooms/${encodeURIComponent(created.roomId)}/state`, { state: 'locked' });
    const orderId = `${created.roomId}:${locked.version}`;
    const item = `[data-testid=dead-letters] li[data-order-id="${orderId}"]`;
    await waitFor(page, 'page', `a dead letter of ${orderId}`,
      (id) => [...document.querySelectorAll('[data-testid=dead-letters] li')].some((li) => li.dataset.orderId === id), orderId, DELIVERY_TIMEOUT_MS);

    let asked = null;
    page.once('dialog', (dialog) => { asked = dialog.message(); dialog.dismiss(); });
    await page.click(`${item} button[data-testid^="delete-"]`);
    if (!asked?.includes(orderId)) throw new Error(`the delete did not ask first (or not about ${orderId}): ${asked}`);
    await page.click('[data-testid=refresh]');
    await waitFor(page, 'page', 'the page ready', () => document.body.dataset.status === 'ready');
    if (!(await page.isVisible(item))) throw new Error('a delete that was not confirmed removed the letter');
    return orderId;
  });

  await step('a-confirmed-delete-removes-the-letter-and-an-older-slower-refresh-does-not-bring-it-back', async () => {
    const orderId = secondOrderId;
    // A refresh reads the letter and its answer is held; the delete's own refresh, started later, answers first.
    // Only the latest refresh may render: the held answer must not show the deleted letter again.
    const isDeadLetters = (url) => new URL(url).pathname === '/api/deadletters';
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    let read = false;
    let holding = false;
    await page.route(isDeadLetters, async (route) => {
      if (route.request().method() !== 'GET' || holding) return route.continue();
      holding = true;
      const stale = await route.fetch();
      read = true;
      await held;
      return route.fulfill({ response: stale }).catch(() => {});
    });
    await page.click('[data-testid=refresh]');
    for (const until = Date.now() + STEP_TIMEOUT_MS; !read; await new Promise((r) => { setTimeout(r, 50); })) {
      if (Date.now() > until) throw new Error('the refresh read no dead letters');
    }

    page.once('dialog', (dialog) => dialog.accept());
    await page.click(`[data-testid=dead-letters] li[data-order-id="${orderId}"] button[data-testid^="delete-"]`);
    await waitFor(page, 'page', 'the dead letter gone', (id) => ![...document.querySelectorAll('[data-testid=dead-letters] li')].some((li) => li.dataset.orderId === id), orderId);
    if (!(await page.isHidden('[data-testid=error]'))) throw new Error('the delete shows an error');
    // Catches it shown again even for a moment (the timer's next refresh would remove it again).
    await page.evaluate((id) => {
      window.deletedLetterShown = false;
      new MutationObserver(() => {
        if (document.querySelector(`[data-testid=dead-letters] li[data-order-id="${id}"]`)) window.deletedLetterShown = true;
      }).observe(document.querySelector('[data-testid=dead-letters]'), { childList: true });
    }, orderId);

    const answered = page.waitForResponse((r) => isDeadLetters(r.url()) && r.request().method() === 'GET', { timeout: STEP_TIMEOUT_MS });
    release();
    await answered;
    await page.waitForTimeout(1_000); // the held refresh's own reads after the held one, and its rendering
    await page.unroute(isDeadLetters);
    if (await page.evaluate(() => window.deletedLetterShown)) throw new Error('the older refresh showed the deleted dead letter again');
  });

  await step('retry-all-says-what-it-did', async () => {
    await page.click('[data-testid=retry-all]');
    await waitFor(page, 'page', 'the retry-all result', () => !document.querySelector('[data-testid=retry-all-result]').hidden
      && /Retried 0 dead letter/.test(document.querySelector('[data-testid=retry-all-result]').textContent));
    await shot(page, 'operator-after-delete');
  });

  await step('another-tab-asks-again', async () => {
    const other = await newTab(browser);
    await waitFor(other.page, 'other tab', 'the key form', () => document.body.dataset.status === 'no-key');
  });

  await step('forget-key-during-a-refresh-shows-no-error', async () => {
    // The refresh's first read is held until the key is forgotten; the rest of it must then show nothing (it used
    // to read the api the lock had set to null: "Cannot read properties of null").
    const isDeadLetters = (url) => new URL(url).pathname === '/api/deadletters';
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    let holding = 0;
    await page.route(isDeadLetters, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      holding += 1;
      await held;
      return route.continue().catch(() => {});
    });
    await page.click('[data-testid=refresh]');
    for (const until = Date.now() + STEP_TIMEOUT_MS; holding === 0; await new Promise((r) => { setTimeout(r, 50); })) {
      if (Date.now() > until) throw new Error('the refresh read no dead letters');
    }
    const answered = page.waitForResponse((r) => isDeadLetters(r.url()) && r.request().method() === 'GET', { timeout: STEP_TIMEOUT_MS });
    await page.click('[data-testid=forget-key]');
    release();
    await answered;
    await page.waitForTimeout(500); // the refresh's own reads after the held one
    const after = await page.evaluate(() => ({
      status: document.body.dataset.status,
      error: document.querySelector('[data-testid=error]').hidden ? null : document.querySelector('[data-testid=error]').textContent,
      deadCard: !document.getElementById('dead-card').hidden,
    }));
    await page.unroute(isDeadLetters);
    if (after.error !== null) throw new Error(`the forgotten key's refresh shows an error: ${after.error}`);
    if (after.status !== 'no-key' || after.deadCard) throw new Error(`the page is not locked after "Forget key": ${JSON.stringify(after)}`);
  });
}

run(main);
