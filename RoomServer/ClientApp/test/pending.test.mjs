import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SAVED_OPS, MAX_SEND_ATTEMPTS, PendingChoices, UNCONFIRMED_RETRY_MS, commute } from '../src/js/pending.js';

test('unsent and sent ops add up over the confirmed quantity, clamped', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.add('o2', 'pizza', 'adjust', 1);
  assert.equal(pending.display('pizza', 1, 10, 99), 3);
  assert.equal(pending.display('pasta', 4, 10, 99), 4);
  pending.add('o3', 'pizza', 'adjust', -5);
  assert.equal(pending.display('pizza', 1, 10, 99), 0);
  pending.add('o4', 'pizza', 'set', 98);
  pending.add('o5', 'pizza', 'adjust', 5);
  assert.equal(pending.display('pizza', 1, 10, 99), 99);
});

test('an ack ahead of the state holds its quantity until the state reaches its version', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.takeQueued();
  pending.acknowledge('o1', { version: 11, quantity: 2 }, 10);
  assert.equal(pending.display('pizza', 1, 10, 99), 2, 'no flicker back to 1');
  pending.settle(11);
  assert.equal(pending.size, 0);
});

test('an ack at or below the state version settles at once (a no-op write)', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'set', 1);
  pending.takeQueued();
  pending.acknowledge('o1', { version: 10, quantity: 1 }, 10);
  assert.equal(pending.size, 0);
});

test('the choice event of a call in flight marks the op seen (not shown twice); its ack settles it', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.add('o2', 'pizza', 'adjust', 1);
  pending.takeQueued();
  pending.settle(11, 'o1');
  assert.deepEqual(pending.ops.map((o) => [o.opId, o.seen ?? false]), [['o1', true], ['o2', false]]);
  assert.equal(pending.display('pizza', 2, 11, 99), 3, 'o1 is in the confirmed 2 already');
  pending.acknowledge('o1', { version: 11, quantity: 2 }, 11);
  assert.deepEqual(pending.ops.map((o) => o.opId), ['o2']);
});

test('the choice event settles an op with no call awaiting a verdict (never sent, or lost with the connection)', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.add('o2', 'pizza', 'adjust', 1);
  pending.takeQueued();
  pending.requeue('o1'); // the connection dropped
  pending.add('o3', 'pizza', 'adjust', 1);
  pending.settle(11, 'o1');
  pending.settle(12, 'o3');
  assert.deepEqual(pending.ops.map((o) => o.opId), ['o2']);
});

test('an op answered unavailable stays until an ack even once its event is seen; after a new epoch it is sent again, not shown twice', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.add('o2', 'pizza', 'adjust', 1);
  pending.takeQueued();
  assert.equal(pending.requeue('o1', { unconfirmed: true }), true);
  pending.settle(11, 'o1'); // the event came after the answer
  assert.deepEqual(pending.ops.map((o) => [o.opId, o.status, o.seen ?? false]), [['o1', 'queued', true], ['o2', 'sent', false]]);
  assert.equal(pending.display('pizza', 2, 11, 99), 3);
  pending.forgetAcks(); // a snapshot of a new epoch, which may or may not hold it
  assert.equal(pending.display('pizza', 2, 1, 99), 3, 'a snapshot that holds it: not counted twice (o2 on top)');
  assert.equal(pending.display('pizza', 1, 1, 99), 2, 'one that lacks it: the snapshot until the resend settles, never more');
  assert.equal(pending.find('o1').seenEarlier, true);
  assert.deepEqual(pending.takeQueued().map((o) => o.opId), ['o1'], 'sent again, still ahead of later presses');
});

test('a newer ack wins over the confirmed quantity, then unacked ops apply on top', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.add('o2', 'pizza', 'adjust', 1);
  pending.takeQueued();
  pending.acknowledge('o1', { version: 12, quantity: 4 }, 10); // someone else's device added too
  assert.equal(pending.display('pizza', 2, 10, 99), 5);
});

test('reject rolls the op back', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.takeQueued();
  assert.equal(pending.reject('o1').opId, 'o1');
  assert.equal(pending.display('pizza', 1, 10, 99), 1);
  assert.equal(pending.reject('o1'), undefined);
});

test('an op answered unavailable is sent again for UNCONFIRMED_RETRY_MS whatever its attempts, not before its time', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  let now = 1000;
  for (let i = 0; i < MAX_SEND_ATTEMPTS * 3; i++) {
    assert.equal(pending.takeQueued(Infinity, now).length, 1, `send ${i + 1}`);
    assert.equal(pending.requeue('o1', { unconfirmed: true, now, notBefore: now + 500 }), true);
    assert.equal(pending.takeQueued(Infinity, now + 499).length, 0, 'not before its time');
    now += 500;
  }
  pending.takeQueued(Infinity, now);
  assert.equal(pending.requeue('o1', { now: 1000 + UNCONFIRMED_RETRY_MS - 1 }), true, 'a dropped connection after unavailable: the time bounds it too');
  pending.takeQueued(Infinity, Infinity);
  assert.equal(pending.requeue('o1', { unconfirmed: true, now: 1000 + UNCONFIRMED_RETRY_MS }), false, 'out of time');
});

test('requeue sends again a bounded number of times', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  for (let i = 1; i < MAX_SEND_ATTEMPTS; i++) {
    assert.equal(pending.takeQueued().length, 1);
    assert.equal(pending.requeue('o1'), true);
  }
  assert.equal(pending.takeQueued().length, 1);
  assert.equal(pending.requeue('o1'), false);
});

test('forgetAcks drops acks of an old epoch but keeps unsent ops', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.takeQueued();
  pending.acknowledge('o1', { version: 50, quantity: 2 }, 10);
  pending.add('o2', 'pizza', 'adjust', 1);
  pending.forgetAcks();
  assert.deepEqual(pending.ops.map((o) => o.opId), ['o2']);
});

test('saved() keeps what the server has not acknowledged, with opIds and flags; restore() takes it back as queued', () => {
  const pending = new PendingChoices();
  pending.add('o1', 'pizza', 'adjust', 1);
  pending.add('o2', 'pizza', 'set', 4);
  pending.add('o3', 'pasta', 'adjust', -1);
  pending.takeQueued();
  pending.acknowledge('o2', { version: 12, quantity: 4 }, 10); // acked ahead of the state: the server holds it
  pending.settle(11, 'o3'); // in flight, its event seen
  pending.add('o4', 'water', 'adjust', 1); // not sent yet
  const saved = JSON.parse(JSON.stringify(pending.saved()));
  assert.deepEqual(saved.map((op) => op.opId), ['o1', 'o3', 'o4']);

  const restored = new PendingChoices();
  assert.equal(restored.restore(saved), 3);
  assert.deepEqual(restored.ops.map((op) => [op.opId, op.status, op.attempts, op.seen]),
    [['o1', 'queued', 1, false], ['o3', 'queued', 1, true], ['o4', 'queued', 0, false]]);
  assert.equal(restored.display('pasta', 2, 11, 99), 2, 'a seen op is in the saved state already');
  assert.equal(restored.display('pizza', 1, 11, 99), 2);
  assert.equal(restored.restore(saved), 0, 'an opId already here is not taken twice');
});

test('restore() ignores what is not a saved op and keeps at most MAX_SAVED_OPS, the latest', () => {
  const pending = new PendingChoices();
  assert.equal(pending.restore('nope'), 0);
  assert.equal(pending.restore({ opId: 'o1' }), 0);
  assert.equal(pending.restore([null, 1, 'x', {}, { opId: '', menuId: 'pizza', kind: 'adjust', value: 1 },
    { opId: 'o 1', menuId: 'pizza', kind: 'adjust', value: 1 }, { opId: 'o2', menuId: 'pizza', kind: 'other', value: 1 },
    { opId: 'o3', menuId: 'pizza', kind: 'adjust', value: '1' }, { opId: 'o4', menuId: 7, kind: 'adjust', value: 1 },
    { opId: 'o5', menuId: 'pizza', kind: 'adjust', value: 1, attempts: 1e9, status: 'acked' }]), 1);
  assert.deepEqual(pending.ops.map((op) => [op.opId, op.status, op.attempts]), [['o5', 'queued', MAX_SEND_ATTEMPTS]]);

  const many = Array.from({ length: MAX_SAVED_OPS + 20 }, (_, i) => ({ opId: `m${i}`, menuId: 'pizza', kind: 'adjust', value: 1 }));
  const bounded = new PendingChoices();
  assert.equal(bounded.restore(many), MAX_SAVED_OPS);
  assert.equal(bounded.ops[0].opId, 'm20');
});

test('an op goes out beside the item\'s ops in flight only when either order gives the same quantity', () => {
  const pending = new PendingChoices();
  pending.add('p1', 'pasta', 'adjust', 1);
  pending.add('p2', 'pasta', 'adjust', 2);
  pending.add('m1', 'pasta', 'adjust', -1);
  pending.add('p3', 'pasta', 'adjust', 1);
  pending.add('z1', 'pizza', 'adjust', -1);
  const ids = (ops) => ops.map((op) => op.opId);

  assert.deepEqual(ids(pending.takeQueued()), ['p1', 'p2', 'z1'], 'one sign at a time per item; the −1 and the press behind it wait; another item is not held');
  assert.deepEqual(ids(pending.takeQueued()), [], 'still in flight');
  pending.requeue('p1', { refused: true }); // refused rate_limited: it goes again, before the −1
  assert.deepEqual(ids(pending.takeQueued()), ['p1'], 'p2 is still in flight: the −1 waits for both');
  pending.reject('p1');
  pending.reject('p2');
  assert.deepEqual(ids(pending.takeQueued()), ['m1'], 'then the −1, alone: the +1 behind it waits for its verdict');
  pending.reject('m1');
  assert.deepEqual(ids(pending.takeQueued()), ['p3']);
});

test('a set commutes with nothing; adjustments of one sign (or none) commute', () => {
  const op = (kind, value) => ({ kind, value });
  assert.equal(commute(op('adjust', 1), op('adjust', 3)), true);
  assert.equal(commute(op('adjust', -1), op('adjust', -2)), true);
  assert.equal(commute(op('adjust', 0), op('adjust', -2)), true);
  assert.equal(commute(op('adjust', 1), op('adjust', -1)), false);
  assert.equal(commute(op('set', 2), op('adjust', 1)), false);
  assert.equal(commute(op('adjust', 1), op('set', 2)), false);
});
