import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOCK_SKEW_MS, clearedByJoin, describeError, describeRemoved, isFatal, joinLimit, parseHubError, refusalOf,
} from '../src/js/errors.js';

test('parseHubError reads the code after the HubException prefix', () => {
  const error = new Error("An unexpected error occurred invoking 'AdjustChoice' on the server. HubException: room_locked: the room is locked");
  assert.deepEqual(parseHubError(error), { code: 'room_locked', text: 'the room is locked' });
});

test('parseHubError reads a bare "code: text" message', () => {
  assert.deepEqual(parseHubError(new Error('invalid_quantity: quantity must be between 0 and 20')),
    { code: 'invalid_quantity', text: 'quantity must be between 0 and 20' });
});

test('parseHubError returns null for errors without a known code', () => {
  assert.equal(parseHubError(new Error('Invocation canceled due to the underlying connection being closed.')), null);
  assert.equal(parseHubError(new Error('HubException: something_else: x')), null);
  assert.equal(parseHubError(null), null);
});

test('parseHubError maps HTTP statuses of a failed negotiate', () => {
  assert.equal(parseHubError(Object.assign(new Error('Unauthorized'), { statusCode: 401 })).code, 'unauthorized');
  assert.equal(parseHubError(Object.assign(new Error('busy'), { statusCode: 503 })).code, 'unavailable');
  const wrapped = new Error("Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'");
  assert.equal(parseHubError(wrapped).code, 'unauthorized');
});

test('a connect refused with 429 is the member connection limits, not a write rate', () => {
  const refused = Object.assign(new Error("Failed to complete negotiation with the server: Error: : Status code '429'"), { statusCode: 429 });
  assert.equal(parseHubError(refused).code, 'connect_limited');
  assert.equal(parseHubError(new Error("Status code '429'")).code, 'connect_limited');
  assert.match(describeError('connect_limited'), /too many tabs or devices/);
  assert.equal(isFatal('connect_limited'), false);
});

test('describeError puts every contract code into words', () => {
  assert.equal(describeError('room_locked'), 'The room is locked');
  assert.equal(describeError('room_closed'), 'The room is closed');
  assert.equal(describeError('unavailable'), 'The server is busy, try again');
  assert.match(describeError('unconfirmed'), /may have been applied/);
  assert.match(describeError('unauthorized'), /Your link has expired/);
  assert.doesNotMatch(describeError('unauthorized'), /kept/);
  // Presses kept for a new link (refused for the expiry, or never sent): say where they go.
  assert.match(describeError('unauthorized', '', { pending: 2 }), /expired.*open it in this tab: your unsent changes are kept/);
  assert.equal(describeError('invalid_quantity', 'quantity must be between 0 and 20'), 'Quantity must be between 0 and 20');
  assert.equal(describeError('invalid_quantity', ''), 'Quantity must be between 0 and 99');
  // Without a number in the text, the room's own cap (its snapshot's maxQuantity) before the default.
  assert.equal(describeError('invalid_quantity', 'bad quantity', { maxQuantity: 12 }), 'Quantity must be between 0 and 12');
  assert.equal(describeError('invalid_quantity', 'quantity must be between 0 and 20', { maxQuantity: 12 }), 'Quantity must be between 0 and 20');
  assert.equal(describeError('invalid_quantity', '', { maxQuantity: null }), 'Quantity must be between 0 and 99');
  for (const code of ['forbidden', 'room_not_found', 'unknown_menu_item', 'invalid_argument', 'rate_limited', 'payload_too_large']) {
    assert.doesNotMatch(describeError(code), /Something went wrong/, code);
  }
  assert.match(describeError(null, 'boom'), /boom/);
});

test('a refused removal says why: the owner, or someone the room never had', () => {
  assert.equal(describeError('invalid_argument', "'ann' is the room's owner and cannot be removed"), "The room's owner cannot be removed.");
  assert.equal(describeError('invalid_argument', "'zed' is not a member of this room"), 'That person is not a member of this room.');
  assert.equal(describeError('invalid_argument', 'call Join first'), 'That request was not valid.');
  assert.equal(describeError('invalid_argument'), 'That request was not valid.');
});

test('isFatal is true only for errors a retry cannot fix', () => {
  assert.equal(isFatal('unauthorized'), true);
  assert.equal(isFatal('room_not_found'), true);
  assert.equal(isFatal('unavailable'), false);
  assert.equal(isFatal('room_locked'), false);
});

test('describeRemoved says the member was removed, and by the owner when an owner did it', () => {
  assert.equal(describeRemoved('o'), 'You were removed from this room by the owner.');
  assert.equal(describeRemoved('api'), 'You were removed from this room.');
  assert.equal(describeRemoved(null), 'You were removed from this room.');
  assert.equal(describeRemoved(), 'You were removed from this room.');
});

test('a 401 at connect for a token that has not expired is a removal; an expired one says expired', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  assert.equal(refusalOf(now + 60 * 60 * 1000, now), 'removed', 'removed while away: rgen below the room\'s');
  assert.equal(refusalOf(null, now), 'removed', 'no exp: nothing to have expired, the link was revoked');
  assert.equal(refusalOf(now - 1, now), 'expired');
  assert.equal(refusalOf(now, now), 'expired');
  // The server enforces exp by its own clock: a 401 within the skew of exp is still the expiry.
  assert.equal(refusalOf(now + CLOCK_SKEW_MS - 1, now), 'expired');
  assert.equal(refusalOf(now + CLOCK_SKEW_MS + 1, now), 'removed');
});

const joinRefused = (text) => parseHubError(new Error(`An unexpected error occurred invoking 'Join' on the server. HubException: rate_limited: ${text}`));

test('a Join refused for a full room or the connection limit is a count to show, not a rate to retry', () => {
  const full = joinRefused('the room is full: it has 20 members, the most it may have');
  assert.equal(joinLimit(full), 'room_full');
  assert.equal(describeError('room_full', full.text),
    'This room is full (20 members, the most it may have). Ask the table to remove someone, then try again.');
  assert.equal(describeError('room_full', ''), 'This room is full. Ask the table to remove someone, then try again.');
  const connections = joinRefused('this member already has 5 open connections to the room; close one and retry');
  assert.equal(joinLimit(connections), 'connect_limited');
  assert.match(describeError('connect_limited', connections.text), /too many tabs or devices/);
  for (const code of ['room_full', 'connect_limited']) assert.equal(isFatal(code), false, code);
});

test('a state change refused while the room\'s orders wait for the restaurant says so, not "a moment"', () => {
  const waiting = parseHubError(new Error("An unexpected error occurred invoking 'SetRoomState' on the server. HubException: rate_limited: "
    + "this room already has at least 100 order records waiting to be delivered to the restaurant's systems (RoomServer__Limits__MaxUnsettledOrderRecords: "
    + 'at most 100); its state can change again once they are delivered or dead-lettered'));
  assert.equal(waiting.code, 'rate_limited');
  assert.match(describeError(waiting.code, waiting.text), /has not received this room's earlier orders yet/);
  assert.match(describeError('rate_limited', 'this member is changing the room too fast'), /Too many changes at once/);
});

test('a write or call rate keeps rate_limited (retried, its own wording); other codes are no join limit', () => {
  const writes = joinRefused('this member is changing the room too fast (at most 5 writes a second, bursts of 10); slow down and retry');
  assert.equal(joinLimit(writes), null);
  assert.match(describeError('rate_limited', writes.text), /Too many changes at once/);
  assert.equal(joinLimit(joinRefused('too many calls on this connection (at most 20 a second, bursts of twice that); slow down')), null);
  // The Join pace (MemberJoinRate) is a rate too: a moment's wait frees it, so the client retries the Join.
  assert.equal(joinLimit(joinRefused('this member is joining the room too fast (at most 10 Joins a second, bursts of 20); wait a moment and Join again')), null);
  assert.equal(joinLimit({ code: 'unavailable', text: 'the room is full' }), null);
  assert.equal(joinLimit(null), null);
});

test('a connection refused with no word of a removal says it most likely was one; a known removal says who', () => {
  assert.match(describeRemoved(null, 'refused'), /most likely removed/);
  assert.equal(describeRemoved('olga', 'refused'), 'You were removed from this room by the owner.');
  assert.equal(describeRemoved(null, 'removed'), 'You were removed from this room.');
});

test('a Join being retried says the page is waiting, not that the member must try again', () => {
  const text = describeError('join_waiting');
  assert.match(text, /Waiting for it/);
  assert.match(text, /changes are kept/);
  assert.doesNotMatch(text, /try again/);
});

test('a successful Join clears the banners of a connection or a count that refused an earlier Join, not a refused press', () => {
  for (const code of ['offline', 'unavailable', 'join_waiting', 'room_full', 'connect_limited']) {
    assert.equal(clearedByJoin(code), true, code);
  }
  for (const code of ['room_locked', 'room_closed', 'rate_limited', 'forbidden', 'invalid_argument', undefined, '']) {
    assert.equal(clearedByJoin(code), false, String(code));
  }
});
