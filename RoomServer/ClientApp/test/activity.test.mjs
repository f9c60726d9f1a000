import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActivityFeed, ActivityLog, activityRows } from '../src/js/activity.js';
import { fromSnapshot } from '../src/js/room-state.js';
import { choice, flushMicrotasks, memberRemoved, snapshot, stateEvent } from './fixtures.mjs';

const member = (version, memberId, displayName, epoch = 'e1') => ({
  roomId: 'r1', epoch, version, type: 'member', at: '2025-01-01T12:34:00Z', memberId, displayName,
});
const notice = (version, kind, payload) => ({ roomId: 'r1', epoch: 'e1', version, type: 'notice', at: '2025-01-01T00:00:00Z', kind, payload });
const page = (events, { next = null, oldest = events[0]?.version ?? null } = {}) => ({ events, next, oldest });
const versions = (log) => log.newestFirst().map((e) => e.version);

/** A fetchPage whose calls stay pending until the test answers them. */
function fakeTrail() {
  const calls = [];
  const fetchPage = (from, limit) => new Promise((resolve, reject) => { calls.push({ from, limit, resolve, reject }); });
  return { calls, fetchPage };
}

test('the log keeps each version once and lists the newest first', () => {
  const log = new ActivityLog();
  assert.equal(log.add(choice(2, 'a', 'pizza', 1)), true);
  assert.equal(log.add(choice(1, 'a', 'pizza', 2)), true);
  assert.equal(log.add(choice(2, 'a', 'pizza', 1)), false, 'the same version again (live and from a page) is not a second entry');
  assert.equal(log.add({ type: 'choice' }), false, 'no version: not an event');
  assert.deepEqual(versions(log), [2, 1]);
  assert.equal(log.oldest, 1);
  assert.equal(log.newest, 2);
});

test('the log follows the session\'s epoch: a new one empties it, and a live event of another is left out', () => {
  const log = new ActivityLog();
  log.add(choice(5, 'a', 'pizza', 1));
  assert.equal(log.epoch, 'e1', 'the first event sets the epoch');
  assert.equal(log.add(choice(6, 'a', 'pizza', 1, null, 'e2')), false, 'the session has not moved: the next sync reads it');
  assert.deepEqual(versions(log), [5]);
  log.follow('e2');
  assert.equal(log.epoch, 'e2');
  assert.deepEqual(versions(log), []);
  assert.equal(log.add(choice(6, 'a', 'pizza', 1, null, 'e2')), true);
});

test('the log is bounded: past its maximum the oldest go, and it stops offering earlier pages', () => {
  const log = new ActivityLog({ max: 3 });
  for (let v = 1; v <= 5; v++) log.add(choice(v, 'a', 'pizza', v));
  assert.deepEqual(versions(log), [5, 4, 3]);
  assert.equal(log.hasEarlier, false);
});

test('missing() names the latest window the log does not hold, as one request', () => {
  const log = new ActivityLog();
  assert.deepEqual(log.missing({ epoch: 'e1', version: 120 }, 50), { from: 71, limit: 50 }, 'an empty log: the latest 50');
  assert.deepEqual(log.missing({ epoch: 'e1', version: 3 }, 50), { from: 1, limit: 3 }, 'a young room: from its first event');
  assert.equal(log.missing({ epoch: 'e1', version: 0 }, 50), null, 'no events yet');
  for (let v = 71; v <= 118; v++) log.add(choice(v, 'a', 'pizza', 1 + (v % 2)));
  assert.deepEqual(log.missing({ epoch: 'e1', version: 120 }, 50), { from: 119, limit: 2 }, 'only the two after the newest held');
  log.add(choice(119, 'a', 'pizza', 9));
  log.add(choice(120, 'a', 'pizza', 8));
  assert.equal(log.missing({ epoch: 'e1', version: 120 }, 50), null);
  log.events.delete(100);
  assert.deepEqual(log.missing({ epoch: 'e1', version: 120 }, 50), { from: 100, limit: 1 }, 'a hole a resume skipped over');
  assert.deepEqual(log.missing({ epoch: 'e2', version: 10 }, 50), { from: 1, limit: 10 }, 'another epoch: the whole window');
});

test('missing() does not ask for what the trail no longer keeps', () => {
  const log = new ActivityLog();
  log.follow('e1');
  log.addPage(page([choice(90, 'a', 'pizza', 1)], { oldest: 90 }), 'e1');
  assert.deepEqual(log.missing({ epoch: 'e1', version: 91 }, 50), { from: 91, limit: 1 });
  assert.equal(log.trimmed, true);
  assert.equal(log.hasEarlier, false, 'nothing older is on record');
});

test('earlier() is the page before the oldest held, down to the first version on record', () => {
  const log = new ActivityLog();
  log.follow('e1');
  log.addPage(page([choice(71, 'a', 'pizza', 1), choice(72, 'a', 'pizza', 2)], { oldest: 1 }), 'e1');
  assert.equal(log.hasEarlier, true);
  assert.deepEqual(log.earlier(50), { from: 21, limit: 50 });
  assert.deepEqual(log.earlier(100), { from: 1, limit: 70 });
  log.addPage(page([choice(60, 'a', 'pizza', 1)], { oldest: 60 }), 'e1');
  assert.equal(log.hasEarlier, false, 'the trail was trimmed up to the oldest held');
  assert.equal(log.earlier(50), null);
  const young = new ActivityLog();
  young.add(choice(1, 'a', 'pizza', 1));
  assert.equal(young.hasEarlier, false, 'version 1 is the first event');
});

test('a page read for the log\'s epoch keeps the trail\'s events of the epochs before it; one read for another is dropped', () => {
  const log = new ActivityLog();
  log.add(choice(7, 'a', 'pizza', 1));
  assert.equal(log.addPage(page([choice(8, 'a', 'pizza', 1, null, 'e2')]), 'e2'), 0, 'read for an epoch the log does not follow');
  assert.deepEqual(versions(log), [7]);
  log.follow('e2');
  const added = log.addPage(page([choice(1, 'a', 'pizza', 1, null, 'e1'), choice(2, 'a', 'pizza', 2, null, 'e2')]), 'e2');
  assert.equal(added, 2, 'the trail holds what was kept, in whatever epoch it was written');
  assert.deepEqual(versions(log), [2, 1], 'version 7, seen live before the move, may have been lost: the trail decides');
});

test('after a failover the trail refills the log with the old epoch\'s events, and Show earlier pages back through them', () => {
  // A cluster room at e1 version 100; its shard fails over: epoch e2, versions go on (DESIGN.md §2).
  const log = new ActivityLog();
  for (let v = 51; v <= 100; v++) log.add(choice(v, 'a', 'pizza', 1 + (v % 3)));
  log.follow('e2');
  assert.deepEqual(log.missing({ epoch: 'e2', version: 100 }, 50), { from: 51, limit: 50 });

  const trail = [];
  for (let v = 51; v <= 100; v++) trail.push(choice(v, 'a', 'pizza', 1 + (v % 3)));
  assert.equal(log.addPage(page(trail, { oldest: 1 }), 'e2'), 50);
  assert.equal(log.missing({ epoch: 'e2', version: 100 }, 50), null, 'nothing left to fetch');
  assert.equal(log.add(choice(101, 'b', 'cola', 1, null, 'e2')), true);
  assert.deepEqual(versions(log).slice(0, 2), [101, 100]);

  assert.equal(log.hasEarlier, true);
  assert.deepEqual(log.earlier(50), { from: 1, limit: 50 });
  const older = [];
  for (let v = 1; v <= 50; v++) older.push(choice(v, 'a', 'pizza', 1));
  assert.equal(log.addPage(page(older, { oldest: 1 }), log.epoch), 50);
  assert.equal(log.size, 101);
  assert.equal(log.hasEarlier, false, 'the log reaches back to the first event');
});

test('an event the old master published and lost gives way to the trail\'s, and the new epoch\'s own is kept over both', () => {
  const log = new ActivityLog();
  log.add(choice(99, 'a', 'pizza', 1));
  log.add(choice(100, 'a', 'pizza', 9)); // published, never replicated: lost in the failover
  log.follow('e2');
  log.add(choice(100, 'b', 'cola', 2, null, 'e2')); // the new master's version 100
  const before = log.revision;
  assert.equal(log.addPage(page([choice(98, 'a', 'pizza', 5), choice(99, 'a', 'pizza', 1), choice(100, 'a', 'pizza', 9)]), 'e2'), 2);
  assert.deepEqual(log.newestFirst().map((e) => [e.version, e.epoch, e.quantity]), [[100, 'e2', 2], [99, 'e1', 1], [98, 'e1', 5]],
    'an event of the current epoch is kept over the trail\'s copy of its version');
  assert.ok(log.revision > before, 'what changed is redrawn');
});

test('the feed: a page and a live event of the old epoch arriving around a failover never hold the view back', async () => {
  const trail = fakeTrail();
  const feed = new ActivityFeed({ fetchPage: trail.fetchPage });
  const first = feed.sync({ epoch: 'e1', version: 3 }); // the page's first Join; the read is slow
  feed.onEvent(choice(4, 'a', 'pizza', 1, null, 'e2')); // the shard failed over meanwhile
  feed.sync({ epoch: 'e2', version: 4 }); // the Join that followed the new epoch's Position: waits its turn
  trail.calls[0].resolve(page([choice(1, 'a', 'pizza', 1), choice(2, 'a', 'pizza', 2), choice(3, 'a', 'pizza', 3)], { oldest: 1 }));
  await first;
  await flushMicrotasks();
  assert.equal(feed.log.epoch, 'e2', 'the queued sync moved the log to the session\'s epoch');
  assert.deepEqual(trail.calls[1] && { from: trail.calls[1].from, limit: trail.calls[1].limit }, { from: 1, limit: 4 });
  trail.calls[1].resolve(page([choice(1, 'a', 'pizza', 1), choice(2, 'a', 'pizza', 2), choice(3, 'a', 'pizza', 3), choice(4, 'a', 'pizza', 1, null, 'e2')], { oldest: 1 }));
  await flushMicrotasks();
  assert.deepEqual(versions(feed.log), [4, 3, 2, 1]);
  feed.onEvent(choice(3, 'a', 'pizza', 7)); // a late live event of the epoch the room left
  feed.onEvent(choice(5, 'b', 'cola', 1, null, 'e2'));
  assert.deepEqual(feed.log.newestFirst().map((e) => [e.version, e.epoch]), [[5, 'e2'], [4, 'e2'], [3, 'e1'], [2, 'e1'], [1, 'e1']]);
  assert.equal(feed.log.events.get(3).quantity, 3, 'the trail\'s copy stands');
});

test('rows say who changed what, newest first, with names from the room, from member events, and You', () => {
  const state = fromSnapshot(snapshot({ members: [{ memberId: 'a', displayName: 'Alice', online: true }] }));
  const log = new ActivityLog();
  [
    member(1, 'a', 'Alice'),
    member(2, 'c', 'Cy'),
    choice(3, 'a', 'pizza', 2),
    choice(4, 'c', 'water', 1),
    choice(5, 'a', 'pizza', 0),
    stateEvent(6, 'locked', 'o'),
    stateEvent(7, 'open', 'api'),
    memberRemoved(8, 'c', 'o'),
    { roomId: 'r1', epoch: 'e1', version: 9, type: 'refresh', by: 'a' },
    notice(10, 'eta', { text: '10 minutes' }),
    notice(11, 'menu', null),
    { roomId: 'r1', epoch: 'e1', version: 12, type: 'surprise' },
    stateEvent(13, 'deleted', 'api'),
  ].forEach((e) => log.add(e));

  const rows = activityRows(log, state, 'o');

  assert.deepEqual(rows.map((r) => r.text), [
    'The room was deleted',
    'surprise (version 12)',
    'Notice (menu)',
    'Notice (eta): 10 minutes',
    'Alice asked everyone to reload',
    'You removed Cy from the room',
    'The restaurant reopened the room',
    'You locked the order',
    'Alice removed Margherita',
    'Cy chose 1× Water',
    'Alice chose 2× Margherita',
    'Cy joined',
    'Alice joined',
  ]);
  assert.deepEqual(rows.at(-1), { version: 1, type: 'member', at: '2025-01-01T12:34:00Z', memberId: 'a', text: 'Alice joined' });
  assert.equal(activityRows(log, state, 'c').find((r) => r.version === 8).text, 'o removed you from the room', 'an unknown name is the id');
});

test('the feed adds live events once and reports each change', () => {
  let changes = 0;
  const feed = new ActivityFeed({ fetchPage: () => Promise.reject(new Error('unused')), onChange: () => { changes += 1; } });
  feed.onEvent(choice(1, 'a', 'pizza', 1));
  feed.onEvent(choice(1, 'a', 'pizza', 1));
  assert.equal(feed.log.size, 1);
  assert.equal(changes, 1, 'a repeated event changes nothing');
});

test('sync after a Join fetches what the log misses; events that arrive meanwhile are kept once', async () => {
  const trail = fakeTrail();
  const feed = new ActivityFeed({ fetchPage: trail.fetchPage });
  const done = feed.sync({ epoch: 'e1', version: 3 });
  assert.deepEqual(trail.calls.map((c) => [c.from, c.limit]), [[1, 3]]);
  assert.notEqual(feed.loading, null);
  feed.onEvent(choice(4, 'b', 'water', 1)); // live, while the page is on its way
  trail.calls[0].resolve(page([member(1, 'a', 'Alice'), choice(2, 'a', 'pizza', 1), choice(3, 'a', 'pizza', 2)], { oldest: 1 }));
  await done;
  assert.deepEqual(versions(feed.log), [4, 3, 2, 1]);
  assert.equal(feed.loading, null);
  assert.equal(feed.error, null);
  await feed.sync({ epoch: 'e1', version: 4 });
  assert.equal(trail.calls.length, 1, 'nothing missing: no request');
});

test('a sync asked for while a request runs is done once it ends, for the latest position', async () => {
  const trail = fakeTrail();
  const feed = new ActivityFeed({ fetchPage: trail.fetchPage });
  feed.sync({ epoch: 'e1', version: 2 });
  feed.sync({ epoch: 'e1', version: 5 });
  feed.sync({ epoch: 'e1', version: 6 });
  assert.equal(trail.calls.length, 1, 'one request at a time');
  trail.calls[0].resolve(page([choice(1, 'a', 'pizza', 1), choice(2, 'a', 'pizza', 2)], { oldest: 1 }));
  await flushMicrotasks();
  assert.deepEqual(trail.calls.map((c) => [c.from, c.limit]), [[1, 2], [3, 4]]);
});

test('a trail that cannot be read leaves an error and the live activity; the next sync tries again', async () => {
  const trail = fakeTrail();
  const feed = new ActivityFeed({ fetchPage: trail.fetchPage });
  const first = feed.sync({ epoch: 'e1', version: 2 });
  trail.calls[0].reject(new Error('HTTP 503'));
  await first;
  assert.equal(feed.error, 'HTTP 503');
  feed.onEvent(choice(3, 'a', 'pizza', 1));
  assert.deepEqual(versions(feed.log), [3]);
  const second = feed.sync({ epoch: 'e1', version: 3 });
  assert.deepEqual([trail.calls[1].from, trail.calls[1].limit], [1, 2]);
  trail.calls[1].resolve(page([choice(1, 'a', 'pizza', 1), choice(2, 'a', 'pizza', 2)], { oldest: 1 }));
  await second;
  assert.equal(feed.error, null);
  assert.deepEqual(versions(feed.log), [3, 2, 1]);
});

test('loadEarlier pages back from the oldest held until the start of the trail', async () => {
  const trail = fakeTrail();
  const feed = new ActivityFeed({ fetchPage: trail.fetchPage });
  const events = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => choice(from + i, 'a', 'pizza', 1 + ((from + i) % 3)));
  const sync = feed.sync({ epoch: 'e1', version: 70 });
  trail.calls[0].resolve(page(events(21, 70), { oldest: 1 }));
  await sync;
  const back = feed.loadEarlier();
  assert.deepEqual([trail.calls[1].from, trail.calls[1].limit], [1, 20]);
  trail.calls[1].resolve(page(events(1, 20), { oldest: 1 }));
  await back;
  assert.equal(feed.log.size, 70);
  assert.equal(feed.log.hasEarlier, false);
  await feed.loadEarlier();
  assert.equal(trail.calls.length, 2, 'nothing earlier: no request');
});

test('a resume past more than a window drops what lies below the hole, and earlier pages fill it in order', async () => {
  const { calls, fetchPage } = fakeTrail();
  const feed = new ActivityFeed({ fetchPage });
  for (let v = 71; v <= 120; v++) feed.onEvent(choice(v, 'a', 'pizza', 1 + (v % 2)));

  const synced = feed.sync({ epoch: 'e1', version: 300 });
  assert.deepEqual(versions(feed.log), [], '71-120 would sit below a hole (121-250) nothing fetches');
  assert.deepEqual(calls.map(({ from, limit }) => ({ from, limit })), [{ from: 251, limit: 50 }]);
  const latest = [];
  for (let v = 251; v <= 300; v++) latest.push(choice(v, 'a', 'pizza', 1));
  calls[0].resolve(page(latest, { oldest: 1 }));
  await synced;
  assert.equal(feed.log.oldest, 251);
  assert.deepEqual(feed.log.earlier(), { from: 201, limit: 50 }, 'the next page joins the run');

  // A resume within a window keeps what the log holds: the run still joins up.
  assert.equal(feed.log.forgetBelowHole({ epoch: 'e1', version: 350 }), false);
  assert.equal(feed.log.forgetBelowHole({ epoch: 'e1', version: 360 }), true, 'from 351 on, 301-310 are a hole');
  assert.deepEqual(versions(feed.log), []);
});
