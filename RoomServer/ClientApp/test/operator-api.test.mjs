import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOperatorApi, describeError, forgetApiKey, loadApiKey, OperatorApiError, saveApiKey } from '../src/js/operator-api.js';

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
    return reply(202, { retried: ['1-0'] });
  };
  const api = createOperatorApi(fetchFn, 'key');
  assert.deepEqual(await api.deadLetters(), { items: [{ id: '1-0' }], next: null });
  assert.deepEqual(await api.deadLetters('1-0'), { items: [{ id: '1-0' }], next: null });
  assert.deepEqual(await api.order('r 1'), [{ orderId: 'r 1:5' }]);
  assert.deepEqual(await api.retry('1-0'), ['1-0']);
  assert.deepEqual(await api.retryAll(), ['1-0']);
  assert.deepEqual(calls, [
    ['GET', '/api/deadletters', 'key'],
    ['GET', '/api/deadletters?after=1-0', 'key'],
    ['GET', '/api/rooms/r%201/order', 'key'],
    ['POST', '/api/deadletters/1-0/retry', 'key'],
    ['POST', '/api/deadletters/retry', 'key'],
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
