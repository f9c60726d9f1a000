// The last known state survives a page reload in sessionStorage (per tab), keyed by room and member,
// so a reload renders at once and resumes from its position with Join(roomId, since). A member who
// was removed loses that state, and keeps only a note that they were removed (so that a reload,
// which the server now refuses with 401, still says why).
// Beside the state, the member's presses the server has not acknowledged yet (made offline, or in flight
// when the page went away), with their opIds: a reload shows them and sends them again after its Join,
// applied at most once (DESIGN.md §2). Without them the reload would silently lose those presses.

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

function pendingKey(roomId, memberId) {
  return `${PREFIX}:pending:${roomId}:${memberId}`;
}

/**
 * The saved presses (PendingChoices.saved()), unchecked: PendingChoices.restore() keeps only well-formed ops.
 * [] when absent or unreadable.
 */
export function loadPending(storage, roomId, memberId) {
  try {
    const text = storage?.getItem(pendingKey(roomId, memberId));
    if (!text) return [];
    const value = JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

/** Saves the presses not yet acknowledged (none: the key goes). False when the storage refused. */
export function savePending(storage, roomId, memberId, ops) {
  try {
    if (!Array.isArray(ops) || ops.length === 0) storage?.removeItem(pendingKey(roomId, memberId));
    else storage?.setItem(pendingKey(roomId, memberId), JSON.stringify(ops));
    return true;
  } catch {
    return false;
  }
}

/** Forgets the saved state and presses (the member was removed from the room). */
export function clearState(storage, roomId, memberId) {
  try {
    storage?.removeItem(storageKey(roomId, memberId));
    storage?.removeItem(pendingKey(roomId, memberId));
    return true;
  } catch {
    return false;
  }
}

function removedKey(roomId, memberId) {
  return `${PREFIX}:removed:${roomId}:${memberId}`;
}

/** Notes that this member was removed: `{ by, at }` (at = ms since the epoch). */
export function saveRemoved(storage, roomId, memberId, removal) {
  try {
    storage?.setItem(removedKey(roomId, memberId), JSON.stringify({ by: removal?.by ?? null, at: removal?.at ?? Date.now() }));
    return true;
  } catch {
    return false;
  }
}

/** The note saved by saveRemoved, or null. */
export function loadRemoved(storage, roomId, memberId) {
  try {
    const text = storage?.getItem(removedKey(roomId, memberId));
    if (!text) return null;
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' ? { by: typeof value.by === 'string' ? value.by : null, at: Number(value.at) || 0 } : null;
  } catch {
    return null;
  }
}

/** Drops the note: a newer token admitted the member again. */
export function forgetRemoved(storage, roomId, memberId) {
  try {
    storage?.removeItem(removedKey(roomId, memberId));
  } catch {
    // nothing to do
  }
}
