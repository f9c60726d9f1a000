// Browser test driver: a link that expired by the server's clock, opened on a phone whose clock runs three minutes
// behind. The page, reading `exp` on its own clock, takes the link for live and connects; the hub refuses it (401).
// A 401 for a link that looks live is read as a removal, so the page must judge it by the server's clock (the Date of
// its answers): it says the link expired, not that the member was removed.
//
//   BASE_URL, API_KEY, CHROMIUM, SCREENSHOT_DIR  as kit.mjs reads them
//   EXPIRED_LINK   the page link, its token's exp a little in the past by the server's clock (required)
//   EXPIRES_AT_MS  that exp, in ms since the epoch (required): the page's clock is set from it
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...} (exit 1).

import { createDriver, shot, waitFor } from './kit.mjs';

// The page's clock at load: this far before the link's exp. refusalOf allows 60 s, so by the page's own clock the link
// reads live (a 401: removed) for the first 90 s, which is how long the test has to tell the two readings apart.
const PAGE_CLOCK_BEFORE_EXP_MS = 150 * 1000;
const REFUSAL_ALLOWANCE_MS = 60 * 1000; // errors.js CLOCK_SKEW_MS

const { report, step, run, launchBrowser } = createDriver('expired-link', { overallTimeoutMs: 60_000 });
const link = process.env.EXPIRED_LINK;
const expiresAt = Number(process.env.EXPIRES_AT_MS);

await run(async () => {
  if (!link || !Number.isFinite(expiresAt)) throw new Error('EXPIRED_LINK and EXPIRES_AT_MS are required');
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();

  await step('open-the-link-on-a-phone-whose-clock-is-behind', async () => {
    // The page's clock only: Date and timers run from there, at the real pace.
    await page.clock.install({ time: expiresAt - PAGE_CLOCK_BEFORE_EXP_MS });
    await page.goto(link, { waitUntil: 'domcontentloaded' });
    report.deviceBehindMs = Date.now() - (expiresAt - PAGE_CLOCK_BEFORE_EXP_MS);
  });

  await step('the-page-says-the-link-expired-not-that-the-member-was-removed', async () => {
    await waitFor(page, 'the phone', 'a word on the refused link',
      () => document.body.dataset.removed === 'true' || !document.querySelector('#error').hidden, undefined, 15_000);
    const state = await page.evaluate(() => ({
      pageNow: Date.now(),
      status: document.body.dataset.status,
      removed: document.body.dataset.removed ?? null,
      code: document.querySelector('#error').dataset.code ?? null,
      text: document.querySelector('#error-text').textContent,
    }));
    Object.assign(report, state);
    // Only while the page's own clock still reads the link as live does "expired" prove the server's clock was used.
    if (state.pageNow >= expiresAt - REFUSAL_ALLOWANCE_MS) throw new Error('too slow to tell: by now the page\'s own clock reads the link as expired too');
    if (state.removed === 'true') throw new Error('the page says the member was removed: it judged the link by its own clock');
    if (state.code !== 'unauthorized') throw new Error(`the page shows "${state.code}", expected unauthorized (the link expired)`);
    if (state.status !== 'offline') throw new Error(`the page's status is ${state.status}, expected offline`);
    await shot(page, 'expired-link-01-device-behind');
  });
});
