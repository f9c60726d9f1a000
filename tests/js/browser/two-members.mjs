// Browser test driver: two members (and the owner) on phones, through nginx in front of replicas.
//
//   BASE_URL       nginx in front of the replicas, e.g. http://127.0.0.1:8080   (required)
//   API_KEY        RoomServer API key for the HTTP API                            (required)
//   REPLICA_PIDS   "r1:1234,r2:1235,r3:1236" — replica id → process id          (required for the kill step)
//   REPLICA_URLS   "r1:http://127.0.0.1:5001,r2:..." — replica id → its own URL  (required: B's phone)
// (eng/cluster.sh writes both lists in this form to its cluster.env.)
//   SCREENSHOT_DIR where the mobile screenshots go                                (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)
//
// Steps: create a room and tokens (API); open A through nginx: the page names its room in the hub
// URL (`room=`, DESIGN §7), so A lands on the room's replica; open B straight on another replica
// (any replica serves any room; B stands for a member the proxy put elsewhere), so B gets A's
// changes through Redis; A adds 2× an item → B sees it (propagation measured in the browsers); B
// reloads → same state, restored from sessionStorage; O opens through nginx → the room's replica
// too, and locks → A's and B's controls are disabled with a banner; the room's replica is killed → A
// and O show reconnecting and move together to one survivor, B stays where it is; A's reconnect is
// held while O reopens and B adds, so A catches up with what it missed (its reconnect's Join, read from its
// WebSocket frames, names the position it had: Join(room, since)); every hub request A and O
// made, their reconnects included, named the room; the final state on A and B is identical. B's name, the
// room's and a menu item's carry markup, which every page shows as text (none of it runs or makes an element).
//
// stdout: exactly one JSON line, {"ok":true,...} (exit 0) or {"ok":false,"step":...,"error":...}
// (exit 1). Progress goes to stderr.

import { createDriver, createRoom, memberLink, shot, STEP_TIMEOUT_MS, waitFor, waitLive } from './kit.mjs';
import { dataset, isAlive, linkOn, parsePids, parseUrls } from './replicas.mjs';

// "Live", not a speed figure (the load tool measures those): two headless renderers, a hub write, Redis
// and a render on CI's loaded 2-core box; events across replicas are proved by the .NET cluster tests.
const PROPAGATION_LIMIT_MS = 3_000;
const MENU = [
  { id: 'margherita', name: 'Margherita', priceMinor: 950 },
  { id: 'carbonara', name: 'Spaghetti carbonara', priceMinor: 1250 },
  { id: 'tiramisu', name: 'Tiramisù', priceMinor: 650 },
  { id: 'water', name: 'Sparkling water', priceMinor: 450 },
  // Markup in a name stays text on every page: each text is written with textContent (no innerHTML anywhere).
  { id: 'markup', name: '<img src=x onerror="window.__xss=1"> & <b>bold</b>', priceMinor: 100 },
];
// B's name and the room's carry markup too; any of them run as HTML would set window.__xss or add an element.
const MARKUP_NAME = 'Bob <img src=x onerror="window.__xss=1">';
const MARKUP_ROOM = 'Table 4 <b onmouseover="window.__xss=1">·</b> browser test';

const { report, log, step, run, launchBrowser, newPhone } = createDriver('two-members', { overallTimeoutMs: 90_000 });

/** The room as the page shows it, in member-independent terms. */
const orderView = (page) => page.evaluate(() => ({
  version: Number(document.body.dataset.version),
  epoch: document.body.dataset.epoch,
  roomState: document.body.dataset.roomState,
  totalMinor: Number(document.querySelector('[data-testid=grand-total]').dataset.amount ?? 0),
  lines: [...document.querySelectorAll('#order li[data-menu-id]')].map((li) => ({
    menuId: li.dataset.menuId, quantity: Number(li.dataset.quantity), amountMinor: Number(li.dataset.amount), by: li.dataset.by,
  })),
}));

function sameView(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function main() {
  const pids = parsePids(process.env.REPLICA_PIDS);
  const replicaUrls = parseUrls(process.env.REPLICA_URLS);

  const room = await step('create-room', async () => {
    const created = await createRoom(MARKUP_ROOM, MENU);
    return { ...created, b: await memberLink(created.id, 'bob', MARKUP_NAME) };
  });
  report.roomId = room.id;

  await step('launch-browser', launchBrowser);

  const a = await step('open-a', () => newPhone(room.a, 'A'));
  const roomReplica = (await dataset(a.page)).replica;
  report.roomReplica = roomReplica;

  const b = await step('open-b-on-another-replica', async () => {
    const other = [...replicaUrls].find(([id]) => id !== roomReplica);
    if (!other) throw new Error(`REPLICA_URLS names no replica besides the room's ${roomReplica} (got "${process.env.REPLICA_URLS ?? ''}")`);
    const phone = await newPhone(linkOn(other[1], room.b), 'B');
    report.replicaB = (await dataset(phone.page)).replica;
    if (report.replicaB !== other[0]) throw new Error(`B opened on ${other[0]}'s URL but reports ${report.replicaB}`);
    return phone;
  });
  await shot(a.page, '01-a-joined');

  await step('a-adds-two-b-sees-them', async () => {
    const item = MENU[0];
    await b.page.evaluate((menuId) => {
      const seen = () => document.querySelector(`#order li[data-menu-id="${menuId}"]`)?.dataset.quantity === '2'
        && document.querySelector('[data-testid=grand-total]').dataset.amount !== undefined;
      window.__seenAt = null;
      const observer = new MutationObserver(() => {
        if (window.__seenAt === null && seen()) {
          window.__seenAt = Date.now();
          observer.disconnect();
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    }, item.id);
    const clickedAt = await a.page.evaluate((menuId) => {
      const button = document.querySelector(`[data-testid="inc-${menuId}"]`);
      const at = Date.now();
      button.click();
      button.click();
      return at;
    }, item.id);
    const optimistic = await a.page.evaluate((menuId) => document.querySelector(`[data-testid="qty-${menuId}"]`).textContent, item.id);
    if (optimistic !== '2') throw new Error(`A's quantity showed ${optimistic} right after two presses, expected 2 (optimistic)`);
    await waitFor(b.page, 'B', `${item.name} ×2 in the group order`, () => window.__seenAt !== null);
    const seenAt = await b.page.evaluate(() => window.__seenAt);
    report.propagationMs = seenAt - clickedAt;
    const bView = await orderView(b.page);
    if (bView.totalMinor !== 2 * item.priceMinor) throw new Error(`B's total is ${bView.totalMinor}, expected ${2 * item.priceMinor}`);
    await waitFor(a.page, 'A', 'its presses to settle (no pending ops)', () => document.body.dataset.pending === '0');
    if (report.propagationMs > PROPAGATION_LIMIT_MS) throw new Error(`B saw A's change after ${report.propagationMs} ms (limit ${PROPAGATION_LIMIT_MS} ms)`);
  });
  await shot(b.page, '02-b-sees-a');

  await step('markup-in-names-stays-text', async () => {
    await waitFor(a.page, 'A', "B's name in the members list", (name) => document.querySelector('[data-testid=member-bob]')?.textContent.includes(name), MARKUP_NAME);
    const seen = await a.page.evaluate(({ item }) => ({
      xss: window.__xss ?? null,
      elements: document.querySelectorAll('#room-name *, #members img, #menu img, #menu b, #order img, #order b').length,
      room: document.querySelector('#room-name').textContent,
      item: document.querySelector('#menu').textContent.includes(item),
    }), { item: MENU.at(-1).name });
    if (seen.xss !== null) throw new Error('markup in a name ran as HTML (window.__xss set)');
    if (seen.elements !== 0) throw new Error(`markup in a name made ${seen.elements} element(s) on A's page`);
    if (seen.room !== MARKUP_ROOM) throw new Error(`the room's name shows as ${JSON.stringify(seen.room)}, not its text`);
    if (!seen.item) throw new Error("the menu item's name is not shown as its text");
  });

  await step('b-skips-to-the-menu-keeping-its-link', async () => {
    const linkBefore = await b.page.evaluate(() => location.hash);
    await b.page.focus('[data-testid="skip"]');
    await b.page.keyboard.press('Enter');
    const after = await b.page.evaluate(() => ({ hash: location.hash, focused: document.activeElement?.id }));
    if (after.focused !== 'menu-heading') throw new Error(`the skip link left the focus on ${after.focused}, not the menu`);
    if (after.hash !== linkBefore) throw new Error(`the skip link replaced the join link in the address with ${after.hash}: a reload would lock B out`);
  });

  await step('b-reloads-same-state', async () => {
    const before = await orderView(b.page);
    await b.page.reload({ waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
    const restored = await b.page.evaluate(() => document.body.dataset.restored);
    await waitLive(b.page, 'B after reload');
    const after = await orderView(b.page);
    report.reloadRestoredFromSession = restored === 'true';
    if (!sameView(before, after)) throw new Error(`B's state changed across the reload: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    if (!report.reloadRestoredFromSession) throw new Error('B did not restore its state from sessionStorage');
    report.replicaBAfterReload = (await dataset(b.page)).replica;
    if (report.replicaBAfterReload !== report.replicaB) throw new Error(`B came back on ${report.replicaBAfterReload}, not ${report.replicaB}`);
  });
  await shot(b.page, '03-b-reloaded');

  const o = await step('open-owner-on-the-rooms-replica', async () => {
    const phone = await newPhone(room.owner, 'O');
    report.replicaO = (await dataset(phone.page)).replica;
    if (report.replicaO !== roomReplica) throw new Error(`O landed on ${report.replicaO}, A on ${roomReplica}: nginx did not route them together`);
    return phone;
  });

  await step('owner-locks', async () => {
    await o.page.click('[data-testid=lock]', { timeout: STEP_TIMEOUT_MS });
    for (const phone of [a, b]) {
      await waitFor(phone.page, phone.label, 'the locked banner and disabled controls', () => {
        const banner = document.querySelector('[data-testid=banner]');
        const steps = [...document.querySelectorAll('button[data-testid^="inc-"], button[data-testid^="dec-"]')];
        return document.body.dataset.roomState === 'locked' && banner && !banner.hidden && steps.length > 0 && steps.every((s) => s.disabled);
      });
    }
  });
  await shot(a.page, '04-a-locked');

  const killed = roomReplica;
  let openGate = () => {};
  const gate = new Promise((resolve) => { openGate = resolve; });
  await step('kill-the-rooms-replica', async () => {
    const pid = pids.get(killed);
    if (pid === undefined) throw new Error(`REPLICA_PIDS has no process for the room's replica "${killed}" (got "${process.env.REPLICA_PIDS ?? ''}")`);
    const survivors = [...pids].filter(([id, p]) => id !== killed && isAlive(p)).map(([id]) => id);
    if (survivors.length === 0) throw new Error(`no replica would survive killing ${killed} (REPLICA_PIDS "${process.env.REPLICA_PIDS}")`);
    report.survivors = survivors;
    await a.page.evaluate(() => {
      window.__statuses = [];
      new MutationObserver(() => {
        const s = document.body.dataset.status;
        if (window.__statuses.at(-1) !== s) window.__statuses.push(s);
      }).observe(document.body, { attributes: true, attributeFilter: ['data-status'] });
    });
    // Hold A's reconnect (its negotiate request) until O and B have moved the room on, so A must
    // catch up with missed events on Join(roomId, since) instead of receiving them live.
    await a.context.route('**/hubs/room/negotiate*', async (route) => {
      await gate;
      await route.continue().catch(() => {}); // the page may have given up on this request meanwhile
    });
    report.killedPid = pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(a.page, 'A', 'the reconnecting status', () => document.body.dataset.status === 'reconnecting');
  });

  await step('owner-reopens-and-b-adds-while-a-reconnects', async () => {
    // O was on the killed replica too, B was not: wait until both are live on a survivor.
    for (const phone of [o, b]) {
      await waitFor(phone.page, phone.label, `live on a replica other than the killed ${killed}`,
        (dead) => document.body.dataset.status === 'live' && document.body.dataset.replica !== dead, killed, 30_000);
    }
    await o.page.click('[data-testid=reopen]', { timeout: STEP_TIMEOUT_MS });
    await waitFor(b.page, 'B', 'the room to reopen', () => document.body.dataset.roomState === 'open');
    await b.page.click(`[data-testid="inc-${MENU[1].id}"]`, { timeout: STEP_TIMEOUT_MS });
    await waitFor(b.page, 'B', 'its press to settle', () => document.body.dataset.pending === '0');
    const aStatus = (await dataset(a.page)).status;
    if (aStatus === 'live') throw new Error('A was live again before its reconnect was released');
    report.aVersionWhileAway = Number((await dataset(a.page)).version);
    report.aEpochWhileAway = (await dataset(a.page)).epoch;
    report.aJoinsBeforeRelease = a.invocations.filter((i) => i.target === 'Join').length;
    report.bVersionWhileAOffline = (await orderView(b.page)).version;
    report.replicaOAfterKill = (await dataset(o.page)).replica;
    report.replicaBAfterKill = (await dataset(b.page)).replica;
    if (report.replicaBAfterKill !== report.replicaB) throw new Error(`B moved from ${report.replicaB} to ${report.replicaBAfterKill}, though its replica lived`);
  });

  await step('a-reconnects-and-catches-up', async () => {
    const releasedAt = Date.now();
    openGate(); // the route stays installed, passing requests through from now on
    await waitFor(a.page, 'A', 'live again on another replica',
      (dead) => document.body.dataset.status === 'live' && document.body.dataset.replica !== dead, killed, 30_000);
    report.resumeAfterReleaseMs = Date.now() - releasedAt;
    const data = await dataset(a.page);
    report.replicaAAfterKill = data.replica;
    if (data.replica !== report.replicaOAfterKill) throw new Error(`the room split: A came back on ${data.replica}, O is on ${report.replicaOAfterKill}`);
    report.statusesSeenByA = await a.page.evaluate(() => window.__statuses);
    // A resumed from where it was (Join(roomId, since)), not from a fresh snapshot: its first Join after the release
    // names the position it had while away.
    const resume = a.invocations.filter((i) => i.target === 'Join')[report.aJoinsBeforeRelease];
    report.aResumeJoinArguments = resume?.arguments ?? null;
    const since = resume?.arguments?.[1];
    if (since?.version !== report.aVersionWhileAway || since?.epoch !== report.aEpochWhileAway) {
      throw new Error(`A's reconnect sent Join ${JSON.stringify(resume?.arguments ?? null)}, not Join(room, since) from v${report.aVersionWhileAway} of ${report.aEpochWhileAway}`);
    }
    if (!report.statusesSeenByA.includes('reconnecting')) throw new Error(`A never showed reconnecting (saw ${report.statusesSeenByA.join(' → ')})`);
    const bVersion = (await orderView(b.page)).version;
    await waitFor(a.page, 'A', `version ${bVersion} with B's ${MENU[1].name}`,
      ({ version, menuId }) => Number(document.body.dataset.version) >= version
        && document.querySelector(`#order li[data-menu-id="${menuId}"]`)?.dataset.by?.includes('bob:1'),
      { version: bVersion, menuId: MENU[1].id });
  });

  await step('a-writes-after-resume', async () => {
    await a.page.click(`[data-testid="inc-${MENU[2].id}"]`, { timeout: STEP_TIMEOUT_MS });
    await waitFor(b.page, 'B', `A's ${MENU[2].name}`,
      (menuId) => document.querySelector(`#order li[data-menu-id="${menuId}"]`)?.dataset.by === 'alice:1', MENU[2].id);
    await waitFor(a.page, 'A', 'its press to settle', () => document.body.dataset.pending === '0');
  });

  await step('final-state-identical', async () => {
    const target = (await orderView(b.page)).version;
    await waitFor(a.page, 'A', `version ${target}`, (v) => Number(document.body.dataset.version) === v, target);
    const [va, vb] = [await orderView(a.page), await orderView(b.page)];
    if (!sameView(va, vb)) throw new Error(`A and B differ: A=${JSON.stringify(va)} B=${JSON.stringify(vb)}`);
    report.finalVersion = va.version;
    report.finalTotalMinor = va.totalMinor;
    report.finalLines = va.lines.length;
  });

  await step('every-hub-request-names-the-room', async () => {
    const phones = [a, b, o];
    report.hubRequests = Object.fromEntries(phones.map((p) => [p.label, p.hubUrls.length]));
    for (const phone of phones) {
      // Each phone connected twice: A and O after the kill, B after its reload.
      const negotiates = phone.hubUrls.filter((u) => new URL(u).pathname.endsWith('/negotiate'));
      const sockets = phone.hubUrls.filter((u) => u.startsWith('ws'));
      if (negotiates.length < 2 || sockets.length < 2) throw new Error(`${phone.label} made ${negotiates.length} negotiates and ${sockets.length} WebSockets; expected two of each at least`);
      const unhinted = phone.hubUrls.filter((u) => new URL(u).searchParams.get('room') !== room.id);
      if (unhinted.length > 0) throw new Error(`${phone.label}'s hub request without room=${room.id}: ${unhinted[0]}`);
    }
  });
  await shot(a.page, '05-a-after-resume');
  await shot(b.page, '06-b-final');
}

run(main);
