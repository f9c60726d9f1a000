// Fixture for the test kit's own NodeScript tests (RoomServer.Tests/TestKit): a log line, then one
// JSON line echoing KIT_ECHO; with KIT_HANG=1 it never exits, to prove the timeout kills it.
console.log("a log line that is not JSON");
console.error("a line on stderr");
if (process.env.KIT_HANG === "1") {
  setInterval(() => {}, 1000);
} else {
  console.log(JSON.stringify({ ok: true, echo: process.env.KIT_ECHO ?? null }));
  process.exitCode = Number(process.env.KIT_EXIT ?? 0);
}
