// Driver: the official @microsoft/signalr client under Node, run by RoomServer.Tests (NodeScript).
// Proves a real client can join a room, set a choice, see its RoomEvent, and get a coded error.
//
// Env: BASE_URL (e.g. http://127.0.0.1:5000), TOKEN (member JWT), ROOM_ID, MENU_ID (a valid menu id),
//      MODE = default (negotiate, any transport) | websockets-skip (skipNegotiation + WebSockets),
//      OP_ID (optional, default "node-op-1": a retried opId is idempotent, so a second run with the
//      same member and opId gets no new event — pass a fresh one to run twice in one room).
// Output: ONE final JSON line on stdout, exit 0 on success, 1 on failure:
//   {"ok":true,"joinVersion":n,"ackVersion":n,"eventVersion":n,"replica":"...","transport":"...","unknownMenuError":"..."}
//   {"ok":false,"error":"...","stage":"..."}
import { HttpTransportType, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";

const OVERALL_TIMEOUT_MS = 15_000;
let stage = "start";

function finish(code, result) {
  // Write, then exit once the line is flushed: the caller parses it.
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
}

function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
}

// The first RoomEvent matching predicate, whether it arrived before or after this call.
function eventWaiter(connection) {
  const received = [];
  const waiters = [];
  connection.on("RoomEvent", (e) => {
    received.push(e);
    for (const w of [...waiters]) {
      if (w.predicate(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  return {
    received,
    next(predicate) {
      const seen = received.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

// Named like HttpTransportType: WebSockets | ServerSentEvents | LongPolling.
function transportName(connection, mode) {
  // HubConnection keeps its HttpConnection in a private field; its transport's class names it.
  const names = {
    WebSocketTransport: "WebSockets",
    ServerSentEventsTransport: "ServerSentEvents",
    LongPollingTransport: "LongPolling",
  };
  const name = connection.connection?.transport?.constructor?.name;
  if (name) return names[name] ?? name;
  return mode === "websockets-skip" ? "WebSockets" : "unknown";
}

async function main() {
  const baseUrl = requireEnv("BASE_URL").replace(/\/+$/, "");
  const token = requireEnv("TOKEN");
  const roomId = requireEnv("ROOM_ID");
  const menuId = requireEnv("MENU_ID");
  const mode = process.env.MODE || "default";
  const opId = process.env.OP_ID || "node-op-1";

  const options = { accessTokenFactory: () => token };
  if (mode === "websockets-skip") {
    options.skipNegotiation = true;
    options.transport = HttpTransportType.WebSockets;
  } else if (mode !== "default") {
    throw new Error(`unknown MODE ${mode} (default | websockets-skip)`);
  }

  const connection = new HubConnectionBuilder()
    .withUrl(`${baseUrl}/hubs/room`, options)
    .configureLogging(LogLevel.Warning) // warnings and errors go to stderr
    .build();
  const events = eventWaiter(connection);
  // Handlers for the other server-to-client targets, so the client does not warn about them.
  connection.on("Position", () => {});
  connection.on("Presence", () => {});

  stage = "connect";
  await connection.start();
  const transport = transportName(connection, mode);

  stage = "Join";
  const join = await connection.invoke("Join", roomId, null);
  const joinVersion = join.position.version;

  stage = "SetChoice";
  const ack = await connection.invoke("SetChoice", roomId, menuId, 2, opId);

  stage = "RoomEvent choice";
  const event = await events.next(
    (e) => e.type === "choice" && e.menuId === menuId && e.quantity === 2 && e.version >= ack.version,
  );

  stage = "SetChoice unknown menu";
  let unknownMenuError;
  try {
    await connection.invoke("SetChoice", roomId, "no-such-menu-item", 1, `${opId}-unknown`);
  } catch (err) {
    unknownMenuError = String(err?.message ?? err);
  }
  if (!unknownMenuError) throw new Error("SetChoice with an unknown menu id succeeded");
  if (!unknownMenuError.includes("unknown_menu_item")) {
    throw new Error(`SetChoice with an unknown menu id failed without unknown_menu_item: ${unknownMenuError}`);
  }

  stage = "stop";
  await connection.stop();
  return {
    ok: true,
    joinVersion,
    ackVersion: ack.version,
    eventVersion: event.version,
    replica: join.replica,
    transport,
    unknownMenuError,
  };
}

const timer = setTimeout(
  () => finish(1, { ok: false, error: `timed out after ${OVERALL_TIMEOUT_MS / 1000}s`, stage }),
  OVERALL_TIMEOUT_MS,
);
main().then(
  (result) => {
    clearTimeout(timer);
    finish(0, result);
  },
  (err) => {
    clearTimeout(timer);
    finish(1, { ok: false, error: String(err?.message ?? err), stage });
  },
);
