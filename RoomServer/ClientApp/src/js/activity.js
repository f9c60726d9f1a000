// The activity view: who changed what in the room, newest first, live. Without the DOM: app.js
// feeds every RoomEvent it receives into an ActivityFeed, asks it to catch up after each Join, and
// renders activityRows(). What happened before this page joined (or while it was away: a Join that
// resumed from missed events or a snapshot) comes from the room's audit trail,
// GET /api/rooms/{roomId}/events?from=&limit= (DESIGN.md §4), read with the member's own token.

/** Events fetched when the view catches up, and per "Show earlier". */
export const ACTIVITY_PAGE = 50;

/** Events the view keeps at most; past it "Show earlier" stops offering more. */
export const ACTIVITY_MAX = 1000;

const isEvent = (event) => event !== null && typeof event === 'object' && Number.isInteger(event.version) && event.version >= 1;

/**
 * The room's events this page knows, by version. A room takes a new epoch when its Redis shard fails
 * over or its slot moves (DESIGN.md §2): versions go on, but the last events the old master published
 * may never have reached its replica, and their versions are used again. So the log follows the
 * session's position: when that names a new epoch the log empties (what it held may include such
 * events), and the audit trail — which holds only what was kept, in whatever epoch it was written —
 * fills it again. Live events and pages of any other epoch are left out; the next sync reads what
 * they would have added. Versions may have holes (a gap the page skipped over with a snapshot):
 * `missing()` names the versions to fetch within the latest window, and `forgetBelowHole()` drops what
 * lies below a hole wider than that, which earlier pages then fetch again.
 */
export class ActivityLog {
  constructor({ max = ACTIVITY_MAX } = {}) {
    this.max = max;
    /** The epoch of the session's position, which the log follows; null before the first. */
    this.epoch = null;
    /** @type {Map<number, object>} version → RoomEvent */
    this.events = new Map();
    /** The oldest version the trail still holds (it trims past the room's audit length), or null. */
    this.oldestOnRecord = null;
    /** Counts every change to what the log holds (a redraw key: a replaced event keeps the size). */
    this.revision = 0;
  }

  get size() { return this.events.size; }

  /** The oldest and newest versions held, or null when empty. */
  get oldest() { return this.size === 0 ? null : Math.min(...this.events.keys()); }

  get newest() { return this.size === 0 ? null : Math.max(...this.events.keys()); }

  /** Adds one live event of the log's epoch (the first event sets it). Returns true when the log changed. */
  add(event) {
    if (!isEvent(event)) return false;
    if (this.epoch === null) this.follow(event.epoch);
    if (event.epoch !== this.epoch) return false;
    return this.put(event);
  }

  /**
   * The session's position names `epoch`: a new one empties the log (the room moved, and what it held
   * may include events that were lost).
   */
  follow(epoch) {
    if (epoch === this.epoch) return;
    this.epoch = epoch;
    this.events.clear();
    this.oldestOnRecord = null;
    this.revision += 1;
  }

  /**
   * Adds a page of the trail, `{ events, next, oldest }`, read for the room at `epoch`. The trail
   * holds only what was kept, so its events go in whatever epoch they were written under. A page
   * read for another epoch than the log's (asked for before the room moved, perhaps from the old
   * master) is dropped. Returns how many events changed the log.
   */
  addPage(page, epoch = this.epoch) {
    if (epoch !== this.epoch) return 0;
    let added = 0;
    for (const event of page?.events ?? []) {
      if (isEvent(event) && this.put(event)) added += 1;
    }
    if (typeof page?.oldest === 'number' && page.oldest !== this.oldestOnRecord) {
      this.oldestOnRecord = page.oldest;
      this.revision += 1;
    }
    return added;
  }

  /**
   * Holds `event` at its version unless the log already holds that version in the current epoch
   * (seen since the room's last move, so kept); one held from an earlier epoch gives way to it.
   */
  put(event) {
    const held = this.events.get(event.version);
    if (held !== undefined && (held.epoch === this.epoch || held.epoch === event.epoch)) return false;
    this.events.set(event.version, event);
    while (this.events.size > this.max) this.events.delete(this.oldest);
    this.revision += 1;
    return true;
  }

  /**
   * The versions of the room's latest `window` (up to `position`) that the log does not hold, as one
   * request `{ from, limit }` covering them all, or null when none are missing.
   */
  missing(position, window = ACTIVITY_PAGE) {
    if (position === null || position === undefined || position.version < 1) return null;
    if (position.epoch !== this.epoch) {
      return { from: Math.max(1, position.version - window + 1), limit: Math.min(window, position.version) };
    }
    let low = null;
    let high = null;
    for (let v = Math.max(1, position.version - window + 1); v <= position.version; v++) {
      if (this.events.has(v) || (this.oldestOnRecord !== null && v < this.oldestOnRecord)) continue;
      low ??= v;
      high = v;
    }
    return low === null ? null : { from: low, limit: high - low + 1 };
  }

  /**
   * Before a sync to `position`: drops the events held below its latest `window` when they do not reach
   * up to it (a resume that skipped more than a window of events). The sync fetches only that window, and
   * "Show earlier" pages down from the oldest held, so the versions between would stay a hole nothing
   * fetches or mentions. Without them the log is one run again, and earlier pages fill it in order.
   * Returns true when it dropped any.
   */
  forgetBelowHole(position, window = ACTIVITY_PAGE) {
    if (position === null || position === undefined || position.epoch !== this.epoch) return false;
    const start = position.version - window + 1;
    const below = [...this.events.keys()].filter((v) => v < start);
    if (below.length === 0 || Math.max(...below) >= start - 1) return false;
    for (const v of below) this.events.delete(v);
    this.revision += 1;
    return true;
  }

  /** Whether older events than the oldest held may still be on record. */
  get hasEarlier() {
    const oldest = this.oldest;
    if (oldest === null || oldest <= 1 || this.size >= this.max) return false;
    return this.oldestOnRecord === null || oldest > this.oldestOnRecord;
  }

  /** The page before the oldest held, `{ from, limit }`, or null. */
  earlier(pageSize = ACTIVITY_PAGE) {
    if (!this.hasEarlier) return null;
    const oldest = this.oldest;
    const from = Math.max(1, oldest - pageSize, this.oldestOnRecord ?? 1);
    return { from, limit: oldest - from };
  }

  /** True when the trail no longer reaches back to the room's first event and the log holds all it has. */
  get trimmed() {
    return this.oldestOnRecord !== null && this.oldestOnRecord > 1 && this.oldest === this.oldestOnRecord;
  }

  /** The events newest first. */
  newestFirst() {
    return [...this.events.values()].sort((a, b) => b.version - a.version);
  }
}

/**
 * Keeps an ActivityLog in step with the room: live events go in as they come; `sync(position)`
 * after each Join fetches what the log misses from the audit trail; `loadEarlier()` pages back.
 * One request at a time; a sync asked for meanwhile runs once the request ends.
 */
export class ActivityFeed {
  /**
   * @param {object} options
   * @param {(from: number, limit: number) => Promise<{events: object[], next: number|null, oldest: number|null}>} options.fetchPage
   *   reads the room's audit trail (GET /api/rooms/{roomId}/events with the member's token)
   * @param {() => void} [options.onChange] the log or the loading state changed
   * @param {ActivityLog} [options.log]
   */
  constructor({ fetchPage, onChange = () => {}, log = new ActivityLog() }) {
    this.fetchPage = fetchPage;
    this.onChange = onChange;
    this.log = log;
    this.loading = null;
    this.pendingSync = null;
    /** @type {string|null} why the trail could not be read (the live activity still works) */
    this.error = null;
  }

  /** A RoomEvent as it arrived over the hub. */
  onEvent(event) {
    if (this.log.add(event)) this.onChange();
  }

  /** After a Join: fetch the latest events the log does not hold, up to the position. */
  sync(position) {
    if (this.loading !== null) {
      this.pendingSync = position;
      return this.loading;
    }
    this.log.follow(position.epoch);
    if (this.log.forgetBelowHole(position)) this.onChange();
    const range = this.log.missing(position);
    if (range === null) return Promise.resolve();
    return this.run(range, position.epoch);
  }

  /** "Show earlier": the page before the oldest event held. */
  loadEarlier() {
    if (this.loading !== null) return this.loading;
    const range = this.log.earlier();
    if (range === null) return Promise.resolve();
    return this.run(range, this.log.epoch);
  }

  run(range, epoch) {
    this.loading = (async () => {
      this.onChange();
      try {
        const page = await this.fetchPage(range.from, range.limit);
        this.log.addPage(page, epoch);
        this.error = null;
      } catch (error) {
        this.error = String(error?.message ?? error);
      }
    })().finally(() => {
      this.loading = null;
      this.onChange();
      const again = this.pendingSync;
      this.pendingSync = null;
      if (again !== null) this.sync(again);
    });
    return this.loading;
  }
}

const STATE_VERBS = { locked: 'locked the order', open: 'reopened the room', closed: 'closed the room', deleted: 'deleted the room' };

/**
 * The rows of the activity view, newest first: `{ version, type, at, memberId, text }`.
 * Names come from the room's members, then from `member` events the log holds (for members who
 * left), then the id; this member is "You"; `api` is the restaurant.
 * @param {ActivityLog} log
 * @param {object|null} state the room state (room-state.js): members and menu
 * @param {string} me this member's id
 */
export function activityRows(log, state, me) {
  const names = new Map();
  for (const event of log.events.values()) {
    if (event.type === 'member' && event.displayName) names.set(event.memberId, event.displayName);
  }
  for (const m of state?.members ?? []) names.set(m.memberId, m.displayName);
  const items = new Map((state?.menu ?? []).map((item) => [item.id, item.name]));
  const who = (id) => {
    if (id === me) return 'You';
    if (id === 'api' || id === null || id === undefined) return 'The restaurant';
    return names.get(id) ?? id;
  };
  const item = (id) => items.get(id) ?? id;
  return log.newestFirst().map((event) => ({
    version: event.version,
    type: event.type,
    at: event.at ?? null,
    memberId: event.memberId ?? event.by ?? null,
    text: describeEvent(event, who, item),
  }));
}

function describeEvent(event, who, item) {
  switch (event.type) {
    case 'member':
      return `${who(event.memberId)} joined`;
    case 'choice':
      return event.quantity > 0
        ? `${who(event.memberId)} chose ${event.quantity}× ${item(event.menuId)}`
        : `${who(event.memberId)} removed ${item(event.menuId)}`;
    case 'state':
      if (event.state === 'deleted') return 'The room was deleted';
      return `${who(event.by)} ${STATE_VERBS[event.state] ?? `set the room to ${event.state}`}`;
    case 'refresh':
      return `${who(event.by)} asked everyone to reload`;
    case 'notice':
      return `Notice${event.kind ? ` (${event.kind})` : ''}${noticeText(event.payload)}`;
    case 'member_removed':
      return `${who(event.by)} removed ${who(event.memberId) === 'You' ? 'you' : who(event.memberId)} from the room`;
    default:
      return `${event.type} (version ${event.version})`;
  }
}

function noticeText(payload) {
  if (typeof payload === 'string') return `: ${payload}`;
  if (payload && typeof payload === 'object' && typeof (payload.text ?? payload.message) === 'string') return `: ${payload.text ?? payload.message}`;
  if (payload === null || payload === undefined) return '';
  return `: ${JSON.stringify(payload)}`;
}
