import { test } from 'node:test';
import assert from 'node:assert/strict';
import { START_DELAYS_MS, startRetryDelay } from '../src/js/connect-retry.js';
import { parseHubError } from '../src/js/errors.js';

const TOO_MANY = parseHubError(Object.assign(new Error("Failed to complete negotiation with the server: Error: Status code '429'"), { statusCode: 429 }));
const NO_ANSWER = parseHubError(new Error('Failed to fetch'));

/** The waits a start makes before it says why, when every attempt fails with `parsed`. */
function waitsBeforeGivingUp(parsed, options) {
  const waits = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    const wait = startRetryDelay(parsed, attempt, options);
    if (wait === null) return waits;
    waits.push(wait);
  }
  throw new Error('never gave up');
}

test('the page\'s connect retries an unreachable server and a 429 for about two minutes, then says why', () => {
  assert.equal(TOO_MANY.code, 'connect_limited');
  assert.equal(NO_ANSWER, null);
  assert.deepEqual(waitsBeforeGivingUp(NO_ANSWER), START_DELAYS_MS);
  assert.deepEqual(waitsBeforeGivingUp(TOO_MANY), START_DELAYS_MS, 'the connect rate frees in moments');
  assert.equal(START_DELAYS_MS.reduce((a, b) => a + b), 128_000);
});

test('the one connect after a close for good says "too many connections" at its first 429, not after two minutes', () => {
  assert.deepEqual(waitsBeforeGivingUp(TOO_MANY, { probe: true }), []);
  assert.deepEqual(waitsBeforeGivingUp(NO_ANSWER, { probe: true }), START_DELAYS_MS, 'no answer yet: it keeps asking');
});
