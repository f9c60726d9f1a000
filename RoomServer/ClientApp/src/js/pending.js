// Optimistic choices, reconciled by opId and version.
//
// An op is created when the member presses − / +. Until the server has settled it, the page shows
// the predicted quantity. An op leaves the list when:
//   - the `choice` event carrying its opId is applied (it is now in the confirmed state) and no
//     call of it still awaits a verdict, or
//   - its ack {version, quantity} arrives and the state has reached that version (a no-op write
//     acks with the current version and sends no event), or
//   - the server rejects it (rolled back; the caller shows the error).
// An ack that is ahead of the state is remembered: its quantity is authoritative at its version, so
// the display does not flicker back while the event is still on its way.
// Ops whose call failed because the connection dropped go back to 'queued' and are sent again, with
// the same opId (the server applies an opId once), after the next Join; so do ops refused `rate_limited`
// (a member's write rate: the refusal applied nothing), after a pause, without spending an attempt.
// An event is not proof the write was kept: a Redis master may publish it and fail over before it
// replicates; the call then answers `unavailable` and the room takes a new epoch (DESIGN.md §2). So
// an op whose call is in flight, or was answered `unavailable`, is only marked `seen` by its event
// (not shown on top of the state that holds it) and stays until an ack; the resend with the same
// opId changes nothing where the write was kept, and restores it where it was lost. After a new
// epoch a seen op stays seen (`seenEarlier`): the snapshot may hold it or not, and showing the
// snapshot's own quantity until the resend settles is never more than the truth; showing the op on
// top of a snapshot that holds it would count the press twice.

export const MAX_SEND_ATTEMPTS = 5;

/**
 * How long an op answered `unavailable` (its outcome unknown: it may still be applied) is sent again, with its opId,
 * before the page gives up on it: a Redis failover or a deaf replica outlasts a handful of quick tries, and rolling
 * the press back while it may yet land would invite pressing again, which would count it twice. The count of
 * attempts does not bound such an op; this does.
 */
export const UNCONFIRMED_RETRY_MS = 5 * 60 * 1000;

/** The longest wait between two sends of an op answered `unavailable` (the waits grow a second a try up to it). */
export const MAX_RETRY_DELAY_MS = 15 * 1000;

/**
 * Whether two ops of one item give the same quantity in either order: adjustments of one sign (a floor at
 * 0 and a cap at the maximum clamp a run of one sign alike in any order; 0 changes nothing). A set never
 * commutes with another op.
 */
export function commute(a, b) {
  return a.kind === 'adjust' && b.kind === 'adjust' && Math.sign(a.value) * Math.sign(b.value) >= 0;
}

/**
 * The most ops kept across a reload (sessionStorage): far more presses than a member makes offline, and a
 * bound on what a damaged or hostile saved value can make the page send.
 */
export const MAX_SAVED_OPS = 500;

// What the hub takes as an opId (1-64 printable ASCII characters, no space): anything else was not saved by us.
const OP_ID = /^[\x21-\x7e]{1,64}$/;

/** One saved op as restore() takes it, or null when it is not one (a damaged or foreign value). */
function readSavedOp(value) {
  if (value === null || typeof value !== 'object') return null;
  const { opId, menuId, kind, value: amount, attempts } = value;
  if (typeof opId !== 'string' || !OP_ID.test(opId)) return null;
  if (typeof menuId !== 'string' || menuId === '' || menuId.length > 200) return null;
  if ((kind !== 'adjust' && kind !== 'set') || !Number.isInteger(amount)) return null;
  return {
    opId,
    menuId,
    kind,
    value: amount,
    // A call in flight when the page went away has no verdict: it is sent again, with its opId.
    status: 'queued',
    attempts: Number.isInteger(attempts) && attempts >= 0 ? Math.min(attempts, MAX_SEND_ATTEMPTS) : 0,
    unconfirmed: value.unconfirmed === true,
    seen: value.seen === true,
    seenEarlier: value.seenEarlier === true,
  };
}

export class PendingChoices {
  constructor() {
    /** @type {Array<{opId: string, menuId: string, kind: 'adjust'|'set', value: number,
     *  status: 'queued'|'sent'|'acked', attempts: number, ackVersion?: number, ackQuantity?: number,
     *  unconfirmed?: boolean, unconfirmedSince?: number, notBefore?: number, seen?: boolean, seenEarlier?: boolean}>} */
    this.ops = [];
  }

  get size() { return this.ops.length; }

  add(opId, menuId, kind, value) {
    const op = { opId, menuId, kind, value, status: 'queued', attempts: 0 };
    this.ops.push(op);
    return op;
  }

  find(opId) { return this.ops.find((op) => op.opId === opId); }

  /**
   * Ops to send now (the `limit` pressed first); marks them sent and counts the attempt. An op goes out
   * beside the item's ops still in flight only when the server may apply them in either order with the
   * same result (`commute`); otherwise it, and the item's later ops, wait until those have a verdict. A
   * press refused `rate_limited` and sent again must not land after a later press of the other sign:
   * at 0 or the maximum that changes the quantity (+1 then −1 at 0 leaves 0; −1 first, floored, then +1
   * leaves 1).
   */
  takeQueued(limit = Infinity, now = Infinity) {
    const ready = [];
    const waiting = new Set(); // items with an op held back: their later ops keep their place behind it
    for (const op of this.ops) {
      if (op.status !== 'queued') continue;
      if (ready.length >= limit) break;
      // An op backing off after `unavailable` waits out its time whatever flush comes first (a new press, another
      // op's answer), and holds its item's later ops behind it.
      if ((op.notBefore ?? 0) > now || waiting.has(op.menuId)
        || !this.ops.every((o) => o.status !== 'sent' || o.menuId !== op.menuId || commute(o, op))) {
        waiting.add(op.menuId);
        continue;
      }
      op.status = 'sent';
      op.attempts += 1;
      ready.push(op);
    }
    return ready;
  }

  /**
   * The call failed without reaching a verdict: the connection was lost, or the server answered
   * `unavailable` (`unconfirmed`: only an ack settles the op then, not its event). False when it is
   * out of attempts, or, once answered `unavailable`, out of time (UNCONFIRMED_RETRY_MS since its first such
   * answer, at `now`). `refused`: the server refused this call for a rate (`rate_limited`), which applies
   * nothing and frees within moments — queued again without spending an attempt. `notBefore`: not sent again
   * before then (takeQueued's `now`).
   */
  requeue(opId, { unconfirmed = false, refused = false, now = 0, notBefore = 0 } = {}) {
    const op = this.find(opId);
    if (op === undefined || op.status !== 'sent') return true;
    if (refused) {
      op.attempts = Math.max(op.attempts - 1, 0);
    } else if (unconfirmed || op.unconfirmed) {
      op.unconfirmedSince ??= now;
      if (now - op.unconfirmedSince >= UNCONFIRMED_RETRY_MS) return false;
    } else if (op.attempts >= MAX_SEND_ATTEMPTS) {
      return false;
    }
    op.status = 'queued';
    op.notBefore = notBefore;
    if (unconfirmed) op.unconfirmed = true;
    return true;
  }

  /** Rollback: the server rejected the op. Returns the op, or undefined if it was already settled. */
  reject(opId) {
    const op = this.find(opId);
    this.ops = this.ops.filter((o) => o.opId !== opId);
    return op;
  }

  /** The server acknowledged the op at `ack.version`; `stateVersion` is the client's position. */
  acknowledge(opId, ack, stateVersion) {
    const op = this.find(opId);
    if (op === undefined) return;
    if (ack.version <= stateVersion) {
      this.ops = this.ops.filter((o) => o.opId !== opId);
      return;
    }
    op.status = 'acked';
    op.ackVersion = ack.version;
    op.ackQuantity = ack.quantity;
  }

  /**
   * A choice event was applied: settle the op with its opId, and any ack the state has reached. An op
   * still awaiting a verdict (in flight, or answered `unavailable`) is only marked seen.
   */
  settle(stateVersion, opId = null) {
    const op = opId === null ? undefined : this.find(opId);
    if (op !== undefined && (op.status === 'sent' || (op.status === 'queued' && op.unconfirmed))) {
      op.seen = true;
      op.seenEarlier = false;
    }
    this.ops = this.ops.filter((o) => !(o.opId === opId && !o.seen)
      && !(o.status === 'acked' && o.ackVersion <= stateVersion));
  }

  /**
   * The state was replaced by a snapshot of another epoch: acked versions mean nothing any more. An op
   * seen in the old epoch is still not shown on top (the snapshot may hold it) and is still sent until
   * its ack; it is marked seen earlier, so running out of attempts now reports an error.
   */
  forgetAcks() {
    this.ops = this.ops.filter((op) => op.status !== 'acked');
    for (const op of this.ops) if (op.seen) op.seenEarlier = true;
  }

  /**
   * What survives a reload: every op the server has not acknowledged, with its opId (the resend is applied at
   * most once, DESIGN.md §2), its attempts (a reload does not reset the bound) and whether its event was seen (the
   * state saved with it holds that press: not to be shown twice). Acked ops are left out: the server holds them.
   */
  saved() {
    return this.ops.filter((op) => op.status !== 'acked').slice(-MAX_SAVED_OPS).map((op) => ({
      opId: op.opId,
      menuId: op.menuId,
      kind: op.kind,
      value: op.value,
      attempts: op.attempts,
      unconfirmed: op.unconfirmed === true,
      seen: op.seen === true,
      seenEarlier: op.seenEarlier === true,
    }));
  }

  /**
   * Takes back what saved() wrote before a reload, as queued: the session sends them after its Join. Anything
   * that is not a saved op is ignored, as is an opId already here; at most MAX_SAVED_OPS. Returns how many.
   */
  restore(saved) {
    if (!Array.isArray(saved)) return 0;
    let restored = 0;
    for (const value of saved.slice(-MAX_SAVED_OPS)) {
      const op = readSavedOp(value);
      if (op === null || this.find(op.opId) !== undefined) continue;
      this.ops.push(op);
      restored += 1;
    }
    return restored;
  }

  /** Drops everything (e.g. the room became locked or closed while ops were queued). */
  clear() {
    const dropped = this.ops;
    this.ops = [];
    return dropped;
  }

  hasPending(menuId) { return this.ops.some((op) => op.menuId === menuId); }

  /** When the first op held back by its backoff (`notBefore`) is due, if one is later than `now`; else null. */
  earliestHeld(now) {
    let due = null;
    for (const op of this.ops) {
      if (op.status === 'queued' && (op.notBefore ?? 0) > now && (due === null || op.notBefore < due)) due = op.notBefore;
    }
    return due;
  }

  /** Whether any op waits to be sent. */
  hasQueued() { return this.ops.some((op) => op.status === 'queued'); }

  /**
   * The quantity to show: the confirmed quantity at `stateVersion`, overridden by the newest ack
   * ahead of it, then the unacknowledged ops in the order they were pressed, clamped to [0, max].
   */
  display(menuId, confirmedQuantity, stateVersion, max) {
    let quantity = confirmedQuantity;
    let version = stateVersion;
    const mine = this.ops.filter((op) => op.menuId === menuId);
    for (const op of mine) {
      if (op.status === 'acked' && op.ackVersion > version) {
        quantity = op.ackQuantity;
        version = op.ackVersion;
      }
    }
    for (const op of mine) {
      if (op.status === 'acked' || op.seen) continue; // a seen op is in the confirmed quantity already
      quantity = op.kind === 'adjust' ? quantity + op.value : op.value;
      quantity = Math.min(Math.max(quantity, 0), max);
    }
    return quantity;
  }
}
