// Browser test driver: the owner's "Close the room", refused while the room's earlier order has not reached the
// restaurant, confirmed again once it has been dealt with.
//
//   BASE_URL       RoomServer, e.g. http://127.0.0.1:8080 (required); run with
//                  RoomServer__Limits__MaxUnsettledOrderRecords=1 and a webhook endpoint that refuses connections,
//                  so the lock's order record stays unsettled until its attempts are used up (dead-lettered)
//   API_KEY        RoomServer API key for the HTTP API                                          (required)
//   SCREENSHOT_DIR where the mobile screenshots go                                              (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)
//
// Steps: create a room (API); open O (owner); O locks → the room's order record is written, not yet delivered; O
// presses "Close the room…" and confirms → refused (rate_limited: the restaurant has not received the earlier order),
// the room stays locked; the record is dead-lettered (the API lists it); O presses "Close the room…" again → its
// confirm button is enabled, and confirming closes the room.
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...}
// (exit 1). Progress goes to stderr.

import { api, createDriver, createRoom, shot, STEP_TIMEOUT_MS, waitFor } from './kit.mjs';

const MENU = [{ id: 'margherita', name: 'Margherita', priceMinor: 950 }];

/** The record's attempts against a refused endpoint, with the server's backoff (the test's settings keep it short). */
const DEAD_LETTER_TIMEOUT_MS = 60_000;

const { report, step, run, launchBrowser, newPhone } = createDriver('owner-close', { overallTimeoutMs: 110_000 });

async function pressCloseAndConfirm(page) {
  await page.click('[data-testid=close]');
  await waitFor(page, 'O', 'the close confirmation', () => !document.getElementById('close-confirm').hidden);
  const disabled = await page.evaluate(() => document.querySelector('[data-testid=confirm-close]').disabled);
  if (disabled) throw new Error('the confirmation\'s "Close the room" button is disabled');
  await page.click('[data-testid=confirm-close]');
}

async function main() {
  const room = await step('create-room', () => createRoom('Table 3 · close test', MENU));
  report.roomId = room.id;

  await step('launch-browser', launchBrowser);
  const o = await step('open-owner', () => newPhone(room.owner, 'O'));

  await step('owner-locks', async () => {
    await o.page.click('[data-testid=lock]');
    await waitFor(o.page, 'O', 'the locked banner', () => document.getElementById('banner').dataset.state === 'locked');
  });

  await step('close-refused-while-the-order-is-on-its-way', async () => {
    await pressCloseAndConfirm(o.page);
    await waitFor(o.page, 'O', 'the refusal', () => document.getElementById('error').dataset.code === 'rate_limited');
    report.refusal = await o.page.evaluate(() => document.getElementById('error-text').textContent);
    if (!/earlier orders/.test(report.refusal)) throw new Error(`the refusal does not name the waiting order: ${report.refusal}`);
    const state = await o.page.evaluate(() => document.getElementById('banner').dataset.state);
    if (state !== 'locked') throw new Error(`the room is ${state} after a refused close`);
    await shot(o.page, 'owner-close-01-refused');
  });

  await step('the-order-is-dead-lettered', async () => {
    const until = Date.now() + DEAD_LETTER_TIMEOUT_MS;
    for (;;) {
      const page = await api('GET', '/api/deadletters');
      if (page.items.some((letter) => letter.roomId === room.id)) return;
      if (Date.now() > until) throw new Error(`no dead letter for the room within ${DEAD_LETTER_TIMEOUT_MS} ms`);
      await new Promise((resolve) => { setTimeout(resolve, 250); });
    }
  });

  await step('close-confirmed-again', async () => {
    await pressCloseAndConfirm(o.page);
    await waitFor(o.page, 'O', 'the closed banner', () => document.getElementById('banner').dataset.state === 'closed', undefined, STEP_TIMEOUT_MS);
    await shot(o.page, 'owner-close-02-closed');
  });
}

run(main);
