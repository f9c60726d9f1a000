// Keeps joining the room for as long as the connection is up. A Join refused `unavailable` — Redis away, or
// this replica deaf to its backplane (DESIGN.md §9, degraded mode) — frees only when the store is back, and
// nothing else asks again: the server sends Position only to joined connections, and the connection's own
// events fire only when its transport changes. So the member is retried with a capped backoff until the
// Join lands (their pending presses then go out), the connection goes, the page stops, or the give-up
// horizon passes (then the page offers Retry). One loop at a time.

/** Waits between Join attempts: quickly at first, then every 15 s. */
export const JOIN_RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10000, 15000];

/** The wait after the `attempt`-th failed Join (0-based), capped at the last step. */
export function joinRetryDelay(attempt) {
  return JOIN_RETRY_DELAYS_MS[Math.min(attempt, JOIN_RETRY_DELAYS_MS.length - 1)];
}

/**
 * What a failed Join means for the loop. `parsed` is parseHubError's `{code, text}` or null;
 * `isFatal(code)` and `joinLimit(parsed)` come from errors.js.
 * 'removed': the session stopped for good · 'fatal': the token or room is refused, retrying cannot help ·
 * 'disconnected': the connection went, its reconnect joins again · 'limit': a count (room full, connections)
 * that frees only when someone leaves · 'retry': anything else (`unavailable`, a rate, no code at all).
 */
export function joinFailureKind(parsed, { removed, connected, isFatal, joinLimit }) {
  if (removed) return 'removed';
  if (parsed !== null && isFatal(parsed.code)) return 'fatal';
  if (!connected) return 'disconnected';
  if (joinLimit(parsed) !== null) return 'limit';
  return 'retry';
}

export class JoinRetry {
  /**
   * @param {object} options
   * @param {() => Promise<void>} options.join the session's join
   * @param {(error: unknown) => boolean} options.onFailure handles a failed Join; true to try again
   * @param {() => void} [options.onJoined] the Join landed (not called when the loop was stopped meanwhile)
   * @param {(error: unknown, attempt: number) => void} [options.onWaiting] a retry is scheduled
   * @param {(error: unknown) => void} [options.onGiveUp] the horizon passed: nothing is retried until run() again
   * @param {number} options.giveUpAfterMs how long one loop keeps trying
   * @param {() => number} [options.now] the clock, in ms (tests)
   * @param {(fn: () => void, ms: number) => unknown} [options.setTimer] (tests)
   * @param {(timer: unknown) => void} [options.clearTimer] (tests)
   */
  constructor(options) {
    this.join = options.join;
    this.onFailure = options.onFailure;
    this.onJoined = options.onJoined ?? (() => {});
    this.onWaiting = options.onWaiting ?? (() => {});
    this.onGiveUp = options.onGiveUp ?? (() => {});
    this.giveUpAfterMs = options.giveUpAfterMs;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer));
    this.loop = null; // { stopped, finished, done, wake }
  }

  /** True while a loop is trying (joining, or waiting to try again). */
  get running() {
    return this.loop !== null && !this.loop.stopped && !this.loop.finished;
  }

  /** Starts joining, or returns the loop already running: never two at once. */
  run() {
    if (this.running) return this.loop.done;
    // A stopped loop may still be awaiting its last Join (rejected as its connection closed): start after it.
    const previous = this.loop?.done ?? Promise.resolve();
    const loop = { stopped: false, finished: false, done: null, wake: null };
    this.loop = loop;
    // After the previous loop however it ended: one that threw (a callback) must not switch joining off for good.
    loop.done = previous.catch(() => {}).then(() => this.attempts(loop)).finally(() => { loop.finished = true; });
    return loop.done;
  }

  /** The connection went, or the page stopped: no more attempts from the running loop. */
  stop() {
    if (this.loop === null) return;
    this.loop.stopped = true;
    this.loop.wake?.();
  }

  async attempts(loop) {
    const started = this.now();
    for (let attempt = 0; !loop.stopped; attempt++) {
      try {
        await this.join();
      } catch (error) {
        if (loop.stopped || !this.onFailure(error)) return;
        const wait = joinRetryDelay(attempt);
        if (this.now() - started + wait > this.giveUpAfterMs) {
          this.onGiveUp(error);
          return;
        }
        this.onWaiting(error, attempt);
        await this.sleep(wait, loop);
        continue;
      }
      if (!loop.stopped) this.onJoined();
      return;
    }
  }

  sleep(ms, loop) {
    return new Promise((resolve) => {
      const timer = this.setTimer(resolve, ms);
      loop.wake = () => {
        this.clearTimer(timer);
        resolve();
      };
    });
  }
}
