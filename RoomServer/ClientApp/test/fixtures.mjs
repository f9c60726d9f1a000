// Shared builders for the unit tests.

export function snapshot(overrides = {}) {
  return {
    roomId: 'r1',
    name: 'Table 7',
    epoch: 'e1',
    version: 3,
    state: 'open',
    menu: [
      { id: 'pizza', name: 'Margherita', priceMinor: 950 },
      { id: 'pasta', name: 'Carbonara', priceMinor: 1200 },
      { id: 'water', name: 'Water', priceMinor: 250 },
    ],
    members: [
      { memberId: 'a', displayName: 'Alice', online: true },
      { memberId: 'b', displayName: 'Bob', online: false },
    ],
    choices: [{ memberId: 'a', menuId: 'pizza', quantity: 1 }],
    totals: [{ menuId: 'pizza', quantity: 1, amountMinor: 950 }],
    totalMinor: 950,
    ...overrides,
  };
}

export function choice(version, memberId, menuId, quantity, opId = null, epoch = 'e1') {
  return { roomId: 'r1', epoch, version, type: 'choice', at: '2025-01-01T00:00:00Z', memberId, menuId, quantity, opId };
}

export function stateEvent(version, state, by = 'o', epoch = 'e1') {
  return { roomId: 'r1', epoch, version, type: 'state', at: '2025-01-01T00:00:00Z', state, by };
}

export function notice(version, kind, payload, epoch = 'e1') {
  return { roomId: 'r1', epoch, version, type: 'notice', at: '2025-01-01T00:00:00Z', kind, payload };
}

export function memberRemoved(version, memberId, by = 'o', epoch = 'e1') {
  return { roomId: 'r1', epoch, version, type: 'member_removed', at: '2025-01-01T00:00:00Z', memberId, by };
}

/** A hub whose calls stay pending until the test settles them. */
export class FakeHub {
  constructor() {
    this.calls = [];
    this.connected = true;
  }

  isConnected() { return this.connected; }

  invoke(method, ...args) {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    this.calls.push({ method, args, resolve, reject });
    return promise;
  }

  callsOf(method) { return this.calls.filter((c) => c.method === method); }

  last(method) { return this.callsOf(method).at(-1); }
}

/** Lets queued promise callbacks run. */
export function flushMicrotasks() {
  return new Promise((resolve) => setImmediate(resolve));
}
