// The operator page: dead letters with their last errors, retry and delete buttons, and a room's order
// records with their delivery per endpoint. Asks for the API key once per tab (operator-api.js).

import {
  MAX_RETRY_ALL_CALLS, createOperatorApi, describeError, describeRetryAll, forgetApiKey, loadApiKey, loadOverview, saveApiKey,
} from './operator-api.js';
import { updateList } from './keyed-list.js';

const REFRESH_MS = 5_000;
const $ = (id) => document.getElementById(id);

let api = null;
let shownRoom = null;
// The dead-letter page shown: null for the oldest, else the id it starts after; and the next page's.
let deadAfter = null;
let deadNext = null;
let timer = null;
// Refreshes rendered, in body.dataset.refreshes: what tests wait for (the lists are updated in place, so a
// refresh that changed nothing leaves no other trace).
let rendered = 0;
// Refreshes started (the timer, Refresh, paging, the room form, each action): only the latest may render, as an
// older, slower answer would show what was there before (the page before the operator paged). The timer starts
// none while the latest is still reading, else a server slower than REFRESH_MS would never get one rendered.
let latestRefresh = 0;
let reading = false;
// The last action's failure (a retry refused: 404, 429, 503). The refreshes after it would clear the
// message at once, leaving the dead letter listed with no reason: it stays until the next action, or
// until the dead letter it was about is no longer listed (someone else retried it).
let actionError = null;
let actionDeadLetter = null;

function showError(error) {
  $('error-text').textContent = error ? describeError(error) : '';
  $('error').hidden = !error;
  if (error?.code === 'unauthorized') lock();
}

/** Runs an operator action (a retry; deadLetterId: the one it is about): its failure is shown, and kept through the refreshes that follow. */
async function act(action, deadLetterId = null) {
  actionDeadLetter = deadLetterId;
  try {
    await action();
    actionError = null;
  } catch (e) {
    actionError = e;
  }
  showError(actionError);
  await refresh();
}

/** What the last "retry all" did (or got to before it failed); cleared by the next action. */
function showRetryAll(result) {
  $('retry-all-result').textContent = result ? describeRetryAll(result) : '';
  $('retry-all-result').hidden = !result;
}

/** Retry all with the key it started with: it stops, and shows nothing, once that key is forgotten. */
async function retryAll() {
  const started = api;
  const current = () => api === started;
  try {
    const result = await started.retryAll(MAX_RETRY_ALL_CALLS, current);
    if (current()) showRetryAll(result);
  } catch (e) {
    if (!current()) return;
    showRetryAll(e?.progress ?? null);
    throw e;
  }
}

function lock() {
  actionError = null;
  showRetryAll(null);
  forgetApiKey(sessionStorage);
  api = null;
  clearInterval(timer);
  document.body.dataset.status = 'no-key';
  $('key-card').hidden = false;
  $('dead-card').hidden = true;
  $('order-card').hidden = true;
  $('forget-key').hidden = true;
}

function unlock(apiKey) {
  api = createOperatorApi(fetch.bind(window), apiKey);
  $('key-card').hidden = true;
  $('dead-card').hidden = false;
  $('order-card').hidden = false;
  $('forget-key').hidden = false;
  clearInterval(timer);
  timer = setInterval(() => { if (!reading) refresh(); }, REFRESH_MS);
  refresh();
}

function text(tag, className, content) {
  const element = document.createElement(tag);
  element.className = className;
  element.textContent = content;
  return element;
}

function deadLetterItem(d) {
  const item = document.createElement('li');
  item.className = 'op-item';
  item.dataset.testid = `dead-${d.id}`;
  item.dataset.orderId = d.orderId;
  item.append(
    text('p', 'op-title', `${d.type} · ${d.orderId}`),
    text('p', 'op-detail', `to ${d.endpoint} · ${d.attempts} attempt(s) · dead since ${d.deadAt}`),
    text('p', 'op-error', d.lastError ?? 'no error recorded'),
  );
  // Disabled while its action runs; enabled again after it, as the item may be kept by the refresh the action
  // ends with (a refused retry leaves the dead letter listed).
  const retry = text('button', 'button', 'Retry');
  retry.type = 'button';
  retry.dataset.testid = `retry-${d.id}`;
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    showRetryAll(null);
    await act(() => api.retry(d.id), d.id);
    retry.disabled = false;
  });
  // For good: the way to clear the letters of an endpoint that is gone (retry passes them over).
  const remove = text('button', 'button', 'Delete');
  remove.type = 'button';
  remove.dataset.testid = `delete-${d.id}`;
  remove.addEventListener('click', async () => {
    if (!window.confirm(`Delete the dead letter of ${d.orderId} to ${d.endpoint} for good? It will never be delivered.`)) return;
    remove.disabled = true;
    showRetryAll(null);
    await act(() => api.deleteDeadLetter(d.id), d.id);
    remove.disabled = false;
  });
  const buttons = document.createElement('div');
  buttons.className = 'owner-buttons';
  buttons.append(retry, remove);
  item.append(buttons);
  return item;
}

// In place (keyed-list.js): a refresh every 5 s must not take the focus off a button or re-read the list aloud.
function renderDeadLetters(items) {
  if (actionDeadLetter !== null && !items.some((d) => d.id === actionDeadLetter)) actionError = null;
  updateList($('dead-letters'), items.map((d) => ({ key: d.id, signature: JSON.stringify(d), build: () => deadLetterItem(d) })));
  $('dead-empty').hidden = items.length > 0;
}

function recordItem(r) {
  const item = document.createElement('li');
  item.className = 'op-item';
  item.dataset.testid = `record-${r.orderId}`;
  item.append(text('p', 'op-title', `${r.type} · version ${r.version} · ${r.at}`));
  for (const d of r.deliveries) {
    const next = d.nextAttemptAt ? ` · next attempt at ${d.nextAttemptAt}` : '';
    const line = text('p', `op-delivery op-${d.status}`, `${d.status} → ${d.endpoint} · ${d.attempts} attempt(s)${d.lastError ? ` · ${d.lastError}` : ''}${next}`);
    line.dataset.testid = 'delivery';
    line.dataset.status = d.status;
    item.append(line);
  }
  return item;
}

function renderRecords(records) {
  updateList($('records'), records.map((r) => ({ key: r.orderId, signature: JSON.stringify(r), build: () => recordItem(r) })));
  $('order-empty').hidden = records.length > 0;
}

/**
 * Reads with the api it started with, and shows nothing if the key was forgotten (or replaced) meanwhile: "Forget
 * key" during a refresh set the module's api to null under it ("Cannot read properties of null"), and the locked
 * page must not show what the old key read. Nor if a later refresh started meanwhile.
 */
async function refresh() {
  const started = api;
  if (!started) return;
  const number = ++latestRefresh;
  const room = shownRoom;
  const after = deadAfter;
  reading = true;
  try {
    const overview = await loadOverview(started, { deadAfter: after, room }, () => api === started && number === latestRefresh);
    if (overview === null) return;
    if (overview.deadAfter !== after) deadAfter = overview.deadAfter; // everything on the page shown was retried: back to the oldest
    deadNext = overview.deadLetters.next;
    renderDeadLetters(overview.deadLetters.items);
    $('dead-more').hidden = deadNext === null;
    $('dead-older').hidden = deadNext === null;
    $('dead-oldest').hidden = deadAfter === null;
    // Records only when they were read: a failed read (a passing timeout, a room gone) leaves the last ones shown.
    if (room && room === shownRoom && overview.records !== null) renderRecords(overview.records);
    document.body.dataset.status = 'ready';
    document.body.dataset.refreshes = String(++rendered);
    showError(actionError ?? overview.recordsError);
  } catch (e) {
    showError(e);
  } finally {
    if (number === latestRefresh) reading = false;
  }
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const apiKey = $('api-key').value.trim();
  if (!apiKey) return;
  saveApiKey(sessionStorage, apiKey);
  $('api-key').value = '';
  unlock(apiKey);
});

$('forget-key').addEventListener('click', () => { showError(null); lock(); });
$('refresh').addEventListener('click', () => { actionError = null; refresh(); });
$('retry-all').addEventListener('click', async () => {
  $('retry-all').disabled = true;
  try {
    await act(retryAll);
  } finally {
    $('retry-all').disabled = false;
  }
});
$('dead-older').addEventListener('click', () => { deadAfter = deadNext; refresh(); });
$('dead-oldest').addEventListener('click', () => { deadAfter = null; refresh(); });
$('order-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  actionError = null;
  shownRoom = $('room-id').value.trim() || null;
  $('records').replaceChildren();
  await refresh();
});

const saved = loadApiKey(sessionStorage);
if (saved) unlock(saved);
else lock();
