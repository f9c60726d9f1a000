// The page's own connects (the first one, Try again, and the one answering a close for good with no reason): how long
// to wait before trying again after a start() that failed without a fatal refusal, or that it is time to say why.

/** Waits between connect attempts: quickly at first, then every 30 s, bounded by count (about two minutes). */
export const START_DELAYS_MS = [1000, 2000, 5000, 10000, 20000, 30000, 30000, 30000];

/**
 * The wait after the `attempt`-th failed start (0-based; `parsed` is parseHubError's `{code, text}` or null), or null
 * to stop and say why. A 429 (`connect_limited`: the member's open connections, or their connect rate) is retried: a
 * rate frees in moments. Not for a `probe`, the one connect asking why the server closed the connection for good: its
 * 429 is the answer (a connection past the member's cap), to be said now, not after minutes of retries.
 */
export function startRetryDelay(parsed, attempt, { probe = false } = {}) {
  if (probe && parsed?.code === 'connect_limited') return null;
  return attempt < START_DELAYS_MS.length ? START_DELAYS_MS[attempt] : null;
}
