// Browser test driver: the owner removes a member; an operator announcement reaches every page.
// Works against one embedded RoomServer or nginx in front of replicas.
//
//   BASE_URL       RoomServer (or nginx in front of the replicas), e.g. http://127.0.0.1:8080 (required)
//   API_KEY        RoomServer API key for the HTTP API                                          (required)
//   SCREENSHOT_DIR where the mobile screenshots go                                              (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)
//
// Steps: create a room and tokens (API); open O (owner), A and B on phones; A chooses 2× an item and
// B 1×; O sees remove controls next to A and B and none next to itself; O removes A (remove →
// confirm) → O and B see A leave the members list and the totals drop by exactly A's choices; A's
// page says it was removed (data-removed), is offline with every control disabled, forgot its saved
// room, and opens no new hub connection (no reconnect loop); A reloads → still the removed message
// (the server refuses the old token); a new link for A (a token issued after the removal) pasted into
// the same tab (only the hash differs) → A is live again, no removed message; an announcement posted
// through the API appears on O and B, and O dismisses it. B presses + while its hub is blocked and
// reloads before it is back → the press is still shown (pending) and, once the hub is back, sent and in
// O's order (it was kept, with its opId, beside the saved state). Last, B is removed while away: B's page
// hears none of its hub messages (no Removed, no member_removed), then its socket drops → the
// reconnect is refused (401) for a token that has not expired → B says it was removed (not "expired"),
// its own choice leaves the order it shows, and it forgets its saved room. Then C joins and is removed while its
// hub invocations are dropped but the server's close for good arrives: C's one connect after it is refused (401),
// and C says it was removed, not "cannot reach the server".
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...}
// (exit 1). Progress goes to stderr.

import {
  api, createDriver, createRoom, memberLink, shot, STEP_TIMEOUT_MS, waitFor, waitLive,
} from './kit.mjs';

const NO_RECONNECT_WATCH_MS = 3_000;

const MENU = [
  { id: 'margherita', name: 'Margherita', priceMinor: 950 },
  { id: 'water', name: 'Sparkling water', priceMinor: 450 },
];

const { report, step, run, launchBrowser, newPhone } = createDriver('remove-member', { overallTimeoutMs: 110_000 });

// Counts the hub connections the page opens (WebSocket, or the SSE / long-polling fallbacks'
// negotiate), so a reconnect loop after the removal shows up.
function countHubConnects() {
  window.__hubConnects = 0;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      if (String(url).includes('/hubs/room')) window.__hubConnects += 1;
    }
  };
}

// B's hub messages can be dropped (window.__dropHub: as for a phone asleep, or frames lost) and its
// socket closed from this side (window.__closeHub(): the network went away).
function controllableHub() {
  window.__dropHub = false;
  window.__hubSockets = [];
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      if (String(url).includes('/hubs/room')) window.__hubSockets.push(this);
    }

    get onmessage() { return super.onmessage; }

    set onmessage(handler) {
      super.onmessage = typeof handler !== 'function' ? handler : (event) => { if (!window.__dropHub) handler(event); };
    }
  };
  window.__closeHub = () => {
    for (const socket of window.__hubSockets) socket.close(4000, 'test: the network went away');
  };
}

// C's hub invocations (events, Removed) can be dropped while everything else — the server's Close message among it —
// still arrives (window.__dropInvocations): a Removed notice that did not make it before the server closed the
// connection for good (DESIGN.md §3 does not hold the close back for it).
function invocationsDroppable() {
  window.__dropInvocations = false;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    get onmessage() { return super.onmessage; }

    set onmessage(handler) {
      super.onmessage = typeof handler !== 'function' ? handler : (event) => {
        if (!window.__dropInvocations || typeof event.data !== 'string') {
          handler(event);
          return;
        }
        const kept = event.data.split('\x1e').filter((frame) => frame !== '' && !/^\{"type":1[,}]/.test(frame));
        if (kept.length > 0) handler({ data: kept.map((frame) => `${frame}\x1e`).join('') });
      };
    }
  };
}

const removedShown = () => document.body.dataset.removed === 'true' && !document.querySelector('[data-testid=removed]').hidden;

const grandTotal = (page) => page.evaluate(() => Number(document.querySelector('[data-testid=grand-total]').dataset.amount ?? 0));

async function main() {
  const room = await step('create-room', () => createRoom('Table 9 · removal test', MENU));
  report.roomId = room.id;

  await step('launch-browser', launchBrowser);

  const openPhone = (url, label) => newPhone(url, label, { initScript: countHubConnects });
  const o = await step('open-owner', () => openPhone(room.owner, 'O'));
  const a = await step('open-a', () => openPhone(room.a, 'A'));
  const b = await step('open-b', () => newPhone(room.b, 'B', { initScript: controllableHub }));

  const expectedBefore = 2 * MENU[0].priceMinor + MENU[1].priceMinor;
  await step('a-and-b-choose', async () => {
    await a.page.click(`[data-testid="inc-${MENU[0].id}"]`);
    await a.page.click(`[data-testid="inc-${MENU[0].id}"]`);
    await b.page.click(`[data-testid="inc-${MENU[1].id}"]`);
    for (const phone of [o, a, b]) {
      await waitFor(phone.page, phone.label, `the total ${expectedBefore}`,
        (total) => Number(document.querySelector('[data-testid=grand-total]').dataset.amount) === total
          && document.body.dataset.pending === '0', expectedBefore);
    }
  });

  await step('remove-controls-only-for-the-owner', async () => {
    await waitFor(o.page, 'O', 'A and B in the members list',
      () => document.querySelector('[data-testid=member-alice]') && document.querySelector('[data-testid=member-bob]'));
    if (!(await o.page.isVisible('[data-testid=remove-alice]')) || !(await o.page.isVisible('[data-testid=remove-bob]'))) {
      throw new Error('the owner sees no remove control next to A or B');
    }
    if (await o.page.isVisible('[data-testid=remove-olivia]')) throw new Error('the owner sees a remove control next to themself');
    const visibleOnB = await b.page.evaluate(() => [...document.querySelectorAll('[data-testid^="remove-"]')].filter((e) => !e.hidden).length);
    if (visibleOnB !== 0) throw new Error(`a member sees ${visibleOnB} remove control(s)`);
  });

  await step('owner-removes-a', async () => {
    report.aConnectsBefore = await a.page.evaluate(() => window.__hubConnects);
    await o.page.click('[data-testid=remove-alice]');
    await o.page.waitForSelector('[data-testid=confirm-remove-alice]', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    await shot(o.page, '01-owner-confirms');
    await o.page.click('[data-testid=confirm-remove-alice]');
    const expectedAfter = MENU[1].priceMinor;
    for (const phone of [o, b]) {
      await waitFor(phone.page, phone.label, 'A gone from the members list, the total down by A\'s choices',
        (total) => !document.querySelector('[data-testid=member-alice]')
          && Number(document.querySelector('[data-testid=grand-total]').dataset.amount) === total
          && !document.querySelector('#order li[data-by*="alice:"]'), expectedAfter);
    }
    report.totalAfterRemoval = await grandTotal(b.page);
    await shot(o.page, '02-owner-after-removal');
  });

  await step('a-shows-removed-and-stops', async () => {
    await waitFor(a.page, 'A', 'the removed message', () => document.body.dataset.removed === 'true'
      && !document.querySelector('[data-testid=removed]').hidden);
    report.aRemovedText = (await a.page.textContent('[data-testid=removed]')).trim().split('\n')[0];
    const state = await a.page.evaluate((roomId) => ({
      status: document.body.dataset.status,
      enabledSteps: [...document.querySelectorAll('button[data-testid^="inc-"], button[data-testid^="dec-"]')].filter((s) => !s.disabled).length,
      saved: Object.keys(sessionStorage).filter((k) => k.includes(`:${roomId}:alice`) && !k.includes(':removed:')),
    }), room.id);
    if (state.status !== 'offline') throw new Error(`A's status is ${state.status}, expected offline`);
    if (state.enabledSteps !== 0) throw new Error(`A still has ${state.enabledSteps} enabled − / + buttons`);
    if (state.saved.length !== 0) throw new Error(`A kept its saved room: ${state.saved.join(', ')}`);
    await a.page.waitForTimeout(NO_RECONNECT_WATCH_MS);
    const after = await a.page.evaluate(() => ({ connects: window.__hubConnects, status: document.body.dataset.status }));
    report.aConnectsAfter = after.connects;
    if (after.connects !== report.aConnectsBefore) throw new Error(`A opened ${after.connects - report.aConnectsBefore} new hub connection(s) after its removal`);
    if (after.status !== 'offline') throw new Error(`A's status became ${after.status} after its removal`);
    await shot(a.page, '03-a-removed');
  });

  await step('a-reloads-still-removed', async () => {
    await a.page.reload({ waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
    await waitFor(a.page, 'A after reload', 'the removed message (the old token is refused)', removedShown);
  });

  await step('a-follows-a-new-link', async () => {
    const newLink = await memberLink(room.id, 'alice', 'Alice');
    if (new URL(newLink).hash === new URL(a.page.url()).hash) throw new Error('the new link is the old one');
    // Only the hash differs: no navigation of its own, the page must notice and start over.
    const reloaded = a.page.waitForEvent('domcontentloaded', { timeout: STEP_TIMEOUT_MS });
    await a.page.goto(newLink, { waitUntil: 'commit', timeout: STEP_TIMEOUT_MS });
    await reloaded;
    await waitLive(a.page, 'A with the new link');
    const state = await a.page.evaluate(() => ({
      removed: document.body.dataset.removed ?? null,
      removedBox: !document.querySelector('[data-testid=removed]').hidden,
    }));
    if (state.removed !== null || state.removedBox) throw new Error(`A is live but still says removed: ${JSON.stringify(state)}`);
    await waitFor(o.page, 'O', 'A back in the members list', () => document.querySelector('[data-testid=member-alice]'));
  });

  await step('announcement-reaches-every-page', async () => {
    const message = `Planned maintenance at 23:00 (${Date.now()})`;
    const posted = await api('POST', '/api/announcements', { kind: 'maintenance', message });
    report.announcementId = posted?.id ?? null;
    for (const phone of [o, b]) {
      await waitFor(phone.page, phone.label, 'the announcement', (text) => {
        const el = document.querySelector('[data-testid=announcement]');
        return el && !el.hidden && el.offsetParent !== null && el.textContent === text;
      }, message);
    }
    await shot(b.page, '04-b-announcement');
    await o.page.click('[data-testid=dismiss-announcement]');
    await waitFor(o.page, 'O', 'the announcement to be dismissed', () => document.querySelector('[data-testid=announcement]').offsetParent === null);
  });

  await step('b-presses-offline-and-reloads-keeping-the-press', async () => {
    // No new hub connection while blocked: negotiate (and the SSE / long-polling fallbacks) are refused, then B's
    // socket is closed. B presses + (kept pending), and reloads before it is back.
    const isHub = (url) => new URL(url).pathname.startsWith('/hubs/room');
    await b.page.route(isHub, (route) => route.abort());
    await b.page.evaluate(() => window.__closeHub());
    await waitFor(b.page, 'B', 'its connection lost', () => document.body.dataset.status !== 'live');
    const item = MENU[0].id;
    const pressShown = (menuId) => document.querySelector(`[data-testid="qty-${menuId}"]`)?.dataset.quantity === '1'
      && document.body.dataset.pending === '1';
    await b.page.click(`[data-testid="inc-${item}"]`);
    await waitFor(b.page, 'B', 'the offline press shown, pending', pressShown, item);
    await b.page.reload({ waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
    await waitFor(b.page, 'B after reload', 'the offline press still shown, pending', pressShown, item);
    if ((await b.page.evaluate(() => document.body.dataset.status)) === 'live') throw new Error('B is live while its hub is blocked');
    await b.page.unroute(isHub);
    await waitLive(b.page, 'B once its hub is back', 20_000); // the page's start retries after 1, 2, 5, 10 s
    await waitFor(b.page, 'B', 'the press sent and settled', (menuId) => document.body.dataset.pending === '0'
      && document.querySelector(`[data-testid="qty-${menuId}"]`).dataset.quantity === '1', item);
    await waitFor(o.page, 'O', "B's press in the order", (menuId) => document.querySelector(`#order li[data-menu-id="${menuId}"]`)?.dataset.by.split(',').includes('bob:1'), item);
  });

  await step('b-removed-while-away', async () => {
    await b.page.evaluate(() => { window.__dropHub = true; });
    await o.page.click('[data-testid=remove-bob]');
    await o.page.waitForSelector('[data-testid=confirm-remove-bob]', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    await o.page.click('[data-testid=confirm-remove-bob]');
    await waitFor(o.page, 'O', 'B gone from the members list and the order',
      () => !document.querySelector('[data-testid=member-bob]') && !document.querySelector('#order li[data-by*="bob:"]'));
    // B heard nothing; the server closes its connection soon anyway. Drop it now, from B's side.
    await b.page.evaluate(() => window.__closeHub());
    await waitFor(b.page, 'B', 'the removed message (the reconnect is refused)', removedShown);
    const state = await b.page.evaluate((roomId) => ({
      status: document.body.dataset.status,
      text: document.querySelector('#removed-text').textContent,
      error: document.querySelector('#error').hidden ? null : document.querySelector('#error-text').textContent,
      ownLines: document.querySelectorAll('#order li[data-by*="bob:"]').length,
      saved: Object.keys(sessionStorage).filter((k) => k.includes(`:${roomId}:bob`) && !k.includes(':removed:')),
    }), room.id);
    report.bRemovedText = state.text;
    if (state.status !== 'offline') throw new Error(`B's status is ${state.status}, expected offline`);
    if (!/removed/.test(state.text)) throw new Error(`B says "${state.text}", not that it was removed`);
    if (state.error !== null) throw new Error(`B also shows an error: ${state.error}`);
    if (state.ownLines !== 0) throw new Error(`B's order still shows its own choice (${state.ownLines} line(s))`);
    if (state.saved.length !== 0) throw new Error(`B kept its saved room: ${state.saved.join(', ')}`);
    await shot(b.page, '05-b-removed-while-away');
  });

  await step('c-closed-for-good-without-its-removed-notice', async () => {
    const c = await newPhone(await memberLink(room.id, 'carol', 'Carol'), 'C', { initScript: invocationsDroppable });
    await waitLive(c.page, 'C');
    await waitFor(o.page, 'O', 'C in the members list', () => document.querySelector('[data-testid=member-carol]'));
    await c.page.evaluate(() => { window.__dropInvocations = true; });
    await o.page.click('[data-testid=remove-carol]');
    await o.page.waitForSelector('[data-testid=confirm-remove-carol]', { state: 'visible', timeout: STEP_TIMEOUT_MS });
    await o.page.click('[data-testid=confirm-remove-carol]');
    // The server closes C's connection for good; C never heard why. One connect is refused (401): removed.
    await waitFor(c.page, 'C', 'the removed message, not "cannot reach the server"', removedShown);
    const error = await c.page.evaluate(() => (document.querySelector('#error').hidden ? null : document.querySelector('#error-text').textContent));
    if (error !== null) throw new Error(`C also shows an error: ${error}`);
  });
}

run(main);
