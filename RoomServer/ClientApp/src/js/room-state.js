// The room as the client knows it at its position (epoch, version), and the rules that move it:
// DESIGN.md §2 — apply events in version order, ignore anything at or below the position, detect
// gaps and epoch changes. Every function is pure and returns new objects; nothing here does IO.

/**
 * The snapshot's quantity cap (DESIGN.md §3 `maxQuantity`), or null when it has none (a replica older
 * than the field, during a rolling upgrade): the session then keeps its default.
 */
function maxQuantityOf(snapshot) {
  const max = snapshot.maxQuantity;
  return Number.isInteger(max) && max > 0 ? max : null;
}

/** Copies a RoomSnapshot into the client's state shape (the same shape, minus derived totals). */
export function fromSnapshot(snapshot) {
  return {
    roomId: snapshot.roomId,
    name: snapshot.name ?? '',
    epoch: snapshot.epoch,
    version: snapshot.version,
    state: snapshot.state,
    menu: (snapshot.menu ?? []).map((m) => ({ id: m.id, name: m.name, priceMinor: m.priceMinor })),
    members: (snapshot.members ?? []).map((m) => ({
      memberId: m.memberId, displayName: m.displayName, online: Boolean(m.online),
    })),
    choices: (snapshot.choices ?? [])
      .filter((c) => c.quantity > 0)
      .map((c) => ({ memberId: c.memberId, menuId: c.menuId, quantity: c.quantity })),
    presenceSeq: snapshot.presenceSeq ?? 0,
    maxQuantity: maxQuantityOf(snapshot),
    memberPresenceSeq: {},
    removedMembers: [],
  };
}

/**
 * Where an incoming RoomEvent stands relative to the state:
 * 'apply' (exactly the next version), 'ignore' (at or below the position), 'gap' (ahead by more
 * than one: missed events), 'epoch' (a different epoch: the room was recreated; take a snapshot).
 */
export function classifyEvent(state, event) {
  if (state === null) return 'gap';
  if (event.epoch !== state.epoch) return 'epoch';
  if (event.version <= state.version) return 'ignore';
  if (event.version === state.version + 1) return 'apply';
  return 'gap';
}

/** 'current' | 'behind' (the room moved on: resume) | 'epoch'. A stale Position is 'current'. */
export function classifyPosition(state, position) {
  if (state === null) return 'behind';
  if (position.epoch !== state.epoch) return 'epoch';
  return position.version > state.version ? 'behind' : 'current';
}

function withMember(members, memberId, displayName, online) {
  const existing = members.find((m) => m.memberId === memberId);
  if (existing === undefined) return [...members, { memberId, displayName: displayName ?? memberId, online: Boolean(online) }];
  return members.map((m) => (m.memberId === memberId
    ? { ...m, displayName: displayName ?? m.displayName, online: online === undefined ? m.online : Boolean(online) }
    : m));
}

/**
 * The state without a removed member: gone for good, with their choices in the same step (the
 * totals are derived from the choices). Remembered in `removedMembers`, so a late Presence about them
 * does not bring them back to the list. The version does not move.
 */
export function withoutMember(state, memberId) {
  return {
    ...state,
    members: state.members.filter((m) => m.memberId !== memberId),
    choices: state.choices.filter((c) => c.memberId !== memberId),
    removedMembers: [...(state.removedMembers ?? []).filter((id) => id !== memberId), memberId],
  };
}

/** Applies one event that classifyEvent called 'apply'. Unknown types only advance the version. */
export function applyEvent(state, event) {
  const next = { ...state, version: event.version };
  switch (event.type) {
    case 'member':
      next.members = withMember(state.members, event.memberId, event.displayName, undefined);
      if ((state.removedMembers ?? []).includes(event.memberId)) {
        next.removedMembers = state.removedMembers.filter((id) => id !== event.memberId); // re-admitted
      }
      break;
    case 'member_removed': {
      const { members, choices, removedMembers } = withoutMember(state, event.memberId);
      Object.assign(next, { members, choices, removedMembers });
      break;
    }
    case 'choice': {
      const others = state.choices.filter((c) => !(c.memberId === event.memberId && c.menuId === event.menuId));
      const index = state.choices.findIndex((c) => c.memberId === event.memberId && c.menuId === event.menuId);
      if (event.quantity > 0) {
        const choice = { memberId: event.memberId, menuId: event.menuId, quantity: event.quantity };
        // Keep a changed choice in place so the list does not jump around.
        others.splice(index === -1 ? others.length : index, 0, choice);
      }
      next.choices = others;
      break;
    }
    case 'state':
      next.state = event.state;
      break;
    default:
      break; // 'refresh' and 'notice' carry no state; the caller reacts to them.
  }
  return next;
}

/**
 * Presence is not versioned: it changes who is online and nothing else. It is ordered, though, per
 * member: a Presence older (lower seq) than the snapshot the state came from (`presenceSeq`, the
 * floor) or than the last one applied for that member is dropped. Per member, not per room: a
 * resume's catch-up stamps every member with the seq of its moment, and a newer announcement about
 * one member that overtook it must not cancel the catch-up of the others. An equal seq describes
 * the same moment and is applied. A member removed since the snapshot is left out.
 */
export function applyPresence(state, presence) {
  const seq = presence.seq;
  const seen = state.memberPresenceSeq ?? {};
  if (typeof seq === 'number' && (seq < (state.presenceSeq ?? 0) || seq < (seen[presence.memberId] ?? 0))) return state;
  // A removed member's connections close after the removal: their offline (or a stale online)
  // Presence must not put them back. An offline Presence about someone not in the list adds nothing
  // either: their `member` event adds them offline anyway.
  if ((state.removedMembers ?? []).includes(presence.memberId)) return state;
  if (!presence.online && !state.members.some((m) => m.memberId === presence.memberId)) return state;
  return {
    ...state,
    memberPresenceSeq: typeof seq === 'number' ? { ...seen, [presence.memberId]: seq } : seen,
    members: withMember(state.members, presence.memberId, presence.displayName ?? undefined, presence.online),
  };
}

/**
 * Applies a JoinResult. Returns `{ state, resync }`: `resync` is 'snapshot' when the missed events
 * do not connect to the state (ask again with since = null), 'behind' when the state still trails
 * the result's position, or null when the state is now at the position.
 */
export function applyJoinResult(state, result) {
  if (result.snapshot) {
    return { state: fromSnapshot(result.snapshot), resync: null };
  }
  if (state === null) return { state, resync: 'snapshot' };
  let current = state;
  for (const event of result.missed ?? []) {
    const kind = classifyEvent(current, event);
    if (kind === 'ignore') continue;
    if (kind !== 'apply') return { state: current, resync: 'snapshot' };
    current = applyEvent(current, event);
  }
  const position = result.position;
  if (position && position.epoch !== current.epoch) return { state: current, resync: 'snapshot' };
  if (position && position.version > current.version) return { state: current, resync: 'behind' };
  return { state: current, resync: null };
}

export function quantityOf(state, memberId, menuId) {
  const choice = state?.choices.find((c) => c.memberId === memberId && c.menuId === menuId);
  return choice ? choice.quantity : 0;
}

/**
 * The group order derived from the choices: per menu item (menu order) the quantity, the amount and
 * who chose it; the grand total; and one member's own count and amount. Zero quantities are absent.
 */
export function computeOrder(state, memberId = null) {
  const names = new Map(state.members.map((m) => [m.memberId, m.displayName]));
  const items = [];
  let totalMinor = 0;
  let mineCount = 0;
  let mineMinor = 0;
  for (const item of state.menu) {
    const chosen = state.choices.filter((c) => c.menuId === item.id && c.quantity > 0);
    const quantity = chosen.reduce((sum, c) => sum + c.quantity, 0);
    if (quantity === 0) continue;
    const amountMinor = quantity * item.priceMinor;
    totalMinor += amountMinor;
    for (const c of chosen) {
      if (c.memberId === memberId) {
        mineCount += c.quantity;
        mineMinor += c.quantity * item.priceMinor;
      }
    }
    items.push({
      menuId: item.id,
      name: item.name,
      quantity,
      amountMinor,
      by: chosen.map((c) => ({ memberId: c.memberId, displayName: names.get(c.memberId) ?? c.memberId, quantity: c.quantity })),
    });
  }
  return { items, totalMinor, mine: { count: mineCount, amountMinor: mineMinor } };
}
