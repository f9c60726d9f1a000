// The server's clock as this device can estimate it, from the `Date` header of the server's own responses. What the
// server refuses a token by (its `exp`, checked with no skew) is the server's time; a phone's clock can be minutes off,
// and read on its own would take an expired link for a removal (errors.js refusalOf).

/**
 * The server's time minus this device's, in ms: a `Date` header (whole seconds, so up to a second early) against this
 * device's clock when the response came. null when the header is missing or unreadable.
 */
export function clockOffsetMs(dateHeader, receivedAtMs) {
  if (typeof dateHeader !== 'string' || dateHeader === '') return null;
  const serverMs = Date.parse(dateHeader);
  return Number.isNaN(serverMs) ? null : serverMs - receivedAtMs;
}

export class ServerClock {
  /** @param {{ now?: () => number }} [options] this device's clock (tests) */
  constructor({ now = Date.now } = {}) {
    this.localNow = now;
    this.offsetMs = null;
    this.observedAt = null; // this device's time then: a phone's clock may be set right (or wrong) since
  }

  /** True once a response said the server's time, at most `maxAgeMs` ago by this device's clock. */
  heardWithin(maxAgeMs) {
    if (this.observedAt === null) return false;
    const age = this.localNow() - this.observedAt;
    return age >= 0 && age <= maxAgeMs; // a clock set back since reads as stale too
  }

  /** Notes the server's time from a response (a fetch `Response`, or anything with `headers.get`); ignores one without. */
  observe(response) {
    const receivedAt = this.localNow();
    const offset = clockOffsetMs(response?.headers?.get?.('Date') ?? null, receivedAt);
    if (offset === null) return;
    this.offsetMs = offset;
    this.observedAt = receivedAt;
  }

  /** Now by the server's clock as last heard; this device's own until a response said. */
  now() {
    return this.localNow() + (this.offsetMs ?? 0);
  }
}
