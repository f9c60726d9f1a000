#!/usr/bin/env node
// Steady-write load: replica CPU per delivered RoomEvent, through nginx, with the official
// @microsoft/signalr client. See eng/bench/README.md.
//
//   node eng/bench/steady-writes.mjs --repo DIR [--replicas 2] [--rooms 100] [--members 8]
//        [--rate 250] [--duration 30] [--warmup 5] [--settle 3] [--idle 5] [--drain 10] [--menu-items 4]
//        [--configuration Release] [--no-build] [--nginx-worker-connections auto|keep|N]
//        [--connect-concurrency 32] [--label TEXT]
//
// Env: BENCH_CLUSTER_ENV=path/to/cluster.env  reuse a running cluster (not started, not stopped)
//      ROOMSHARE_CLUSTER_DIR                   state dir of the cluster this script starts
//                                               (default: a fresh temp dir)
//      SIGNALR_NODE_MODULES                    a node_modules dir holding @microsoft/signalr
//
// Output: progress on stderr, a human table on stderr, ONE JSON summary line on stdout.
// Exit 0 when the run completed (loss is reported, not fatal), 1 on a setup failure, 2 on the
// hard time limit.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, openSync, closeSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

// --- arguments ----------------------------------------------------------------------------------

const LIMITS = { maxConnections: 5000, maxDuration: 600, maxRate: 5000, maxRooms: 2000, maxMembers: 64 };

function parseArgs(argv) {
  const o = {
    repo: null, replicas: 2, rooms: 100, members: 8, rate: 250, duration: 30, warmup: 5, idle: 5, settle: 3,
    drain: 10, menuItems: 4, configuration: "Release", build: true, nginxWorkerConnections: "auto",
    connectConcurrency: 32, label: "",
  };
  const num = (name, v, min, max) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case "--repo": o.repo = next(); break;
      case "--replicas": o.replicas = num("replicas", next(), 1, 16); break;
      case "--rooms": o.rooms = num("rooms", next(), 1, LIMITS.maxRooms); break;
      case "--members": o.members = num("members", next(), 1, LIMITS.maxMembers); break;
      case "--rate": o.rate = num("rate", next(), 1, LIMITS.maxRate); break;
      case "--duration": o.duration = num("duration", next(), 1, LIMITS.maxDuration); break;
      case "--warmup": o.warmup = num("warmup", next(), 0, 120); break;
      case "--idle": o.idle = num("idle", next(), 0, 120); break;
      case "--settle": o.settle = num("settle", next(), 0, 120); break;
      case "--drain": o.drain = num("drain", next(), 1, 120); break;
      case "--menu-items": o.menuItems = num("menu-items", next(), 1, 200); break;
      case "--configuration": o.configuration = next(); break;
      case "--no-build": o.build = false; break;
      case "--nginx-worker-connections": o.nginxWorkerConnections = next(); break;
      case "--connect-concurrency": o.connectConcurrency = num("connect-concurrency", next(), 1, 256); break;
      case "--label": o.label = next(); break;
      case "-h": case "--help":
        process.stderr.write(readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 17).join("\n") + "\n");
        process.exit(0);
        break;
      default:
        if (!a.startsWith("-") && !o.repo) { o.repo = a; break; }
        throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.repo) throw new Error("--repo DIR is required (the repo whose eng/cluster.sh to use)");
  o.repo = path.resolve(o.repo);
  if (o.rooms * o.members > LIMITS.maxConnections) {
    throw new Error(`rooms × members = ${o.rooms * o.members} connections; the limit is ${LIMITS.maxConnections}`);
  }
  if (!/^(auto|keep|\d+)$/.test(o.nginxWorkerConnections)) throw new Error("--nginx-worker-connections: auto | keep | N");
  return o;
}

const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- @microsoft/signalr from the repo's tests/js ------------------------------------------------

function loadSignalR(repo) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    process.env.SIGNALR_NODE_MODULES,
    path.join(repo, "tests/js/node_modules"),
    path.resolve(here, "../../tests/js/node_modules"),
  ].filter(Boolean);
  for (const dir of candidates) {
    if (existsSync(path.join(dir, "@microsoft/signalr/package.json"))) {
      const req = createRequire(path.join(dir, "noop.js"));
      const version = JSON.parse(readFileSync(path.join(dir, "@microsoft/signalr/package.json"), "utf8")).version;
      return { signalR: req("@microsoft/signalr"), from: dir, version };
    }
  }
  throw new Error(`@microsoft/signalr not found in ${candidates.join(", ")} (run npm ci in tests/js; this script downloads nothing)`);
}

// --- /proc ----------------------------------------------------------------------------------------

const CLK_TCK = 100; // Linux USER_HZ; `getconf CLK_TCK` is 100 on every mainstream kernel config

function procTicks(pid) { // utime+stime of the whole process (all threads), or null if gone
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[0] is field 3
    return Number(f[11]) + Number(f[12]); // fields 14 utime, 15 stime
  } catch {
    return null;
  }
}

function childrenOf(ppid) {
  const out = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[1]) === ppid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

function boxTicks() { // aggregate cpu line of /proc/stat: [busy, total]
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq + steal;
  return [busy, busy + idle + iowait];
}

const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim().split(" ").slice(0, 3).map(Number);

function cpuSample(procs) {
  const t = performance.now();
  const ticks = {};
  for (const p of procs) ticks[p.key] = procTicks(p.pid);
  return { t, ticks, box: boxTicks() };
}

function cpuDelta(procs, a, b) {
  const seconds = (b.t - a.t) / 1000;
  const perProc = {};
  for (const p of procs) {
    const x = a.ticks[p.key], y = b.ticks[p.key];
    perProc[p.key] = x == null || y == null ? null : (y - x) / CLK_TCK; // cpu seconds
  }
  const boxBusy = (b.box[0] - a.box[0]) / CLK_TCK;
  return { seconds, perProc, boxBusyCores: boxBusy / seconds };
}

// --- cluster --------------------------------------------------------------------------------------

function readEnvFile(file) {
  const env = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

function runClusterScript(repo, stateDir, args, logFile, timeoutMs) {
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, "a");
    const child = spawn("bash", [path.join(repo, "eng/cluster.sh"), ...args], {
      cwd: repo,
      env: { ...process.env, ROOMSHARE_CLUSTER_DIR: stateDir },
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    const timer = setTimeout(() => {
      child.kill("SIGTERM"); // only our own cluster.sh, by its pid
      reject(new Error(`eng/cluster.sh ${args[0]} did not finish within ${timeoutMs / 1000}s; see ${logFile}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`eng/cluster.sh ${args.join(" ")} exited ${code}; see ${logFile}`));
    });
  });
}

async function http(baseUrl, apiKey, method, urlPath, body) {
  const res = await fetch(baseUrl + urlPath, {
    method,
    headers: { "X-Api-Key": apiKey, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${urlPath} → ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : null;
}

async function pool(items, concurrency, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

// Every WebSocket holds two sockets in nginx, so the generated loopback nginx.conf's
// `worker_connections` (16384 in the template; it was 1024) bounds the clients. Raise it in the
// generated file when a run needs more (the state dir, never the repo) and reload nginx (HUP: same
// master pid, new workers).
async function maybeRaiseNginxConnections(stateDir, nginxPid, connections, setting, baseUrl) {
  const conf = path.join(stateDir, "nginx/nginx.conf");
  const text = readFileSync(conf, "utf8");
  const m = /worker_connections\s+(\d+);/.exec(text);
  const current = m ? Number(m[1]) : null;
  const needed = 2 * connections + 256;
  if (setting === "keep" || current == null) return { from: current, to: current, patched: false, needed };
  const target = setting === "auto" ? (current >= needed ? current : Math.max(4096, needed)) : Number(setting);
  if (target === current) return { from: current, to: current, patched: false, needed };
  writeFileSync(conf, text.replace(/worker_connections\s+\d+;/, `worker_connections ${target};`));
  const before = new Set(childrenOf(nginxPid));
  process.kill(nginxPid, "SIGHUP");
  const deadline = performance.now() + 15_000;
  for (;;) {
    const now = childrenOf(nginxPid);
    if (now.length > 0 && now.every((p) => !before.has(p))) break;
    if (performance.now() > deadline) throw new Error("nginx did not replace its workers after the reload");
    await sleep(100);
  }
  const res = await fetch(baseUrl + "/readyz", { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`nginx /readyz ${res.status} after the reload`);
  return { from: current, to: target, patched: true, needed };
}

// --- statistics -----------------------------------------------------------------------------------

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}
function summarize(values) {
  const s = Float64Array.from(values).sort();
  const r = (x) => (x == null ? null : Math.round(x * 100) / 100);
  return { n: s.length, p50: r(pct(s, 50)), p90: r(pct(s, 90)), p99: r(pct(s, 99)), max: r(s.length ? s[s.length - 1] : null) };
}

// --- main -----------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { signalR, from: signalrFrom, version: signalrVersion } = loadSignalR(o.repo);
  const { HubConnectionBuilder, HttpTransportType, LogLevel } = signalR;
  const connections = o.rooms * o.members;
  const runId = Math.random().toString(36).slice(2, 8);

  // Hard limit: setup (cluster, rooms, connections) + phases + teardown.
  const hardLimitMs = (180 + connections * 0.05 + o.settle + o.idle + o.warmup + o.duration + o.drain + 60) * 1000;

  const cleanup = []; // run in reverse on exit
  let cleaned = false;
  async function runCleanup() {
    if (cleaned) return;
    cleaned = true;
    for (const fn of cleanup.reverse()) {
      try { await fn(); } catch (err) { log(`cleanup: ${err.message}`); }
    }
  }
  const hardTimer = setTimeout(async () => {
    log(`hard time limit (${Math.round(hardLimitMs / 1000)}s) reached; tearing down`);
    await runCleanup();
    process.exit(2);
  }, hardLimitMs);
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      log(`${sig}: tearing down`);
      await runCleanup();
      process.exit(130);
    });
  }

  try {
    const loadBefore = loadavg();
    // 1. Cluster.
    let env, stateDir = null, started = false;
    if (process.env.BENCH_CLUSTER_ENV) {
      env = readEnvFile(process.env.BENCH_CLUSTER_ENV);
      stateDir = path.dirname(process.env.BENCH_CLUSTER_ENV);
      log(`reusing the cluster of ${process.env.BENCH_CLUSTER_ENV} (not stopped at the end)`);
    } else {
      stateDir = process.env.ROOMSHARE_CLUSTER_DIR || mkdtempSync(path.join(tmpdir(), "roomshare-bench-"));
      const logFile = path.join(path.dirname(stateDir), `${path.basename(stateDir)}.cluster-script.log`);
      const upArgs = ["up", String(o.replicas), "--configuration", o.configuration];
      if (!o.build) upArgs.push("--no-build");
      log(`${o.repo}/eng/cluster.sh ${upArgs.join(" ")} (state ${stateDir}, log ${logFile})`);
      cleanup.push(async () => {
        log("eng/cluster.sh down");
        await runClusterScript(o.repo, stateDir, ["down"], logFile, 60_000);
      });
      started = true;
      await runClusterScript(o.repo, stateDir, upArgs, logFile, 300_000);
      env = readEnvFile(path.join(stateDir, "cluster.env"));
    }
    const baseUrl = env.BASE_URL, apiKey = env.API_KEY;
    const replicaPids = (env.REPLICA_PIDS || "").split(",").filter(Boolean).map((x) => {
      const [name, pid] = x.split(":");
      return { name, pid: Number(pid) };
    });
    const nginxPid = Number(env.NGINX_PID);
    const redisPid = Number(env.REDIS_PID);
    log(`cluster: ${baseUrl}, replicas ${replicaPids.map((r) => `${r.name}:${r.pid}`).join(" ")}, nginx ${nginxPid}, redis ${redisPid}`);

    const nginxPatch = started
      ? await maybeRaiseNginxConnections(stateDir, nginxPid, connections, o.nginxWorkerConnections, baseUrl)
      : { patched: false, note: "reused cluster: nginx config untouched" };
    if (nginxPatch.patched) log(`nginx worker_connections ${nginxPatch.from} → ${nginxPatch.to} (generated conf in the state dir; ${connections} clients need ~${nginxPatch.needed})`);

    // 2. Rooms and tokens.
    const menu = Array.from({ length: o.menuItems }, (_, k) => ({ id: `m${k}`, name: `Dish ${k}`, priceMinor: 500 + k * 100 }));
    const rooms = new Array(o.rooms);
    const tSetup = performance.now();
    await pool([...Array(o.rooms).keys()], 16, async (r) => {
      const created = await http(baseUrl, apiKey, "POST", "/api/rooms", { name: `bench ${runId} ${r}`, menu });
      const members = new Array(o.members);
      for (let m = 0; m < o.members; m++) {
        const memberId = `b${m}`;
        const t = await http(baseUrl, apiKey, "POST", `/api/rooms/${encodeURIComponent(created.roomId)}/tokens`,
          { memberId, displayName: `Bench ${m}`, role: "member" });
        members[m] = { memberId, token: t.token };
      }
      rooms[r] = { roomId: created.roomId, members };
    });
    log(`created ${o.rooms} rooms and ${connections} tokens in ${((performance.now() - tSetup) / 1000).toFixed(1)}s`);

    // 3. Connections. Every client counts each choice event by opId.
    const warnings = { count: 0, samples: [] };
    const logger = {
      log(level, message) {
        if (level >= LogLevel.Warning) {
          warnings.count++;
          if (warnings.samples.length < 5) warnings.samples.push(String(message).slice(0, 200));
        }
      },
    };
    const changeByOp = new Map(); // opId -> change index
    let changes = []; // filled by the sender
    const deliveries = []; // receive timestamps (ms, performance.now) of every choice delivery
    const counters = { unknownOp: 0, outOfOrder: 0, gaps: 0, closed: 0, otherEvents: 0, phase: "connect", samples: [] };
    const perReplica = {};
    const clients = [];
    const tConnect = performance.now();
    const flat = [];
    for (let r = 0; r < o.rooms; r++) for (let m = 0; m < o.members; m++) flat.push([r, m]);
    cleanup.push(async () => {
      log(`stopping ${clients.length} connections`);
      await Promise.race([Promise.allSettled(clients.map((c) => c.conn.stop())), sleep(15_000)]);
    });
    let connectFailures = 0;
    await pool(flat, o.connectConcurrency, async ([r, m]) => {
      const room = rooms[r];
      const conn = new HubConnectionBuilder()
        .withUrl(`${baseUrl}/hubs/room`, {
          accessTokenFactory: () => room.members[m].token,
          skipNegotiation: true,
          transport: HttpTransportType.WebSockets,
        })
        .configureLogging(logger)
        .build();
      conn.serverTimeoutInMilliseconds = 60_000;
      const client = { conn, r, m, lastVersion: -1 };
      conn.on("RoomEvent", (e) => {
        const now = performance.now();
        if (client.lastVersion >= 0) {
          if (e.version <= client.lastVersion) {
            counters.outOfOrder++;
            if (counters.samples.length < 8) counters.samples.push({ phase: counters.phase, type: e.type, version: e.version, last: client.lastVersion, r: client.r, m: client.m });
          } else if (e.version > client.lastVersion + 1) {
            counters.gaps++;
            if (counters.samples.length < 8) counters.samples.push({ phase: counters.phase, gap: true, type: e.type, version: e.version, last: client.lastVersion, r: client.r, m: client.m });
          }
        }
        if (e.version > client.lastVersion) client.lastVersion = e.version;
        if (e.type !== "choice") { counters.otherEvents++; return; }
        const idx = changeByOp.get(e.opId);
        if (idx === undefined) { counters.unknownOp++; return; }
        const c = changes[idx];
        c.recv[m]++;
        if (c.recv[m] === 1) c.lat[m] = now - c.intended;
        deliveries.push(now);
      });
      conn.on("Position", () => {});
      conn.on("Presence", () => {});
      conn.onclose(() => { counters.closed++; });
      try {
        await conn.start();
        const join = await conn.invoke("Join", room.roomId, null);
        client.lastVersion = Math.max(client.lastVersion, join.position.version);
        perReplica[join.replica] = (perReplica[join.replica] || 0) + 1;
        clients.push(client);
        room.members[m].client = client;
      } catch (err) {
        connectFailures++;
        if (connectFailures <= 3) log(`connect/join failed (room ${r} member ${m}): ${err.message ?? err}`);
        try { await conn.stop(); } catch { /* ignore */ }
      }
    });
    const connectSeconds = (performance.now() - tConnect) / 1000;
    log(`connected and joined ${clients.length}/${connections} in ${connectSeconds.toFixed(1)}s; per replica ${JSON.stringify(perReplica)}`);
    if (connectFailures > 0) throw new Error(`${connectFailures} of ${connections} connections failed to connect or join`);
    // Ordering is checked from here on; what happened while members were still joining is kept apart.
    // While joining, a live event at or below the position a Join returned is expected (DESIGN: the
    // client drops it), so those are only counted, as staleAfterJoin.
    const connectPhase = { staleAfterJoin: counters.outOfOrder, gaps: counters.gaps, closed: counters.closed };
    Object.assign(counters, { outOfOrder: 0, gaps: 0, closed: 0, otherEvents: 0, phase: "writes", samples: [] });

    // Processes whose CPU is measured. nginx workers are the master's children (after any reload).
    const procs = [
      ...replicaPids.map((r) => ({ key: `replica ${r.name}`, pid: r.pid, kind: "replica" })),
      { key: "nginx master", pid: nginxPid, kind: "nginx" },
      ...childrenOf(nginxPid).map((pid, i) => ({ key: `nginx worker ${i + 1}`, pid, kind: "nginx" })),
      { key: "redis-server", pid: redisPid, kind: "redis" },
      { key: "bench (node)", pid: process.pid, kind: "bench" },
    ];

    // 4. Settle: joins fan out member and presence events; let them finish before writing.
    await sleep(o.settle * 1000);

    // 5. Open-loop writes: change i is due at t0 + i/rate, in room i mod rooms, by member
    //    floor(i/rooms) mod members, on menu item and quantity that always differ from that
    //    member's current one (a write that changes nothing sends no event).
    const total = Math.round((o.warmup + o.duration) * o.rate);
    const warmupCount = Math.round(o.warmup * o.rate);
    changes = new Array(total);
    const lastQty = new Map();
    const ackLat = [], sendLag = [];
    const errors = {};
    let acked = 0, failed = 0, inflight = 0, maxInflight = 0;
    const eld = monitorEventLoopDelay({ resolution: 1 });
    const t0 = performance.now() + 200;
    const intervalMs = 1000 / o.rate;
    const winStart = t0 + warmupCount * intervalMs;
    const winEnd = t0 + total * intervalMs;
    let cpuA = null, cpuB = null, loadAtWindow = null;

    log(`sending ${total} changes at ${o.rate}/s (${o.warmup}s warm-up + ${o.duration}s measured)`);
    await new Promise((resolveSend) => {
      let i = 0;
      const tick = () => {
        const now = performance.now();
        if (cpuA === null && now >= winStart) { cpuA = cpuSample(procs); loadAtWindow = loadavg(); eld.enable(); }
        while (i < total && t0 + i * intervalMs <= now) {
          sendOne(i, t0 + i * intervalMs);
          i++;
        }
        if (i >= total) {
          // The window closes at its intended end, not when the last send happened.
          const wait = Math.max(0, winEnd - performance.now());
          setTimeout(() => { cpuB = cpuSample(procs); eld.disable(); resolveSend(); }, wait);
          return;
        }
        setTimeout(tick, Math.max(0, t0 + i * intervalMs - performance.now()));
      };
      setTimeout(tick, Math.max(0, t0 - performance.now()));
    });
    if (cpuA === null) cpuA = cpuB; // zero-length window guard (not reachable with duration >= 1)

    function sendOne(i, intended) {
      const r = i % o.rooms;
      const m = Math.floor(i / o.rooms) % o.members;
      const room = rooms[r];
      const client = room.members[m].client;
      const k = Math.floor(i / (o.rooms * o.members)); // this member's k-th change
      const menuId = menu[k % menu.length].id;
      const key = `${r}:${m}:${menuId}`;
      const qty = ((lastQty.get(key) ?? 0) % 99) + 1;
      lastQty.set(key, qty);
      const opId = `${runId}-${i}`;
      changes[i] = { intended, recv: new Uint8Array(o.members), lat: new Float64Array(o.members).fill(NaN), acked: false };
      changeByOp.set(opId, i);
      const sent = performance.now();
      if (i >= warmupCount) sendLag.push(sent - intended);
      inflight++;
      if (inflight > maxInflight) maxInflight = inflight;
      client.conn.invoke("SetChoice", room.roomId, menuId, qty, opId).then(
        () => {
          inflight--;
          acked++;
          changes[i].acked = true;
          if (i >= warmupCount) ackLat.push(performance.now() - sent);
        },
        (err) => {
          inflight--;
          failed++;
          changes[i].failed = true;
          const code = /HubException: ([a-z_]+):/.exec(String(err?.message))?.[1] ?? String(err?.message ?? err).slice(0, 80);
          errors[code] = (errors[code] || 0) + 1;
        },
      );
    }

    counters.phase = "drain";
    // 6. Drain: wait (bounded) until every acknowledged change reached every member.
    const tDrain = performance.now();
    const outstanding = () => {
      let n = 0;
      for (const c of changes) if (c && !c.failed) for (let m = 0; m < o.members; m++) if (c.recv[m] === 0) n++;
      return n;
    };
    while (performance.now() - tDrain < o.drain * 1000 && (inflight > 0 || outstanding() > 0)) await sleep(100);
    const drainSeconds = (performance.now() - tDrain) / 1000;

    // 7. Idle window, after the load (JIT warm, every member still connected, nothing written):
    //    the fixed cost of ticks, Position pushes (fewer since 2026-12-04) and presence leases.
    let idle = null;
    if (o.idle > 0) {
      counters.phase = "idle";
      await sleep(1000);
      const a = cpuSample(procs);
      await sleep(o.idle * 1000);
      const b = cpuSample(procs);
      idle = cpuDelta(procs, a, b);
      log(`idle ${o.idle}s: replicas ${(sumKind(procs, idle, "replica") / idle.seconds).toFixed(3)} cores`);
    }

    // 8. Results.
    const cpu = cpuDelta(procs, cpuA, cpuB);
    const deliveredInWindow = deliveries.reduce((n, t) => (t >= cpuA.t && t <= cpuB.t ? n + 1 : n), 0);
    let missing = 0, dup = 0, missingWindow = 0, dupWindow = 0, missingAcked = 0;
    const fanout = [];
    for (let i = 0; i < total; i++) {
      const c = changes[i];
      for (let m = 0; m < o.members; m++) {
        const n = c.recv[m];
        if (n === 0) { missing++; if (i >= warmupCount) missingWindow++; if (c.acked) missingAcked++; }
        if (n > 1) { dup += n - 1; if (i >= warmupCount) dupWindow += n - 1; }
        if (i >= warmupCount && n > 0) fanout.push(c.lat[m]);
      }
    }
    const replicaCpu = sumKind(procs, cpu, "replica");
    const perProcCores = Object.fromEntries(procs.map((p) => [p.key, cpu.perProc[p.key] == null ? null : round(cpu.perProc[p.key] / cpu.seconds, 3)]));
    const elds = { p50: round(eld.percentile(50) / 1e6, 2), p99: round(eld.percentile(99) / 1e6, 2), max: round(eld.max / 1e6, 2) };
    const summary = {
      bench: "steady-writes",
      label: o.label || undefined,
      repo: o.repo,
      commit: gitHead(o.repo),
      configuration: started ? o.configuration : env.CONFIGURATION,
      replicas: replicaPids.length,
      rooms: o.rooms,
      members: o.members,
      connections: clients.length,
      perReplicaConnections: perReplica,
      rate: o.rate,
      warmupSeconds: o.warmup,
      settleSeconds: o.settle,
      windowSeconds: round(cpu.seconds, 3),
      changesSent: total,
      changesInWindow: total - warmupCount,
      acked,
      failed,
      errors,
      deliveriesInWindow: deliveredInWindow,
      deliveriesPerSecond: round(deliveredInWindow / cpu.seconds, 1),
      expectedDeliveriesPerSecond: o.rate * o.members,
      replicaCpuCores: round(replicaCpu / cpu.seconds, 3),
      replicaCpuMicrosPerEvent: deliveredInWindow ? round((replicaCpu * 1e6) / deliveredInWindow, 2) : null,
      replicaCpuMicrosPerChange: round((replicaCpu * 1e6) / (total - warmupCount), 1),
      nginxCpuCores: round(sumKind(procs, cpu, "nginx") / cpu.seconds, 3),
      redisCpuCores: round(sumKind(procs, cpu, "redis") / cpu.seconds, 3),
      benchCpuCores: round(sumKind(procs, cpu, "bench") / cpu.seconds, 3),
      boxBusyCores: round(cpu.boxBusyCores, 3),
      boxOtherCores: round(cpu.boxBusyCores - (replicaCpu + sumKind(procs, cpu, "nginx") + sumKind(procs, cpu, "redis") + sumKind(procs, cpu, "bench")) / cpu.seconds, 3),
      perProcessCores: perProcCores,
      idleReplicaCpuCores: idle ? round(sumKind(procs, idle, "replica") / idle.seconds, 3) : null,
      fanoutMs: summarize(fanout),
      ackMs: summarize(ackLat),
      sendLagMs: summarize(sendLag),
      clientEventLoopDelayMs: elds,
      maxInflight,
      loss: { missing, dup, missingInWindow: missingWindow, dupInWindow: dupWindow, missingOfAcked: missingAcked },
      order: { outOfOrder: counters.outOfOrder, gaps: counters.gaps, duringConnect: connectPhase, samples: counters.samples },
      unknownOpEvents: counters.unknownOp,
      connectionsClosedDuringRun: counters.closed,
      clientWarnings: warnings,
      drainSeconds: round(drainSeconds, 2),
      connectSeconds: round(connectSeconds, 1),
      nginx: nginxPatch,
      loadavgBefore: loadBefore,
      loadavgAtWindow: loadAtWindow,
      loadavgAfter: loadavg(),
      signalr: { version: signalrVersion, from: signalrFrom },
      node: process.version,
      at: new Date().toISOString(),
    };

    await runCleanup();
    clearTimeout(hardTimer);
    printTable(summary);
    process.stdout.write(JSON.stringify(summary) + "\n", () => process.exit(0));
  } catch (err) {
    log(`FAILED: ${err.stack ?? err}`);
    await runCleanup();
    clearTimeout(hardTimer);
    process.stdout.write(JSON.stringify({ bench: "steady-writes", ok: false, error: String(err?.message ?? err) }) + "\n", () => process.exit(1));
  }
}

function sumKind(procs, delta, kind) {
  let s = 0;
  for (const p of procs) if (p.kind === kind && delta.perProc[p.key] != null) s += delta.perProc[p.key];
  return s;
}
function round(x, d) {
  if (x == null || !Number.isFinite(x)) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
function gitHead(repo) {
  try {
    const head = readFileSync(path.join(repo, ".git/HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 12);
    const ref = head.slice(5);
    const refFile = path.join(repo, ".git", ref);
    if (existsSync(refFile)) return readFileSync(refFile, "utf8").trim().slice(0, 12);
    const packed = readFileSync(path.join(repo, ".git/packed-refs"), "utf8").split("\n").find((l) => l.endsWith(" " + ref));
    return packed ? packed.slice(0, 12) : null;
  } catch {
    return null;
  }
}

function printTable(s) {
  const rows = [
    ["repo", `${s.repo} @ ${s.commit} (${s.configuration})`],
    ["shape", `${s.replicas} replicas, ${s.rooms} rooms × ${s.members} members = ${s.connections} connections ${JSON.stringify(s.perReplicaConnections)}`],
    ["rate", `${s.rate} changes/s, window ${s.windowSeconds}s after ${s.warmupSeconds}s warm-up; acked ${s.acked}, failed ${s.failed} ${JSON.stringify(s.errors)}`],
    ["deliveries", `${s.deliveriesInWindow} in window = ${s.deliveriesPerSecond}/s (expected ${s.expectedDeliveriesPerSecond}/s)`],
    ["replica CPU", `${s.replicaCpuCores} cores (idle ${s.idleReplicaCpuCores}) → ${s.replicaCpuMicrosPerEvent} µs/event, ${s.replicaCpuMicrosPerChange} µs/change`],
    ["other CPU", `nginx ${s.nginxCpuCores}, redis ${s.redisCpuCores}, bench ${s.benchCpuCores}, whole box ${s.boxBusyCores} cores (of which not these processes ${s.boxOtherCores})`],
    ["fan-out ms", `p50 ${s.fanoutMs.p50}  p99 ${s.fanoutMs.p99}  max ${s.fanoutMs.max}  (n ${s.fanoutMs.n})`],
    ["ack ms", `p50 ${s.ackMs.p50}  p99 ${s.ackMs.p99}  max ${s.ackMs.max}`],
    ["client", `send lag p99 ${s.sendLagMs.p99} max ${s.sendLagMs.max} ms; event-loop delay p99 ${s.clientEventLoopDelayMs.p99} max ${s.clientEventLoopDelayMs.max} ms`],
    ["loss", `missing ${s.loss.missing} (window ${s.loss.missingInWindow}), dup ${s.loss.dup}, out-of-order ${s.order.outOfOrder}, gaps ${s.order.gaps}, closed ${s.connectionsClosedDuringRun}`],
    ["loadavg", `before ${s.loadavgBefore.join(" ")}, at window ${s.loadavgAtWindow?.join(" ")}, after ${s.loadavgAfter.join(" ")}`],
  ];
  const lines = ["", "steady-writes"];
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(12)} ${v}`);
  lines.push("  per process (cores): " + Object.entries(s.perProcessCores).map(([k, v]) => `${k} ${v}`).join(", "));
  if (s.nginx.patched) lines.push(`  note: nginx worker_connections raised ${s.nginx.from} → ${s.nginx.to} in the generated conf`);
  process.stderr.write(lines.join("\n") + "\n\n");
}

main();
