import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerClock, clockOffsetMs } from '../src/js/server-clock.js';
import { refusalOf } from '../src/js/errors.js';

const response = (date) => ({ headers: { get: (name) => (name === 'Date' ? date : null) } });

test('the offset is the Date header against the device clock when the response came', () => {
  const received = Date.parse('Mon, 07 Dec 2026 09:00:00 GMT');
  assert.equal(clockOffsetMs('Mon, 07 Dec 2026 09:03:00 GMT', received), 180_000, 'the device runs three minutes behind');
  assert.equal(clockOffsetMs('Mon, 07 Dec 2026 08:59:30 GMT', received), -30_000, 'or ahead');
  assert.equal(clockOffsetMs(null, received), null);
  assert.equal(clockOffsetMs('', received), null);
  assert.equal(clockOffsetMs('not a date', received), null);
});

test('the clock reads the device time until a response says the server time, then keeps the last offset heard', () => {
  let device = Date.parse('Mon, 07 Dec 2026 09:00:00 GMT');
  const clock = new ServerClock({ now: () => device });
  assert.equal(clock.heardWithin(60_000), false);
  assert.equal(clock.now(), device);

  clock.observe(response('Mon, 07 Dec 2026 09:03:00 GMT'));
  assert.equal(clock.heardWithin(60_000), true);
  device += 10_000;
  assert.equal(clock.now(), Date.parse('Mon, 07 Dec 2026 09:03:10 GMT'));

  clock.observe(response(null)); // a response without the header changes nothing
  clock.observe(undefined);
  assert.equal(clock.now(), Date.parse('Mon, 07 Dec 2026 09:03:10 GMT'));
  assert.equal(clock.heardWithin(60_000), true, 'ten seconds ago');
  assert.equal(clock.heardWithin(5_000), false);
  clock.observe(response('Mon, 07 Dec 2026 09:00:10 GMT')); // the device was set right meanwhile
  assert.equal(clock.now(), device);
});

test('an offset heard before this device\'s clock was set back reads as stale, not as heard just now', () => {
  let device = Date.parse('Mon, 07 Dec 2026 12:00:00 GMT');
  const clock = new ServerClock({ now: () => device });
  clock.observe(response('Mon, 07 Dec 2026 12:00:00 GMT'));
  device -= 10 * 60 * 1000; // the phone corrected its clock by ten minutes
  assert.equal(clock.heardWithin(60_000), false);
});

test('a 401 on a device three minutes behind, after the link expired by the server, reads as the expiry, not a removal', () => {
  const serverNow = Date.parse('Mon, 07 Dec 2026 12:00:00 GMT');
  const device = serverNow - 3 * 60 * 1000;
  const expiresAt = serverNow - 10_000; // expired ten seconds ago, by the server's clock
  assert.equal(refusalOf(expiresAt, device), 'removed', 'the device clock alone misreads it');

  const clock = new ServerClock({ now: () => device });
  clock.observe(response(new Date(serverNow).toUTCString()));
  assert.equal(refusalOf(expiresAt, clock.now()), 'expired');
  assert.equal(refusalOf(serverNow + 60 * 60 * 1000, clock.now()), 'removed', 'a live token refused is still a removal');
});
