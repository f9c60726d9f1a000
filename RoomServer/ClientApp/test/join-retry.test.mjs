import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOIN_RETRY_DELAYS_MS, JoinRetry, joinFailureKind, joinRetryDelay } from '../src/js/join-retry.js';
import { RoomSession } from '../src/js/room-session.js';
import { fromSnapshot } from '../src/js/room-state.js';
import { isFatal, joinLimit, parseHubError } from '../src/js/errors.js';
import { FakeHub, flushMicrotasks, snapshot } from './fixtures.mjs';

const UNAVAILABLE = "An unexpected error occurred invoking 'Join' on the server. HubException: unavailable: the room store did not answer in time";
const GIVE_UP_MS = 10 * 60 * 1000; // app.js: RECONNECT_GIVE_UP_MS

/** Timers run by hand; `now` moves to each timer's time as it fires. */
class FakeClock {
  constructor() {
    this.time = 0;
    this.timers = [];
  }

  now = () => this.time;

  setTimer = (fn, ms) => {
    const timer = { fn, at: this.time + ms, ms };
    this.timers.push(timer);
    return timer;
  };

  clearTimer = (timer) => { this.timers = this.timers.filter((t) => t !== timer); };

  /** Fires the next timer; false when none is waiting. */
  async next() {
    await flushMicrotasks();
    const timer = this.timers.shift();
    if (timer === undefined) return false;
    this.time = timer.at;
    timer.fn();
    await flushMicrotasks();
    return true;
  }
}

/**
 * A restored page (state and presses from before the drop) wired as app.js wires it: JoinRetry over the
 * session's join, retrying what joinFailureKind calls 'retry'.
 */
function page(hub, clock = new FakeClock(), schedule = clock.setTimer) {
  let n = 0;
  let retry = null;
  const session = new RoomSession({
    roomId: 'r1', memberId: 'a', hub, newOpId: () => `op${++n}`, initialState: fromSnapshot(snapshot()),
    requestJoin: () => { retry.run(); }, // background joins go through the page's loop, as app.js wires them
    schedule, // Position graces
  });
  const seen = { joined: 0, waiting: 0, gaveUp: 0, failures: [] };
  retry = new JoinRetry({
    join: () => session.join(),
    onFailure: (error) => {
      const kind = joinFailureKind(parseHubError(error), {
        removed: session.removed !== null, connected: hub.isConnected(), isFatal, joinLimit,
      });
      seen.failures.push(kind); // app.js: 'fatal' shows the refusal and stops the connection
      return kind === 'retry';
    },
    onJoined: () => { seen.joined += 1; },
    onWaiting: () => { seen.waiting += 1; },
    onGiveUp: () => { seen.gaveUp += 1; },
    giveUpAfterMs: GIVE_UP_MS,
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
  });
  return { session, retry, seen, clock };
}

const resumed = { position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r2' };

test('a Join refused unavailable for longer than the old six attempts is retried until it lands: joined, presses sent, no Retry click', async () => {
  const hub = new FakeHub();
  const { session, retry, seen, clock } = page(hub);
  const presses = [session.adjust('pizza', 1), session.adjust('pasta', 1)]; // made while not joined
  assert.equal(hub.callsOf('AdjustChoice').length, 0);

  const done = retry.run();
  // Twelve refusals (the old loop gave up after six, ~18.5 s): degraded mode lasting about two minutes.
  for (let i = 0; i < 12; i++) {
    await flushMicrotasks();
    hub.last('Join').reject(new Error(UNAVAILABLE));
    assert.equal(await clock.next(), true, `a retry is scheduled after refusal ${i + 1}`);
  }
  assert.equal(hub.callsOf('Join').length, 13);
  assert.equal(seen.gaveUp, 0, 'no sticky error with Retry while the horizon has not passed');
  assert.equal(seen.waiting, 12, 'the page says it is waiting for the server');
  assert.ok(clock.time > 18_500 && clock.time < GIVE_UP_MS);
  assert.deepEqual(clock.timers.map((t) => t.ms), [], 'capped backoff: one timer at a time');

  hub.last('Join').resolve(resumed); // the store is back
  await done;
  assert.equal(session.joined, true);
  assert.equal(seen.joined, 1);
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => c.args[3]), presses, 'the pending presses go out with their opIds');
  assert.equal(retry.running, false);
});

test('the backoff grows and is capped', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(joinRetryDelay), [500, 1000, 2000, 5000, 10000, 15000, 15000, 15000]);
  assert.equal(JOIN_RETRY_DELAYS_MS.at(-1), 15000);
});

test('the loop stops when the connection closes: no Join after the wait, and the reconnect starts a new one', async () => {
  const hub = new FakeHub();
  const { retry, clock } = page(hub);
  const done = retry.run();
  await flushMicrotasks();
  hub.last('Join').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  assert.equal(clock.timers.length, 1, 'waiting to try again');
  hub.connected = false;
  retry.stop(); // onreconnecting / onclose
  await done;
  assert.equal(clock.timers.length, 0, 'its wait is cancelled');
  assert.equal(await clock.next(), false);
  assert.equal(hub.callsOf('Join').length, 1);
  assert.equal(retry.running, false);

  hub.connected = true; // onreconnected
  const again = retry.run();
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, 2);
  hub.last('Join').resolve(resumed);
  await again;
});

test('a refusal on a connection that went away stops the loop (its reconnect joins again)', async () => {
  const hub = new FakeHub();
  const { retry, clock, seen } = page(hub);
  const done = retry.run();
  await flushMicrotasks();
  hub.connected = false;
  hub.last('Join').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await done;
  assert.equal(clock.timers.length, 0);
  assert.equal(seen.waiting, 0);
});

test('never two loops: run() while one is trying returns it, and a loop stopped mid-Join finishes before the next starts', async () => {
  const hub = new FakeHub();
  const { retry, clock } = page(hub);
  const first = retry.run();
  assert.equal(retry.run(), first);
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, 1);
  hub.last('Join').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  assert.equal(retry.run(), first, 'waiting between attempts is still the same loop');

  await clock.next();
  assert.equal(hub.callsOf('Join').length, 2);
  retry.stop(); // the connection drops while this Join is in flight...
  const second = retry.run(); // ...and is back at once
  assert.notEqual(second, first);
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, 2, 'the new loop waits for the stopped one');
  hub.last('Join').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, 3);
  hub.last('Join').resolve(resumed);
  await second;
  assert.equal(clock.timers.length, 0);
});

test('past the give-up horizon the loop stops and says so once; run() (the Retry button) starts over', async () => {
  const hub = new FakeHub();
  const { retry, clock, seen } = page(hub);
  const done = retry.run();
  let joins = 0;
  // Bounded: a loop that stopped without giving up, or never gave up, fails here instead of spinning forever.
  for (let turn = 0; turn < 1000 && seen.gaveUp === 0; turn++) {
    await flushMicrotasks();
    hub.last('Join').reject(new Error(UNAVAILABLE));
    joins += 1;
    await clock.next();
  }
  assert.equal(seen.gaveUp, 1, 'the loop gave up once, within 1000 Joins');
  await done;
  assert.ok(clock.time <= GIVE_UP_MS, 'never waits past the horizon');
  assert.ok(joins > 40, `kept trying for ten minutes (${joins} Joins)`);
  assert.equal(clock.timers.length, 0);
  const again = retry.run();
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, joins + 1);
  hub.last('Join').resolve(resumed);
  await again;
});

test('non-retryable refusals keep their behaviour: fatal and count limits stop the loop, a removal stops it', () => {
  const kind = (message, extra = {}) => joinFailureKind(parseHubError(new Error(message)), {
    removed: false, connected: true, isFatal, joinLimit, ...extra,
  });
  assert.equal(kind('HubException: unavailable: the backplane is not hearing this room'), 'retry');
  assert.equal(kind('HubException: rate_limited: too many calls on this connection'), 'retry');
  assert.equal(kind('something without a code'), 'retry');
  assert.equal(kind('HubException: unauthorized: the token has expired'), 'fatal');
  assert.equal(kind('HubException: room_not_found: no such room'), 'fatal');
  assert.equal(kind('HubException: rate_limited: the room is full (it has 20 members)'), 'limit');
  assert.equal(kind('HubException: unavailable: x', { connected: false }), 'disconnected');
  assert.equal(kind('HubException: unavailable: x', { removed: true }), 'removed');
});

test('a Join that lands after the loop was stopped reports nothing (the connection is gone)', async () => {
  const hub = new FakeHub();
  const { retry, seen } = page(hub);
  const done = retry.run();
  await flushMicrotasks();
  retry.stop();
  hub.last('Join').resolve(resumed);
  await done;
  assert.equal(seen.joined, 0);
});

test('a loop whose callback threw does not switch joining off: the next run joins again', async () => {
  let joins = 0;
  const retry = new JoinRetry({
    join: async () => { joins += 1; },
    onFailure: () => false,
    onJoined: () => { if (joins === 1) throw new Error('storage full'); },
    giveUpAfterMs: GIVE_UP_MS,
  });

  await assert.rejects(retry.run(), /storage full/);
  await retry.run();
  assert.equal(joins, 2, 'the second run called Join');
});

/** A page joined at version 3 (its first Join landed), its loop idle; `graces` holds the Position graces to run. */
async function joinedPage(hub) {
  const graces = [];
  const ctx = { ...page(hub, new FakeClock(), (fn) => graces.push(fn)), graces };
  const done = ctx.retry.run();
  await flushMicrotasks();
  hub.last('Join').resolve(resumed);
  await done;
  ctx.seen.joined = 0;
  return ctx;
}

const gap = (version) => ({
  roomId: 'r1', epoch: 'e1', version, type: 'choice', at: '2025-01-01T00:00:00Z', memberId: 'b', menuId: 'pasta', quantity: version, opId: null,
});

test('a failing resume after a gap is retried by the page\'s loop: a burst of events and Positions starts no other Join', async () => {
  const hub = new FakeHub();
  const {
    session, retry, seen, clock, graces,
  } = await joinedPage(hub);
  session.onRoomEvent(gap(5)); // version 4 was lost
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, 2, 'one resume');
  hub.last('Join').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();

  const waits = [];
  for (let round = 0; round < 4; round++) {
    // The room goes on meanwhile: every event is past the gap, every Position ahead of the state.
    for (let v = 6 + round * 10; v < 16 + round * 10; v++) {
      session.onRoomEvent(gap(v));
      session.onPosition({ roomId: 'r1', epoch: 'e1', version: v });
    }
    for (const grace of graces.splice(0)) grace();
    await flushMicrotasks();
    assert.equal(hub.callsOf('Join').length, 2 + round, 'no Join per event or Position');
    assert.equal(clock.timers.length, 1, 'only the loop\'s wait');
    waits.push(clock.timers[0].ms);
    await clock.next();
    assert.equal(hub.callsOf('Join').length, 3 + round, 'the loop\'s next attempt');
    if (round < 3) hub.last('Join').reject(new Error(UNAVAILABLE));
  }
  assert.deepEqual(waits, JOIN_RETRY_DELAYS_MS.slice(0, 4), 'paced by the page\'s backoff');
  assert.equal(seen.waiting, 4, 'the page says it is waiting for the server');

  hub.last('Join').resolve({ position: { epoch: 'e1', version: 45 }, snapshot: snapshot({ version: 45 }), missed: null, replica: 'r2' });
  await flushMicrotasks();
  assert.equal(session.state.version, 45);
  assert.equal(seen.joined, 1, 'live again');
  assert.equal(retry.running, false);
});

test('a resume refused for good (room_not_found) is the page\'s fatal refusal: said once, not retried', async () => {
  const hub = new FakeHub();
  const { session, retry, seen, clock } = await joinedPage(hub);
  session.onRoomEvent(gap(5));
  await flushMicrotasks();
  hub.last('Join').reject(new Error('HubException: room_not_found: no such room'));
  await flushMicrotasks();
  assert.deepEqual(seen.failures, ['fatal'], 'app.js shows it and stops the connection');
  assert.equal(retry.running, false);
  assert.equal(clock.timers.length, 0);
  assert.equal(hub.callsOf('Join').length, 2);
});

test('a resume for a new epoch that fails is retried for a snapshot still', async () => {
  const hub = new FakeHub();
  const { session, clock } = await joinedPage(hub);
  session.onRoomEvent({ ...gap(1), epoch: 'e2' });
  await flushMicrotasks();
  assert.deepEqual(hub.last('Join').args, ['r1', null]);
  hub.last('Join').reject(new Error(UNAVAILABLE));
  await clock.next();
  assert.equal(hub.callsOf('Join').length, 3);
  assert.deepEqual(hub.last('Join').args, ['r1', null], 'the retry asks for the snapshot too');
  hub.last('Join').resolve({ position: { epoch: 'e2', version: 1 }, snapshot: snapshot({ epoch: 'e2', version: 1 }), missed: null, replica: 'r2' });
  await flushMicrotasks();
  assert.equal(session.state.epoch, 'e2');
  assert.equal(session.freshWanted, false, 'the next resume goes from the position again');
});
