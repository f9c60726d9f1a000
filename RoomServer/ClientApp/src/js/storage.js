// The last known state survives a page reload in sessionStorage (per tab), keyed by room and member,
// so a reload renders at once and resumes from its position with Join(roomId, since).

const PREFIX = 'roomshare:v1';

export function storageKey(roomId, memberId) {
  return `${PREFIX}:${roomId}:${memberId}`;
}

function looksLikeState(value, roomId) {
  return value !== null && typeof value === 'object'
    && value.roomId === roomId
    && typeof value.epoch === 'string'
    && Number.isInteger(value.version)
    && Array.isArray(value.menu) && Array.isArray(value.members) && Array.isArray(value.choices);
}

/** Returns the saved state, or null when absent, unreadable or for another room. */
export function loadState(storage, roomId, memberId) {
  try {
    const text = storage?.getItem(storageKey(roomId, memberId));
    if (!text) return null;
    const value = JSON.parse(text);
    return looksLikeState(value, roomId) ? value : null;
  } catch {
    return null;
  }
}

/** Saves the state; a full or disabled storage only costs the fast reload. */
export function saveState(storage, roomId, memberId, state) {
  try {
    storage?.setItem(storageKey(roomId, memberId), JSON.stringify(state));
    return true;
  } catch {
    return false;
  }
}
