import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PACED_BATCH, POSITION_GRACE_MS, RoomSession } from '../src/js/room-session.js';
import { MAX_RETRY_DELAY_MS, MAX_SEND_ATTEMPTS, UNCONFIRMED_RETRY_MS } from '../src/js/pending.js';
import { fromSnapshot } from '../src/js/room-state.js';
import {
  clearState, loadPending, loadState, savePending, saveState,
} from '../src/js/storage.js';
import {
  FakeHub, choice, flushMicrotasks, memberRemoved, notice, snapshot, stateEvent,
} from './fixtures.mjs';

function session(hub, extra = {}) {
  let n = 0;
  const errors = [];
  const saved = [];
  const s = new RoomSession({
    roomId: 'r1',
    memberId: 'a',
    hub,
    newOpId: () => `op${++n}`,
    onError: (e) => errors.push(e),
    save: (state) => saved.push(state),
    ...extra,
  });
  return { s, errors, saved };
}

async function joined(hub, extra) {
  const ctx = session(hub, extra);
  const done = ctx.s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: snapshot(), missed: null, replica: 'r1' });
  await done;
  return ctx;
}

test('a first join sends since = null and takes the snapshot', async () => {
  const hub = new FakeHub();
  const { s, saved } = await joined(hub);
  assert.deepEqual(hub.callsOf('Join')[0].args, ['r1', null]);
  assert.equal(s.state.version, 3);
  assert.equal(s.replica, 'r1');
  assert.equal(s.joined, true);
  assert.equal(saved.at(-1).version, 3);
});

test('a restored state resumes with its position and applies the missed events', async () => {
  const hub = new FakeHub();
  const { s } = session(hub, { initialState: fromSnapshot(snapshot()) });
  const done = s.join();
  assert.deepEqual(hub.last('Join').args, ['r1', { epoch: 'e1', version: 3 }]);
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 4 }, snapshot: null, missed: [choice(4, 'b', 'pasta', 2)], replica: 'r2' });
  await done;
  assert.equal(s.state.version, 4);
  assert.equal(s.state.choices.length, 2);
});

test('a recent notice in the missed events of a resume is surfaced like a live one; one seen or old is not', async () => {
  const hub = new FakeHub();
  const notices = [];
  const now = Date.parse('2025-01-01T12:00:00Z');
  const at = (minutesAgo) => new Date(now - minutesAgo * 60_000).toISOString();
  const { s } = session(hub, { initialState: fromSnapshot(snapshot()), onNotice: (e) => notices.push(e), now: () => now });
  const done = s.join();
  hub.last('Join').resolve({
    position: { epoch: 'e1', version: 6 },
    snapshot: null,
    missed: [
      { ...notice(3, 'kitchen', 'seen before'), at: at(1) },
      { ...notice(4, 'kitchen', 'yesterday'), at: at(24 * 60) },
      choice(5, 'b', 'pasta', 2),
      { ...notice(6, 'kitchen', 'closes in 10 min'), at: at(2) },
    ],
    replica: 'r2',
  });
  await done;
  assert.equal(s.state.version, 6);
  assert.deepEqual(notices.map((n) => n.payload), ['closes in 10 min']);
});

test('events at or below the position are ignored, the next one is applied', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onRoomEvent(choice(3, 'b', 'pasta', 9));
  assert.equal(s.state.choices.length, 1);
  s.onRoomEvent(choice(4, 'b', 'pasta', 2));
  assert.equal(s.state.version, 4);
  assert.equal(hub.callsOf('Join').length, 1);
});

test('a gap triggers Join(roomId, since) and the missed events fill it', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onRoomEvent(choice(6, 'b', 'pasta', 3));
  assert.equal(hub.callsOf('Join').length, 2);
  assert.deepEqual(hub.last('Join').args, ['r1', { epoch: 'e1', version: 3 }]);
  // Live events keep arriving while the Join is in flight: buffered, then applied after it.
  s.onRoomEvent(choice(7, 'b', 'water', 1));
  hub.last('Join').resolve({
    position: { epoch: 'e1', version: 6 }, snapshot: null,
    missed: [choice(4, 'b', 'pasta', 1), choice(5, 'b', 'pasta', 2), choice(6, 'b', 'pasta', 3)], replica: 'r1',
  });
  await flushMicrotasks();
  assert.equal(s.state.version, 7);
  assert.equal(hub.callsOf('Join').length, 2);
});

test('a Position ahead of the state triggers a resume once its grace is over; a current one does not', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 3 });
  assert.equal(timers.length, 0);
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 4 });
  assert.equal(hub.callsOf('Join').length, 1, 'not at once: the event it counts may be a moment away');
  assert.deepEqual(timers.map((t) => t.ms), [POSITION_GRACE_MS]);
  timers.shift().fn();
  assert.equal(hub.callsOf('Join').length, 2);
  assert.deepEqual(hub.last('Join').args, ['r1', { epoch: 'e1', version: 3 }]);
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 5 }); // folded into the running join
  assert.equal(hub.callsOf('Join').length, 2);
  assert.equal(timers.length, 0);
});

test('a Position that overtook its event resumes nothing when the event arrives within the grace', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 4 });
  s.onRoomEvent(choice(4, 'b', 'pasta', 2));
  assert.equal(s.state.version, 4);
  timers.shift().fn();
  assert.equal(hub.callsOf('Join').length, 1, 'the state caught up with the Position: no resume');
});

test('a higher Position within a grace gets a whole grace of its own; a lower one changes nothing', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 4 });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 6 });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 5 });
  assert.equal(timers.length, 2, 'one grace for 4, a new one for 6, none for 5');
  s.onRoomEvent(choice(4, 'b', 'pasta', 2));
  timers.shift().fn();
  assert.equal(hub.callsOf('Join').length, 1, "4's grace is over, but 6's is not");
  timers.shift().fn();
  assert.equal(hub.callsOf('Join').length, 2, 'still behind the highest Position (6): the events were lost');
  assert.deepEqual(hub.last('Join').args, ['r1', { epoch: 'e1', version: 4 }]);
});

test('a Join during a grace covers its Position: no resume when it ends, and a later Position waits a whole grace', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 4 });
  // The connection drops and comes back within the grace; the room was recreated meanwhile (a new epoch).
  s.disconnected();
  const rejoin = s.join();
  hub.last('Join').resolve({ position: { epoch: 'e2', version: 2 }, snapshot: snapshot({ epoch: 'e2', version: 2 }), missed: null, replica: 'r2' });
  await rejoin;
  assert.equal(hub.callsOf('Join').length, 2);
  s.onPosition({ roomId: 'r1', epoch: 'e2', version: 3 }); // its event is on the way
  timers.shift().fn(); // the first grace ends: covered by the Join, and 3 has a grace of its own
  assert.equal(hub.callsOf('Join').length, 2, 'no second snapshot for the old epoch, and no resume for 3 yet');
  s.onRoomEvent(choice(3, 'b', 'pasta', 1, null, 'e2'));
  timers.shift().fn();
  assert.equal(hub.callsOf('Join').length, 2);
  assert.equal(s.state.version, 3);
});

test('a grace that ends after the member was removed resumes nothing', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 4 });
  s.onRemoved({ roomId: 'r1', memberId: 'a', by: 'o' });
  timers.shift().fn();
  assert.equal(hub.callsOf('Join').length, 1);
});

test('a Position of another epoch asks for a fresh snapshot at once', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  s.onPosition({ roomId: 'r1', epoch: 'e2', version: 1 });
  assert.equal(timers.length, 0);
  assert.deepEqual(hub.last('Join').args, ['r1', null]);
});

test('an event of another epoch asks for a fresh snapshot', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onRoomEvent(choice(1, 'b', 'pasta', 1, null, 'e2'));
  assert.deepEqual(hub.last('Join').args, ['r1', null]);
  hub.last('Join').resolve({ position: { epoch: 'e2', version: 1 }, snapshot: snapshot({ epoch: 'e2', version: 1 }), missed: null, replica: 'r1' });
  await flushMicrotasks();
  assert.equal(s.state.epoch, 'e2');
});

test('missed events that do not connect lead to a second, fresh join', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s } = await joined(hub, { schedule: (fn) => timers.push(fn) });
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 9 });
  timers.shift()();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 9 }, snapshot: null, missed: [choice(8, 'b', 'pasta', 1), choice(9, 'b', 'pasta', 2)], replica: 'r1' });
  await flushMicrotasks();
  assert.equal(hub.callsOf('Join').length, 3);
  assert.deepEqual(hub.last('Join').args, ['r1', null]);
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 9 }, snapshot: snapshot({ version: 9 }), missed: null, replica: 'r1' });
  await flushMicrotasks();
  assert.equal(s.state.version, 9);
});

test('+ shows the new quantity at once, sends AdjustChoice with an opId, and the ack and event settle it', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const opId = s.adjust('pizza', 1);
  assert.equal(s.displayQuantity('pizza'), 2);
  assert.equal(s.pending.hasPending('pizza'), true);
  const call = hub.last('AdjustChoice');
  assert.deepEqual(call.args, ['r1', 'pizza', 1, opId]);
  call.resolve({ version: 4, quantity: 2 });
  await flushMicrotasks();
  assert.equal(s.displayQuantity('pizza'), 2, 'the ack holds the quantity until the event');
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, opId));
  assert.equal(s.pending.size, 0);
  assert.equal(s.displayQuantity('pizza'), 2);
});

test('the event may arrive before the ack', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const opId = s.adjust('pizza', 1);
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, opId));
  assert.equal(s.displayQuantity('pizza'), 2, 'seen: not counted on top of the state that holds it');
  assert.equal(s.pending.size, 1, 'kept until the call is answered');
  hub.last('AdjustChoice').resolve({ version: 4, quantity: 2 });
  await flushMicrotasks();
  assert.equal(s.pending.size, 0);
  assert.equal(s.displayQuantity('pizza'), 2);
});

test('a rejected call rolls back and reports the code', async () => {
  const hub = new FakeHub();
  const { s, errors } = await joined(hub);
  s.adjust('pizza', 1);
  assert.equal(s.displayQuantity('pizza'), 2);
  hub.last('AdjustChoice').reject(new Error("An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: room_locked: the room is locked"));
  await flushMicrotasks();
  assert.equal(s.displayQuantity('pizza'), 1);
  assert.equal(s.pending.size, 0);
  assert.deepEqual(errors, [{ code: 'room_locked', text: 'the room is locked' }]);
});

test('a call lost with the connection is sent again with the same opId after the next join', async () => {
  const hub = new FakeHub();
  const { s, errors } = await joined(hub);
  const opId = s.adjust('pizza', 1);
  hub.connected = false;
  s.disconnected();
  hub.last('AdjustChoice').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await flushMicrotasks();
  assert.equal(s.displayQuantity('pizza'), 2, 'still pending');
  assert.deepEqual(errors, []);
  hub.connected = true;
  const resumed = s.join();
  // The server had applied it: the missed events carry the opId.
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 4 }, snapshot: null, missed: [choice(4, 'a', 'pizza', 2, opId)], replica: 'r2' });
  await resumed;
  assert.equal(s.pending.size, 0);
  assert.equal(hub.callsOf('AdjustChoice').length, 1, 'settled by the missed event, no resend needed');
  assert.equal(s.displayQuantity('pizza'), 2);
});

test('a press cut by a lost connection on its last send says it may have been applied, not the transport\'s text', async () => {
  const hub = new FakeHub();
  const { s, errors } = await joined(hub);
  const opId = s.adjust('pizza', 1);
  for (let attempt = 1; attempt <= MAX_SEND_ATTEMPTS; attempt++) {
    hub.connected = false;
    s.disconnected();
    hub.last('AdjustChoice').reject(new Error('WebSocket closed with status code: 1006 (no reason given).'));
    await flushMicrotasks();
    if (attempt === MAX_SEND_ATTEMPTS) break;
    assert.equal(s.pending.find(opId)?.opId, opId, `kept after drop ${attempt}`);
    hub.connected = true;
    const resumed = s.join();
    hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r1' });
    await resumed;
    assert.equal(hub.callsOf('AdjustChoice').length, attempt + 1, `sent again after join ${attempt}`);
  }
  assert.equal(s.pending.find(opId), undefined, 'out of attempts');
  assert.deepEqual(errors.map((e) => e.code), ['unconfirmed']);
});

test('a press refused room_not_found (the room expired or was deleted) tells the page the room is gone, not a passing error', async () => {
  const hub = new FakeHub();
  const gone = [];
  const { s, errors } = await joined(hub, { onRoomGone: (parsed) => gone.push(parsed) });
  s.adjust('pizza', 1);
  hub.last('AdjustChoice').reject(new Error("An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: room_not_found: no room r1"));
  await flushMicrotasks();
  assert.deepEqual(gone.map((p) => p.code), ['room_not_found']);
  assert.deepEqual(errors, []);
  assert.equal(s.pending.size, 0);
});

test('an owner call cut by a lost connection is refused as unconfirmed: it may have been applied', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const locking = s.setRoomState('locked');
  hub.connected = false;
  hub.last('SetRoomState').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await assert.rejects(locking, (e) => e.parsed?.code === 'unconfirmed');
});

test('an owner call that fails otherwise while connected keeps the library\'s text', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const locking = s.setRoomState('locked');
  hub.last('SetRoomState').reject(new Error('Cannot send data if the connection is not in the \'Connected\' State.'));
  await assert.rejects(locking, (e) => e.parsed === null && /Connected/.test(e.message));
});

test('a queued op is resent once joined when the server had not seen it', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  hub.connected = false;
  s.disconnected();
  const opId = s.adjust('pasta', 1);
  assert.equal(hub.callsOf('AdjustChoice').length, 0);
  assert.equal(s.displayQuantity('pasta'), 1);
  hub.connected = true;
  const resumed = s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r2' });
  await resumed;
  assert.deepEqual(hub.last('AdjustChoice').args, ['r1', 'pasta', 1, opId]);
});

test('nothing is edited while the room is locked', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onRoomEvent(stateEvent(4, 'locked'));
  assert.equal(s.editable, false);
  assert.equal(s.adjust('pizza', 1), null);
  assert.equal(hub.callsOf('AdjustChoice').length, 0);
});

test('presence updates members without moving the position', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onPresence({ roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true });
  assert.equal(s.state.members.find((m) => m.memberId === 'b').online, true);
  assert.equal(s.state.version, 3);
});

test('a refresh event takes a fresh snapshot', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onRoomEvent({ roomId: 'r1', epoch: 'e1', version: 4, type: 'refresh', by: 'o' });
  assert.deepEqual(hub.last('Join').args, ['r1', null]);
});

test('a failed Join rejects and leaves the session unjoined', async () => {
  const hub = new FakeHub();
  const { s } = session(hub);
  const done = s.join();
  hub.last('Join').reject(new Error('HubException: room_not_found: no such room'));
  await assert.rejects(done, /room_not_found/);
  assert.equal(s.joined, false);
  assert.equal(s.joining, null);
});

/**
 * Answers every send of the op `unavailable` and runs its backoff's timer, the clock moved on by the timer's wait,
 * until the page stops sending it or `until` (ms on the clock) passes. Returns the waits between sends.
 */
async function unavailableUntil(hub, clock, timers, until) {
  const waits = [];
  while (clock.now < until) {
    hub.last('AdjustChoice').reject(new Error(UNAVAILABLE));
    await flushMicrotasks();
    if (timers.length === 0) break;
    const { fn, ms } = timers.shift();
    waits.push(ms);
    clock.now += ms;
    fn();
  }
  return waits;
}

test('unavailable keeps the press pending and resends it with the same opId for minutes, then says it may have been applied', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s, errors } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }), now: () => clock.now });
  const opId = s.enqueue('pasta', 'adjust', 1);

  // A Redis failover or a deaf replica for a minute: far more than five quick tries.
  const waits = await unavailableUntil(hub, clock, timers, 60 * 1000);
  assert.equal(errors.length, 0, 'no error shown while retrying');
  assert.equal(s.pending.find(opId)?.unconfirmed, true, 'still pending a minute on');
  assert.ok(hub.callsOf('AdjustChoice').length > MAX_SEND_ATTEMPTS, 'past the attempts a dropped connection gets');
  assert.ok(hub.callsOf('AdjustChoice').every((call) => call.args[3] === opId), 'every send with the same opId');
  assert.deepEqual(waits.slice(0, 3), [1000, 2000, 3000], 'the waits grow a second a try');
  assert.ok(waits.every((ms) => ms <= MAX_RETRY_DELAY_MS), 'up to a cap');

  await unavailableUntil(hub, clock, timers, UNCONFIRMED_RETRY_MS + 60 * 1000);
  assert.equal(s.pending.find(opId), undefined, 'given up once the time is out');
  assert.deepEqual(errors.map((e) => e.code), ['unconfirmed'], 'the member is told it may have been applied, not to try again');
});

test('a resend after unavailable refused for good says why: the press was not applied', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s, errors } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }), now: () => clock.now });
  const opId = s.adjust('pasta', 1);
  hub.last('AdjustChoice').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  clock.now += timers[0].ms;
  timers.shift().fn();
  hub.last('AdjustChoice').reject(new Error("An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: room_locked: the room is locked"));
  await flushMicrotasks();
  assert.equal(s.pending.find(opId), undefined, 'rolled back');
  assert.deepEqual(errors.map((e) => e.code), ['room_locked'], 'not "may have been applied": the server said no');
});

test('a backoff timer that fires early (the wall clock stepped back) arms another: the press is not left unsent', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 10_000 };
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }), now: () => clock.now });
  const opId = s.adjust('pasta', 1);
  hub.last('AdjustChoice').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  clock.now += timers[0].ms - 50; // the timer is on time, the wall clock 50 ms behind it
  timers.shift().fn();
  assert.equal(hub.callsOf('AdjustChoice').length, 1, 'not due yet by the wall clock');
  assert.equal(timers.length, 1, 'another flush armed');
  assert.equal(timers[0].ms, 50);
  clock.now += 50;
  timers.shift().fn();
  assert.deepEqual(hub.last('AdjustChoice').args, ['r1', 'pasta', 1, opId]);
});

test('an op backing off after unavailable is not sent early by a later press', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }), now: () => clock.now });
  const waiting = s.adjust('pasta', 1);
  hub.last('AdjustChoice').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();

  clock.now += 100;
  const later = s.adjust('pizza', 1);
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => c.args[3]), [waiting, later], 'the other item goes at once; the waiting op does not');
  s.adjust('pasta', 1);
  assert.equal(hub.callsOf('AdjustChoice').length, 2, "the item's later press keeps its place behind the waiting one");

  clock.now += timers[0].ms;
  timers.shift().fn();
  assert.deepEqual(hub.callsOf('AdjustChoice').slice(2).map((c) => c.args[3]), [waiting, 'op3'], 'once its wait is over, in order');
});

const UNAVAILABLE = "An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: unavailable: the write could not be confirmed";

test('an op whose event was seen but whose call answered unavailable is resent after a failover resync (same opId)', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s, errors } = await joined(hub, { schedule: (fn) => timers.push(fn), now: () => clock.now });
  const opId = s.adjust('pizza', 1);
  assert.equal(opId, 'op1');
  // The master published the event, then failed over before replicating: the call is unavailable.
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, opId));
  assert.equal(s.displayQuantity('pizza'), 2);
  hub.last('AdjustChoice').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  assert.equal(s.displayQuantity('pizza'), 2, 'not shown twice');
  assert.deepEqual(errors, []);
  // The room has a new epoch: resync from a snapshot that lacks the choice.
  s.onPosition({ roomId: 'r1', epoch: 'e2', version: 4 });
  assert.deepEqual(hub.last('Join').args, ['r1', null]);
  hub.last('Join').resolve({ position: { epoch: 'e2', version: 4 }, snapshot: snapshot({ epoch: 'e2', version: 4 }), missed: null, replica: 'r2' });
  await flushMicrotasks();
  assert.equal(hub.callsOf('AdjustChoice').length, 1, 'the resync does not cut its backoff short');
  clock.now += MAX_RETRY_DELAY_MS;
  timers.forEach((fn) => fn()); // the backoff's flush sends it (the resync's flush found it waiting)
  const sends = hub.callsOf('AdjustChoice');
  assert.equal(sends.length, 2, 'sent again once');
  assert.deepEqual(sends[1].args, ['r1', 'pizza', 1, 'op1']);
  assert.equal(s.displayQuantity('pizza'), 1, "the snapshot's quantity until the resend settles (a snapshot may hold the press already: never counted twice)");
  sends[1].resolve({ version: 5, quantity: 2 });
  s.onRoomEvent(choice(5, 'a', 'pizza', 2, 'op1', 'e2'));
  await flushMicrotasks();
  assert.equal(s.pending.size, 0);
  assert.equal(s.displayQuantity('pizza'), 2);
});

test('a seen op answered unavailable without a failover is resent once; the replayed ack settles it, no double count', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s, errors } = await joined(hub, { schedule: (fn) => timers.push(fn), now: () => clock.now });
  const op1 = s.adjust('pizza', 1);
  const op2 = s.adjust('pizza', 1);
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, op1));
  hub.callsOf('AdjustChoice')[0].reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  assert.equal(s.displayQuantity('pizza'), 3);
  clock.now += MAX_RETRY_DELAY_MS;
  timers.shift()();
  assert.deepEqual(hub.last('AdjustChoice').args, ['r1', 'pizza', 1, op1], 'resent with the same opId');
  hub.last('AdjustChoice').resolve({ version: 4, quantity: 2 }); // the original result: nothing changed
  await flushMicrotasks();
  assert.deepEqual(s.pending.ops.map((o) => o.opId), [op2]);
  assert.equal(s.displayQuantity('pizza'), 3);
  assert.deepEqual(errors, []);
});

test('a seen op still unavailable when its time is out is dropped without an error: the state holds it', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s, errors } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }), now: () => clock.now });
  const opId = s.adjust('pizza', 1);
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, opId));
  await unavailableUntil(hub, clock, timers, UNCONFIRMED_RETRY_MS + 60 * 1000);
  assert.equal(s.pending.size, 0);
  assert.deepEqual(errors, []);
  assert.equal(s.displayQuantity('pizza'), 2);
});

test('an op seen only in an earlier epoch and still unavailable when its time is out is reported: the new snapshot may lack it', async () => {
  const hub = new FakeHub();
  const timers = [];
  const clock = { now: 0 };
  const { s, errors } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }), now: () => clock.now });
  const opId = s.adjust('pizza', 1);
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, opId));
  hub.last('AdjustChoice').reject(new Error(UNAVAILABLE));
  await flushMicrotasks();
  s.onPosition({ roomId: 'r1', epoch: 'e2', version: 4 });
  hub.last('Join').resolve({ position: { epoch: 'e2', version: 4 }, snapshot: snapshot({ epoch: 'e2', version: 4 }), missed: null, replica: 'r2' });
  await flushMicrotasks();
  assert.equal(hub.callsOf('AdjustChoice').length, 1, 'the resync does not cut its backoff short');
  const backoff = timers.findIndex((t) => t.ms === 1000);
  clock.now += timers[backoff].ms;
  timers.splice(backoff, 1)[0].fn();
  assert.equal(hub.callsOf('AdjustChoice').length, 2, 'sent again after its backoff');
  await unavailableUntil(hub, clock, timers, UNCONFIRMED_RETRY_MS + 60 * 1000);
  assert.equal(s.pending.size, 0, 'dropped once out of time');
  assert.deepEqual(errors.map((e) => e.code), ['unconfirmed'], 'the member is told: the press may or may not have been applied');
  assert.equal(s.displayQuantity('pizza'), 1, 'the new snapshot, which lacks it');
});

test('presence arriving during a Join is applied on top of its result, not lost or overwritten', async () => {
  const hub = new FakeHub();
  const { s } = session(hub);
  const done = s.join();
  // Bob goes offline (seq 11) after the snapshot (seq 10) was read, and the news overtakes the result.
  s.onPresence({ roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true, seq: 9 });
  s.onPresence({ roomId: 'r1', memberId: 'a', displayName: 'Alice', online: false, seq: 11 });
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: snapshot({ presenceSeq: 10 }), missed: null, replica: 'r1' });
  await done;
  assert.equal(s.state.members.find((m) => m.memberId === 'a').online, false, 'seq 11 applied over the snapshot');
  assert.equal(s.state.members.find((m) => m.memberId === 'b').online, false, 'seq 9 is older than the snapshot: dropped');
});

const FORBIDDEN = "An unexpected error occurred invoking 'Join' on the server. HubException: forbidden: this member was removed from the room";

test('Removed stops the session for good: no resume, no sends, no saves', async () => {
  const hub = new FakeHub();
  const removals = [];
  const { s, saved } = await joined(hub, { onRemovedFromRoom: (r) => removals.push(r) });
  s.adjust('pizza', 1); // in flight when the removal lands
  s.onRemoved({ roomId: 'r1', memberId: 'a', by: 'o' });
  assert.deepEqual(removals, [{ by: 'o', reason: 'removed' }]);
  assert.equal(s.joined, false);
  assert.equal(s.editable, false);
  assert.equal(s.pending.size, 0);
  assert.equal(s.displayQuantity('pizza'), 0, 'my choices leave the order with me, even before the event');
  assert.equal(s.state.members.some((m) => m.memberId === 'a'), false);
  const savedBefore = saved.length;

  // Everything that would normally resume or send is now inert.
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 9 });
  s.onRoomEvent(choice(7, 'b', 'pasta', 1));
  s.onRoomEvent(choice(4, 'b', 'pasta', 1));
  s.disconnected();
  await assert.rejects(s.join(), (e) => e.removed === true);
  assert.equal(s.adjust('pizza', 1), null);
  await assert.rejects(s.removeMember('b'), (e) => e.removed === true);
  assert.equal(hub.callsOf('Join').length, 1);
  assert.equal(hub.callsOf('AdjustChoice').length, 1);
  assert.equal(s.state.version, 3);
  assert.equal(saved.length, savedBefore);

  // A second Removed (another of the member's connections) reports nothing new.
  s.onRemoved({ roomId: 'r1', memberId: 'a', by: 'o' });
  assert.equal(removals.length, 1);
});

test('the call in flight when Removed lands fails silently: the page shows the removal, not a press error', async () => {
  const hub = new FakeHub();
  const { s, errors } = await joined(hub);
  s.adjust('pizza', 1);
  s.onRemoved({ roomId: 'r1', memberId: 'a', by: 'o' });
  hub.last('AdjustChoice').reject(new Error('HubException: forbidden: removed'));
  await flushMicrotasks();
  assert.deepEqual(errors, []);
});

test('Removed for another room or member is ignored', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  s.onRemoved({ roomId: 'r2', memberId: 'a', by: 'o' });
  s.onRemoved({ roomId: 'r1', memberId: 'b', by: 'o' });
  assert.equal(s.removed, null);
  assert.equal(s.joined, true);
});

test('a live member_removed about someone else updates the room; about this member it stops the session', async () => {
  const hub = new FakeHub();
  const removals = [];
  const { s } = await joined(hub, { onRemovedFromRoom: (r) => removals.push(r) });
  s.onRoomEvent(choice(4, 'b', 'pasta', 2));
  s.onRoomEvent(memberRemoved(5, 'b'));
  assert.equal(s.removed, null);
  assert.equal(s.state.members.some((m) => m.memberId === 'b'), false);
  assert.equal(quantity(s, 'b', 'pasta'), 0);
  s.onRoomEvent(memberRemoved(6, 'a', 'api'));
  assert.deepEqual(removals, [{ by: 'api', reason: 'event' }]);
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 8 });
  assert.equal(hub.callsOf('Join').length, 1);
});

function quantity(s, memberId, menuId) {
  return s.state.choices.find((c) => c.memberId === memberId && c.menuId === menuId)?.quantity ?? 0;
}

test('a Join refused with forbidden is terminal: reported as a removal, never retried', async () => {
  const hub = new FakeHub();
  const removals = [];
  const { s } = session(hub, { initialState: fromSnapshot(snapshot()), onRemovedFromRoom: (r) => removals.push(r) });
  const done = s.join();
  hub.last('Join').reject(new Error(FORBIDDEN));
  await assert.rejects(done, /forbidden/);
  assert.deepEqual(removals, [{ by: null, reason: 'forbidden' }]);
  assert.equal(s.joining, null);
  await assert.rejects(s.join(), (e) => e.removed === true);
  assert.equal(hub.callsOf('Join').length, 1);
});

test('a background join (after a gap) refused with forbidden stops the session too', async () => {
  const hub = new FakeHub();
  const removals = [];
  const failures = [];
  const { s } = await joined(hub, { onRemovedFromRoom: (r) => removals.push(r), onJoinFailed: (e) => failures.push(e) });
  s.onRoomEvent(choice(6, 'b', 'pasta', 1));
  hub.last('Join').reject(new Error(FORBIDDEN));
  await flushMicrotasks();
  assert.equal(removals.length, 1);
  assert.equal(failures.length, 1);
  s.onPosition({ roomId: 'r1', epoch: 'e1', version: 9 });
  assert.equal(hub.callsOf('Join').length, 2);
});

test('Removed while a Join is in flight: the Join result is not applied and join() rejects', async () => {
  const hub = new FakeHub();
  const { s } = session(hub);
  const done = s.join();
  s.onRemoved({ roomId: 'r1', memberId: 'a', by: 'o' });
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: snapshot(), missed: null, replica: 'r1' });
  await assert.rejects(done, (e) => e.removed === true);
  assert.equal(s.joined, false);
  assert.equal(s.state, null);
});

test('a Join whose missed events contain this member\'s old removal (re-admitted with a new token) stays joined', async () => {
  const hub = new FakeHub();
  const { s } = session(hub, { initialState: fromSnapshot(snapshot()) });
  const done = s.join();
  hub.last('Join').resolve({
    position: { epoch: 'e1', version: 5 }, snapshot: null,
    missed: [memberRemoved(4, 'a'), { roomId: 'r1', epoch: 'e1', version: 5, type: 'member', memberId: 'a', displayName: 'Alice' }],
    replica: 'r1',
  });
  await done;
  assert.equal(s.removed, null);
  assert.equal(s.joined, true);
  assert.equal(s.state.version, 5);
});

test('Announcement is surfaced once per id; malformed ones are ignored', async () => {
  const hub = new FakeHub();
  const seen = [];
  const { s } = await joined(hub, { onAnnouncement: (a) => seen.push(a) });
  const announcement = { id: 'x1', kind: 'maintenance', message: 'Short maintenance at 22:00', at: '2025-01-01T21:00:00Z' };
  s.onAnnouncement(announcement);
  s.onAnnouncement({ ...announcement });
  s.onAnnouncement(null);
  s.onAnnouncement({ id: 'x2', kind: 'maintenance' });
  s.onAnnouncement({ id: 'x3', kind: 'info', message: 'Back to normal', at: '2025-01-01T22:10:00Z' });
  assert.deepEqual(seen.map((a) => a.message), ['Short maintenance at 22:00', 'Back to normal']);
  assert.equal(s.state.version, 3, 'announcements are not room events');
});

test('removeMember calls RemoveMember(roomId, memberId) and rejects with the parsed error', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const ok = s.removeMember('b');
  assert.deepEqual(hub.last('RemoveMember').args, ['r1', 'b']);
  hub.last('RemoveMember').resolve({ version: 4 });
  assert.deepEqual(await ok, { version: 4 });
  const refused = s.removeMember('a');
  hub.last('RemoveMember').reject(new Error("An unexpected error occurred invoking 'RemoveMember' on the server. HubException: invalid_argument: the owner cannot be removed"));
  await assert.rejects(refused, (e) => e.parsed?.code === 'invalid_argument');
});

test('enqueue with kind set sends SetChoice with the opId', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const opId = s.enqueue('water', 'set', 4);
  assert.deepEqual(hub.last('SetChoice').args, ['r1', 'water', 4, opId]);
  assert.equal(s.displayQuantity('water'), 4);
});

test('a choice refused with forbidden (the token is refused after a removal) stops the session, not a press error', async () => {
  const hub = new FakeHub();
  const removals = [];
  const { s, errors } = await joined(hub, { onRemovedFromRoom: (r) => removals.push(r) });
  s.adjust('pizza', 1);
  hub.last('AdjustChoice').reject(new Error("An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: forbidden: this member was removed from the room; ask for a new link"));
  await flushMicrotasks();
  assert.deepEqual(removals, [{ by: null, reason: 'forbidden' }]);
  assert.deepEqual(errors, []);
  assert.equal(s.pending.size, 0);
});

test('forbidden on an owner call is an ordinary error: the session goes on', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  const refused = s.setRoomState('locked');
  hub.last('SetRoomState').reject(new Error("HubException: forbidden: only the room's owner may change its state"));
  await assert.rejects(refused, (e) => e.parsed?.code === 'forbidden');
  assert.equal(s.removed, null);
  assert.equal(s.joined, true);
});

/** Presses + `times` times as the page does: only while the session allows one more. */
function pressPlus(s, menuId, times) {
  for (let i = 0; i < times; i++) if (s.canAdd(menuId)) s.adjust(menuId, 1);
}

test('+ goes as far as the snapshot\'s maxQuantity: past 99 when the server allows 200', async () => {
  const hub = new FakeHub();
  const ctx = session(hub);
  const done = ctx.s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: snapshot({ maxQuantity: 200 }), missed: null, replica: 'r1' });
  await done;
  assert.equal(ctx.s.maxQuantity, 200);
  pressPlus(ctx.s, 'pasta', 150);
  assert.equal(ctx.s.displayQuantity('pasta'), 150);
  assert.equal(hub.callsOf('AdjustChoice').length, 150);
  assert.equal(ctx.s.canAdd('pasta'), true);
});

test('+ stops at the snapshot\'s maxQuantity when it is below 99', async () => {
  const hub = new FakeHub();
  const ctx = session(hub);
  const done = ctx.s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: snapshot({ maxQuantity: 50 }), missed: null, replica: 'r1' });
  await done;
  pressPlus(ctx.s, 'pasta', 60);
  assert.equal(ctx.s.displayQuantity('pasta'), 50);
  assert.equal(hub.callsOf('AdjustChoice').length, 50, 'no press is sent past the cap');
  assert.equal(ctx.s.canAdd('pasta'), false);
});

test('a snapshot without maxQuantity (an older replica) keeps the default cap of 99', async () => {
  const hub = new FakeHub();
  const { s } = await joined(hub);
  assert.equal(s.maxQuantity, 99);
  pressPlus(s, 'pasta', 120);
  assert.equal(s.displayQuantity('pasta'), 99);
});

test('the cap survives a resume from missed events and a state restored from storage', async () => {
  const hub = new FakeHub();
  const { s } = session(hub, { initialState: fromSnapshot(snapshot({ maxQuantity: 200 })) });
  assert.equal(s.maxQuantity, 200);
  const done = s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 4 }, snapshot: null, missed: [choice(4, 'b', 'pasta', 2)], replica: 'r2' });
  await done;
  assert.equal(s.maxQuantity, 200);
});

// ---------- presses kept across a reload (sessionStorage, beside the state) ----------

class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(key) { return this.map.has(key) ? this.map.get(key) : null; }
  setItem(key, value) { this.map.set(key, String(value)); }
  removeItem(key) { this.map.delete(key); }
}

/** Options wiring a session to `storage` as app.js does. */
function stored(storage) {
  return {
    save: (state) => saveState(storage, 'r1', 'a', state),
    savePending: (ops) => savePending(storage, 'r1', 'a', ops),
  };
}

/** A new page's session, restored from `storage` as app.js does; its own opIds would be `new1`, `new2`... */
function reloaded(hub, storage) {
  let n = 0;
  return new RoomSession({
    roomId: 'r1',
    memberId: 'a',
    hub,
    newOpId: () => `new${++n}`,
    initialState: loadState(storage, 'r1', 'a'),
    initialPending: loadPending(storage, 'r1', 'a'),
    ...stored(storage),
  });
}

test('presses made offline survive a reload: shown at once, sent again with the same opIds after the Join', async () => {
  const storage = new MemoryStorage();
  const hub = new FakeHub();
  const { s } = await joined(hub, stored(storage));
  const inFlight = s.adjust('pasta', 1); // sent; the connection drops before its answer
  hub.connected = false;
  s.disconnected();
  hub.last('AdjustChoice').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await flushMicrotasks();
  const offline = [s.adjust('pizza', 1), s.adjust('pizza', 1)]; // pressed while disconnected: not sent
  assert.equal(hub.callsOf('AdjustChoice').length, 1);
  assert.equal(s.displayQuantity('pizza'), 3);

  // The page goes away (a reload, or the phone discarding the tab) before the connection is back.
  const hub2 = new FakeHub();
  const s2 = reloaded(hub2, storage);
  assert.equal(s2.displayQuantity('pizza'), 3, 'the presses are shown, not silently lost');
  assert.equal(s2.displayQuantity('pasta'), 1);
  assert.equal(s2.pending.size, 3);
  assert.equal(hub2.callsOf('AdjustChoice').length, 0, 'nothing is sent before the Join');
  const done = s2.join();
  assert.deepEqual(hub2.last('Join').args, ['r1', { epoch: 'e1', version: 3 }]);
  hub2.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r1' });
  await done;
  assert.deepEqual(hub2.callsOf('AdjustChoice').map((c) => c.args), [
    ['r1', 'pasta', 1, inFlight], ['r1', 'pizza', 1, offline[0]], ['r1', 'pizza', 1, offline[1]],
  ], 'the same opIds: the server applies each at most once');

  const [pasta, pizza1, pizza2] = hub2.callsOf('AdjustChoice');
  pasta.resolve({ version: 4, quantity: 1 });
  pizza1.resolve({ version: 5, quantity: 2 });
  pizza2.resolve({ version: 6, quantity: 3 });
  await flushMicrotasks();
  s2.onRoomEvent(choice(4, 'a', 'pasta', 1, inFlight));
  s2.onRoomEvent(choice(5, 'a', 'pizza', 2, offline[0]));
  s2.onRoomEvent(choice(6, 'a', 'pizza', 3, offline[1]));
  assert.equal(s2.pending.size, 0);
  assert.deepEqual(loadPending(storage, 'r1', 'a'), [], 'settled presses are no longer saved');
  assert.equal(loadState(storage, 'r1', 'a').version, 6);
});

test('a restored press the server applied before the page went away is settled by its missed event, not sent again', async () => {
  const storage = new MemoryStorage();
  const hub = new FakeHub();
  const { s } = await joined(hub, stored(storage));
  const opId = s.adjust('pizza', 1);
  hub.connected = false;
  s.disconnected();
  hub.last('AdjustChoice').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await flushMicrotasks();

  const hub2 = new FakeHub();
  const s2 = reloaded(hub2, storage);
  const done = s2.join();
  hub2.last('Join').resolve({ position: { epoch: 'e1', version: 4 }, snapshot: null, missed: [choice(4, 'a', 'pizza', 2, opId)], replica: 'r1' });
  await done;
  assert.equal(hub2.callsOf('AdjustChoice').length, 0);
  assert.equal(s2.pending.size, 0);
  assert.equal(s2.displayQuantity('pizza'), 2, 'counted once');
});

test('a restored press whose event the saved state holds is not shown twice, and is still sent until its ack', async () => {
  const storage = new MemoryStorage();
  const hub = new FakeHub();
  const { s } = await joined(hub, stored(storage));
  const opId = s.adjust('pizza', 1);
  s.onRoomEvent(choice(4, 'a', 'pizza', 2, opId)); // its event, before its ack: the page goes away now

  const hub2 = new FakeHub();
  const s2 = reloaded(hub2, storage);
  assert.equal(s2.displayQuantity('pizza'), 2);
  const done = s2.join();
  hub2.last('Join').resolve({ position: { epoch: 'e1', version: 4 }, snapshot: null, missed: [], replica: 'r1' });
  await done;
  assert.deepEqual(hub2.last('AdjustChoice').args, ['r1', 'pizza', 1, opId]);
  assert.equal(s2.displayQuantity('pizza'), 2);
  hub2.last('AdjustChoice').resolve({ version: 4, quantity: 2 });
  await flushMicrotasks();
  assert.equal(s2.pending.size, 0);
  assert.equal(s2.displayQuantity('pizza'), 2);
});

test('corrupt saved presses are ignored: the restored session joins and sends nothing of them', async () => {
  for (const text of ['{not json', '"a string"', '{"opId":"x"}', JSON.stringify([null, 7, { opId: 5 }, { opId: 'x y', menuId: 'pizza', kind: 'adjust', value: 1 }, { opId: 'ok', menuId: 'pizza', kind: 'drop', value: 1 }])]) {
    const storage = new MemoryStorage();
    saveState(storage, 'r1', 'a', fromSnapshot(snapshot()));
    storage.setItem('roomshare:v1:pending:r1:a', text);
    const hub = new FakeHub();
    const s = reloaded(hub, storage);
    assert.equal(s.pending.size, 0, text);
    assert.equal(s.displayQuantity('pizza'), 1, text);
    const done = s.join();
    hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r1' });
    await done;
    assert.equal(hub.callsOf('AdjustChoice').length, 0, text);
  }
});

test('the page\'s clearState forgets a removed member\'s saved presses, and an answer arriving after the removal saves none again', async () => {
  const storage = new MemoryStorage();
  const hub = new FakeHub();
  const { s } = await joined(hub, stored(storage));
  s.adjust('pizza', 1); // in flight
  hub.connected = false;
  s.disconnected();
  s.adjust('pizza', 1);
  assert.equal(loadPending(storage, 'r1', 'a').length, 2);
  s.onRemoved({ roomId: 'r1', memberId: 'a', by: 'o' });
  clearState(storage, 'r1', 'a'); // what showRemoved does
  // The press in flight is answered after the removal: nothing is saved again for a member the page has forgotten.
  hub.last('AdjustChoice').reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await flushMicrotasks();
  assert.deepEqual(loadPending(storage, 'r1', 'a'), []);
  assert.equal(loadState(storage, 'r1', 'a'), null);
});

// ---------- presses refused for the member's write rate (rate_limited) ----------

const RATE_LIMITED = "An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: rate_limited: this member is changing the room too fast (at most 20 writes a second, bursts of 40); slow down and retry";

/** A restored page, not joined yet, with `count` presses made offline; joined at version 3. */
async function backlog(hub, count, timers) {
  const ctx = session(hub, { initialState: fromSnapshot(snapshot({ maxQuantity: 200 })), schedule: (fn, ms) => timers.push({ fn, ms }) });
  const presses = [];
  for (let i = 0; i < count; i++) presses.push(ctx.s.adjust('pasta', 1));
  assert.equal(hub.callsOf('AdjustChoice').length, 0, 'offline: nothing sent yet');
  const done = ctx.s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r1' });
  await done;
  return { ...ctx, presses };
}

test('45 presses flushed after a Join, the 41st on refused rate_limited: kept and sent again with their opIds, none dropped', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s, errors, presses } = await backlog(hub, 45, timers);
  const first = hub.callsOf('AdjustChoice');
  assert.equal(first.length, 45, 'the backlog goes out at once');
  // The server's bucket takes a burst of 40 (MemberOpsBurst): the rest are refused, applying nothing.
  first.slice(0, 40).forEach((call, i) => call.resolve({ version: 4 + i, quantity: 1 + i }));
  first.slice(40).forEach((call) => call.reject(new Error(RATE_LIMITED)));
  await flushMicrotasks();
  assert.deepEqual(errors, [], 'no "Too many changes" error: nothing was lost');
  assert.equal(s.pending.size, 45);
  assert.equal(s.displayQuantity('pasta'), 45, 'every press still shown');
  assert.equal(hub.callsOf('AdjustChoice').length, 45, 'not resent at once');
  assert.deepEqual(timers.map((t) => t.ms), [1000], 'one pause');

  timers.shift().fn(); // the bucket has refilled
  const resent = hub.callsOf('AdjustChoice').slice(45);
  assert.deepEqual(resent.map((c) => c.args[3]), presses.slice(40), 'resent with the same opIds');
  resent.forEach((call, i) => call.resolve({ version: 44 + i, quantity: 41 + i }));
  await flushMicrotasks();
  assert.equal(timers.length, 0, 'nothing left to pace');
  for (let v = 4; v <= 48; v++) s.onRoomEvent(choice(v, 'a', 'pasta', v - 3, presses[v - 4]));
  assert.equal(s.pending.size, 0);
  assert.equal(s.displayQuantity('pasta'), 45);
  assert.deepEqual(errors, []);
});

test('after a rate refusal the queue goes out a batch at a time, and a refusal spends no attempt', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s, errors, presses } = await backlog(hub, 45, timers);
  const first = hub.callsOf('AdjustChoice');
  first.slice(0, 10).forEach((call) => call.resolve({ version: 3, quantity: 1 }));
  first.slice(10).forEach((call) => call.reject(new Error(RATE_LIMITED)));
  await flushMicrotasks();
  assert.equal(timers.length, 1);

  timers.shift().fn();
  assert.equal(hub.callsOf('AdjustChoice').length, 45 + PACED_BATCH, 'one batch');
  assert.equal(timers.length, 1, 'the rest after another pause');
  timers.shift().fn();
  assert.equal(hub.callsOf('AdjustChoice').length, 45 + 35);
  assert.equal(timers.length, 0, 'the queue is empty: pacing ends');

  // One press refused again and again (another device is using the member's rate): never rolled back.
  const stubborn = presses[44];
  for (let i = 0; i < MAX_SEND_ATTEMPTS + 3; i++) {
    hub.calls.filter((c) => c.method === 'AdjustChoice' && c.args[3] === stubborn).at(-1).reject(new Error(RATE_LIMITED));
    await flushMicrotasks();
    timers.shift().fn();
  }
  assert.equal(s.pending.find(stubborn)?.status, 'sent');
  assert.deepEqual(errors, []);
});

test('a press refused rate_limited is sent again before a later press of the other sign, which waits for its verdict', async () => {
  const hub = new FakeHub();
  const timers = [];
  const { s, errors } = await joined(hub, { schedule: (fn, ms) => timers.push({ fn, ms }) });
  const plus = s.adjust('pasta', 1);
  const minus = s.adjust('pasta', -1);
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => c.args[3]), [plus], 'the −1 waits: at 0 its order decides the quantity');

  hub.last('AdjustChoice').reject(new Error(RATE_LIMITED));
  await flushMicrotasks();
  assert.equal(hub.callsOf('AdjustChoice').length, 1, 'nothing more until the pause ends');
  timers.shift().fn();
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => c.args[3]), [plus, plus], 'the +1 again, still before the −1');

  hub.last('AdjustChoice').resolve({ version: 4, quantity: 1 });
  await flushMicrotasks();
  assert.equal(hub.callsOf('AdjustChoice').length, 2, 'still paced after the refusal');
  timers.shift().fn();
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => [c.args[2], c.args[3]]), [[1, plus], [1, plus], [-1, minus]], 'then the −1');
  hub.last('AdjustChoice').resolve({ version: 5, quantity: 0 });
  await flushMicrotasks();
  s.onRoomEvent(choice(4, 'a', 'pasta', 1, plus));
  s.onRoomEvent(choice(5, 'a', 'pasta', 0, minus));
  assert.equal(s.displayQuantity('pasta'), 0, 'the member left it at 0');
  assert.deepEqual(errors, []);
});

test('a press of the other sign goes out as soon as the item\'s press in flight is answered', async () => {
  const hub = new FakeHub();
  const { s, errors } = await joined(hub);
  const plus = s.adjust('pasta', 1);
  const minus = s.adjust('pasta', -1);
  const other = s.adjust('pizza', 1);
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => c.args[3]), [plus, other], 'another item is not held');
  assert.equal(s.displayQuantity('pasta'), 0, 'both presses shown meanwhile');

  hub.calls.find((c) => c.args[3] === plus).resolve({ version: 4, quantity: 1 });
  await flushMicrotasks();
  assert.deepEqual(hub.callsOf('AdjustChoice').map((c) => c.args[3]), [plus, other, minus]);
  assert.deepEqual(errors, []);
});

test('after the link expired, a press in flight that the stopped connection fails is kept for the new link, not rolled back', async () => {
  const hub = new FakeHub();
  let savedOps = [];
  const { s, errors } = await joined(hub, { savePending: (ops) => { savedOps = ops; } });
  const first = s.adjust('pizza', 1);
  const second = s.adjust('pasta', 1);
  // The second press on its last attempt: a lost connection would roll it back with an error.
  s.pending.find(second).attempts = 5;
  hub.callsOf('AdjustChoice')[0].reject(new Error("HubException: unauthorized: the token has expired"));
  await flushMicrotasks();
  hub.connected = false; // the page stops the connection on the expiry
  hub.callsOf('AdjustChoice')[1].reject(new Error('Invocation canceled due to the underlying connection being closed.'));
  await flushMicrotasks();
  assert.deepEqual(errors, [], "no per-press error over the page's 'link expired'");
  assert.deepEqual(savedOps.map((op) => op.opId), [first, second], 'both kept for the new link');
  assert.equal(s.displayQuantity('pasta'), 1, 'not rolled back');
});

test('a press refused unauthorized (the token expired mid-session) is kept and saved, and a new link sends it with its opId', async () => {
  const hub = new FakeHub();
  let savedOps = [];
  let expired = 0;
  const { s, errors } = await joined(hub, { savePending: (ops) => { savedOps = ops; }, onLinkExpired: () => { expired += 1; } });
  const first = s.adjust('pizza', 1);
  const second = s.adjust('pasta', 1);
  const EXPIRED = "An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: unauthorized: the token has expired";
  hub.callsOf('AdjustChoice')[0].reject(new Error(EXPIRED));
  hub.callsOf('AdjustChoice')[1].reject(new Error(EXPIRED));
  await flushMicrotasks();
  assert.deepEqual(errors, [], 'not a per-press error: the page says the link expired');
  assert.equal(expired, 1, 'the page is told once');
  assert.equal(s.pending.size, 2, 'nothing rolled back');
  assert.equal(s.displayQuantity('pizza'), 2);
  assert.deepEqual(savedOps.map((op) => op.opId), [first, second], 'saved for a reload');
  s.adjust('water', 1);
  s.flush();
  assert.equal(hub.callsOf('AdjustChoice').length, 2, 'nothing more goes out on the expired link');

  // The member opens a new link for the same room and member in this tab: the page reloads and restores them.
  const next = new FakeHub();
  const { s: reloaded } = session(next, { initialState: fromSnapshot(snapshot()), initialPending: savedOps });
  const done = reloaded.join();
  next.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [], replica: 'r1' });
  await done;
  assert.deepEqual(next.callsOf('AdjustChoice').map((c) => c.args.slice(1)), [['pizza', 1, first], ['pasta', 1, second], ['water', 1, 'op3']]);
});
