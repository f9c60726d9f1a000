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

/** The server states the bound in its text ("between 0 and 20"); otherwise assume the default. */
function maxFromText(text) {
  const match = /between\s+0\s+and\s+(\d+)/i.exec(text ?? '');
  return match ? Number(match[1]) : DEFAULT_MAX_QUANTITY;
}

/** A sentence for the page. `code` may also be one of the page's own: no_link, bad_link, offline, connect_limited. */
export function describeError(code, text = '') {
  switch (code) {
    case 'unauthorized': return 'Your link has expired. Ask the table for a new one.';
    case 'forbidden': return 'This link does not allow that.';
    case 'room_not_found': return 'This room no longer exists.';
    case 'room_locked': return 'The room is locked';
    case 'room_closed': return 'The room is closed';
    case 'unknown_menu_item': return 'That dish is no longer on the menu.';
    case 'invalid_quantity': return `Quantity must be between 0 and ${maxFromText(text)}`;
    case 'invalid_argument': return 'That request was not valid.';
    case 'rate_limited': return 'Too many changes at once. Wait a moment and try again.';
    case 'connect_limited': return 'This link is open in too many tabs or devices, or reconnected too often. Close one and try again in a moment.';
    case 'payload_too_large': return 'That request was too large.';
    case 'unavailable': return 'The server is busy, try again';
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
export function describeRemoved(by = null) {
  if (by === null || by === undefined || by === '' || by === 'api') return 'You were removed from this room.';
  return 'You were removed from this room by the owner.';
}

/** Errors after which retrying the same connection is pointless. */
export function isFatal(code) {
  return code === 'unauthorized' || code === 'forbidden' || code === 'room_not_found';
}
