import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HUB_PATH, hubUrl } from '../src/js/hub-url.js';

test('hubUrl names the room in the query, for the proxy to route by', () => {
  assert.equal(hubUrl('r1'), '/hubs/room?room=r1');
  assert.equal(new URL(hubUrl('r1'), 'http://x').pathname, HUB_PATH);
});

test('hubUrl encodes the room id as one query value', () => {
  const url = new URL(hubUrl('a b&c=d/é'), 'http://x');
  assert.equal(url.searchParams.get('room'), 'a b&c=d/é');
  assert.deepEqual([...url.searchParams.keys()], ['room']);
});

test('hubUrl refuses a missing room id rather than sending an empty hint', () => {
  assert.throws(() => hubUrl(''), TypeError);
  assert.throws(() => hubUrl(undefined), TypeError);
});
