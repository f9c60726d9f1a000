import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createOperatorApi, describeError, describeRetryAll, forgetApiKey, loadApiKey, loadOverview, MAX_RETRY_ALL_CALLS, OperatorApiError, saveApiKey,
} from '../src/js/operator-api.js';

class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(key) { return this.map.has(key) ? this.map.get(key) : null; }
  setItem(key, value) { this.map.set(key, String(value)); }
  removeItem(key) { this.map.delete(key); }
}

const reply = (status, body) => ({ ok: status >= 200 && status < 300, status, text: async () => (body === undefined ? '' : JSON.stringify(body)) });

test('the API key round-trips in the given storage and can be forgotten', () => {
  const storage = new MemoryStorage();
  assert.equal(loadApiKey(storage), null);
  assert.equal(saveApiKey(storage, 'k-1234567890abcdef'), true);
  assert.equal(loadApiKey(storage), 'k-1234567890abcdef');
  forgetApiKey(storage);
  assert.equal(loadApiKey(storage), null);
});

test('a throwing storage costs only the remembered key', () => {
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() { throw new Error('denied'); } };
  assert.equal(saveApiKey(broken, 'k'), false);
  assert.equal(loadApiKey(broken), null);
  assert.doesNotThrow(() => forgetApiKey(broken));
});

test('every call sends the key and reads the contract shapes', async () => {
  const calls = [];
  const fetchFn = async (url, init) => {
    calls.push([init.method, url, init.headers['x-api-key']]);
    if (url.includes('/api/deadletters') && init.method === 'GET') return reply(200, { items: [{ id: '1-0' }], next: null });
    if (url.includes('/order')) return reply(200, { records: [{ orderId: 'r 1:5' }] });
    if (init.method === 'DELETE') return reply(204);
    return reply(202, { retried: ['1-0'], more: false, next: null, skipped: 2 });
  };
  const api = createOperatorApi(fetchFn, 'key');
  assert.deepEqual(await api.deadLetters(), { items: [{ id: '1-0' }], next: null });
  assert.deepEqual(await api.deadLetters('1-0'), { items: [{ id: '1-0' }], next: null });
  assert.deepEqual(await api.order('r 1'), [{ orderId: 'r 1:5' }]);
  assert.deepEqual(await api.retry('1-0'), ['1-0']);
  assert.deepEqual(await api.retryAll(), { retried: ['1-0'], skipped: 2, more: false, next: null, calls: 1 });
  assert.equal(await api.deleteDeadLetter('1-0'), undefined);
  assert.deepEqual(calls, [
    ['GET', '/api/deadletters', 'key'],
    ['GET', '/api/deadletters?after=1-0', 'key'],
    ['GET', '/api/rooms/r%201/order', 'key'],
    ['POST', '/api/deadletters/1-0/retry', 'key'],
    ['POST', '/api/deadletters/retry', 'key'],
    ['DELETE', '/api/deadletters/1-0', 'key'],
  ]);
});

test('a problem becomes an error with its code; no answer is unavailable', async () => {
  const refused = createOperatorApi(async () => reply(401, { code: 'unauthorized', detail: 'no key' }), 'bad');
  await assert.rejects(refused.deadLetters(), (e) => e instanceof OperatorApiError && e.code === 'unauthorized' && e.status === 401);
  const down = createOperatorApi(async () => { throw new TypeError('Failed to fetch'); }, 'k');
  await assert.rejects(down.deadLetters(), (e) => e.code === 'unavailable');
  assert.match(describeError(new OperatorApiError('unauthorized', 'x', 401)), /refused/);
  assert.match(describeError(new OperatorApiError('invalid_argument', 'there is no dead letter', 400)), /no dead letter/);
});

/** A retry-all server: answers from `pages` in turn (the last one again and again once they run out), recording each URL. */
function retryAllServer(pages) {
  const urls = [];
  const fetchFn = async (url, init) => {
    assert.equal(init.method, 'POST');
    urls.push(url);
    return reply(202, pages[Math.min(urls.length - 1, pages.length - 1)]);
  };
  return { urls, api: createOperatorApi(fetchFn, 'key') };
}

test('retry all follows next while the server says more, and adds up what each call retried and skipped', async () => {
  const { urls, api } = retryAllServer([
    { retried: ['1-0', '2-0'], more: true, next: '2-0', skipped: 0 },
    { retried: [], more: true, next: '9-0', skipped: 5000 },
    { retried: ['10-0'], more: false, next: null, skipped: 3 },
  ]);

  const result = await api.retryAll();

  assert.deepEqual(urls, ['/api/deadletters/retry', '/api/deadletters/retry?after=2-0', '/api/deadletters/retry?after=9-0']);
  assert.deepEqual(result, { retried: ['1-0', '2-0', '10-0'], skipped: 5003, more: false, next: null, calls: 3 });
});

test('retry all stops after its bound of calls, saying more may wait and where it got to', async () => {
  const { urls, api } = retryAllServer([{ retried: ['1-0'], more: true, next: '1-0', skipped: 1 }]);

  const result = await api.retryAll();

  assert.equal(urls.length, MAX_RETRY_ALL_CALLS);
  assert.equal(MAX_RETRY_ALL_CALLS, 20);
  assert.deepEqual({ ...result, retried: result.retried.length }, { retried: 20, skipped: 20, more: true, next: '1-0', calls: 20 });
  assert.match(describeRetryAll(result), /Retried 20 .*Passed over 20 .*More may wait/);

  const bounded = retryAllServer([{ retried: [], more: true, next: '5-0', skipped: 0 }]);
  assert.equal((await bounded.api.retryAll(3)).calls, 3);
  assert.equal(bounded.urls.length, 3);
});

test('retry all stops before its next call once goOn says no (the operator forgot the key)', async () => {
  const { urls, api } = retryAllServer([{ retried: ['1-0'], more: true, next: '1-0', skipped: 0 }]);
  let calls = 0;

  const result = await api.retryAll(MAX_RETRY_ALL_CALLS, () => ++calls <= 2);

  assert.equal(urls.length, 2);
  assert.deepEqual({ more: result.more, calls: result.calls }, { more: true, calls: 2 });
});

test('a retry all that fails part-way throws with the progress of the calls before it', async () => {
  let n = 0;
  const api = createOperatorApi(async () => (n++ === 0
    ? reply(202, { retried: ['1-0'], more: true, next: '1-0', skipped: 4 })
    : reply(503, { code: 'unavailable', detail: 'the store did not answer in time' })), 'key');

  await assert.rejects(api.retryAll(), (e) => e instanceof OperatorApiError && e.code === 'unavailable' && e.status === 503
    && e.progress.calls === 1 && e.progress.skipped === 4 && e.progress.retried.join() === '1-0');
  assert.equal(describeRetryAll({ retried: [], skipped: 0, more: false }), 'Retried 0 dead letter(s).');
});

test('a delete the server refuses becomes an error with its code and detail; no answer is unavailable', async () => {
  const gone = createOperatorApi(async () => reply(400, { code: 'invalid_argument', detail: "there is no dead letter '1-0' (already retried or deleted?)" }), 'key');
  await assert.rejects(gone.deleteDeadLetter('1-0'), (e) => e instanceof OperatorApiError && e.code === 'invalid_argument' && e.status === 400
    && /no dead letter '1-0'/.test(e.message));
  assert.match(describeError(await gone.deleteDeadLetter('1-0').catch((e) => e)), /already retried or deleted/);

  const refused = createOperatorApi(async () => reply(401, undefined), 'bad');
  await assert.rejects(refused.deleteDeadLetter('1-0'), (e) => e.code === 'unauthorized' && e.status === 401);
  const notProblem = createOperatorApi(async () => ({ ok: false, status: 502, text: async () => '<html>bad gateway</html>' }), 'key');
  await assert.rejects(notProblem.deleteDeadLetter('1-0'), (e) => e.code === 'unavailable' && e.message === 'HTTP 502');
  const down = createOperatorApi(async () => { throw new TypeError('Failed to fetch'); }, 'key');
  await assert.rejects(down.deleteDeadLetter('1-0'), (e) => e.code === 'unavailable' && e.status === 0);
});

test('loadOverview reads the dead letters (back to the oldest when the page is empty) and the room\'s records', async () => {
  const calls = [];
  const api = {
    deadLetters: async (after = null) => { calls.push(['deadLetters', after]); return after === null ? { items: [{ id: '1-0' }], next: '1-0' } : { items: [], next: null }; },
    order: async (room) => { calls.push(['order', room]); return [{ orderId: `${room}:5` }]; },
  };
  assert.deepEqual(await loadOverview(api, { deadAfter: '9-0', room: 'r1' }),
    { deadAfter: null, deadLetters: { items: [{ id: '1-0' }], next: '1-0' }, records: [{ orderId: 'r1:5' }], recordsError: null });
  assert.deepEqual(calls, [['deadLetters', '9-0'], ['deadLetters', null], ['order', 'r1']]);
  assert.deepEqual(await loadOverview(api), { deadAfter: null, deadLetters: { items: [{ id: '1-0' }], next: '1-0' }, records: null, recordsError: null });
});

test('loadOverview still reads the dead letters when only the room\'s records cannot be read (a mistyped or expired room)', async () => {
  const notFound = Object.assign(new Error('There is no room with that id'), { code: 'room_not_found' });
  const api = {
    deadLetters: async () => ({ items: [{ id: '1-0' }], next: null }),
    order: async () => { throw notFound; },
  };
  assert.deepEqual(await loadOverview(api, { room: 'gone' }),
    { deadAfter: null, deadLetters: { items: [{ id: '1-0' }], next: null }, records: null, recordsError: notFound });
});

test('loadOverview shows nothing of a refresh whose key was forgotten meanwhile: no result, no error, no further call', async () => {
  for (const forgetDuring of ['deadLetters', 'order']) {
    let current = true;
    const calls = [];
    const api = {
      deadLetters: async () => { calls.push('deadLetters'); if (forgetDuring === 'deadLetters') current = false; return { items: [], next: null }; },
      order: async () => { calls.push('order'); if (forgetDuring === 'order') current = false; return []; },
    };
    assert.equal(await loadOverview(api, { room: 'r1' }, () => current), null, forgetDuring);
    assert.deepEqual(calls, forgetDuring === 'order' ? ['deadLetters', 'order'] : ['deadLetters'], forgetDuring);
  }
  let current = true;
  const failing = { deadLetters: async () => { current = false; throw new OperatorApiError('unauthorized', 'HTTP 401', 401); } };
  assert.equal(await loadOverview(failing, {}, () => current), null, 'the failure of a forgotten key is not shown either');
  await assert.rejects(loadOverview(failing, {}, () => true), { code: 'unauthorized' }, 'while current, it is');
});

test('a read that hangs is given up after the read timeout (unavailable); an action is never cut short', async () => {
  const signals = [];
  // Answers nothing until its signal aborts, as a request a proxy holds.
  const hanging = async (url, init) => {
    signals.push([init.method, init.signal]);
    if (!init.signal) return reply(202, { retried: ['1-0'], more: false, next: null, skipped: 0 });
    return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(init.signal.reason)));
  };
  const api = createOperatorApi(hanging, 'key', '', 50);
  // Node does not keep the process alive for AbortSignal.timeout's timer (a browser tab has no such question).
  const keepAlive = setInterval(() => {}, 10);
  try {
    await assert.rejects(api.deadLetters(), (e) => e instanceof OperatorApiError && e.code === 'unavailable' && e.status === 0);
    await assert.rejects(api.order('r1'), (e) => e instanceof OperatorApiError && e.code === 'unavailable');
  } finally {
    clearInterval(keepAlive);
  }
  assert.deepEqual(await api.retry('1-0'), ['1-0']);
  assert.deepEqual(signals.map(([method, signal]) => [method, signal !== undefined]), [['GET', true], ['GET', true], ['POST', false]]);
});
