// The operator page's side of the HTTP API (DESIGN.md §4, §8) and where it keeps the API key: in
// sessionStorage, so it lives as long as the tab and is never written to disk-backed localStorage.

const KEY = 'roomshare:v1:operator-api-key';

export function loadApiKey(storage) {
  try {
    return storage?.getItem(KEY) || null;
  } catch {
    return null;
  }
}

export function saveApiKey(storage, apiKey) {
  try {
    storage?.setItem(KEY, apiKey);
    return true;
  } catch {
    return false;
  }
}

export function forgetApiKey(storage) {
  try {
    storage?.removeItem(KEY);
  } catch {
    // nothing stored, nothing to forget
  }
}

/** An API error with the problem's §5 code (or 'unavailable' when the server did not answer). */
export class OperatorApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** What the operator reads for a failed call. */
export function describeError(error) {
  if (error?.code === 'unauthorized') return 'The API key was refused. Enter a valid key.';
  if (error?.code === 'room_not_found') return 'There is no room with that id (nor order records of one).';
  if (error?.code === 'unavailable') return 'The server could not answer just now. Try again.';
  return error?.message || 'Something went wrong.';
}

/**
 * The most calls one "retry all" makes: each retries at most 1 000 letters (and reads past at most 5 000 it cannot
 * retry), so one click retries up to 20 000 and stays a few seconds to a minute; what is left waits for the next click.
 */
export const MAX_RETRY_ALL_CALLS = 20;

/** What the operator reads after a "retry all" (its result, or the progress a failed one made before it failed). */
export function describeRetryAll({ retried, skipped, more }) {
  const parts = [`Retried ${retried.length} dead letter(s).`];
  if (skipped > 0) parts.push(`Passed over ${skipped} whose endpoint is no longer configured (delete them if it is gone for good).`);
  if (more) parts.push('More may wait: retry all again to go on.');
  return parts.join(' ');
}

// A read that hangs (a proxy holding the request) must not stop the page's timed refresh, which starts no
// refresh while one still reads. Actions are never cut short: the server would go on with them unseen.
export const READ_TIMEOUT_MS = 10_000;

export function createOperatorApi(fetchFn, apiKey, baseUrl = '', readTimeoutMs = READ_TIMEOUT_MS) {
  async function call(method, path) {
    let response;
    try {
      const signal = method === 'GET' ? AbortSignal.timeout(readTimeoutMs) : undefined;
      response = await fetchFn(`${baseUrl}${path}`, { method, headers: { 'x-api-key': apiKey, accept: 'application/json' }, signal });
    } catch (e) {
      throw new OperatorApiError('unavailable', `The server did not answer (${e?.message ?? e}).`, 0);
    }

    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }

    if (!response.ok) {
      throw new OperatorApiError(body?.code ?? (response.status === 401 ? 'unauthorized' : 'unavailable'), body?.detail ?? `HTTP ${response.status}`, response.status);
    }

    return body;
  }

  return {
    // A page ({ items, next }) from the oldest, or after the dead letter `after`; next is null at the end.
    deadLetters: async (after = null) => call('GET', after === null ? '/api/deadletters' : `/api/deadletters?after=${encodeURIComponent(after)}`),
    order: async (roomId) => (await call('GET', `/api/rooms/${encodeURIComponent(roomId)}/order`)).records,
    retry: async (id) => (await call('POST', `/api/deadletters/${encodeURIComponent(id)}/retry`)).retried,
    // Follows next while the server says more, at most maxCalls calls, and while goOn() says so (the page stops
    // it when the operator forgets the key): { retried: [ids], skipped, more, next, calls }.
    // A call that fails throws, with the progress of the calls before it as error.progress (those letters are retried).
    retryAll: async (maxCalls = MAX_RETRY_ALL_CALLS, goOn = () => true) => {
      const progress = { retried: [], skipped: 0, more: true, next: null, calls: 0 };
      while (progress.more && progress.calls < maxCalls && goOn()) {
        let answer;
        try {
          answer = await call('POST', progress.next === null ? '/api/deadletters/retry' : `/api/deadletters/retry?after=${encodeURIComponent(progress.next)}`);
        } catch (e) {
          e.progress = { ...progress, retried: [...progress.retried] };
          throw e;
        }
        progress.calls += 1;
        progress.retried.push(...(answer?.retried ?? []));
        progress.skipped += answer?.skipped ?? 0;
        progress.more = answer?.more === true && answer?.next != null;
        progress.next = progress.more ? answer.next : null;
      }
      return progress;
    },
    // 204 when deleted; an id that is no dead letter (retried or deleted meanwhile) is a 400 invalid_argument problem.
    deleteDeadLetter: async (id) => { await call('DELETE', `/api/deadletters/${encodeURIComponent(id)}`); },
  };
}

/**
 * What one refresh of the operator page reads, with the api (the key) it started with: the page of dead letters
 * after `deadAfter` (back to the oldest when that page is empty: everything on it was retried) and, when a room
 * is shown, its order records (or, when only that read failed, `recordsError`). Resolves to null — and a failure is swallowed — once `isCurrent()` says the
 * page moved on meanwhile (the key was forgotten, or replaced): what that key read must not be shown.
 * @returns {Promise<{ deadAfter: string|null, deadLetters: { items: object[], next: string|null }, records: object[]|null, recordsError: Error|null } | null>}
 */
export async function loadOverview(api, { deadAfter = null, room = null } = {}, isCurrent = () => true) {
  try {
    let after = deadAfter;
    let deadLetters = await api.deadLetters(after);
    if (!isCurrent()) return null;
    if (deadLetters.items.length === 0 && after !== null) {
      after = null;
      deadLetters = await api.deadLetters();
      if (!isCurrent()) return null;
    }
    // The room's read fails on its own (a mistyped id, a room gone): the dead letters are still shown, and the error.
    let records = null;
    let recordsError = null;
    if (room) {
      try {
        records = await api.order(room);
      } catch (e) {
        recordsError = e;
      }
    }
    if (!isCurrent()) return null;
    return { deadAfter: after, deadLetters, records, recordsError };
  } catch (e) {
    if (!isCurrent()) return null;
    throw e;
  }
}
