// The page: wires the SignalR connection to a RoomSession and renders it. All decisions about
// positions, resume and optimistic ops live in the pure modules; this file only does DOM and IO.
// State for tests is exposed on <body>: data-status (connecting|live|reconnecting|offline),
// data-version, data-epoch, data-replica, data-room-state, data-pending, data-removed, data-activity.

import { ActivityFeed, activityRows } from './activity.js';
import { computeOrder } from './room-state.js';
import { RoomSession } from './room-session.js';
import { RemoveFlow, memberRows } from './members.js';
import {
  clearedByJoin, describeError, describeRemoved, isFatal, joinLimit, parseHubError, refusalOf,
} from './errors.js';
import { formatMoney } from './format.js';
import {
  clearState, forgetRemoved, loadPending, loadRemoved, loadState, savePending, saveRemoved, saveState,
} from './storage.js';
import {
  isOtherJoinLink, linkRefusal, parseFragment, readJoinLink, surelyExpired,
} from './token.js';
import { hubUrl } from './hub-url.js';
import { JoinRetry, joinFailureKind } from './join-retry.js';
import { startRetryDelay } from './connect-retry.js';
import { ServerClock } from './server-clock.js';

/** Automatic reconnect: quickly at first, then every 30 s, for at most ten minutes (a Join refused meanwhile too). */
const RECONNECT_DELAYS_MS = [0, 1000, 2000, 5000, 10000, 20000, 30000];
const RECONNECT_GIVE_UP_MS = 10 * 60 * 1000;
// A close for good that came with no reason (below, onclose) is answered by one connect at most this often.
const CLOSED_FOR_GOOD_RECONNECT_GAP_MS = 60 * 1000;
const ERROR_HIDE_MS = 8000;
const ACTIVITY_FETCH_TIMEOUT_MS = 10000;
const SERVER_CLOCK_PROBE_TIMEOUT_MS = 3000;
const SERVER_CLOCK_FRESH_MS = 60 * 1000;

const $ = (id) => document.getElementById(id);
const body = document.body;
const joinHash = location.hash; // the link this page runs on, until another one is pasted
const link = readJoinLink(joinHash);
const currency = parseFragment(joinHash).currency ?? null;
const money = (minor) => formatMoney(minor, currency);

let session = null;
let connection = null;
let status = 'connecting';
let everLive = false;
let fatal = false;
let renderQueued = false;
let errorTimer = null;
let menuKey = '';
const menuRows = new Map();
const memberEls = new Map();
let memberSerial = 0;
let lastRetryReason = null;
let reconnecting = false; // the client's automatic reconnect is running (or gave up): a close then is no server's close for good
let lastClosedForGoodConnect = -Infinity;
let refusalCheck = null; // a refused connect being judged (showRefused): one at a time
let activity = null;
let activityKey = '';
let activityJoinCount = 0;
const serverClock = new ServerClock(); // what a refused token's exp is judged by (server-clock.js)
const removeFlow = new RemoveFlow({
  remove: (memberId) => session.removeMember(memberId),
  onChange: () => scheduleRender(),
});

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) el.append(child);
  }
  return el;
}

const delay = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// ---------- status, errors, banner ----------

const STATUS_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };

function setStatus(next) {
  status = next;
  body.dataset.status = next;
  $('status').querySelector('.status-text').textContent = STATUS_TEXT[next];
  $('status').dataset.state = next;
  scheduleRender();
}

function showError(code, text = '', { sticky = false, retry = null } = {}) {
  $('error-text').textContent = describeError(code, text, { maxQuantity: session?.maxQuantity, pending: session?.pending.size ?? savedPresses() });
  $('error').dataset.code = code ?? 'unknown';
  $('error').hidden = false;
  const retryButton = $('error-retry');
  retryButton.hidden = retry === null;
  retryButton.onclick = retry;
  clearTimeout(errorTimer);
  if (!sticky) errorTimer = setTimeout(hideError, ERROR_HIDE_MS);
}

function hideError() {
  clearTimeout(errorTimer);
  $('error').hidden = true;
  delete $('error').dataset.code;
}

/** Presses saved in this tab for the link's room and member, before a session reads them (an expired link's page). */
function savedPresses() {
  return link?.roomId && link?.memberId ? loadPending(sessionStorage, link.roomId, link.memberId).length : 0;
}

/**
 * A call refused because the room no longer exists (deleted, or expired with no event to say so): said for good, and
 * the connection stopped, as a Join refused so is. True when it was that.
 */
function roomGone(parsed) {
  if (parsed?.code !== 'room_not_found') return false;
  showFatal(parsed.code, parsed.text);
  connection.stop().catch(() => {});
  return true;
}

function showFatal(code, text = '') {
  fatal = true;
  joinRetry.stop();
  showError(code, text, { sticky: true });
  setStatus('offline');
  if (session === null || session.state === null) $('menu-empty').textContent = describeError(code, text);
}

/**
 * This member was removed from the room (Removed, their own member_removed event, or the token
 * refused after a removal): say so, stop for good, forget the saved room, disable everything.
 */
function showRemoved(removal) {
  if (body.dataset.removed === 'true') return;
  fatal = true;
  joinRetry.stop();
  body.dataset.removed = 'true';
  clearState(sessionStorage, link.roomId, link.memberId);
  saveRemoved(sessionStorage, link.roomId, link.memberId, { by: removal?.by ?? null });
  hideError();
  setCloseConfirm(false);
  removeFlow.cancel();
  $('removed-text').textContent = describeRemoved(removal?.by ?? null, removal?.reason ?? null);
  $('removed').hidden = false;
  $('removed').focus();
  if (session === null || session.state === null) $('menu-empty').textContent = describeRemoved(removal?.by ?? null, removal?.reason ?? null);
  setStatus('offline');
  connection?.stop().catch(() => {});
}

function showAnnouncement(announcement) {
  const text = $('announcement');
  text.textContent = announcement.message;
  text.dataset.kind = announcement.kind ?? '';
  text.dataset.id = announcement.id ?? '';
  text.hidden = false;
  $('announcement-box').dataset.kind = announcement.kind ?? '';
  $('announcement-box').hidden = false;
}

function hideAnnouncement() {
  $('announcement-box').hidden = true;
  $('announcement').hidden = true;
}

function showNotice(event) {
  const payload = event.payload;
  let text;
  if (typeof payload === 'string') text = payload;
  else if (payload && typeof payload === 'object' && typeof (payload.text ?? payload.message) === 'string') text = payload.text ?? payload.message;
  else text = payload === null || payload === undefined ? '' : JSON.stringify(payload);
  $('notice-text').textContent = text ? `${event.kind}: ${text}` : event.kind;
  $('notice').hidden = false;
}

// ---------- rendering ----------

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    render();
  });
}

function buildMenu(state) {
  const list = $('menu');
  list.replaceChildren();
  menuRows.clear();
  for (const item of state.menu) {
    const nameId = `item-name-${item.id}`;
    const dec = h('button', {
      type: 'button', class: 'step', 'aria-label': `Remove one ${item.name}`, 'data-testid': `dec-${item.id}`, 'data-menu-id': item.id,
      onclick: () => { if (session.displayQuantity(item.id) > 0) session.adjust(item.id, -1); },
    }, '−');
    const inc = h('button', {
      type: 'button', class: 'step plus', 'aria-label': `Add one ${item.name}`, 'data-testid': `inc-${item.id}`, 'data-menu-id': item.id,
      onclick: () => { if (session.canAdd(item.id)) session.adjust(item.id, 1); },
    }, '+');
    const qty = h('output', { class: 'qty', 'data-testid': `qty-${item.id}`, 'aria-label': `Your ${item.name}` }, '0');
    const li = h('li', { class: 'item', 'data-testid': `menu-item-${item.id}`, 'data-menu-id': item.id },
      h('div', { class: 'item-info' },
        h('span', { class: 'item-name', id: nameId, text: item.name }),
        h('span', { class: 'price', text: money(item.priceMinor) })),
      h('div', { class: 'stepper', role: 'group', 'aria-labelledby': nameId }, dec, qty, inc));
    list.append(li);
    menuRows.set(item.id, { li, dec, inc, qty });
  }
}

function renderMenu(state) {
  const key = JSON.stringify(state.menu);
  if (key !== menuKey) {
    menuKey = key;
    buildMenu(state);
  }
  $('menu-empty').hidden = state.menu.length > 0;
  if (state.menu.length === 0) $('menu-empty').textContent = 'The menu is empty.';
  const editable = session.editable && !fatal;
  for (const item of state.menu) {
    const row = menuRows.get(item.id);
    const quantity = session.displayQuantity(item.id);
    const pending = session.pending.hasPending(item.id);
    row.qty.textContent = String(quantity);
    row.qty.dataset.pending = String(pending);
    row.qty.dataset.quantity = String(quantity);
    row.li.classList.toggle('chosen', quantity > 0);
    // Locked/closed: really disabled. At 0 (or the max) only aria-disabled, so a keyboard user
    // pressing − down to 0 keeps focus on the button instead of losing it to <body>.
    row.dec.disabled = !editable;
    row.inc.disabled = !editable;
    row.dec.setAttribute('aria-disabled', String(quantity <= 0));
    row.inc.setAttribute('aria-disabled', String(!session.canAdd(item.id)));
  }
}

function renderOrder(state) {
  const order = computeOrder(state, link.memberId);
  const list = $('order');
  list.replaceChildren(...order.items.map((item) => h('li', {
    class: 'line',
    'data-testid': `total-${item.menuId}`,
    'data-menu-id': item.menuId,
    'data-quantity': item.quantity,
    'data-amount': item.amountMinor,
    'data-by': item.by.map((b) => `${b.memberId}:${b.quantity}`).join(','),
  },
    h('div', { class: 'line-head' },
      h('span', { class: 'line-name' }, h('span', { class: 'times', text: `${item.quantity}×` }), ` ${item.name}`),
      h('span', { class: 'line-amount', text: money(item.amountMinor) })),
    h('p', { class: 'who', text: item.by.map((b) => `${b.memberId === link.memberId ? 'You' : b.displayName} ${b.quantity}`).join(' · ') }))));
  $('order-empty').hidden = order.items.length > 0;
  $('grand-total').textContent = money(order.totalMinor);
  $('grand-total').dataset.amount = String(order.totalMinor);
  $('bar-total').textContent = money(order.totalMinor);
  // My line includes my pending presses, like the quantities in the menu.
  let count = 0;
  let amountMinor = 0;
  for (const item of state.menu) {
    const quantity = session.displayQuantity(item.id);
    count += quantity;
    amountMinor += quantity * item.priceMinor;
  }
  $('mine').textContent = `${count} ${count === 1 ? 'item' : 'items'} · ${money(amountMinor)}`;
}

// Member rows are kept by member id and updated in place, so a Presence or a version bump does not
// rebuild the list under a keyboard user's focus on a remove control.
function memberElement(memberId) {
  const existing = memberEls.get(memberId);
  if (existing !== undefined) return existing;
  const serial = ++memberSerial;
  const avatar = h('span', { class: 'avatar', 'aria-hidden': 'true' });
  const name = h('span', { class: 'member-name' });
  const presenceText = document.createTextNode('');
  const presence = h('span', { class: 'presence' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), presenceText);
  const remove = h('button', {
    type: 'button', class: 'link-button remove', 'data-testid': `remove-${memberId}`,
    'aria-expanded': 'false', 'aria-controls': `remove-confirm-${serial}`,
    onclick: () => removeFlow.ask(memberId),
  }, 'Remove');
  const question = h('p');
  const yes = h('button', {
    type: 'button', class: 'button danger', 'data-testid': `confirm-remove-${memberId}`,
    onclick: () => confirmRemove(memberId),
  }, 'Remove');
  const no = h('button', {
    type: 'button', class: 'button secondary',
    onclick: () => { removeFlow.cancel(); remove.focus(); },
  }, 'Cancel');
  const confirm = h('div', { class: 'confirm', id: `remove-confirm-${serial}`, hidden: true }, question, yes, no);
  const li = h('li', { class: 'member', 'data-testid': `member-${memberId}`, 'data-member-id': memberId },
    avatar, name, presence, remove, confirm);
  const el = { li, avatar, name, presenceText, remove, confirm, question, yes };
  memberEls.set(memberId, el);
  return el;
}

function renderMembers(state) {
  removeFlow.prune(state.members);
  const rows = memberRows(state, link.memberId, { role: link.role, selfOnline: status === 'live', flow: removeFlow });
  const connected = status === 'live' && !fatal;
  const list = $('members');
  const keep = new Set(rows.map((r) => r.memberId));
  for (const [memberId, el] of memberEls) {
    if (!keep.has(memberId)) {
      el.li.remove();
      memberEls.delete(memberId);
    }
  }
  rows.forEach((row, index) => {
    const el = memberElement(row.memberId);
    el.li.className = `member ${row.online ? 'online' : 'offline'}`;
    el.li.dataset.online = String(row.online);
    el.avatar.textContent = (row.displayName || '?').trim().charAt(0).toUpperCase();
    el.name.textContent = row.isMe ? `${row.displayName} (you)` : row.displayName;
    el.presenceText.data = row.online ? 'online' : 'offline';
    el.remove.hidden = !row.removable;
    el.remove.disabled = !connected || row.busy;
    el.remove.textContent = row.busy ? 'Removing…' : 'Remove';
    el.remove.setAttribute('aria-label', `Remove ${row.displayName} from the room`);
    el.remove.setAttribute('aria-expanded', String(row.confirming && connected));
    el.confirm.hidden = !(row.confirming && connected);
    el.question.textContent = `Remove ${row.displayName} from the room? Their choices leave the order, and their link stops working.`;
    el.yes.textContent = `Remove ${row.displayName}`;
    el.yes.disabled = !connected;
    // Move a row only when it is out of place: moving the focused element would blur it.
    if (list.children[index] !== el.li) list.insertBefore(el.li, list.children[index] ?? null);
  });
}

async function confirmRemove(memberId) {
  try {
    await removeFlow.confirm(memberId);
    hideError();
    // The row goes with the member_removed event: keep the focus near the list, not on <body>.
    $('members-heading').focus();
  } catch (error) {
    if (error.removed) return;
    const parsed = error.parsed ?? parseHubError(error);
    if (roomGone(parsed)) return;
    showError(parsed?.code ?? null, parsed?.text ?? String(error.message));
    await new Promise((resolve) => { queueMicrotask(resolve); }); // the render re-enables the button
    memberEls.get(memberId)?.remove.focus();
  }
}

const BANNERS = {
  locked: 'The room is locked: the order is being placed. Changes are paused.',
  closed: 'The room is closed. The order is final.',
  deleted: 'This room was deleted.',
};

function renderRoomState(state) {
  const banner = $('banner');
  const text = BANNERS[state.state] ?? null;
  banner.hidden = text === null;
  banner.textContent = text ?? '';
  banner.dataset.state = state.state;
  const owner = link.role === 'owner';
  $('owner').hidden = !owner;
  if (owner) {
    const connected = status === 'live' && !fatal;
    $('lock').disabled = !connected || state.state !== 'open';
    $('reopen').disabled = !connected || state.state !== 'locked';
    $('close').disabled = !connected || (state.state !== 'open' && state.state !== 'locked');
    // The confirmation's own button too: a close that failed (orders still waiting, say) may be confirmed again.
    $('close-yes').disabled = $('close').disabled;
    if ($('close').disabled) setCloseConfirm(false);
    $('lock').hidden = state.state === 'locked';
    $('reopen').hidden = state.state !== 'locked';
  }
}

// ---------- activity ----------

/** Older activity: the room's audit trail, read with this member's own token. */
async function fetchActivityPage(from, limit) {
  const response = await fetch(`/api/rooms/${encodeURIComponent(link.roomId)}/events?from=${from}&limit=${limit}`, {
    headers: { Authorization: `Bearer ${link.token}` },
    signal: AbortSignal.timeout(ACTIVITY_FETCH_TIMEOUT_MS),
  });
  serverClock.observe(response);
  if (!response.ok) throw new Error(`the activity could not be loaded (HTTP ${response.status})`);
  return response.json();
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function renderActivity(state) {
  // Every Join (the page's, or a resume after a gap) may have skipped events: catch up from the trail.
  if (session.joinCount !== activityJoinCount && session.position !== null) {
    activityJoinCount = session.joinCount;
    activity.sync(session.position);
  }
  const log = activity.log;
  const names = state.members.map((m) => `${m.memberId}=${m.displayName}`).join(',');
  const key = `${log.epoch}:${log.revision}:${names}`;
  if (key !== activityKey) {
    activityKey = key;
    $('activity').replaceChildren(...activityRows(log, state, link.memberId).map((row) => {
      const at = row.at === null ? null : new Date(row.at);
      return h('li', {
        'data-testid': `activity-${row.version}`, 'data-version': row.version, 'data-type': row.type, 'data-member': row.memberId,
      },
        h('span', { class: 'activity-text', text: row.text }),
        at === null || Number.isNaN(at.getTime()) ? null : h('time', { datetime: row.at, text: timeFormat.format(at) }));
    }));
  }
  body.dataset.activity = String(log.size);
  $('activity-empty').hidden = log.size > 0;
  const earlier = $('activity-earlier');
  earlier.hidden = !log.hasEarlier;
  earlier.disabled = activity.loading !== null;
  earlier.textContent = activity.loading !== null ? 'Loading…' : 'Show earlier';
  const note = activity.error !== null ? `Older activity is unavailable right now: ${activity.error}.`
    : log.trimmed ? 'Older activity is no longer kept.' : null;
  $('activity-note').hidden = note === null;
  $('activity-note').textContent = note ?? '';
}

function render() {
  body.dataset.pending = String(session?.pending.size ?? 0);
  const state = session?.state ?? null;
  if (state === null) return;
  body.dataset.version = String(state.version);
  body.dataset.epoch = state.epoch;
  body.dataset.roomState = state.state;
  if (session.replica) body.dataset.replica = session.replica;
  $('room-name').textContent = state.name || 'Your table';
  document.title = `${state.name || 'Room'} · RoomShare`;
  renderMenu(state);
  renderOrder(state);
  renderMembers(state);
  renderRoomState(state);
  renderActivity(state);
  $('meta').textContent = `Room ${state.roomId} · version ${state.version}${session.replica ? ` · replica ${session.replica}` : ''}`;
}

// ---------- owner controls ----------

function setCloseConfirm(open) {
  $('close-confirm').hidden = !open;
  $('close').setAttribute('aria-expanded', String(open));
}

async function changeRoomState(next, button) {
  button.disabled = true;
  try {
    await session.setRoomState(next);
    hideError();
  } catch (error) {
    if (error.removed) return;
    const parsed = error.parsed ?? parseHubError(error);
    if (!roomGone(parsed)) showError(parsed?.code ?? null, parsed?.text ?? String(error.message));
  } finally {
    scheduleRender();
  }
}

// ---------- connection ----------

/** What to do with a failed Join: true to try again (JoinRetry waits, then calls Join again). */
function joinFailed(error) {
  const parsed = parseHubError(error);
  const kind = joinFailureKind(parsed, {
    removed: session.removed !== null || fatal, // a removal or fatal error said why and stopped the connection
    connected: connection.state === signalR.HubConnectionState.Connected, // else onreconnected joins again
    isFatal,
    joinLimit,
  });
  if (kind === 'fatal') {
    showFatal(parsed.code, parsed.text);
    connection.stop().catch(() => {});
  } else if (kind === 'limit') {
    // The room is full, or this member has all their connections open: a count, which frees
    // only when someone leaves, so say which and wait for the member instead of retrying. Not joined meanwhile, so
    // the events that come next start no Join of their own (a resume refused so).
    session.disconnected();
    setStatus('offline');
    showError(joinLimit(parsed), parsed.text, { sticky: true, retry: () => { hideError(); joinRoom(); } });
  }
  return kind === 'retry';
}

const joinRetry = new JoinRetry({
  join: () => session.join(),
  onFailure: joinFailed,
  onJoined: () => {
    everLive = true;
    forgetRemoved(sessionStorage, link.roomId, link.memberId); // a newer token admitted us again
    setStatus('live');
    if (clearedByJoin($('error').dataset.code)) hideError();
  },
  // Not a dead end: the page says it is waiting for the server, and keeps the presses made meanwhile.
  onWaiting: () => showError('join_waiting', '', { sticky: true }),
  onGiveUp: (error) => {
    const parsed = parseHubError(error);
    showError(parsed?.code ?? 'unavailable', parsed?.text ?? '', { sticky: true, retry: () => joinRoom() });
  },
  giveUpAfterMs: RECONNECT_GIVE_UP_MS,
});

/** Joins the room, retrying while the server cannot admit us yet; folds into a loop already running. */
function joinRoom() {
  if (fatal) return Promise.resolve(); // said why and stopped: a resume asked for meanwhile has nothing to join on
  return joinRetry.run();
}

/**
 * A fatal refusal of the connection. A 401 for a token that has not expired is a removal (DESIGN.md
 * §3: a token issued before it is refused from then on), whether or not this page heard of it — the
 * phone slept through it, or both Removed and member_removed were lost: end the session as Removed
 * does (its own choices leave the order shown, the saved room is forgotten).
 */
/** showRefused, one at a time: a second refused connect while one is judged (the `online` event) waits for its verdict. */
function judgeRefusal(parsed) {
  refusalCheck ??= showRefused(parsed).finally(() => { refusalCheck = null; });
  return refusalCheck;
}

async function showRefused(parsed) {
  // The note: this tab saw the removal (and who did it), so it stays the reason once the token expires too.
  const note = parsed.code === 'unauthorized' ? loadRemoved(sessionStorage, link.roomId, link.memberId) : null;
  if (parsed.code === 'unauthorized' && note === null) await learnServerClock();
  if (parsed.code === 'unauthorized' && (note !== null || refusalOf(link.expiresAt, serverClock.now()) === 'removed')) {
    session.markRemoved(note?.by ?? null, 'refused'); // reports to showRemoved
  } else {
    showFatal(parsed.code, parsed.text);
  }
}

/**
 * Before a 401 is judged against the token's exp: the server's time, unless a response said it within the last minute
 * (a phone's clock may have been set since). A device clock minutes behind would otherwise read an expired link as a
 * removal, and forget the presses saved for a new link. Any same-origin answer carries it; without one, the offset
 * heard last (or this device's clock) decides.
 */
async function learnServerClock() {
  if (serverClock.heardWithin(SERVER_CLOCK_FRESH_MS)) return;
  try {
    serverClock.observe(await fetch('/healthz', { cache: 'no-store', signal: AbortSignal.timeout(SERVER_CLOCK_PROBE_TIMEOUT_MS) }));
  } catch {
    // Unreachable or too slow: judged by this device's clock.
  }
}

/** Connects, retrying what may pass (connect-retry.js), then joins. `probe`: the one connect after a close for good. */
async function start({ probe = false } = {}) {
  if (fatal || refusalCheck !== null) return; // stopped, or a refusal is being judged: its verdict decides
  setStatus(everLive ? 'reconnecting' : 'connecting');
  for (let attempt = 0; ; attempt++) {
    try {
      await connection.start();
      break;
    } catch (error) {
      const parsed = parseHubError(error);
      if (parsed !== null && isFatal(parsed.code)) {
        await judgeRefusal(parsed);
        return;
      }
      const wait = startRetryDelay(parsed, attempt, { probe });
      if (wait === null) {
        setStatus('offline');
        // Refused for the member's connection limits: say so, not "cannot reach the server".
        showError(parsed?.code === 'connect_limited' ? parsed.code : 'offline', '', { sticky: true, retry: () => { hideError(); start(); } });
        return;
      }
      await delay(wait);
      if (connection.state !== signalR.HubConnectionState.Disconnected) return;
    }
  }
  await joinRoom();
}

function createConnection() {
  const conn = new signalR.HubConnectionBuilder()
    .withUrl(hubUrl(link.roomId), { accessTokenFactory: () => link.token })
    .withAutomaticReconnect({
      nextRetryDelayInMilliseconds(context) {
        lastRetryReason = context.retryReason ?? null;
        if (session.removed !== null) return null;
        if (parseHubError(context.retryReason)?.code === 'unauthorized') return null;
        if (surelyExpired(link.expiresAt, serverClock.now())) return null; // nearer its exp, the reconnect's 401 says
        if (context.elapsedMilliseconds > RECONNECT_GIVE_UP_MS) return null;
        return RECONNECT_DELAYS_MS[Math.min(context.previousRetryCount, RECONNECT_DELAYS_MS.length - 1)];
      },
    })
    // A brief network blip resumes the same connection on the same replica, with the messages it
    // missed replayed by the server: no resync (RoomServer__StatefulReconnect; the evaluation is in
    // RoomServer.Tests/Hubs/StatefulReconnectTests). A longer outage still goes through onreconnected.
    .withStatefulReconnect()
    .configureLogging(signalR.LogLevel.Warning)
    .build();
  conn.on('RoomEvent', (event) => {
    session.onRoomEvent(event);
    if (event?.roomId === link.roomId && session.removed === null) activity.onEvent(event);
  });
  conn.on('Position', (position) => session.onPosition(position));
  conn.on('Presence', (presence) => session.onPresence(presence));
  conn.on('Removed', (removal) => session.onRemoved(removal));
  conn.on('Announcement', (announcement) => session.onAnnouncement(announcement));
  conn.onreconnecting(() => {
    reconnecting = true;
    joinRetry.stop();
    session.disconnected();
    setStatus('reconnecting');
  });
  conn.onreconnected(() => {
    reconnecting = false;
    lastRetryReason = null;
    if (session.removed !== null) conn.stop().catch(() => {});
    else joinRoom();
  });
  conn.onclose((error) => {
    joinRetry.stop();
    session.disconnected();
    if (fatal) return;
    if (surelyExpired(link.expiresAt, serverClock.now())) {
      showFatal('unauthorized');
      return;
    }
    // When the retry policy gives up (e.g. on a 401), onclose gets no error: use the last reason.
    const parsed = parseHubError(error) ?? parseHubError(lastRetryReason);
    lastRetryReason = null;
    if (parsed !== null && isFatal(parsed.code)) {
      void judgeRefusal(parsed);
      return;
    }
    // The server closed this connection for good, with no word why: a removal whose Removed notice did not make it
    // before the close (DESIGN.md §3), or a connection past the member's cap that slipped in (§5). One connect says
    // which (401: removed; 429: too many connections) — or comes back live — where "cannot reach the server" would not.
    const closedForGood = !reconnecting && parsed === null;
    reconnecting = false;
    if (closedForGood && Date.now() - lastClosedForGoodConnect >= CLOSED_FOR_GOOD_RECONNECT_GAP_MS) {
      lastClosedForGoodConnect = Date.now();
      start({ probe: true });
      return;
    }
    setStatus('offline');
    showError(parsed?.code === 'connect_limited' ? parsed.code : 'offline', '', { sticky: true, retry: () => { hideError(); start(); } });
  });
  return conn;
}

/** A new join link pasted into this tab (re-admitted after a removal, or another room): start over with it. */
function followNewLink() {
  if (isOtherJoinLink(joinHash, location.hash)) location.reload();
}

function main() {
  window.addEventListener('hashchange', followNewLink);
  // The skip link moves the focus without following its anchor: the address holds the join link, the member's
  // only way back in after a reload (or a phone restoring a discarded tab).
  document.querySelector('a.skip').addEventListener('click', (event) => {
    event.preventDefault();
    $('menu-heading').focus();
  });
  $('error-dismiss').addEventListener('click', hideError);
  $('notice-dismiss').addEventListener('click', () => { $('notice').hidden = true; });
  $('announcement-dismiss').addEventListener('click', hideAnnouncement);
  if (!link.ok) {
    $('main').classList.add('no-room');
    // A removed member's token has often expired by the time they look again: the removal this tab noted is
    // the reason to show, not the expiry (as showRefused does for a token that has not expired).
    const refusal = linkRefusal(link, (roomId, memberId) => loadRemoved(sessionStorage, roomId, memberId));
    if (refusal.removed) showRemoved({ by: refusal.removed.by, reason: 'refused' });
    else showFatal(refusal.code);
    return;
  }
  $('me').textContent = `You: ${link.displayName}${link.role === 'owner' ? ' · owner' : ''}`;
  body.dataset.member = link.memberId;
  body.dataset.role = link.role;
  if (typeof signalR === 'undefined') {
    showFatal(null, 'the SignalR client did not load');
    return;
  }
  session = new RoomSession({
    roomId: link.roomId,
    memberId: link.memberId,
    hub: {
      invoke: (method, ...args) => connection.invoke(method, ...args),
      isConnected: () => connection.state === signalR.HubConnectionState.Connected,
    },
    initialState: loadState(sessionStorage, link.roomId, link.memberId),
    save: (state) => saveState(sessionStorage, link.roomId, link.memberId, state),
    // Presses not yet acknowledged (made offline, or in flight) survive a reload and are sent again after the Join.
    initialPending: loadPending(sessionStorage, link.roomId, link.memberId),
    savePending: (ops) => savePending(sessionStorage, link.roomId, link.memberId, ops),
    onChange: scheduleRender,
    onError: (error) => showError(error.code, error.text),
    onRoomGone: roomGone,
    // A resume after a gap, a new epoch or a Position goes through the page's join loop: a refusal is handled as the
    // page's own Joins are (fatal: said, connection stopped; else retried with its backoff, one Join at a time).
    requestJoin: joinRoom,
    onNotice: showNotice,
    onRemovedFromRoom: showRemoved,
    onAnnouncement: showAnnouncement,
    // The token expired under a press: the press is kept for a new link (saved); this one can do nothing more.
    onLinkExpired: () => {
      showFatal('unauthorized');
      connection.stop().catch(() => {});
    },
  });
  activity = new ActivityFeed({ fetchPage: fetchActivityPage, onChange: scheduleRender });
  body.dataset.restored = String(session.state !== null);
  $('lock').addEventListener('click', (e) => changeRoomState('locked', e.currentTarget));
  $('reopen').addEventListener('click', (e) => changeRoomState('open', e.currentTarget));
  $('close').addEventListener('click', () => setCloseConfirm($('close-confirm').hidden));
  $('close-no').addEventListener('click', () => { setCloseConfirm(false); $('close').focus(); });
  $('activity-earlier').addEventListener('click', () => activity.loadEarlier());
  $('close-yes').addEventListener('click', (e) => { setCloseConfirm(false); changeRoomState('closed', e.currentTarget); });
  window.addEventListener('online', () => {
    if (connection.state === signalR.HubConnectionState.Disconnected) start();
  });
  connection = createConnection();
  render();
  start();
}

main();
