import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOCK_AHEAD_ALLOWANCE_MS, decodeJwtPayload, isOtherJoinLink, linkRefusal, parseFragment, readJoinLink, surelyExpired,
} from '../src/js/token.js';

function jwt(payload) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}.signature`;
}

const NOW = Date.parse('2025-06-01T12:00:00Z');
const EXP = NOW / 1000 + 3600;
const EXPIRED = NOW / 1000 - 3600; // an hour ago: expired whatever this device's clock's error

test('parseFragment reads room and token with or without the hash sign', () => {
  assert.deepEqual(parseFragment('#room=r1&token=abc'), { room: 'r1', token: 'abc' });
  assert.deepEqual(parseFragment('room=r1'), { room: 'r1' });
  assert.deepEqual(parseFragment(''), {});
});

test('decodeJwtPayload decodes base64url UTF-8 payloads', () => {
  const token = jwt({ sub: 'm1', name: 'Zoë 🍕' });
  assert.deepEqual(decodeJwtPayload(token), { sub: 'm1', name: 'Zoë 🍕' });
});

test('decodeJwtPayload returns null for malformed tokens', () => {
  assert.equal(decodeJwtPayload('nope'), null);
  assert.equal(decodeJwtPayload('a.!!!.c'), null);
  assert.equal(decodeJwtPayload(undefined), null);
});

test('readJoinLink returns the identity from the token claims', () => {
  const token = jwt({ sub: 'm1', name: 'Alice', role: 'owner', room: 'r1', exp: EXP });
  const link = readJoinLink(`#room=r1&token=${token}`, NOW);
  assert.equal(link.ok, true);
  assert.equal(link.memberId, 'm1');
  assert.equal(link.displayName, 'Alice');
  assert.equal(link.role, 'owner');
  assert.equal(link.roomId, 'r1');
  assert.equal(link.expiresAt, EXP * 1000);
});

test('readJoinLink treats any role other than owner as member', () => {
  const token = jwt({ sub: 'm1', name: 'Bob', role: 'member', room: 'r1', exp: EXP });
  assert.equal(readJoinLink(`#room=r1&token=${token}`, NOW).role, 'member');
  const multi = jwt({ sub: 'm1', role: ['member', 'owner'], room: 'r1', exp: EXP });
  assert.equal(readJoinLink(`#token=${multi}`, NOW).role, 'owner');
});

test('readJoinLink rejects missing, malformed, expired and mismatched links', () => {
  assert.deepEqual(readJoinLink('', NOW), { ok: false, code: 'no_link' });
  assert.deepEqual(readJoinLink('#room=r1&token=x', NOW), { ok: false, code: 'bad_link' });
  const expired = jwt({ sub: 'm1', room: 'r1', exp: EXPIRED });
  assert.deepEqual(readJoinLink(`#room=r1&token=${expired}`, NOW), { ok: false, code: 'unauthorized', roomId: 'r1', memberId: 'm1' });
  const other = jwt({ sub: 'm1', room: 'r2', exp: EXP });
  assert.deepEqual(readJoinLink(`#room=r1&token=${other}`, NOW), { ok: false, code: 'forbidden' });
});

test('a link past its exp by this device\'s clock, but within the allowance, is still tried: the hub\'s 401 decides', () => {
  const link = (exp) => readJoinLink(`#room=r1&token=${jwt({ sub: 'm1', room: 'r1', exp })}`, NOW);
  const justPast = link(NOW / 1000 - 1); // the device's clock may run ahead of the server's
  assert.equal(justPast.ok, true);
  assert.equal(justPast.expiresAt, NOW - 1000);
  assert.equal(link((NOW - CLOCK_AHEAD_ALLOWANCE_MS) / 1000 + 1).ok, true);
  assert.equal(link((NOW - CLOCK_AHEAD_ALLOWANCE_MS) / 1000).code, 'unauthorized', 'this far past it has expired anyway');
  assert.equal(surelyExpired(null, NOW), false, 'no exp: never');
  assert.equal(surelyExpired(NOW, NOW), false);
  assert.equal(surelyExpired(NOW - CLOCK_AHEAD_ALLOWANCE_MS, NOW), true);
});

test('readJoinLink takes the room from the token when the fragment has none', () => {
  const token = jwt({ sub: 'm1', room: 'r9', exp: EXP });
  const link = readJoinLink(`#token=${token}`, NOW);
  assert.equal(link.roomId, 'r9');
  assert.equal(link.displayName, 'm1');
});

test('isOtherJoinLink: a new token or room in the hash is another link; an anchor or the same link is not', () => {
  const old = `#room=r1&token=${jwt({ sub: 'a', room: 'r1', exp: EXP })}`;
  const readmitted = `#room=r1&token=${jwt({ sub: 'a', room: 'r1', exp: EXP, rgen: 1 })}`;
  assert.equal(isOtherJoinLink(old, readmitted), true, 're-admitted after a removal');
  assert.equal(isOtherJoinLink(old, old.replace('room=r1', 'room=r2')), true, 'another room');
  assert.equal(isOtherJoinLink('', old), true, 'a link pasted into the page that had none');
  assert.equal(isOtherJoinLink(old, old), false);
  assert.equal(isOtherJoinLink(old, `${old}&currency=EUR`), false, 'the same link, other options');
  assert.equal(isOtherJoinLink(old, '#menu-heading'), false, 'the skip link');
  assert.equal(isOtherJoinLink(old, ''), false);
});

test('linkRefusal: an expired link of a member this tab saw removed says removed; otherwise the refusal', () => {
  const expired = `#room=r1&token=${jwt({ sub: 'm1', room: 'r1', exp: EXPIRED })}`;
  const notes = new Map([['r1/m1', { by: 'o', at: 1 }]]);
  const loadNote = (roomId, memberId) => notes.get(`${roomId}/${memberId}`) ?? null;
  assert.deepEqual(linkRefusal(readJoinLink(expired, NOW), loadNote), { removed: { by: 'o' } });
  assert.deepEqual(linkRefusal(readJoinLink(expired, NOW), () => ({ by: null, at: 1 })), { removed: { by: null } });
  assert.deepEqual(linkRefusal(readJoinLink(expired, NOW), () => null), { code: 'unauthorized' }, 'no note: it just expired');
  const otherMember = `#room=r1&token=${jwt({ sub: 'm2', room: 'r1', exp: EXPIRED })}`;
  assert.deepEqual(linkRefusal(readJoinLink(otherMember, NOW), loadNote), { code: 'unauthorized' }, 'the note is per member');
  const otherRoom = `#token=${jwt({ sub: 'm1', room: 'r2', exp: EXPIRED })}`;
  assert.deepEqual(linkRefusal(readJoinLink(otherRoom, NOW), loadNote), { code: 'unauthorized' }, 'and per room');
  assert.deepEqual(linkRefusal(readJoinLink('', NOW), loadNote), { code: 'no_link' });
  assert.deepEqual(linkRefusal(readJoinLink('#room=r1&token=x', NOW), loadNote), { code: 'bad_link' });
  const mismatched = `#room=r1&token=${jwt({ sub: 'm1', room: 'r2', exp: EXP })}`;
  assert.deepEqual(linkRefusal(readJoinLink(mismatched, NOW), loadNote), { code: 'forbidden' });
});
