// Browser test driver: a rolling deploy as a member sees it. The room's replica gets SIGTERM and drains
// (DESIGN §9: "closes its members' connections in small staggered batches (their clients reconnect
// through Nginx to another replica and resume)").
//
//   BASE_URL       nginx in front of the replicas, e.g. http://127.0.0.1:8080   (required)
//   API_KEY        RoomServer API key for the HTTP API                            (required)
//   REPLICA_PIDS   "r1:1234,r2:1235,r3:1236" — replica id → process id          (required)
//   REPLICA_URLS   "r1:http://127.0.0.1:5001,r2:..." — replica id → its own URL  (required: B's phone)
//   SCREENSHOT_DIR where the mobile screenshots go                                (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)
//
// Steps: create a room; open A through nginx (the room its token names sends it to the room's replica) and B straight
// on another replica; SIGTERM A's replica → A shows reconnecting and comes back live on a survivor by
// itself — never offline, no click (a drain that closed with SignalR's Abort() told the client not to
// reconnect, and the page waited for "Try again"); the drained replica exits; A and B still see each
// other's presses.
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...}
// (exit 1). Progress goes to stderr.

import { createDriver, createRoom, shot, STEP_TIMEOUT_MS, waitFor, waitLive } from './kit.mjs';
import { dataset, isAlive, linkOn, parsePids, parseUrls } from './replicas.mjs';

const MENU = [
  { id: 'margherita', name: 'Margherita', priceMinor: 950 },
  { id: 'water', name: 'Sparkling water', priceMinor: 450 },
];
const RESUME_LIMIT_MS = 30_000;
const EXIT_LIMIT_MS = 20_000;

const { report, step, run, launchBrowser, newPhone } = createDriver('drain', { overallTimeoutMs: 90_000 });

/** The quantity of an item in the page's group order (0 when it has no line). */
const quantityOf = (page, menuId) => page.evaluate((id) => Number(document.querySelector(`#order li[data-menu-id="${id}"]`)?.dataset.quantity ?? 0), menuId);

async function main() {
  const pids = parsePids(process.env.REPLICA_PIDS);
  const replicaUrls = parseUrls(process.env.REPLICA_URLS);

  const room = await step('create-room', () => createRoom('Table 9 · drain test', MENU));
  report.roomId = room.id;
  await step('launch-browser', launchBrowser);

  const a = await step('open-a', () => newPhone(room.a, 'A'));
  const drained = (await dataset(a.page)).replica;
  report.roomReplica = drained;

  const b = await step('open-b-on-another-replica', async () => {
    const other = [...replicaUrls].find(([id]) => id !== drained);
    if (!other) throw new Error(`REPLICA_URLS names no replica besides the room's ${drained} (got "${process.env.REPLICA_URLS ?? ''}")`);
    const phone = await newPhone(linkOn(other[1], room.b), 'B');
    report.replicaB = (await dataset(phone.page)).replica;
    return phone;
  });

  const pid = pids.get(drained);
  await step('sigterm-the-rooms-replica', async () => {
    if (pid === undefined) throw new Error(`REPLICA_PIDS has no process for the room's replica "${drained}" (got "${process.env.REPLICA_PIDS ?? ''}")`);
    await a.page.evaluate(() => {
      window.__statuses = [document.body.dataset.status];
      new MutationObserver(() => {
        const s = document.body.dataset.status;
        if (window.__statuses.at(-1) !== s) window.__statuses.push(s);
      }).observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
    });
    report.drainedPid = pid;
    process.kill(pid, 'SIGTERM');
  });

  await step('a-resumes-on-a-survivor-by-itself', async () => {
    const sentAt = Date.now();
    await waitFor(a.page, 'A', `live on a replica other than the drained ${drained}`,
      (gone) => document.body.dataset.status === 'live' && document.body.dataset.replica !== gone, drained, RESUME_LIMIT_MS);
    report.resumedAfterMs = Date.now() - sentAt;
    report.statusesSeenByA = await a.page.evaluate(() => window.__statuses);
    report.replicaAAfterDrain = (await dataset(a.page)).replica;
    if (!report.statusesSeenByA.includes('reconnecting')) throw new Error(`A never showed reconnecting (saw ${report.statusesSeenByA.join(' → ')})`);
    if (report.statusesSeenByA.includes('offline')) throw new Error(`A went offline on the way (saw ${report.statusesSeenByA.join(' → ')})`);
    const error = await a.page.evaluate(() => { const e = document.querySelector('#error'); return e && !e.hidden ? e.textContent : null; });
    if (error) throw new Error(`A shows an error after resuming: ${error}`);
  });
  await shot(a.page, 'drain-01-a-resumed');

  await step('the-drained-replica-exits', async () => {
    const deadline = Date.now() + EXIT_LIMIT_MS;
    while (isAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`replica ${drained} (pid ${pid}) still running ${EXIT_LIMIT_MS} ms after SIGTERM`);
      await new Promise((r) => { setTimeout(r, 100); });
    }
  });

  await step('a-and-b-see-each-others-presses', async () => {
    await a.page.click(`[data-testid="inc-${MENU[0].id}"]`, { timeout: STEP_TIMEOUT_MS });
    await waitFor(b.page, 'B', `A's ${MENU[0].name}`, (id) => Number(document.querySelector(`#order li[data-menu-id="${id}"]`)?.dataset.quantity ?? 0) === 1, MENU[0].id);
    await b.page.click(`[data-testid="inc-${MENU[1].id}"]`, { timeout: STEP_TIMEOUT_MS });
    await waitFor(a.page, 'A', `B's ${MENU[1].name}`, (id) => Number(document.querySelector(`#order li[data-menu-id="${id}"]`)?.dataset.quantity ?? 0) === 1, MENU[1].id);
    for (const phone of [a, b]) {
      await waitFor(phone.page, phone.label, 'its presses to settle', () => document.body.dataset.pending === '0');
      await waitLive(phone.page, phone.label);
    }
    report.finalQuantities = { a: await quantityOf(a.page, MENU[0].id), b: await quantityOf(b.page, MENU[1].id) };
  });
  await shot(a.page, 'drain-02-a-after');
}

run(main);
