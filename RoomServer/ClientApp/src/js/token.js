// Reads the join link: `/#room=<roomId>&token=<jwt>`. The fragment never reaches a server, and the
// token is only ever handed to the hub connection. The payload is decoded (not verified — the hub
// does that) to learn who we are: `sub`, `name`, `role`, `room`, `exp` (read on this device's clock, so with an
// allowance: the hub is the judge of expiry).

/** Parses `#room=...&token=...` (leading `#` optional). Unknown keys are kept. */
export function parseFragment(hash) {
  const text = String(hash ?? '').replace(/^#/, '');
  const params = new URLSearchParams(text);
  const result = {};
  for (const [key, value] of params) result[key] = value;
  return result;
}

function base64UrlDecode(segment) {
  let b64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  while (b64.length % 4 !== 0) b64 += '=';
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Decodes a JWT's payload; returns null when the token is not a well-formed JWT. */
export function decodeJwtPayload(token) {
  if (typeof token !== 'string') return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === '') return null;
  try {
    const payload = JSON.parse(base64UrlDecode(parts[1]));
    return payload !== null && typeof payload === 'object' ? payload : null;
  } catch {
    return null;
  }
}

function firstString(value) {
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : null;
  return typeof value === 'string' ? value : null;
}

/**
 * How far ahead of the server's this device's clock may run. `exp` is read on the device's clock, so a link is refused
 * without asking only once it is this far past; nearer, the hub is asked and its 401 decides (errors.js refusalOf).
 * The server checks `exp` with no skew, so trying costs at most one refused connect.
 */
export const CLOCK_AHEAD_ALLOWANCE_MS = 5 * 60 * 1000;

/** True when a token whose `exp` is `expiresAt` (ms; null: none) has expired even for a device clock running ahead. */
export function surelyExpired(expiresAt, nowMs) {
  return expiresAt !== null && expiresAt !== undefined && expiresAt + CLOCK_AHEAD_ALLOWANCE_MS <= nowMs;
}

/**
 * Turns the fragment into an identity, or an error the page can show.
 * @returns {{ ok: true, roomId: string, token: string, memberId: string, displayName: string,
 *            role: 'owner'|'member', expiresAt: number|null }
 *          | { ok: false, code: string, roomId?: string, memberId?: string }}  (roomId, memberId: an expired token)
 */
export function readJoinLink(hash, nowMs = Date.now()) {
  const fragment = parseFragment(hash);
  if (!fragment.token) return { ok: false, code: 'no_link' };
  const claims = decodeJwtPayload(fragment.token);
  if (claims === null) return { ok: false, code: 'bad_link' };
  const memberId = firstString(claims.sub);
  const claimRoom = firstString(claims.room);
  const roomId = fragment.room || claimRoom;
  if (!memberId || !roomId) return { ok: false, code: 'bad_link' };
  if (claimRoom && claimRoom !== roomId) return { ok: false, code: 'forbidden' };
  const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  // Expired: refused, but who and where stay readable, so the page can still find a removal it noted (linkRefusal).
  if (surelyExpired(expiresAt, nowMs)) return { ok: false, code: 'unauthorized', roomId, memberId };
  const roles = Array.isArray(claims.role) ? claims.role : [claims.role];
  return {
    ok: true,
    roomId,
    token: fragment.token,
    memberId,
    displayName: firstString(claims.name) || memberId,
    role: roles.includes('owner') ? 'owner' : 'member',
    expiresAt,
  };
}

/**
 * True when `nextHash` is a join link other than `currentHash` (another token or room): the tab was
 * given a new link (re-admitted after a removal, or another room) and starts over with it. An
 * in-page anchor (#menu-heading) or the same link again is not.
 */
export function isOtherJoinLink(currentHash, nextHash) {
  const next = parseFragment(nextHash);
  if (!next.token) return false;
  const current = parseFragment(currentHash);
  return next.token !== current.token || (next.room ?? '') !== (current.room ?? '');
}

/**
 * What the page says for a link readJoinLink refused. A removed member's token usually expires before they
 * look again: "your link has expired" would hide the reason, so an expired link whose room and member are
 * readable shows the removal this tab noted for them (`loadRemovedNote(roomId, memberId)`: the note, or null).
 * @returns {{ removed: { by: string|null } } | { code: string }}
 */
export function linkRefusal(link, loadRemovedNote) {
  if (link.code === 'unauthorized' && link.roomId && link.memberId) {
    const note = loadRemovedNote(link.roomId, link.memberId);
    if (note !== null && note !== undefined) return { removed: { by: note.by ?? null } };
  }
  return { code: link.code };
}
