// What every browser test driver shares: the environment, the one-JSON-line protocol with
// RoomServer.Tests (NodeScript), the HTTP API, Debian's chromium through playwright-core (never a
// downloaded browser), and phone-sized pages.
//
//   BASE_URL       RoomServer, or nginx in front of the replicas, e.g. http://127.0.0.1:8080 (required)
//   API_KEY        RoomServer API key for the HTTP API                                       (required)
//   SCREENSHOT_DIR where the mobile screenshots go                                           (optional)
//   CHROMIUM       browser binary (default /usr/bin/chromium; never downloaded)

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const STEP_TIMEOUT_MS = 10_000;
const VIEWPORT = { width: 390, height: 844 };

const BASE_URL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
const API_KEY = process.env.API_KEY ?? '';
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? '';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * One driver run. stdout gets exactly one JSON line: {"ok":true,...report} (exit 0) from run(main)
 * once main returns, or {"ok":false,"step":...,"error":...,...report} (exit 1) when main throws or
 * the whole run outlasts overallTimeoutMs. Progress goes to stderr, prefixed with [name].
 */
export function createDriver(name, { overallTimeoutMs }) {
  const report = {};
  let currentStep = 'start';
  let browser = null;
  let finished = false;

  const log = (...args) => console.error(`[${name}]`, ...args);

  function finish(result, code) {
    if (finished) return;
    finished = true;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    const closing = browser ? browser.close().catch(() => {}) : Promise.resolve();
    Promise.race([closing, new Promise((r) => { setTimeout(r, 5_000).unref(); })]).finally(() => process.exit(code));
  }

  function fail(error) {
    // fetch's own message is only "fetch failed": what failed (ECONNREFUSED, a reset, ...) is in its cause.
    const cause = error?.cause ? ` (${[error.cause.code, error.cause.message].filter(Boolean).join(': ')})` : '';
    finish({ ok: false, step: currentStep, error: String(error?.message ?? error).split('\n')[0] + cause, ...report }, 1);
  }

  const overall = setTimeout(() => fail(new Error(`overall timeout of ${overallTimeoutMs} ms`)), overallTimeoutMs);
  overall.unref();

  async function step(stepName, fn) {
    currentStep = stepName;
    log(stepName);
    return fn();
  }

  async function run(main) {
    try {
      if (!BASE_URL || !API_KEY) throw new Error('BASE_URL and API_KEY are required');
      if (SCREENSHOT_DIR) await mkdir(SCREENSHOT_DIR, { recursive: true });
      await main();
      clearTimeout(overall);
      if (SCREENSHOT_DIR) report.screenshots = SCREENSHOT_DIR;
      finish({ ok: true, ...report }, 0);
    } catch (error) {
      fail(error);
    }
  }

  async function launchBrowser() {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      timeout: STEP_TIMEOUT_MS,
    });
    return browser;
  }

  /**
   * A phone in its own browser context (own cookie jar, so its own nginx affinity), live in the room.
   * hubUrls collects the URL of every hub request it makes (negotiates and WebSockets), as sent; invocations, every
   * hub method it invoked over a WebSocket ({ target, arguments }, from the JSON protocol's frames), in order.
   */
  async function newPhone(url, label, { initScript } = {}) {
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    if (initScript) await context.addInitScript(initScript);
    const hubUrls = [];
    const isHub = (url) => new URL(url).pathname.startsWith('/hubs/room');
    context.on('request', (r) => { if (isHub(r.url())) hubUrls.push(r.url()); });
    const page = await context.newPage();
    const invocations = [];
    page.on('websocket', (ws) => {
      if (!isHub(ws.url())) return;
      hubUrls.push(ws.url());
      ws.on('framesent', (frame) => invocations.push(...invocationsIn(frame.payload)));
    });
    page.on('pageerror', (e) => log(`${label} page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') log(`${label} console: ${m.text()}`); });
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
    await waitLive(page, label);
    return { context, page, label, hubUrls, invocations };
  }

  return { report, log, step, run, launchBrowser, newPhone };
}

export async function api(method, path, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(STEP_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → HTTP ${response.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

/** A member's page link with a token freshly issued by the API (one issued after a removal re-admits them). */
export async function memberLink(roomId, memberId, displayName, role = 'member') {
  const { token } = await api('POST', `/api/rooms/${encodeURIComponent(roomId)}/tokens`, { memberId, displayName, role });
  return `${BASE_URL}/#room=${encodeURIComponent(roomId)}&token=${token}`;
}

/** Creates a room through the API; returns its id and the page links of O (owner olivia), A (alice) and B (bob). */
/** The hub invocations (message type 1) in a JSON-protocol frame: records ended by U+001E (the handshake is not one). */
function invocationsIn(payload) {
  if (typeof payload !== 'string') return [];
  return payload.split('\u001e').filter((record) => record.length > 0).flatMap((record) => {
    try {
      const message = JSON.parse(record);
      return message.type === 1 ? [{ target: message.target, arguments: message.arguments }] : [];
    } catch {
      return [];
    }
  });
}

export async function createRoom(name, menu) {
  const created = await api('POST', '/api/rooms', { name, menu });
  return {
    id: created.roomId,
    owner: await memberLink(created.roomId, 'olivia', 'Olivia', 'owner'),
    a: await memberLink(created.roomId, 'alice', 'Alice'),
    b: await memberLink(created.roomId, 'bob', 'Bob'),
  };
}

export async function waitLive(page, label, timeout = STEP_TIMEOUT_MS) {
  await page.waitForFunction(() => document.body.dataset.status === 'live' && document.body.dataset.replica, null, { timeout })
    .catch((e) => { throw new Error(`${label} did not become live within ${timeout} ms (status ${e.message.includes('Timeout') ? 'stuck' : e.message})`); });
}

export function waitFor(page, label, what, fn, arg, timeout = STEP_TIMEOUT_MS) {
  return page.waitForFunction(fn, arg, { timeout }).catch(() => {
    throw new Error(`${label}: timed out after ${timeout} ms waiting for ${what}`);
  });
}

export async function shot(page, name) {
  if (!SCREENSHOT_DIR) return;
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}
