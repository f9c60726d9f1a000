#!/usr/bin/env bash
# RoomShare loopback cluster for machines without Docker: redis-server + N RoomServer replicas +
# nginx, all on free 127.0.0.1 ports, routed by the same nginx rules as production
# (nginx/roomshare-*.conf, through nginx/loopback.conf.template).
#
#   eng/cluster.sh up [N] [--no-build] [--configuration Release|Debug] [--environment Production|Development]
#   eng/cluster.sh status
#   eng/cluster.sh down
#
# Environment:
#   ROOMSHARE_API_KEY, ROOMSHARE_JWT_SIGNING_KEY  secrets for the replicas (generated when unset)
#   ROOMSHARE_CLUSTER_DIR                         state dir (default: <repo>/.cluster)
#   RoomServer__*                                 passed through to every replica (e.g. RoomServer__PositionIntervalSeconds)
#   Knobs for the load test (RoomShare.LoadTest), all optional:
#   ROOMSHARE_CLUSTER_STORE=embedded              no redis-server; one replica keeps rooms in memory (embedded mode)
#   ROOMSHARE_CLUSTER_STORE=redis-cluster         the replicas use a Redis Cluster (3 masters + 3 replicas, started
#                                                 with eng/redis-cluster.sh in <state>/redis-cluster) instead of one Redis
#   ROOMSHARE_CLUSTER_SERVER_DLL=path.dll         run this server instead of RoomServer (the floor arm); skips the build
#
# State dir: cluster.env (BASE_URL, API_KEY, REPLICA_PIDS=r1:pid,..., ...), procs (one line per process
# started: name pid start-time port), logs/, nginx/ (prefix), redis/ (AOF). `down` stops exactly the
# recorded processes, after checking each pid still belongs to the process this script started.
# Installs nothing; names the apt-get command for what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${ROOMSHARE_CLUSTER_DIR:-$ROOT/.cluster}"
# Absolute: nginx reads the paths in its config relative to its prefix, not to this directory.
[[ "$STATE" == /* ]] || STATE="$PWD/$STATE"
PROCS="$STATE/procs"
READY_TIMEOUT_SECONDS=60
STOP_TIMEOUT_SECONDS=20
REDIS_CLUSTER_STATE="$STATE/redis-cluster"

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

# --- tools -----------------------------------------------------------------------------------------

find_tool() { # name -> prints its path (Debian keeps nginx in /usr/sbin, often not on PATH)
    local name="$1" dir
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    for dir in /usr/sbin /usr/local/sbin /sbin; do
        if [[ -x "$dir/$name" ]]; then echo "$dir/$name"; return 0; fi
    done
    return 1
}

require_tool() { # name install-command -> prints path or dies
    find_tool "$1" || die "$1 is not installed: run \`$2\`"
}

redis_cluster() { # command -> eng/redis-cluster.sh on this cluster's own state dir
    ROOMSHARE_REDIS_CLUSTER_DIR="$REDIS_CLUSTER_STATE" "$ROOT/eng/redis-cluster.sh" "$@"
}

# --- process records and ports: eng/lib/processes.sh ----------------------------------------------

source "$ROOT/eng/lib/processes.sh"

is_ours() { same_process "$@"; } # pid start-time -> true if that pid is still the process we started

stop_stage() { # label timeout-seconds name-regex: signals the recorded processes whose name matches, waits (bounded), then kills
    local label="$1" timeout="$2" pattern="$3" name pid started port
    local -a ours=()
    while read -r name pid started port; do
        [[ "$name" =~ $pattern ]] || continue
        if is_ours "$pid" "$started"; then
            if [[ "$name" == nginx ]]; then
                kill -QUIT "$pid" 2>/dev/null || true   # graceful; worker_shutdown_timeout bounds it
            else
                kill -TERM "$pid" 2>/dev/null || true   # replicas drain; redis fsyncs the AOF
            fi
            ours+=("$name:$pid:$started")
        elif [[ -d "/proc/$pid" ]]; then
            log "not stopping pid $pid: it is no longer the $name this script started"
        fi
    done <"$PROCS"

    local entry deadline=$((SECONDS + timeout))
    for entry in "${ours[@]}"; do
        IFS=: read -r name pid started <<<"$entry"
        while is_ours "$pid" "$started" && ((SECONDS < deadline)); do sleep 0.1; done
        if is_ours "$pid" "$started"; then
            log "$name (pid $pid) did not stop within ${timeout}s ($label); killing it"
            # nginx workers are children of the master: kill them too, by parent pid.
            if [[ "$name" == nginx ]]; then pkill -KILL -P "$pid" 2>/dev/null || true; fi
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if ((${#ours[@]})); then log "stopped $label"; fi
}

stop_recorded() {
    [[ -f "$PROCS" ]] || return 0
    # In stages, each waited for: nginx first (no new traffic), then the replicas (they drain: calls in
    # flight still need Redis), then redis. A replica gets its own drain time plus slack.
    # The replicas' drain time as `up` gave it to them (cluster.env), else this shell's, else the default.
    local drain
    drain=$(sed -n 's/^DRAIN_SECONDS=//p' "$STATE/cluster.env" 2>/dev/null || true)
    drain=${drain:-${RoomServer__DrainSeconds:-20}}
    if [[ "$drain" =~ ^[0-9]{1,5}$ ]]; then drain=$((10#$drain)); else drain=20; fi
    stop_stage "nginx" "$STOP_TIMEOUT_SECONDS" '^nginx$'
    stop_stage "replicas" "$((drain + 5 > STOP_TIMEOUT_SECONDS ? drain + 5 : STOP_TIMEOUT_SECONDS))" '^r[0-9]+$'
    stop_stage "redis" "$STOP_TIMEOUT_SECONDS" '^redis$'

    # Redis Cluster nodes last (ROOMSHARE_CLUSTER_STORE=redis-cluster): its script stops exactly what it recorded.
    if [[ -d "$REDIS_CLUSTER_STATE" ]]; then redis_cluster down || true; fi
}

any_alive() {
    # eng/redis-cluster.sh removes its state dir once every node it started has stopped.
    [[ ! -f "$REDIS_CLUSTER_STATE/procs" ]] || return 0
    any_recorded_alive
}

# --- readiness ------------------------------------------------------------------------------------------

redis_pong() { # port
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'PING\r\n' >&3
        IFS= read -r -t 2 reply <&3 || exit 1
        [[ "$reply" == +PONG* ]]
    ) 2>/dev/null
}

http_ok() { # url
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
}

wait_until() { # description pid check-command... ; polls (bounded) until the check passes
    local what="$1" pid="$2"; shift 2
    local deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
    until "$@"; do
        if [[ ! -d "/proc/$pid" ]]; then
            die "$what exited before it was ready; see $STATE/logs/"
        fi
        if ((SECONDS >= deadline)); then
            die "$what was not ready within ${READY_TIMEOUT_SECONDS}s; see $STATE/logs/"
        fi
        sleep 0.2
    done
}

random_hex() { # bytes
    head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# --- commands --------------------------------------------------------------------------------------

cmd_up() {
    local replicas=3 build=1 configuration=Release environment=Production
    while (($#)); do
        case "$1" in
            --no-build) build=0 ;;
            --configuration|-c) [[ $# -ge 2 ]] || usage; configuration="$2"; shift ;;
            --environment) [[ $# -ge 2 ]] || usage; environment="$2"; shift ;;
            ''|*[!0-9]*) usage ;;
            *) replicas="$1" ;;
        esac
        shift
    done
    ((replicas >= 1 && replicas <= 16)) || die "replica count must be 1..16"
    local store="${ROOMSHARE_CLUSTER_STORE:-redis}" server_dll="${ROOMSHARE_CLUSTER_SERVER_DLL:-}"
    [[ "$store" == redis || "$store" == embedded || "$store" == redis-cluster ]] \
        || die "ROOMSHARE_CLUSTER_STORE must be redis, redis-cluster or embedded"
    # Embedded rooms live in one process's memory: a second replica would be a second, separate world.
    [[ "$store" != embedded ]] || ((replicas == 1)) || die "ROOMSHARE_CLUSTER_STORE=embedded runs exactly 1 replica"
    [[ -z "$server_dll" ]] || build=0

    if any_alive; then
        die "a cluster is already running from $STATE; run \`eng/cluster.sh down\` first"
    fi
    remove_state

    local dotnet redis_server nginx
    dotnet="$(require_tool dotnet "see https://learn.microsoft.com/dotnet/core/install/linux (SDK 10)")"
    if [[ "$store" == redis ]]; then redis_server="$(require_tool redis-server "apt-get install -y redis-server")"; fi
    nginx="$(require_tool nginx "apt-get install -y nginx-light")"
    require_tool curl "apt-get install -y curl" >/dev/null

    if ((build)); then
        log "building RoomServer ($configuration)"
        # No build servers: `down` must leave nothing of ours running.
        "$dotnet" build "$ROOT/RoomServer/RoomServer.csproj" -c "$configuration" --disable-build-servers -nologo -v quiet >&2
    fi
    local dll="${server_dll:-$ROOT/RoomServer/bin/$configuration/net10.0/RoomServer.dll}"
    [[ -f "$dll" ]] || die "$dll not found: build it (drop --no-build, or pass the --configuration you built)"

    local api_key="${ROOMSHARE_API_KEY:-$(random_hex 24)}"
    local signing_key="${ROOMSHARE_JWT_SIGNING_KEY:-$(random_hex 32)}"
    [[ "$api_key" =~ ^[A-Za-z0-9._~-]+$ ]] || die "ROOMSHARE_API_KEY may only hold letters, digits and ._~-"
    ((${#signing_key} >= 32)) || die "ROOMSHARE_JWT_SIGNING_KEY must be at least 32 characters"

    make_state "$STATE/logs" "$STATE/redis" "$STATE/nginx/logs" "$STATE/nginx/temp"
    # Run as root, nginx's workers are another user (nobody): they must reach their temp files under nginx/ (a
    # response buffered for a slow reader is written there), so the state dir is traversable, not listable, by
    # others; what holds a secret or the data stays private (cluster.env below, logs/, redis/, nginx/logs/: nginx's
    # master opens its logs as root, before the workers start).
    chmod 711 "$STATE"
    chmod 700 "$STATE/logs" "$STATE/redis" "$STATE/nginx/logs"
    : >"$PROCS"

    # From here on, a failure stops whatever was already started.
    trap 'status=$?; if ((status != 0)); then log "start-up failed; stopping what was started"; stop_recorded; fi' EXIT

    # Redis, with the AOF settings of docker-compose.yml (none in embedded mode), or a Redis Cluster.
    local redis_port="" redis_nodes=""
    if [[ "$store" == redis-cluster ]]; then
        redis_cluster up >&2 || die "eng/redis-cluster.sh up failed; see $REDIS_CLUSTER_STATE/logs/"
        redis_nodes="$(sed -n 's/^NODES=//p' "$REDIS_CLUSTER_STATE/cluster.env")"
    fi
    if [[ "$store" == redis ]]; then
        pick_port; redis_port="$FREE_PORT"
        "$redis_server" --bind 127.0.0.1 --port "$redis_port" --dir "$STATE/redis" \
            --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction \
            --daemonize no >"$STATE/logs/redis.log" 2>&1 </dev/null &
        record redis $! "$redis_port"
        wait_until "redis-server on port $redis_port" $! serves $! "$redis_port" redis_pong "$redis_port"
        redis_nodes="127.0.0.1:$redis_port"
    fi

    # Replicas r1..rN.
    local i port pid replica_pids="" replica_urls="" servers="" held_servers=""
    for ((i = 1; i <= replicas; i++)); do
        pick_port; port="$FREE_PORT"
        (
            if [[ -z "$server_dll" ]]; then cd "$ROOT/RoomServer"; else cd "$(dirname "$server_dll")"; fi
            export ASPNETCORE_URLS="http://127.0.0.1:$port"
            export ASPNETCORE_ENVIRONMENT="$environment"
            if [[ -n "$redis_nodes" ]]; then
                export ConnectionStrings__Redis="$redis_nodes"
            else
                unset ConnectionStrings__Redis
            fi
            export RoomServer__ApiKeys__0="$api_key"
            export RoomServer__Jwt__SigningKey="$signing_key"
            export RoomServer__ReplicaId="r$i"
            export DOTNET_NOLOGO=1
            exec "$dotnet" "$dll"
        ) >"$STATE/logs/r$i.log" 2>&1 </dev/null &
        pid=$!
        record "r$i" "$pid" "$port"
        replica_pids+="${replica_pids:+,}r$i:$pid"
        replica_urls+="${replica_urls:+,}r$i:http://127.0.0.1:$port"
        servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
        held_servers+="        server 127.0.0.1:$port max_fails=0;"$'\n'
    done
    for ((i = 1; i <= replicas; i++)); do
        IFS=' ' read -r _ pid _ port < <(grep "^r$i " "$PROCS")
        wait_until "replica r$i (http://127.0.0.1:$port/readyz)" "$pid" serves "$pid" "$port" http_ok "http://127.0.0.1:$port/readyz"
    done

    # nginx, from the shared template.
    pick_port; local nginx_port="$FREE_PORT" prefix="$STATE/nginx" conf
    conf="$(<"$ROOT/nginx/loopback.conf.template")"$'\n'
    # Each replacement quoted: unquoted, bash (5.2+) reads an `&` in it as the matched placeholder.
    conf="${conf//@PREFIX@/"$prefix"}"
    conf="${conf//@NGINX_DIR@/"$ROOT/nginx"}"
    conf="${conf//@PORT@/"$nginx_port"}"
    conf="${conf//@SERVERS@$'\n'/"$servers"}"
    conf="${conf//@HELD_SERVERS@$'\n'/"$held_servers"}"
    printf '%s' "$conf" >"$prefix/nginx.conf"
    "$nginx" -t -q -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
        || die "nginx rejected $prefix/nginx.conf"
    "$nginx" -p "$prefix" -e "$prefix/logs/error.log" -c "$prefix/nginx.conf" \
        >"$STATE/logs/nginx.log" 2>&1 </dev/null &
    record nginx $! "$nginx_port"
    local base_url="http://127.0.0.1:$nginx_port"
    wait_until "nginx ($base_url/readyz)" $! serves $! "$nginx_port" http_ok "$base_url/readyz"

    (umask 077; : >"$STATE/cluster.env")
    cat >"$STATE/cluster.env" <<EOF
BASE_URL=$base_url
API_KEY=$api_key
CONFIGURATION=$configuration
ENVIRONMENT=$environment
STORE=$store
REDIS_URL=$redis_nodes
REDIS_PID=$(awk '$1 == "redis" { print $2 }' "$PROCS")
REDIS_CLUSTER_PIDS=$(if [[ -f "$REDIS_CLUSTER_STATE/procs" ]]; then awk '{ print $2 }' "$REDIS_CLUSTER_STATE/procs" | paste -sd, -; fi)
NGINX_PID=$(awk '$1 == "nginx" { print $2 }' "$PROCS")
REPLICA_PIDS=$replica_pids
REPLICA_URLS=$replica_urls
DRAIN_SECONDS=${RoomServer__DrainSeconds:-20}
EOF
    trap - EXIT

    cat <<EOF
RoomShare cluster is up: $replicas replicas behind nginx ($environment, $configuration build).
  URL:      $base_url/
  API key:  $api_key
  state:    $STATE (cluster.env, logs/)

Create a room:
  curl -sS -X POST $base_url/api/rooms -H 'X-Api-Key: $api_key' -H 'Content-Type: application/json' \\
    -d '{"name":"Table 7","menu":[{"id":"pizza","name":"Pizza","priceMinor":1200}]}'

Stop it:  eng/cluster.sh down
EOF
}

cmd_down() {
    if [[ ! -d "$STATE" ]]; then
        log "no cluster state at $STATE; nothing to stop"
        return 0
    fi
    stop_recorded
    if any_alive; then
        die "some processes are still running; state kept in $STATE"
    fi
    remove_state
    log "stopped; removed $STATE"
}

cmd_status() {
    if [[ ! -f "$PROCS" ]]; then
        echo "no cluster (state dir $STATE)"
        return 1
    fi
    local name pid started port state health all_up=0
    while read -r name pid started port; do
        if is_ours "$pid" "$started"; then state=running; else state=stopped; all_up=1; fi
        health=""
        case "$name" in
            redis) if redis_pong "$port"; then health="PONG"; else health="no PONG"; fi ;;
            *) if http_ok "http://127.0.0.1:$port/readyz"; then health="ready"; else health="not ready"; fi ;;
        esac
        printf '%-6s pid %-8s port %-6s %-8s %s\n' "$name" "$pid" "$port" "$state" "$health"
    done <"$PROCS"
    if [[ -d "$REDIS_CLUSTER_STATE" ]]; then redis_cluster status || all_up=1; fi
    if [[ -f "$STATE/cluster.env" ]]; then grep '^BASE_URL=' "$STATE/cluster.env"; fi
    return "$all_up"
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down ;;
    status) shift; cmd_status ;;
    *) usage ;;
esac
