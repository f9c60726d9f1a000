import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoveFlow, memberRows } from '../src/js/members.js';
import { RoomSession } from '../src/js/room-session.js';
import { fromSnapshot } from '../src/js/room-state.js';
import { FakeHub, flushMicrotasks, snapshot } from './fixtures.mjs';

const room = (overrides) => fromSnapshot(snapshot({
  members: [
    { memberId: 'b', displayName: 'Bob', online: false },
    { memberId: 'o', displayName: 'Olga', online: true },
    { memberId: 'c', displayName: 'Cy', online: true },
  ],
  ...overrides,
}));

test('memberRows puts me first and offers remove only to the owner, for the others', () => {
  const owner = memberRows(room(), 'o', { role: 'owner', selfOnline: true });
  assert.deepEqual(owner.map((r) => [r.memberId, r.isMe, r.removable, r.online]), [
    ['o', true, false, true], ['b', false, true, false], ['c', false, true, true],
  ]);
  const member = memberRows(room(), 'b', { role: 'member', selfOnline: true });
  assert.equal(member.some((r) => r.removable), false);
  assert.equal(member[0].memberId, 'b');
  assert.equal(member[0].online, true, 'my own row shows my connection');
});

test('nobody is removable unless the room is open (locked, closed, deleted: the order was handed off)', () => {
  for (const state of ['locked', 'closed', 'deleted']) {
    assert.equal(memberRows(room({ state }), 'o', { role: 'owner' }).some((r) => r.removable), false, state);
  }
  assert.equal(memberRows(room({ state: 'open' }), 'o', { role: 'owner' }).some((r) => r.removable), true);
});

async function ownerSession(hub) {
  const s = new RoomSession({ roomId: 'r1', memberId: 'o', hub });
  const done = s.join();
  hub.last('Join').resolve({ position: { epoch: 'e1', version: 3 }, snapshot: snapshot(), missed: null, replica: 'r1' });
  await done;
  return s;
}

test('the remove flow asks first, then calls RemoveMember(roomId, memberId) once', async () => {
  const hub = new FakeHub();
  const s = await ownerSession(hub);
  let changes = 0;
  const flow = new RemoveFlow({ remove: (id) => s.removeMember(id), onChange: () => { changes += 1; } });

  assert.equal(await flow.confirm('b'), null, 'no confirmation open: nothing is sent');
  assert.equal(hub.callsOf('RemoveMember').length, 0);

  flow.ask('b');
  assert.equal(flow.confirming, 'b');
  assert.equal(memberRows(room(), 'o', { role: 'owner', flow }).find((r) => r.memberId === 'b').confirming, true);
  const done = flow.confirm('b');
  assert.deepEqual(hub.last('RemoveMember').args, ['r1', 'b']);
  assert.equal(flow.confirming, null);
  assert.equal(flow.isBusy('b'), true);
  flow.ask('b'); // pressed again while in flight: ignored
  assert.equal(flow.confirming, null);
  assert.equal(await flow.confirm('b'), null);
  assert.equal(hub.callsOf('RemoveMember').length, 1);

  hub.last('RemoveMember').resolve({ version: 4 });
  assert.deepEqual(await done, { version: 4 });
  assert.equal(flow.isBusy('b'), false);
  assert.ok(changes >= 3);
});

test('cancel closes the confirmation; asking about another member moves it', () => {
  const flow = new RemoveFlow({ remove: async () => ({ version: 1 }) });
  flow.ask('b');
  flow.ask('c');
  assert.equal(flow.confirming, 'c');
  flow.ask('c');
  assert.equal(flow.confirming, null, 'pressing remove again closes it');
  flow.ask('b');
  flow.cancel();
  assert.equal(flow.confirming, null);
});

test('a refused removal rejects with the parsed code and frees the member', async () => {
  const hub = new FakeHub();
  const s = await ownerSession(hub);
  const flow = new RemoveFlow({ remove: (id) => s.removeMember(id) });
  flow.ask('b');
  const done = flow.confirm('b');
  hub.last('RemoveMember').reject(new Error("An unexpected error occurred invoking 'RemoveMember' on the server. HubException: forbidden: only the room's owner may remove members"));
  await assert.rejects(done, (e) => e.parsed?.code === 'forbidden');
  await flushMicrotasks();
  assert.equal(flow.isBusy('b'), false);
});

test('prune closes a confirmation about a member who has left the list', () => {
  const flow = new RemoveFlow({ remove: async () => null });
  flow.ask('b');
  flow.prune([{ memberId: 'b' }]);
  assert.equal(flow.confirming, 'b');
  flow.prune([{ memberId: 'c' }]);
  assert.equal(flow.confirming, null);
});
