#!/usr/bin/env bash
# Runs eng/bench/steady-writes.mjs over a small matrix against one repo and collects the JSON lines.
#
#   eng/bench/run.sh REPO [OUT.jsonl]
#
# Env: RATES (default "250 500"), REPEATS (default 2), BENCH_ARGS (extra arguments for every run,
#      e.g. "--no-build --duration 30"). Each run starts and stops its own cluster.
# The load average is printed before each run (and recorded in each JSON line).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -ge 1 ]] || { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
REPO="$(cd "$1" && pwd)"
OUT="${2:-$(mktemp -t steady-writes.XXXXXX.jsonl)}"
RATES="${RATES:-250 500}"
REPEATS="${REPEATS:-2}"
read -r -a EXTRA <<<"${BENCH_ARGS:-}"

for ((rep = 1; rep <= REPEATS; rep++)); do
    for rate in $RATES; do
        echo "run.sh: rate $rate, repeat $rep; loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >&2
        node "$HERE/steady-writes.mjs" --repo "$REPO" --rate "$rate" --label "rate=$rate rep=$rep" "${EXTRA[@]}" >>"$OUT" \
            || echo "run.sh: run failed (rate $rate, repeat $rep); see the line in $OUT" >&2
        # Only the first run builds; the rest reuse it.
        if [[ " ${EXTRA[*]} " != *" --no-build "* ]]; then EXTRA+=(--no-build); fi
    done
done

node - "$OUT" <<'JS'
const fs = require("fs");
const rows = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const cols = ["label", "rate", "deliv/s", "replica cores", "µs/event", "fan-out p50", "fan-out p99", "ack p99", "missing", "dup", "box cores", "loadavg@window"];
const out = [cols];
for (const r of rows) {
  if (r.ok === false) { out.push([`FAILED: ${r.error}`]); continue; }
  out.push([r.label ?? "", r.rate, r.deliveriesPerSecond, r.replicaCpuCores, r.replicaCpuMicrosPerEvent, r.fanoutMs.p50, r.fanoutMs.p99,
    r.ackMs.p99, r.loss.missing, r.loss.dup, r.boxBusyCores, (r.loadavgAtWindow ?? []).join(" ")].map(String));
}
const w = cols.map((_, i) => Math.max(...out.map((row) => (row[i] ?? "").length)));
for (const row of out) console.log(row.map((c, i) => (c ?? "").padEnd(w[i])).join("  "));
console.log(`(JSON lines: ${process.argv[2]})`);
JS
