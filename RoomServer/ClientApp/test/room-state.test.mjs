import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEvent, applyJoinResult, applyPresence, classifyEvent, classifyPosition, computeOrder, fromSnapshot, quantityOf,
} from '../src/js/room-state.js';
import { choice, memberRemoved, snapshot, stateEvent } from './fixtures.mjs';

test('classifyEvent applies only the next version of the same epoch', () => {
  const state = fromSnapshot(snapshot());
  assert.equal(classifyEvent(state, choice(4, 'a', 'pizza', 2)), 'apply');
  assert.equal(classifyEvent(state, choice(3, 'a', 'pizza', 2)), 'ignore');
  assert.equal(classifyEvent(state, choice(1, 'a', 'pizza', 2)), 'ignore');
  assert.equal(classifyEvent(state, choice(6, 'a', 'pizza', 2)), 'gap');
  assert.equal(classifyEvent(state, choice(4, 'a', 'pizza', 2, null, 'e2')), 'epoch');
  assert.equal(classifyEvent(null, choice(4, 'a', 'pizza', 2)), 'gap');
});

test('classifyPosition asks to resume only when the room is ahead or in another epoch', () => {
  const state = fromSnapshot(snapshot());
  assert.equal(classifyPosition(state, { epoch: 'e1', version: 3 }), 'current');
  assert.equal(classifyPosition(state, { epoch: 'e1', version: 2 }), 'current');
  assert.equal(classifyPosition(state, { epoch: 'e1', version: 4 }), 'behind');
  assert.equal(classifyPosition(state, { epoch: 'e2', version: 0 }), 'epoch');
});

test('a choice event sets, changes and removes a quantity and advances the version', () => {
  let state = fromSnapshot(snapshot());
  state = applyEvent(state, choice(4, 'b', 'pasta', 2));
  assert.equal(state.version, 4);
  assert.equal(quantityOf(state, 'b', 'pasta'), 2);
  state = applyEvent(state, choice(5, 'a', 'pizza', 3));
  assert.equal(quantityOf(state, 'a', 'pizza'), 3);
  state = applyEvent(state, choice(6, 'a', 'pizza', 0));
  assert.equal(quantityOf(state, 'a', 'pizza'), 0);
  assert.equal(state.choices.some((c) => c.quantity === 0), false);
});

test('applyEvent does not modify the state it was given', () => {
  const state = fromSnapshot(snapshot());
  const before = JSON.stringify(state);
  applyEvent(state, choice(4, 'a', 'pizza', 5));
  assert.equal(JSON.stringify(state), before);
});

test('member, state, notice and refresh events', () => {
  let state = fromSnapshot(snapshot());
  state = applyEvent(state, { roomId: 'r1', epoch: 'e1', version: 4, type: 'member', memberId: 'c', displayName: 'Cy' });
  assert.deepEqual(state.members.at(-1), { memberId: 'c', displayName: 'Cy', online: false });
  state = applyEvent(state, stateEvent(5, 'locked'));
  assert.equal(state.state, 'locked');
  state = applyEvent(state, { roomId: 'r1', epoch: 'e1', version: 6, type: 'notice', kind: 'kitchen', payload: { eta: 5 } });
  state = applyEvent(state, { roomId: 'r1', epoch: 'e1', version: 7, type: 'refresh', by: 'o' });
  assert.equal(state.version, 7);
  assert.equal(state.state, 'locked');
});

test('presence changes online flags and adds unknown members', () => {
  let state = fromSnapshot(snapshot());
  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true });
  assert.equal(state.members.find((m) => m.memberId === 'b').online, true);
  state = applyPresence(state, { roomId: 'r1', memberId: 'z', displayName: 'Zed', online: true });
  assert.deepEqual(state.members.at(-1), { memberId: 'z', displayName: 'Zed', online: true });
  assert.equal(state.version, 3, 'presence is not versioned');
  // A member event after the presence keeps the online flag.
  state = applyEvent(state, { roomId: 'r1', epoch: 'e1', version: 4, type: 'member', memberId: 'z', displayName: 'Zed' });
  assert.equal(state.members.find((m) => m.memberId === 'z').online, true);
});

test('applyJoinResult takes a snapshot whole', () => {
  const old = fromSnapshot(snapshot());
  const { state, resync } = applyJoinResult(old, {
    position: { epoch: 'e2', version: 1 }, snapshot: snapshot({ epoch: 'e2', version: 1, choices: [] }), missed: null, replica: 'r2',
  });
  assert.equal(resync, null);
  assert.equal(state.epoch, 'e2');
  assert.equal(state.version, 1);
  assert.deepEqual(state.choices, []);
});

test('applyJoinResult applies missed events, skipping those already applied', () => {
  const old = fromSnapshot(snapshot());
  const { state, resync } = applyJoinResult(old, {
    position: { epoch: 'e1', version: 5 },
    snapshot: null,
    missed: [choice(3, 'a', 'pizza', 9), choice(4, 'b', 'pasta', 1), choice(5, 'a', 'pizza', 2)],
    replica: 'r1',
  });
  assert.equal(resync, null);
  assert.equal(state.version, 5);
  assert.equal(quantityOf(state, 'a', 'pizza'), 2);
  assert.equal(quantityOf(state, 'b', 'pasta'), 1);
});

test('applyJoinResult asks for a snapshot when the missed events do not connect', () => {
  const old = fromSnapshot(snapshot());
  const gap = applyJoinResult(old, { position: { epoch: 'e1', version: 6 }, snapshot: null, missed: [choice(5, 'a', 'pizza', 2)] });
  assert.equal(gap.resync, 'snapshot');
  assert.equal(gap.state.version, 3);
  const noState = applyJoinResult(null, { position: { epoch: 'e1', version: 6 }, snapshot: null, missed: [] });
  assert.equal(noState.resync, 'snapshot');
});

test('applyJoinResult reports a state still behind the position', () => {
  const old = fromSnapshot(snapshot());
  const { resync } = applyJoinResult(old, { position: { epoch: 'e1', version: 4 }, snapshot: null, missed: [] });
  assert.equal(resync, 'behind');
  const current = applyJoinResult(old, { position: { epoch: 'e1', version: 3 }, snapshot: null, missed: [] });
  assert.equal(current.resync, null);
});

test('computeOrder totals per item in menu order, with who chose what and my share', () => {
  let state = fromSnapshot(snapshot());
  state = applyEvent(state, choice(4, 'b', 'pizza', 2));
  state = applyEvent(state, choice(5, 'b', 'water', 3));
  const order = computeOrder(state, 'b');
  assert.deepEqual(order.items.map((i) => [i.menuId, i.quantity, i.amountMinor]), [['pizza', 3, 2850], ['water', 3, 750]]);
  assert.deepEqual(order.items[0].by, [
    { memberId: 'a', displayName: 'Alice', quantity: 1 },
    { memberId: 'b', displayName: 'Bob', quantity: 2 },
  ]);
  assert.equal(order.totalMinor, 3600);
  assert.deepEqual(order.mine, { count: 5, amountMinor: 2650 });
});

test('computeOrder matches the snapshot totals', () => {
  const snap = snapshot({
    choices: [
      { memberId: 'a', menuId: 'pizza', quantity: 2 },
      { memberId: 'b', menuId: 'pasta', quantity: 1 },
    ],
    totals: [{ menuId: 'pizza', quantity: 2, amountMinor: 1900 }, { menuId: 'pasta', quantity: 1, amountMinor: 1200 }],
    totalMinor: 3100,
  });
  const order = computeOrder(fromSnapshot(snap));
  assert.deepEqual(order.items.map((i) => ({ menuId: i.menuId, quantity: i.quantity, amountMinor: i.amountMinor })), snap.totals);
  assert.equal(order.totalMinor, snap.totalMinor);
});

test('presence is ordered per member by seq, with the snapshot as the floor', () => {
  let state = fromSnapshot(snapshot({ presenceSeq: 7 }));
  const online = (id) => state.members.find((m) => m.memberId === id)?.online;

  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true, seq: 5 });
  assert.equal(online('b'), false, 'seq 5 is older than the snapshot');

  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true, seq: 9 });
  assert.equal(online('b'), true);
  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: false, seq: 8 });
  assert.equal(online('b'), true, 'an older announcement about b does not undo a newer one');

  // A resume's catch-up taken at seq 8 arrives after a live seq 9 about someone else (z): the
  // catch-up about a is still news and must apply.
  state = applyPresence(state, { roomId: 'r1', memberId: 'z', displayName: 'Zed', online: true, seq: 9 });
  state = applyPresence(state, { roomId: 'r1', memberId: 'a', displayName: 'Alice', online: false, seq: 8 });
  assert.equal(online('a'), false);
  assert.equal(online('z'), true);

  // The same moment (equal seq) applies.
  state = applyPresence(state, { roomId: 'r1', memberId: 'a', displayName: 'Alice', online: true, seq: 8 });
  assert.equal(online('a'), true);
});

test('member_removed drops the member and all their choices, so the totals drop by their share', () => {
  let state = fromSnapshot(snapshot({
    choices: [
      { memberId: 'a', menuId: 'pizza', quantity: 1 },
      { memberId: 'b', menuId: 'pizza', quantity: 2 },
      { memberId: 'b', menuId: 'water', quantity: 3 },
    ],
  }));
  assert.equal(computeOrder(state).totalMinor, 3 * 950 + 3 * 250);
  state = applyEvent(state, memberRemoved(4, 'b'));
  assert.equal(state.version, 4);
  assert.deepEqual(state.members.map((m) => m.memberId), ['a']);
  assert.deepEqual(state.choices, [{ memberId: 'a', menuId: 'pizza', quantity: 1 }]);
  const order = computeOrder(state);
  assert.deepEqual(order.items.map((i) => [i.menuId, i.quantity, i.amountMinor]), [['pizza', 1, 950]]);
  assert.equal(order.totalMinor, 950);
});

test('member_removed is applied from a Join\'s missed events like any other', () => {
  const old = fromSnapshot(snapshot());
  const { state, resync } = applyJoinResult(old, {
    position: { epoch: 'e1', version: 5 }, snapshot: null,
    missed: [choice(4, 'b', 'pasta', 2), memberRemoved(5, 'b')], replica: 'r1',
  });
  assert.equal(resync, null);
  assert.equal(quantityOf(state, 'b', 'pasta'), 0);
  assert.equal(state.members.some((m) => m.memberId === 'b'), false);
});

test('a Presence after member_removed does not bring the member back; a member event re-admits them', () => {
  let state = fromSnapshot(snapshot());
  state = applyEvent(state, memberRemoved(4, 'b'));
  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: false });
  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true });
  assert.equal(state.members.some((m) => m.memberId === 'b'), false);
  state = applyEvent(state, { roomId: 'r1', epoch: 'e1', version: 5, type: 'member', memberId: 'b', displayName: 'Bob' });
  state = applyPresence(state, { roomId: 'r1', memberId: 'b', displayName: 'Bob', online: true });
  assert.deepEqual(state.members.find((m) => m.memberId === 'b'), { memberId: 'b', displayName: 'Bob', online: true });
});

test('an offline Presence about someone not in the list adds nobody', () => {
  const state = applyPresence(fromSnapshot(snapshot()), { roomId: 'r1', memberId: 'z', displayName: 'Zed', online: false });
  assert.equal(state.members.some((m) => m.memberId === 'z'), false);
});

test('fromSnapshot keeps the snapshot\'s maxQuantity, and null for one missing or not a positive integer', () => {
  assert.equal(fromSnapshot(snapshot({ maxQuantity: 200 })).maxQuantity, 200);
  assert.equal(fromSnapshot(snapshot()).maxQuantity, null);
  for (const bad of [0, -1, 1.5, '200', null]) assert.equal(fromSnapshot(snapshot({ maxQuantity: bad })).maxQuantity, null, String(bad));
});
