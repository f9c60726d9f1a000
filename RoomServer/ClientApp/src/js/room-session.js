// One member's session in one room, independent of the DOM and of the SignalR client: the hub is
// injected as `{ invoke(method, ...args): Promise, isConnected(): boolean }`, so the resume and
// reconciliation rules are unit-tested with a fake hub.
//
// Resume (DESIGN.md §2): `join()` calls Join(roomId, since) with the current position (null when
// there is none, or a fresh snapshot is wanted); events that arrive while the call is in flight are
// buffered and applied after its result, skipping what it already covered. A gap, an epoch change
// or a Position ahead of the state (still ahead POSITION_GRACE_MS later) triggers another join. Joins never overlap: a request during a
// join is folded into one more round, and rounds are bounded. Such a background join goes through `requestJoin` (the page's
// join loop), so one that fails is retried with that loop's backoff instead of by every event that comes next.
//
// Removal (DESIGN.md §3): `Removed`, a `member_removed` event about this member, or a Join or a
// choice refused with `forbidden` (the token is refused from then on) end the session for good: nothing is joined,
// sent or saved afterwards, and the page is told once through `onRemovedFromRoom`. The page calls
// `markRemoved` itself when the connection is refused (401) for a token that has not expired.
//
// Expiry (DESIGN.md §3: every hub call checks `exp`): a press refused `unauthorized` applied nothing. It is kept,
// saved with its opId like every unacknowledged press, and nothing more is sent on this link; the page is told once
// through `onLinkExpired`. A new link for the same room and member opened in this tab (a reload) sends it again.

import {
  applyEvent, applyJoinResult, applyPresence, classifyEvent, classifyPosition, quantityOf, withoutMember,
} from './room-state.js';
import { MAX_RETRY_DELAY_MS, PendingChoices } from './pending.js';
import { DEFAULT_MAX_QUANTITY, parseHubError } from './errors.js';

/** How old a notice replayed by a resume may be and still reach the banner (a live one always does). */
export const MISSED_NOTICE_MAX_AGE_MS = 15 * 60 * 1000;

const MAX_JOIN_ROUNDS = 5;

/**
 * How long a Position ahead of the state waits before it resumes: a replica's tick reads the room's position from
 * Redis on one connection while the event it counts comes on another, so the Position can overtake an event that is a
 * moment from arriving. A resume only if the state is still behind it then (the event was lost, then silence).
 */
export const POSITION_GRACE_MS = 500;

/**
 * Presses refused `rate_limited` (the member's write rate, DESIGN.md §6: a burst, then a steady rate; the refusal
 * applied nothing) are kept and sent again, with their opIds, after a pause; from then on the queue goes out
 * PACED_BATCH at a time, one batch per pause, until it is empty — the server's default rate (20 a second), so a
 * backlog flushed after a Join (presses made offline, or restored after a reload) is not refused again wholesale.
 */
export const PACED_BATCH = 20;

export function newOpId() {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class RoomSession {
  /**
   * @param {object} options
   * @param {string} options.roomId
   * @param {string} options.memberId
   * @param {{ invoke: (method: string, ...args: unknown[]) => Promise<any>, isConnected: () => boolean }} options.hub
   * @param {object|null} [options.initialState] state restored from sessionStorage
   * @param {(state: object) => void} [options.save] persists the state after every change
   * @param {object[]} [options.initialPending] presses saved before a reload (PendingChoices.saved()): shown at
   *   once, and sent again with their opIds after the Join, as after a drop
   * @param {(ops: object[]) => void} [options.savePending] persists the presses not yet acknowledged after every
   *   change (beside the state: a reload must not silently lose a press made offline)
   * @param {() => void} [options.onChange] the state, pending ops or replica changed
   * @param {(error: {code: string|null, text: string}) => void} [options.onError] a call was rejected
   * @param {() => void} [options.requestJoin] starts a background join (a gap, a new epoch, a Position the state stays
   *   behind, a refresh): the page's join loop (join-retry.js), which calls join() and paces its retries; without it
   *   the session joins at once and reports a failure to onJoinFailed
   * @param {(error: unknown) => void} [options.onJoinFailed] a background join (gap, Position) failed (without requestJoin)
   * @param {(event: object) => void} [options.onNotice] a `notice` event was applied (live, or missed
   *   and replayed by a resume while still recent: MISSED_NOTICE_MAX_AGE_MS)
   * @param {() => number} [options.now] the clock, in ms (tests)
   * @param {(removal: {by: string|null, reason: 'removed'|'event'|'forbidden'|'refused'}) => void} [options.onRemovedFromRoom]
   *   this member was removed from the room: the session has stopped for good
   * @param {(announcement: {id: string, kind: string, message: string, at: string}) => void} [options.onAnnouncement]
   *   an operator announcement arrived (each id once)
   * @param {() => void} [options.onLinkExpired] a press was refused `unauthorized` (the token expired): kept, and
   *   nothing more is sent on this link (once)
   */
  constructor(options) {
    this.roomId = options.roomId;
    this.memberId = options.memberId;
    this.hub = options.hub;
    this.state = options.initialState ?? null;
    this.save = options.save ?? (() => {});
    this.onChange = options.onChange ?? (() => {});
    this.onError = options.onError ?? (() => {});
    this.onJoinFailed = options.onJoinFailed ?? (() => {});
    this.requestJoin = options.requestJoin ?? (() => this.join().catch((error) => this.onJoinFailed(error)));
    this.onNotice = options.onNotice ?? (() => {});
    this.now = options.now ?? Date.now;
    this.reportRemoved = options.onRemovedFromRoom ?? (() => {});
    this.reportAnnouncement = options.onAnnouncement ?? (() => {});
    this.reportLinkExpired = options.onLinkExpired ?? (() => {});
    this.reportRoomGone = options.onRoomGone ?? (() => {});
    this.defaultMaxQuantity = options.maxQuantity ?? DEFAULT_MAX_QUANTITY;
    this.makeOpId = options.newOpId ?? newOpId;
    this.schedule = options.schedule ?? ((fn, ms) => setTimeout(fn, ms));
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.savePendingOps = options.savePending ?? (() => {});
    this.flushPaused = false; // a pause after a rate refusal, or between paced batches, is running
    this.heldFlushAt = null; // when the flush for ops backing off after `unavailable` is armed (flushWhenDue)
    this.pacing = false; // a press was refused for the rate: the queue goes out a batch at a time
    this.pending = new PendingChoices();
    this.pending.restore(options.initialPending ?? []);
    this.replica = null;
    this.joined = false;
    this.joining = null;
    this.buffer = null;
    this.presenceBuffer = null;
    this.again = null; // null | 'since' | 'fresh' — another join round was requested
    this.freshWanted = false; // a background join asked for a snapshot: kept until a Join lands, whoever retries it
    this.joinCount = 0;
    this.removed = null; // null | { by, reason } — set once, never cleared
    this.linkExpired = false; // a press was refused for the token's expiry: nothing more is sent on this link
    this.announcementIds = new Set();
    this.behindPosition = null; // the highest Position seen ahead of the state, looked at again after POSITION_GRACE_MS
    this.positionCheck = 0; // which grace is running: a Join, or a higher Position, starts over
  }

  get position() {
    return this.state === null ? null : { epoch: this.state.epoch, version: this.state.version };
  }

  /**
   * The most of one item this member may have: the cap the room's snapshot states, else (a state from
   * before the field, or an older replica) the default.
   */
  get maxQuantity() {
    return this.state?.maxQuantity ?? this.defaultMaxQuantity;
  }

  /** True when choices can change: the room is open (and this member still belongs to it). */
  get editable() {
    return this.removed === null && this.state !== null && this.state.state === 'open';
  }

  /** The connection dropped: nothing is joined until the next `join()`. */
  disconnected() {
    this.joined = false;
    this.onChange();
  }

  /** Join (or resume). Resolves when the state is at the room's position; rejects on a hub error. */
  join({ fresh = false } = {}) {
    if (this.removed !== null) return Promise.reject(removedError());
    if (this.joining !== null) {
      this.again = fresh || this.again === 'fresh' ? 'fresh' : 'since';
      return this.joining;
    }
    // A Join brings the state to the room's position: a Position waiting out its grace is covered.
    this.behindPosition = null;
    this.positionCheck++;
    this.joining = this.joinRounds(fresh).finally(() => {
      this.joining = null;
    });
    return this.joining;
  }

  async joinRounds(fresh) {
    let wantFresh = fresh || this.freshWanted;
    for (let round = 0; round < MAX_JOIN_ROUNDS; round++) {
      this.again = null;
      this.buffer = [];
      this.presenceBuffer = [];
      let result;
      let buffered = [];
      let bufferedPresence = [];
      try {
        result = await this.hub.invoke('Join', this.roomId, wantFresh || this.state === null ? null : this.position);
      } catch (error) {
        // The token was refused for this room: this member was removed (a token for another room
        // never gets here, readJoinLink refuses it). Retrying cannot help.
        if (parseHubError(error)?.code === 'forbidden') this.markRemoved(null, 'forbidden');
        throw error;
      } finally {
        // Events and presence buffered during a failed Join are dropped: the next join covers them
        // (its snapshot or its presence catch-up).
        buffered = this.buffer ?? [];
        bufferedPresence = this.presenceBuffer ?? [];
        this.buffer = null;
        this.presenceBuffer = null;
      }
      if (this.removed !== null) throw removedError(); // Removed arrived while the Join was in flight
      if (wantFresh) this.freshWanted = false;
      this.joinCount += 1;
      this.replica = result.replica ?? this.replica;
      const previousEpoch = this.state?.epoch;
      const previousVersion = this.state?.version ?? 0;
      const { state, resync } = applyJoinResult(this.state, result);
      this.state = state;
      if (state !== null && previousEpoch !== undefined && previousEpoch !== state.epoch) this.pending.forgetAcks();
      for (const event of result.missed ?? []) {
        this.settleFromEvent(event);
        // A notice this member missed while away is news to them, as it would have been live: surface
        // each one the resume applied (not those at or below the position it resumed from) while it is
        // recent — a tab reopened next day must not show yesterday's "kitchen closes in 10 min" as new.
        if (event.type === 'notice' && state !== null && event.epoch === state.epoch
          && event.version > previousVersion && event.version <= state.version
          && this.now() - Date.parse(event.at) <= MISSED_NOTICE_MAX_AGE_MS) this.onNotice(event);
      }
      this.pending.settle(this.state?.version ?? 0);
      for (const event of buffered) {
        const kind = this.handleEvent(event);
        if (kind === 'gap') this.again = this.again ?? 'since';
        if (kind === 'epoch') this.again = 'fresh';
      }
      // Presence that arrived during the Join (the catch-up, or live announcements) goes on top of
      // its result; applyPresence drops what the result already supersedes.
      if (this.removed !== null) throw removedError(); // a buffered member_removed about this member
      if (this.state !== null) {
        for (const presence of bufferedPresence) this.state = applyPresence(this.state, presence);
      }
      this.persist();
      this.persistPending();
      if (resync === null && this.again === null) break;
      wantFresh = resync === 'snapshot' || this.again === 'fresh' || this.freshWanted;
    }
    this.joined = true;
    this.flush();
    this.onChange();
  }

  onRoomEvent(event) {
    if (this.removed !== null) return;
    if (event.roomId !== undefined && event.roomId !== this.roomId) return;
    if (this.buffer !== null) {
      this.buffer.push(event);
      return;
    }
    if (!this.joined) return; // not joined yet: the coming Join covers it
    const kind = this.handleEvent(event);
    if (this.removed !== null) return;
    if (kind === 'gap' || kind === 'epoch') {
      this.backgroundJoin(kind === 'epoch');
    } else if (kind === 'apply') {
      this.persist();
      this.persistPending(); // the event may have settled a press, or marked it seen (in the state saved with it)
      this.onChange();
    }
  }

  onPosition(position) {
    if (this.removed !== null) return;
    if (position.roomId !== undefined && position.roomId !== this.roomId) return;
    if (!this.joined || this.joining !== null) return;
    const kind = classifyPosition(this.state, position);
    if (kind === 'epoch') {
      this.backgroundJoin(true);
      return;
    }
    if (kind !== 'behind') return;
    const waiting = this.behindPosition;
    if (waiting !== null && waiting.epoch === position.epoch && waiting.version >= position.version) return;
    // The highest Position gets a whole grace of its own: its events may be on their way too.
    this.behindPosition = position;
    const check = ++this.positionCheck;
    this.schedule(() => this.positionGraceOver(check), POSITION_GRACE_MS);
  }

  /** A Position's grace is over: resume if the state is still behind it, unless a Join or a higher Position came since. */
  positionGraceOver(check) {
    if (check !== this.positionCheck) return;
    const position = this.behindPosition;
    this.behindPosition = null;
    if (position === null || this.removed !== null || !this.joined || this.joining !== null) return;
    // Only 'behind': another epoch now means a Join already took the state there.
    if (classifyPosition(this.state, position) === 'behind') this.backgroundJoin(false);
  }

  onPresence(presence) {
    if (this.removed !== null) return;
    if (presence.roomId !== undefined && presence.roomId !== this.roomId) return;
    if (this.presenceBuffer !== null) {
      this.presenceBuffer.push(presence);
      return;
    }
    if (this.state === null) return;
    this.state = applyPresence(this.state, presence);
    this.persist();
    this.onChange();
  }

  /** `Removed(r)`: this member was removed; the server closes the connection next. */
  onRemoved(removal) {
    if (removal?.roomId !== undefined && removal.roomId !== this.roomId) return;
    if (removal?.memberId !== undefined && removal.memberId !== this.memberId) return;
    this.markRemoved(removal?.by ?? null, 'removed');
  }

  /** `Announcement(a)`: an operator message for every client; surfaced once per id. */
  onAnnouncement(announcement) {
    if (announcement === null || typeof announcement !== 'object' || typeof announcement.message !== 'string') return;
    if (announcement.id !== undefined && announcement.id !== null) {
      if (this.announcementIds.has(announcement.id)) return;
      this.announcementIds.add(announcement.id);
    }
    this.reportAnnouncement(announcement);
  }

  /** Stops the session for good. Returns false when it had already stopped. */
  markRemoved(by, reason) {
    if (this.removed !== null) return false;
    this.removed = { by, reason };
    // The contract takes this member's choices out of the order in the same step: show that now,
    // even when Removed overtakes the member_removed event (which this session will never apply).
    if (this.state !== null) this.state = withoutMember(this.state, this.memberId);
    this.joined = false;
    this.again = null;
    this.pending.clear();
    this.reportRemoved(this.removed);
    this.onChange();
    return true;
  }

  /** A resume the session needs on its own: through the page's join loop, so a failing one is not retried per event. */
  backgroundJoin(fresh) {
    if (fresh) this.freshWanted = true;
    this.requestJoin();
  }

  /** Applies one event if it is next; returns its classification. */
  handleEvent(event) {
    const kind = classifyEvent(this.state, event);
    if (kind !== 'apply') return kind;
    this.state = applyEvent(this.state, event);
    this.settleFromEvent(event);
    this.pending.settle(this.state.version);
    if (event.type === 'notice') this.onNotice(event);
    if (event.type === 'member_removed' && event.memberId === this.memberId) {
      this.markRemoved(event.by ?? null, 'event');
      return kind;
    }
    if (event.type === 'refresh') {
      // "Everyone reload": take a fresh snapshot (in this join's next round if one is running).
      if (this.joining !== null) this.again = 'fresh';
      else this.backgroundJoin(true);
    }
    return kind;
  }

  settleFromEvent(event) {
    if (event.type === 'choice' && event.memberId === this.memberId && event.opId) {
      this.pending.settle(this.state.version, event.opId);
    }
  }

  persist() {
    if (this.state !== null && this.removed === null) this.save(this.state);
  }

  /** Saves the presses not yet acknowledged, after any change to them; nothing once removed (the page forgets the room). */
  persistPending() {
    if (this.removed === null) this.savePendingOps(this.pending.saved());
  }

  confirmedQuantity(menuId) {
    return quantityOf(this.state, this.memberId, menuId);
  }

  /** The quantity to show for this member: confirmed plus pending ops. */
  displayQuantity(menuId) {
    if (this.state === null) return 0;
    return this.pending.display(menuId, this.confirmedQuantity(menuId), this.state.version, this.maxQuantity);
  }

  /** Whether + may add one more of the item: below the cap (a press past it would only be clamped). */
  canAdd(menuId) {
    return this.displayQuantity(menuId) < this.maxQuantity;
  }

  /** − / + : optimistic; sent now if joined, otherwise after the next join. Returns the opId. */
  adjust(menuId, delta) {
    return this.enqueue(menuId, 'adjust', delta);
  }

  /**
   * Queues an op of either kind: 'adjust' (AdjustChoice, what the page sends: commutative) or 'set'
   * (SetChoice). Returns the opId, or null when the room is not editable.
   */
  enqueue(menuId, kind, value) {
    if (!this.editable) return null;
    const opId = this.makeOpId();
    this.pending.add(opId, menuId, kind, value);
    this.persistPending();
    this.onChange();
    this.flush();
    return opId;
  }

  flush() {
    if (this.removed !== null || this.linkExpired || !this.joined || !this.hub.isConnected() || this.flushPaused) return;
    const now = this.now();
    const ready = this.pending.takeQueued(this.pacing ? PACED_BATCH : Infinity, now);
    if (ready.length > 0) this.persistPending(); // their attempts: a reload does not reset the bound
    for (const op of ready) this.send(op);
    if (this.pacing) {
      if (this.pending.hasQueued()) this.pauseFlush();
      else this.pacing = false;
    }
    this.flushWhenDue(now);
  }

  /**
   * Arms one flush for the first op held back by its backoff, unless one is armed for then or sooner. Armed from every
   * flush, so a held op is never left without one: a timer that fires a little early (the wall clock stepped back)
   * flushes nothing for it and arms the next.
   */
  flushWhenDue(now) {
    const due = this.pending.earliestHeld(now);
    if (due === null || (this.heldFlushAt !== null && this.heldFlushAt <= due)) return;
    this.heldFlushAt = due;
    this.schedule(() => {
      this.heldFlushAt = null;
      this.flush();
    }, due - now);
  }

  /** Sends nothing for a while (retryDelayMs), then flushes: after a rate refusal, and between paced batches. */
  pauseFlush() {
    this.flushPaused = true;
    this.schedule(() => {
      this.flushPaused = false;
      this.flush();
    }, this.retryDelayMs);
  }

  send(op) {
    const method = op.kind === 'adjust' ? 'AdjustChoice' : 'SetChoice';
    this.hub.invoke(method, this.roomId, op.menuId, op.value, op.opId).then(
      (ack) => {
        this.pending.acknowledge(op.opId, ack, this.state?.version ?? 0);
        this.persistPending();
        this.onChange();
        if (this.pending.hasQueued()) this.flush(); // the item's ops that waited for this verdict (pending.js)
      },
      (error) => {
        if (this.removed !== null) return; // the page says why; a per-press error would hide it
        const parsed = parseHubError(error);
        if (parsed?.code === 'forbidden') {
          // A choice is refused with forbidden only for a removed member (the token is refused).
          this.markRemoved(null, 'forbidden');
          return;
        }
        if (parsed?.code === 'room_not_found') {
          // The room is gone (deleted, or expired: no event says so): nothing will ever apply here. The page says it
          // for good, rather than roll each press back with a passing error while it still looks live.
          this.pending.reject(op.opId);
          this.persistPending();
          this.onChange();
          this.reportRoomGone(parsed);
          return;
        }
        // The link expired (this answer says so, or an earlier one did): whatever else this answer is — the connection
        // the page then stops, say — the press waits for a new link, rather than be rolled back with an error over the page's.
        if ((parsed?.code === 'unauthorized' || this.linkExpired) && this.pending.requeue(op.opId, { refused: true })) {
          this.keepForNewLink();
          return;
        }
        if (parsed === null && !this.hub.isConnected()) {
          // The connection dropped: the verdict is unknown. Send again with the same opId after
          // the next join; the server applies an opId at most once.
          if (this.pending.requeue(op.opId, { now: this.now() })) {
            this.persistPending();
            this.onChange();
            return;
          }
        }
        if (parsed?.code === 'rate_limited' && this.pending.requeue(op.opId, { refused: true })) {
          // Refused for the member's write rate (a backlog flushed at once, or a second device writing too):
          // nothing was applied and the rate frees within a second, so keep the press and send it again later
          // rather than roll it back. A live press is kept too: the member meant it, and it counts once.
          this.pacing = true;
          if (!this.flushPaused) this.pauseFlush();
          this.persistPending();
          this.onChange();
          return;
        }
        const delay = Math.min(this.retryDelayMs * op.attempts, MAX_RETRY_DELAY_MS);
        const now = this.now();
        if (parsed?.code === 'unavailable' && this.pending.requeue(op.opId, { unconfirmed: true, now, notBefore: now + delay })) {
          // The store did not answer in time: not acknowledged, but it may still be applied. Keep the
          // press pending and send it again with the same opId (applied at most once), backing off, for as
          // long as UNCONFIRMED_RETRY_MS — even when its event was seen: that event may be lost with a failover (pending.js).
          this.persistPending();
          this.onChange();
          this.flushWhenDue(now);
          return;
        }
        const dropped = this.pending.reject(op.opId);
        // Out of attempts, but this epoch's state holds its event: nothing to roll back, and an error would
        // invite pressing again. Seen only in an earlier epoch, the snapshot may lack it: say so. One given up on
        // while its outcome was still unknown may have been applied: say that, not "try again". A definite refusal
        // of its resend (the room locked meanwhile, say) says what it says: nothing was applied.
        if (!(dropped?.seen && !dropped.seenEarlier)) {
          // Cut by a lost connection on its last send, its verdict is unknown too.
          const outOfTime = (dropped?.unconfirmed && (parsed === null || parsed.code === 'unavailable'))
            || (parsed === null && !this.hub.isConnected());
          this.onError(outOfTime ? { code: 'unconfirmed', text: '' } : parsed ?? { code: null, text: String(error?.message ?? error) });
        }
        this.persistPending();
        this.onChange();
        if (this.pending.hasQueued()) this.flush();
      },
    );
  }

  /**
   * The token expired under a press: the refusal applied nothing, and a new link for this room and member can send it
   * with its opId (saved, as every unacknowledged press; the page reloads with the new link). Rolling it back would
   * lose a press the member made; sending on this link would only be refused again.
   */
  keepForNewLink() {
    this.persistPending();
    this.onChange();
    if (this.linkExpired) return;
    this.linkExpired = true;
    this.reportLinkExpired();
  }

  /** Owner only: 'open' | 'locked' | 'closed'. Rejects with the parsed error. */
  setRoomState(state) {
    return this.call('SetRoomState', this.roomId, state);
  }

  /** Owner only: removes another member for good (a `member_removed` event follows). Resolves to `{ version }`. */
  removeMember(memberId) {
    return this.call('RemoveMember', this.roomId, memberId);
  }

  /** An owner call: rejects with an Error carrying `parsed` ({code, text} or null). */
  async call(method, ...args) {
    if (this.removed !== null) throw removedError();
    try {
      return await this.hub.invoke(method, ...args);
    } catch (error) {
      // No answer from the server but a lost connection: the call may have been applied (DESIGN.md §2), so the
      // page says that ('unconfirmed'), not the library's transport text.
      const parsed = parseHubError(error) ?? (this.hub.isConnected() ? null : { code: 'unconfirmed', text: '' });
      throw Object.assign(new Error(String(error?.message ?? error)), { parsed });
    }
  }
}

/** What join() and the owner calls reject with once the member was removed; `removed: true`. */
function removedError() {
  return Object.assign(new Error('removed: this member was removed from the room'), { removed: true, parsed: null });
}
