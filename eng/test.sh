#!/usr/bin/env bash
# eng/test.sh — the one test command (README, CI).
# Installs what the tests need when it is missing (redis-server, nginx, node/npm, chromium,
# docker-compose, curl: Debian packages, as root; Node 20 from npm where Debian's is older), restores the JS test drivers, builds the solution
# (which builds the web client with npm), runs every suite, and ends with one line of totals:
#   N passed, M failed
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Contract").
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

install_missing_tools() {
  local packages=()
  command -v redis-server >/dev/null || packages+=(redis-server)
  command -v redis-cli >/dev/null || packages+=(redis-tools)  # redis-cli --cluster create (Redis Cluster tests)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || packages+=(nginx-light)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  command -v chromium >/dev/null || packages+=(chromium)
  command -v docker-compose >/dev/null || packages+=(docker-compose)
  command -v curl >/dev/null || packages+=(curl)  # eng/cluster.sh's readiness checks (Deployment tests)
  if [ ${#packages[@]} -eq 0 ]; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${packages[*]} — install them with: sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
  log "installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  # Debian starts packaged services on install; the tests start their own on free ports. Only a service
  # this run just installed is stopped: one the machine ran before is not ours to stop.
  if command -v service >/dev/null; then
    if [[ " ${packages[*]} " == *" redis-server "* ]]; then service redis-server stop >/dev/null 2>&1 || true; fi
    if [[ " ${packages[*]} " == *" nginx-light "* ]]; then service nginx stop >/dev/null 2>&1 || true; fi
  fi
}

# The browser driver (playwright-core) and the web client want Node 20 or later; Debian 12's own package is
# 18. Then Node 20 and npm 10 come from the npm registry (the `node` package carries the binary) into .tools/,
# first on PATH.
ensure_node_20() {
  local major minor tools="$PWD/.tools/node20"
  major="$(node -p 'process.versions.node.split(".")[0]')"
  minor="$(node -p 'process.versions.node.split(".")[1]')"
  # 20.11 at least: node --test's --test-timeout (the web client's test script) came then.
  if [ "$major" -gt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -ge 11 ]; }; then
    return
  fi
  if [ ! -x "$tools/node_modules/.bin/node" ]; then
    log "node $(node -v) is older than the tests need (20.11): installing Node 20 (and an npm for it) from the npm registry into .tools/"
    # npm too: Debian's npm finds its modules only through Debian's own node.
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error node@20 npm@10 >/dev/null
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
  log "using $(command -v node) ($(node -v))"
}

passed=0
failed=0
work=""

# Every way out ends with the totals line: a step that failed before any test ran (an install, the build) counts
# as one failure, so the line never reads "0 failed" for a run that did not pass.
finish() {
  local code=$?
  if [ "$code" != 0 ] && [ "$failed" = 0 ]; then
    failed=1
  fi
  echo "$passed passed, $failed failed"
  if [ -n "$work" ]; then rm -rf "$work" || true; fi
  exit "$code"
}
trap finish EXIT

# Adds the counts of one `dotnet test` run (its "Passed!/Failed!" summary line) and its exit status. VSTest prints
# that line from what it received even when the test host crashed or was stopped for a hang: then the test it was
# running, and every one it never reached, are in no count, so the aborted run counts as one failure more.
count_dotnet() {
  local summary log="$1" status="$2" before="$failed"
  summary=$(grep -E '^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log" | tail -n 1 || true)
  if [ -z "$summary" ]; then
    failed=$((failed + 1)) # the run crashed before it could report
    return
  fi
  failed=$((failed + $(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$summary")))
  passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$summary")))
  if grep -qiE 'Test Run Aborted|test run was aborted' "$log"; then
    log "the test host stopped early (a crash, or a test over the hang timeout): counted as one more failure"
    failed=$((failed + 1))
  elif [ "$status" != 0 ] && [ "$failed" = "$before" ]; then
    log "dotnet test failed with no failing test counted: counted as one failure"
    failed=$((failed + 1))
  fi
}

# Adds the counts of one `node --test` run (its "# pass N" / "# fail N" lines; a cancelled test — one that never
# finished — counts as failed).
count_node() {
  local p f c
  p=$(grep -E '^(# |ℹ )pass [0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
  f=$(grep -E '^(# |ℹ )fail [0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+' || echo 1)
  c=$(grep -E '^(# |ℹ )cancelled [0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+' || echo 0)
  passed=$((passed + p))
  failed=$((failed + f + c))
}

install_missing_tools
ensure_node_20

log "restoring the JS test drivers (tests/js)"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

log "building"
dotnet build RoomShare.sln -nologo -v quiet --disable-build-servers # nothing of ours left running after the tests

work=$(mktemp -d)
status=0

log "web client unit tests (node --test)"
(cd RoomServer/ClientApp && npm test) 2>&1 | tee "$work/node.log" || status=1
count_node "$work/node.log"

log "RoomServer.Tests (contract in both modes, deployment, cluster, browser)"
# 10 minutes without a test finishing is taken for a hang: the host is stopped (no dump) and the run counts it failed.
dotnet_status=0
dotnet test RoomServer.Tests --no-build -nologo --blame-hang-timeout 10m --blame-hang-dump-type none \
  --logger "trx;LogFileName=$work/dotnet.trx" "$@" 2>&1 | tee "$work/dotnet.log" || dotnet_status=1
[ "$dotnet_status" = 0 ] || status=1
count_dotnet "$work/dotnet.log" "$dotnet_status"
# The console names a fixture's cleanup failure but not its cause; the trx has it.
if grep -q "Cleanup Failure" "$work/dotnet.log" && [ -f "$work/dotnet.trx" ]; then
  log "cleanup failures in detail (from the trx)"
  sed -n '/<RunInfos>/,/<\/RunInfos>/p' "$work/dotnet.trx" | sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#xD;//g' | head -120
fi

exit "$status" # the totals line is finish's
