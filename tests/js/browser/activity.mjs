// Browser test driver: the activity view — who changed what, newest first, live — on two phones,
// through nginx in front of replicas (or one RoomServer).
//
//   BASE_URL       RoomServer (or nginx in front of the replicas), e.g. http://127.0.0.1:8080 (required)
//   API_KEY        RoomServer API key for the HTTP API                                          (required)
//   SCREENSHOT_DIR where the mobile screenshots go                                              (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)
//
// Steps: create a room and post EARLIER notices through the API before anyone opens it; open A and
// B → each page loads the latest activity from the room's audit trail with its member token (the
// newest notices, not the first ones) and offers "Show earlier"; A adds an item → B's activity shows
// "Alice chose 1× …" on top, live, and A's shows "You chose …"; B presses "Show earlier" → the first
// notice appears and the button goes; B reloads → the activity is there again, from the trail.
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...}
// (exit 1). Progress goes to stderr.

import { api, createDriver, createRoom, shot, STEP_TIMEOUT_MS, waitFor, waitLive } from './kit.mjs';

/** More than the page's first activity load (50), so older ones need "Show earlier". */
const EARLIER_NOTICES = 55;

const MENU = [
  { id: 'margherita', name: 'Margherita', priceMinor: 950 },
  { id: 'water', name: 'Sparkling water', priceMinor: 450 },
];

const { report, step, run, launchBrowser, newPhone } = createDriver('activity', { overallTimeoutMs: 60_000 });

/** The activity rows as the page shows them, top first. */
const activity = (page) => page.evaluate(() => [...document.querySelectorAll('[data-testid=activity] li')]
  .map((li) => ({ version: Number(li.dataset.version), type: li.dataset.type, text: li.querySelector('.activity-text').textContent })));

function newestFirst(rows) {
  return rows.every((row, i) => i === 0 || rows[i - 1].version > row.version);
}

async function main() {
  const room = await step('create-room', () => createRoom('Table 12 · activity test', MENU));
  report.roomId = room.id;

  await step('post-earlier-notices', async () => {
    for (let i = 1; i <= EARLIER_NOTICES; i++) {
      await api('POST', `/api/rooms/${encodeURIComponent(room.id)}/notices`, { kind: 'kitchen', payload: { text: `note ${i}` } });
    }
  });

  await step('launch-browser', launchBrowser);
  const a = await step('open-a', () => newPhone(room.a, 'A'));
  const b = await step('open-b', () => newPhone(room.b, 'B'));
  report.replicaA = await a.page.evaluate(() => document.body.dataset.replica);
  report.replicaB = await b.page.evaluate(() => document.body.dataset.replica);

  await step('activity-loads-from-the-trail', async () => {
    // B joined at version 57 (55 notices, A's and B's member events): the latest 50 are 8..57.
    await waitFor(b.page, 'B', 'the latest activity from the trail, and A and B joining',
      () => document.querySelector('[data-testid=activity-57]') && document.querySelector('[data-testid=activity-8]')
        && !document.querySelector('[data-testid=activity-earlier]').hidden);
    const rows = await activity(b.page);
    report.bRowsOnJoin = rows.length;
    if (!newestFirst(rows)) throw new Error(`B's activity is not newest first: ${rows.map((r) => r.version).join(',')}`);
    if (rows[0].text !== 'You joined' || rows[1].text !== 'Alice joined') throw new Error(`B's newest rows are ${JSON.stringify(rows.slice(0, 2))}`);
    if (rows.some((r) => r.version < 8)) throw new Error('B shows more than the latest 50 before "Show earlier"');
    if (!rows.some((r) => r.text === `Notice (kitchen): note ${EARLIER_NOTICES}`)) throw new Error('B does not show the newest notice');
  });

  await step('a-chooses-b-sees-it-live', async () => {
    const item = MENU[0];
    await a.page.click(`[data-testid="inc-${item.id}"]`);
    await waitFor(b.page, 'B', `"Alice chose 1× ${item.name}" on top of the activity`, (text) => {
      const top = document.querySelector('[data-testid=activity] li');
      return top?.dataset.type === 'choice' && top.querySelector('.activity-text').textContent === text;
    }, `Alice chose 1× ${item.name}`);
    await waitFor(a.page, 'A', `"You chose 1× ${item.name}" on top of A's own activity`, (text) => {
      const top = document.querySelector('[data-testid=activity] li');
      return top?.querySelector('.activity-text').textContent === text;
    }, `You chose 1× ${item.name}`);
    report.choiceVersion = (await activity(b.page))[0].version;
    await b.page.locator('#activity-heading').scrollIntoViewIfNeeded();
    await shot(b.page, 'activity-01-b-sees-a');
  });

  await step('b-shows-earlier', async () => {
    await b.page.click('[data-testid=activity-earlier]');
    await waitFor(b.page, 'B', 'the first notice, and no more "Show earlier"',
      () => document.querySelector('[data-testid=activity-1]') && document.querySelector('[data-testid=activity-earlier]').hidden);
    const rows = await activity(b.page);
    const versions = rows.map((r) => r.version);
    const expected = Array.from({ length: report.choiceVersion }, (_, i) => report.choiceVersion - i);
    if (JSON.stringify(versions) !== JSON.stringify(expected)) throw new Error(`B's activity after "Show earlier" is ${versions.join(',')}`);
    if (rows.at(-1).text !== 'Notice (kitchen): note 1') throw new Error(`B's oldest row is ${JSON.stringify(rows.at(-1))}`);
    report.bRowsAfterEarlier = rows.length;
  });

  await step('b-reloads-activity-is-back', async () => {
    await b.page.reload({ waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
    await waitLive(b.page, 'B after reload');
    await waitFor(b.page, 'B after reload', 'A\'s choice in the activity again',
      (version) => document.querySelector(`[data-testid=activity-${version}]`)?.dataset.type === 'choice', report.choiceVersion);
    await b.page.locator('#activity-heading').scrollIntoViewIfNeeded();
    await shot(b.page, 'activity-02-b-after-reload');
  });
}

run(main);
