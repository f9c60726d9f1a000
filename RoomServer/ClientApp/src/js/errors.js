// The error vocabulary of DESIGN.md §5, in words a person at a table understands. Hub errors arrive
// as "... HubException: <code>: <text>"; negotiate/connect failures carry an HTTP status instead.

export const DEFAULT_MAX_QUANTITY = 99;

const KNOWN_CODES = new Set([
  'unauthorized', 'forbidden', 'room_not_found', 'room_locked', 'room_closed', 'unknown_menu_item',
  'invalid_quantity', 'invalid_argument', 'rate_limited', 'payload_too_large', 'unavailable',
]);

/**
 * Extracts `{ code, text }` from an error thrown by the SignalR client, or returns null when the
 * error carries no code (a dropped connection, a client-side failure).
 */
export function parseHubError(error) {
  if (error === null || error === undefined) return null;
  const message = typeof error === 'string' ? error : String(error.message ?? '');
  const match = /HubException:\s*([a-z_]+):\s*([\s\S]*)$/.exec(message) ?? /^([a-z_]+):\s*([\s\S]*)$/.exec(message);
  if (match && KNOWN_CODES.has(match[1])) return { code: match[1], text: match[2].trim() };
  // A failed negotiate: HttpError carries statusCode; the wrapping error only says "Status code '401'".
  const statusMatch = /Status code '(\d{3})'/.exec(message);
  const status = (typeof error === 'object' ? error.statusCode : undefined) ?? (statusMatch ? Number(statusMatch[1]) : undefined);
  if (status === 401) return { code: 'unauthorized', text: message };
  if (status === 403) return { code: 'forbidden', text: message };
  // 429 before the connection starts: the member's connection limits (too many open, or opened too fast).
  if (status === 429) return { code: 'connect_limited', text: message };
  if (status === 503) return { code: 'unavailable', text: message };
  return null;
}

/**
 * The server states the bound in its text ("between 0 and 20"); otherwise the room's snapshot's
 * `maxQuantity` (the caller's `known`), and only without either the default.
 */
function maxFromText(text, known) {
  const match = /between\s+0\s+and\s+(\d+)/i.exec(text ?? '');
  if (match) return Number(match[1]);
  return Number.isInteger(known) && known > 0 ? known : DEFAULT_MAX_QUANTITY;
}

/** The server states the room's limit in its text ("it has 20 members"); without it, no number. */
function membersFromText(text) {
  const match = /has\s+(\d+)\s+members/i.exec(text ?? '');
  return match ? ` (${match[1]} members, the most it may have)` : '';
}

/**
 * A `rate_limited` whose wait is not a moment's, recognised by the server's text: a state change refused while the
 * room's earlier orders have not reached the restaurant (RoomServer__Limits__MaxUnsettledOrderRecords, DESIGN.md §8).
 */
function rateLimitedFromText(text) {
  if (/\border records waiting to be delivered\b/i.test(text ?? '')) {
    return 'The restaurant has not received this room\'s earlier orders yet. The room can be locked, reopened or closed again once they arrive.';
  }

  return 'Too many changes at once. Wait a moment and try again.';
}

/**
 * The refusals of RemoveMember a person can act on, recognised by the server's text (DESIGN.md §3: an
 * owner, or someone the room never had, is `invalid_argument`); any other stays general.
 */
function invalidArgumentFromText(text) {
  if (/\bowner and cannot be removed\b/i.test(text ?? '')) return 'The room\'s owner cannot be removed.';
  if (/\bis not a member of this room\b/i.test(text ?? '')) return 'That person is not a member of this room.';
  return 'That request was not valid.';
}

/**
 * A sentence for the page. `code` may also be one of the page's own: no_link, bad_link, offline,
 * connect_limited, room_full, join_waiting (a Join being retried). `maxQuantity`: the room's cap as its snapshot stated it, for a refusal
 * whose text gives none. `pending`: the presses not yet sent or acknowledged, kept for a new link when the token expired.
 */
export function describeError(code, text = '', { maxQuantity = null, pending = 0 } = {}) {
  switch (code) {
    case 'unauthorized': return pending > 0
      ? 'Your link has expired. Ask the table for a new one and open it in this tab: your unsent changes are kept and go out then.'
      : 'Your link has expired. Ask the table for a new one.';
    case 'forbidden': return 'This link does not allow that.';
    case 'room_not_found': return 'This room no longer exists.';
    case 'room_locked': return 'The room is locked';
    case 'room_closed': return 'The room is closed';
    case 'unknown_menu_item': return 'That dish is no longer on the menu.';
    case 'invalid_quantity': return `Quantity must be between 0 and ${maxFromText(text, maxQuantity)}`;
    case 'invalid_argument': return invalidArgumentFromText(text);
    case 'rate_limited': return rateLimitedFromText(text);
    case 'room_full': return `This room is full${membersFromText(text)}. Ask the table to remove someone, then try again.`;
    case 'connect_limited': return 'This link is open in too many tabs or devices, or reconnected too often. Close one and try again in a moment.';
    case 'payload_too_large': return 'That request was too large.';
    case 'unavailable': return 'The server is busy, try again';
    case 'unconfirmed': return 'The server never confirmed your change: it may have been applied. Check the order before pressing again.';
    case 'join_waiting': return 'The server cannot let you into the room yet. Waiting for it: your changes are kept and sent once it answers.';
    case 'no_link': return 'Open this page from your room link (it ends in #room=…&token=…).';
    case 'bad_link': return 'This room link is damaged. Ask the table for a new one.';
    case 'offline': return 'Cannot reach the server. Check your connection.';
    default: return text ? `Something went wrong: ${text}` : 'Something went wrong, try again';
  }
}

/**
 * Why this member's page stopped: removed by the owner (`by` is their member id), by the menu app
 * (`by` = 'api'), or by someone unknown (null: the server refused the token, as it does after a
 * removal).
 */
export function describeRemoved(by = null, reason = null) {
  // Refused at connect with no word of a removal: most likely one (the phone slept through it), but a
  // damaged link, a changed server key or a clock far behind look the same from here.
  if (reason === 'refused' && (by === null || by === undefined || by === '')) return 'This link no longer opens the room: you were most likely removed from it.';
  if (by === null || by === undefined || by === '' || by === 'api') return 'You were removed from this room.';
  return 'You were removed from this room by the owner.';
}

/** Errors after which retrying the same connection is pointless. */
export function isFatal(code) {
  return code === 'unauthorized' || code === 'forbidden' || code === 'room_not_found';
}

/**
 * A Join refused as `rate_limited` for a count rather than a rate (DESIGN.md §5: every limit is
 * `rate_limited`, its message names it): 'room_full' (the room has its most members) or
 * 'connect_limited' (this member has their most open connections). Such a count frees only when
 * someone leaves, so quick retries cannot help. Null for anything else (a write or call rate: a
 * moment's wait helps).
 */
export function joinLimit(parsed) {
  if (parsed?.code !== 'rate_limited') return null;
  if (/\broom is full\b/i.test(parsed.text)) return 'room_full';
  if (/\bopen connections\b/i.test(parsed.text)) return 'connect_limited';
  return null;
}

/**
 * Whether a banner (by its code) is over once a Join succeeds: the connection is up and the member is in
 * the room, so a lost connection, a store that did not answer, a Join being retried, and a count that
 * refused an earlier Join (the room full, too many connections) no longer hold. Anything else (a refused
 * press, a removal) says something the Join does not undo.
 */
export function clearedByJoin(code) {
  return ['offline', 'unavailable', 'join_waiting', 'room_full', 'connect_limited'].includes(code);
}

/** How far behind the server's this device's clock may be: a 401 this close to `exp` is the expiry. */
export const CLOCK_SKEW_MS = 60 * 1000;

/**
 * Why the hub refused this member's token at connect (401): 'expired' once its `exp` (ms, or null)
 * has passed, give or take CLOCK_SKEW_MS; otherwise 'removed'. DESIGN.md §3: a token issued before
 * the member's latest removal is refused from then on, so a live token refused means the member was
 * removed (or the link revoked) — even when this tab never heard the removal (asleep, or both
 * `Removed` and `member_removed` lost).
 */
export function refusalOf(expiresAt, nowMs) {
  if (expiresAt !== null && expiresAt !== undefined && expiresAt - CLOCK_SKEW_MS <= nowMs) return 'expired';
  return 'removed';
}
