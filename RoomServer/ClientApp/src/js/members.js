// The members list and the owner's "remove a member" flow, without the DOM: which rows the page
// shows, which of them get a remove control, and the two-step (ask, then confirm) removal that ends
// in RemoveMember. app.js renders what this decides.

/**
 * The rows of the members list: this member first, then the others in the room's order.
 * `removable`: the owner may remove every other member (not themself: the server refuses it) while
 * the room is open — not once it is locked, closed or deleted.
 * @param {object} state the room state (room-state.js)
 * @param {string} me this member's id
 * @param {object} [options]
 * @param {'owner'|'member'} [options.role]
 * @param {boolean} [options.selfOnline] how to show this member (the page knows its own connection)
 * @param {RemoveFlow|null} [options.flow] the removal in progress, if any
 */
export function memberRows(state, me, { role = 'member', selfOnline = false, flow = null } = {}) {
  // Only an open room removes members: a removal would take their choices out of an order already
  // handed off (the server answers room_locked / room_closed).
  const open = state.state === 'open';
  const rows = state.members.map((m) => {
    const isMe = m.memberId === me;
    const removable = role === 'owner' && !isMe && open;
    return {
      memberId: m.memberId,
      displayName: m.displayName,
      online: isMe ? selfOnline : m.online,
      isMe,
      removable,
      confirming: removable && flow?.confirming === m.memberId,
      busy: removable && (flow?.isBusy(m.memberId) ?? false),
    };
  });
  return [...rows.filter((r) => r.isMe), ...rows.filter((r) => !r.isMe)];
}

/**
 * Ask → confirm → RemoveMember. One confirmation open at a time; a member whose removal is in
 * flight cannot be asked about again until it settles.
 */
export class RemoveFlow {
  /**
   * @param {object} options
   * @param {(memberId: string) => Promise<unknown>} options.remove calls RemoveMember (RoomSession.removeMember)
   * @param {() => void} [options.onChange]
   */
  constructor({ remove, onChange = () => {} }) {
    this.remove = remove;
    this.onChange = onChange;
    /** @type {string|null} the member whose removal awaits confirmation */
    this.confirming = null;
    this.busy = new Set();
  }

  isBusy(memberId) { return this.busy.has(memberId); }

  /** The remove control was pressed: open its confirmation (or close it when it was open). */
  ask(memberId) {
    if (this.busy.has(memberId)) return;
    this.confirming = this.confirming === memberId ? null : memberId;
    this.onChange();
  }

  cancel() {
    if (this.confirming === null) return;
    this.confirming = null;
    this.onChange();
  }

  /**
   * Confirmed: calls RemoveMember. Resolves to the ack, or to null when nothing was awaiting
   * confirmation for that member; rejects with the call's error.
   */
  async confirm(memberId) {
    if (this.confirming !== memberId || this.busy.has(memberId)) return null;
    this.confirming = null;
    this.busy.add(memberId);
    this.onChange();
    try {
      return await this.remove(memberId);
    } finally {
      this.busy.delete(memberId);
      this.onChange();
    }
  }

  /** Closes a confirmation about a member who is no longer in the list (removed by someone else). */
  prune(members) {
    if (this.confirming !== null && !members.some((m) => m.memberId === this.confirming)) {
      this.confirming = null;
    }
  }
}
