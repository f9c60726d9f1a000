import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadState, saveState, storageKey } from '../src/js/storage.js';
import { fromSnapshot } from '../src/js/room-state.js';
import { snapshot } from './fixtures.mjs';

class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(key) { return this.map.has(key) ? this.map.get(key) : null; }
  setItem(key, value) { this.map.set(key, String(value)); }
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
