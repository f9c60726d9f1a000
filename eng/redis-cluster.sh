#!/usr/bin/env bash
# A local Redis Cluster on loopback: 3 masters + 3 replicas of redis-server (--cluster-enabled yes),
# joined with `redis-cli --cluster create --cluster-replicas 1`. For RoomShare's sharded mode
# (DESIGN.md §2 "Outgrowing one Redis"); eng/cluster.sh can put its replicas on it.
#
#   eng/redis-cluster.sh up        start the 6 nodes, create the cluster, wait for cluster_state:ok
#   eng/redis-cluster.sh status    each node's pid, port, role and state
#   eng/redis-cluster.sh down      stop exactly the recorded redis-server processes
#
# Environment:
#   ROOMSHARE_REDIS_CLUSTER_DIR        state dir (default: <repo>/.redis-cluster)
#   ROOMSHARE_REDIS_CLUSTER_BASE_PORT  client ports BASE..BASE+5 and bus ports BASE+100..BASE+105
#                                      (default: free ports picked at random)
#   ROOMSHARE_REDIS_CLUSTER_NODE_TIMEOUT  cluster-node-timeout in ms (default 3000): how long a master
#                                      may be silent before its replica is promoted
#
# State dir: cluster.env (NODES=127.0.0.1:p1,...  the value for ConnectionStrings__Redis; NODE_PIDS=
# port:pid,...), procs (one line per node: name pid start-time port), logs/, nodes/<port>/ (AOF and
# nodes.conf). `down` stops a recorded pid only if it is still the redis-server this script started.
# Installs nothing; names the apt-get command for what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${ROOMSHARE_REDIS_CLUSTER_DIR:-$ROOT/.redis-cluster}"
PROCS="$STATE/procs"
NODE_COUNT=6
READY_TIMEOUT_SECONDS=30
STOP_TIMEOUT_SECONDS=15

die() { echo "redis-cluster.sh: $*" >&2; exit 1; }
log() { echo "redis-cluster.sh: $*" >&2; }

usage() {
    sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
}

require_tool() { # name -> prints its path or dies
    command -v "$1" 2>/dev/null || die "$1 is not installed: run \`apt-get install -y redis-server redis-tools\`"
}

# --- process records and ports: eng/lib/processes.sh ----------------------------------------------

source "$ROOT/eng/lib/processes.sh"

is_ours() { # pid start-time -> true if that pid is alive, is the process we started, and is redis-server
    same_process "$1" "$2" || return 1
    # The executable may be a link (Debian: redis-server -> redis-check-rdb); the command name is not.
    [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == redis-server ]]
}

stop_recorded() {
    [[ -f "$PROCS" ]] || return 0
    local name pid started port entry
    local -a ours=()
    while read -r name pid started port; do
        if is_ours "$pid" "$started"; then
            kill -TERM "$pid" 2>/dev/null || true
            ours+=("$name:$pid:$started")
        elif [[ -d "/proc/$pid" ]]; then
            log "not stopping pid $pid: it is no longer the redis-server $name this script started"
        fi
    done <"$PROCS"
    local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
    for entry in "${ours[@]}"; do
        IFS=: read -r name pid started <<<"$entry"
        while is_ours "$pid" "$started" && ((SECONDS < deadline)); do sleep 0.1; done
        if is_ours "$pid" "$started"; then
            log "$name (pid $pid) did not stop within ${STOP_TIMEOUT_SECONDS}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

any_alive() { any_recorded_alive; }

cli() { # port args... (-e: a Redis error is a non-zero exit)
    timeout 5 "$REDIS_CLI" -h 127.0.0.1 -p "$1" -e "${@:2}"
}

cluster_ok() { # port -> true when the node sees cluster_state:ok, 3 masters and 3 replicas
    local info nodes
    info="$(cli "$1" CLUSTER INFO 2>/dev/null)" || return 1
    [[ "$info" == *cluster_state:ok* ]] || return 1
    nodes="$(cli "$1" CLUSTER NODES 2>/dev/null)" || return 1
    # Field 3 holds the flags: "master" / "slave", with "myself," on the node asked.
    [[ "$(awk '$3 ~ /master/ && $3 !~ /fail/' <<<"$nodes" | wc -l)" == 3 && "$(awk '$3 ~ /slave/ && $3 !~ /fail/' <<<"$nodes" | wc -l)" == 3 ]]
}

replica_linked() { # port -> true when the node is a master, or a replica whose link to its master is up
    local info
    info="$(cli "$1" INFO replication 2>/dev/null)" || return 1
    [[ "$info" == *role:master* || "$info" == *master_link_status:up* ]]
}

pong() { # port
    [[ "$(cli "$1" PING 2>/dev/null)" == PONG ]]
}

wait_until() { # description check-command... ; bounded poll
    local what="$1"; shift
    local deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
    until "$@"; do
        ((SECONDS < deadline)) || die "$what within ${READY_TIMEOUT_SECONDS}s; see $STATE/logs/"
        sleep 0.2
    done
}

# --- commands --------------------------------------------------------------------------------------

cmd_up() {
    [[ $# -eq 0 ]] || usage
    local redis_server node_timeout="${ROOMSHARE_REDIS_CLUSTER_NODE_TIMEOUT:-3000}" base="${ROOMSHARE_REDIS_CLUSTER_BASE_PORT:-}"
    redis_server="$(require_tool redis-server)"
    REDIS_CLI="$(require_tool redis-cli)"
    [[ "$node_timeout" =~ ^[0-9]+$ ]] || die "ROOMSHARE_REDIS_CLUSTER_NODE_TIMEOUT must be milliseconds"
    [[ -z "$base" || ("$base" =~ ^[0-9]+$ && base -ge 1024 && base -le 65400) ]] \
        || die "ROOMSHARE_REDIS_CLUSTER_BASE_PORT must be a port in 1024..65400"
    if any_alive; then
        die "a Redis Cluster is already running from $STATE; run \`eng/redis-cluster.sh down\` first"
    fi
    remove_state
    make_state "$STATE/logs" "$STATE/nodes"
    : >"$PROCS"
    trap 'status=$?; if ((status != 0)); then log "start-up failed; stopping what was started"; stop_recorded; fi' EXIT

    local i port bus pid nodes="" node_pids="" ports=()
    for ((i = 0; i < NODE_COUNT; i++)); do
        if [[ -n "$base" ]]; then
            port=$((base + i)); bus=$((base + 100 + i))
            port_free "$port" || die "port $port is taken (ROOMSHARE_REDIS_CLUSTER_BASE_PORT=$base)"
            port_free "$bus" || die "bus port $bus is taken (ROOMSHARE_REDIS_CLUSTER_BASE_PORT=$base)"
            USED_PORTS+="$port $bus "
        else
            pick_port; port="$FREE_PORT"
            pick_port; bus="$FREE_PORT"
        fi
        mkdir -p "$STATE/nodes/$port"
        # AOF everysec as in docker-compose.yml; the replicas plus WAIT (RoomServer__Redis__ReplicasToAcknowledge)
        # are what keeps an acknowledged write through a master's crash.
        "$redis_server" --bind 127.0.0.1 --port "$port" --cluster-port "$bus" --dir "$STATE/nodes/$port" \
            --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$node_timeout" \
            --appendonly yes --appendfsync everysec --save "" --maxmemory-policy noeviction \
            --protected-mode no --daemonize no >"$STATE/logs/node-$port.log" 2>&1 </dev/null &
        pid=$!
        record "node$((i + 1))" "$pid" "$port"
        ports+=("$port")
        nodes+="${nodes:+,}127.0.0.1:$port"
        node_pids+="${node_pids:+,}$port:$pid"
    done
    for port in "${ports[@]}"; do
        if ! (wait_until "redis-server on port $port did not answer PING" pong "$port"); then
            tail -n 5 "$STATE/logs/node-$port.log" >&2 || true
            exit 1
        fi
    done

    local -a create=()
    for port in "${ports[@]}"; do create+=("127.0.0.1:$port"); done
    log "creating the cluster: ${create[*]}"
    timeout 60 "$REDIS_CLI" --cluster create "${create[@]}" --cluster-replicas 1 --cluster-yes \
        >"$STATE/logs/create.log" 2>&1 || die "redis-cli --cluster create failed; see $STATE/logs/create.log"
    for port in "${ports[@]}"; do
        wait_until "node $port did not report cluster_state:ok with 3 masters and 3 replicas" cluster_ok "$port"
        wait_until "replica $port did not finish its first sync" replica_linked "$port"
    done

    cat >"$STATE/cluster.env" <<EOF
NODES=$nodes
NODE_PIDS=$node_pids
NODE_TIMEOUT_MS=$node_timeout
EOF
    trap - EXIT
    cat <<EOF
Redis Cluster is up: 3 masters + 3 replicas on 127.0.0.1.
  ConnectionStrings__Redis=$nodes
  state: $STATE (cluster.env, logs/)
Stop it: eng/redis-cluster.sh down
EOF
}

cmd_status() {
    REDIS_CLI="$(require_tool redis-cli)"
    if [[ ! -f "$PROCS" ]]; then
        echo "no Redis Cluster (state dir $STATE)"
        return 1
    fi
    local name pid started port state role all_up=0
    while read -r name pid started port; do
        if is_ours "$pid" "$started"; then state=running; else state=stopped; all_up=1; fi
        role="$(cli "$port" ROLE 2>/dev/null | head -n 1)" || role="no answer"
        printf '%-6s pid %-8s port %-6s %-8s %s\n' "$name" "$pid" "$port" "$state" "${role:-no answer}"
    done <"$PROCS"
    grep '^NODES=' "$STATE/cluster.env" 2>/dev/null || true
    return "$all_up"
}

cmd_down() {
    if [[ ! -d "$STATE" ]]; then
        log "no Redis Cluster state at $STATE; nothing to stop"
        return 0
    fi
    stop_recorded
    if any_alive; then
        die "some nodes are still running; state kept in $STATE"
    fi
    remove_state
    log "stopped; removed $STATE"
}

case "${1:-}" in
    up) shift; cmd_up "$@" ;;
    status) shift; cmd_status ;;
    down) shift; cmd_down ;;
    *) usage ;;
esac
