import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clearState, forgetRemoved, loadPending, loadRemoved, loadState, savePending, saveRemoved, saveState, storageKey,
} from '../src/js/storage.js';
import { fromSnapshot } from '../src/js/room-state.js';
import { snapshot } from './fixtures.mjs';

class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(key) { return this.map.has(key) ? this.map.get(key) : null; }
  setItem(key, value) { this.map.set(key, String(value)); }
  removeItem(key) { this.map.delete(key); }
}

test('the state round-trips per room and member', () => {
  const storage = new MemoryStorage();
  const state = fromSnapshot(snapshot());
  assert.equal(saveState(storage, 'r1', 'a', state), true);
  assert.deepEqual(loadState(storage, 'r1', 'a'), state);
  assert.equal(loadState(storage, 'r1', 'b'), null);
  assert.notEqual(storageKey('r1', 'a'), storageKey('r1', 'b'));
});

test('garbage, another room and a throwing storage all load as null', () => {
  const storage = new MemoryStorage();
  storage.setItem(storageKey('r1', 'a'), '{not json');
  assert.equal(loadState(storage, 'r1', 'a'), null);
  storage.setItem(storageKey('r1', 'a'), JSON.stringify(fromSnapshot(snapshot({ roomId: 'r2' }))));
  assert.equal(loadState(storage, 'r1', 'a'), null);
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('quota'); } };
  assert.equal(loadState(broken, 'r1', 'a'), null);
  assert.equal(saveState(broken, 'r1', 'a', fromSnapshot(snapshot())), false);
});

test('a removal forgets the saved room and leaves a note that survives a reload', () => {
  const storage = new MemoryStorage();
  saveState(storage, 'r1', 'a', fromSnapshot(snapshot()));
  saveState(storage, 'r1', 'b', fromSnapshot(snapshot()));
  assert.equal(clearState(storage, 'r1', 'a'), true);
  assert.equal(loadState(storage, 'r1', 'a'), null);
  assert.notEqual(loadState(storage, 'r1', 'b'), null, 'another member of the room in this tab keeps theirs');

  assert.equal(loadRemoved(storage, 'r1', 'a'), null);
  saveRemoved(storage, 'r1', 'a', { by: 'o', at: 1000 });
  assert.deepEqual(loadRemoved(storage, 'r1', 'a'), { by: 'o', at: 1000 });
  assert.equal(loadRemoved(storage, 'r1', 'b'), null);
  forgetRemoved(storage, 'r1', 'a');
  assert.equal(loadRemoved(storage, 'r1', 'a'), null);

  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('quota'); }, removeItem() { throw new Error('denied'); } };
  assert.equal(clearState(broken, 'r1', 'a'), false);
  assert.equal(saveRemoved(broken, 'r1', 'a', { by: 'o' }), false);
  assert.equal(loadRemoved(broken, 'r1', 'a'), null);
  forgetRemoved(broken, 'r1', 'a');
});

test('the saved presses round-trip per room and member; none, garbage or a throwing storage load as []', () => {
  const storage = new MemoryStorage();
  const ops = [{ opId: 'o1', menuId: 'pizza', kind: 'adjust', value: 1, attempts: 0 }];
  assert.equal(savePending(storage, 'r1', 'a', ops), true);
  assert.deepEqual(loadPending(storage, 'r1', 'a'), ops);
  assert.deepEqual(loadPending(storage, 'r1', 'b'), []);
  assert.deepEqual(loadPending(storage, 'r2', 'a'), []);
  assert.equal(savePending(storage, 'r1', 'a', []), true);
  assert.equal(storage.map.size, 0, 'nothing pending: nothing kept');
  storage.setItem('roomshare:v1:pending:r1:a', '{not json');
  assert.deepEqual(loadPending(storage, 'r1', 'a'), []);
  storage.setItem('roomshare:v1:pending:r1:a', '{"opId":"o1"}');
  assert.deepEqual(loadPending(storage, 'r1', 'a'), []);
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('quota'); }, removeItem() { throw new Error('denied'); } };
  assert.deepEqual(loadPending(broken, 'r1', 'a'), []);
  assert.equal(savePending(broken, 'r1', 'a', ops), false);
});
