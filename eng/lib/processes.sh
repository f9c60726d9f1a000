# eng/lib/processes.sh — sourced by eng/cluster.sh and eng/redis-cluster.sh: what they record about the
# processes they start, and the loopback ports they pick. The sourcing script defines die, STATE and
# PROCS, and is_ours (pid start-time -> true if that pid is still the process it started; it may check
# more than same_process does).

# --- the state directory: removed only when it is the scripts' own --------------------------------

remove_state() { # removes $STATE if it is missing, empty, or marked as ours (a .gitignore of '*'); refuses otherwise
    [[ -e "$STATE" ]] || return 0
    [[ -d "$STATE" ]] || die "$STATE is not a directory; give the cluster a state directory of its own (ROOMSHARE_CLUSTER_DIR, ROOMSHARE_REDIS_CLUSTER_DIR)"
    if [[ -n "$(ls -A "$STATE")" && "$(cat "$STATE/.gitignore" 2>/dev/null)" != '*' ]]; then
        die "$STATE holds files these scripts did not make (no .gitignore of '*'); not removing it — give the cluster a state directory of its own (ROOMSHARE_CLUSTER_DIR, ROOMSHARE_REDIS_CLUSTER_DIR)"
    fi
    rm -rf "$STATE"
}

make_state() { # subdirectories... -> $STATE (private, marked as ours first: remove_state takes it back) and them
    mkdir -p "$STATE"
    chmod 700 "$STATE"
    echo '*' >"$STATE/.gitignore"
    mkdir -p "$@"
}

# --- process records: pid + start time, so a reused pid is never touched -------------------------

start_time_of() { # pid -> field 22 of /proc/<pid>/stat (start time in clock ticks); fails if gone
    local stat rest
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    rest="${stat##*) }"              # fields after "(comm)", which may itself hold spaces
    local -a fields
    read -r -a fields <<<"$rest"
    echo "${fields[19]}"             # rest starts at field 3, so field 22 is index 19
}

same_process() { # pid start-time -> true if that pid is alive and started at that time
    local now
    now="$(start_time_of "$1")" || return 1
    [[ "$now" == "$2" ]]
}

record() { # name pid port -> a line "name pid start-time port" in $PROCS
    local started
    started="$(start_time_of "$2")" || die "$1 (pid $2) exited right after start; see $STATE/logs/$1.log"
    echo "$1 $2 $started $3" >>"$PROCS"
}

any_recorded_alive() { # -> true if a process in $PROCS is still ours
    [[ -f "$PROCS" ]] || return 1
    local name pid started port
    while read -r name pid started port; do
        if is_ours "$pid" "$started"; then return 0; fi
    done <"$PROCS"
    return 1
}

# --- ports -----------------------------------------------------------------------------------------

listens_on() { # pid port -> true when that process holds the socket listening on 127.0.0.1:port
    # A readiness check answered on the port proves nothing if another process took the port first (ours then
    # fails to bind, and may retry for a while before it exits): the listening socket's inode must be one of its fds.
    # The port's listening sockets on 127.0.0.1 or 0.0.0.0 (another process may listen on another address).
    local hex inode fds
    printf -v hex '%04X' "$2"
    fds="$(ls -l "/proc/$1/fd" 2>/dev/null)" || return 1
    for inode in $(awk -v a="0100007F:$hex" -v b="00000000:$hex" '$4 == "0A" && ($2 == a || $2 == b) { print $10 }' /proc/net/tcp); do
        [[ "$fds" == *"socket:[$inode]"* ]] && return 0
    done
    return 1
}

serves() { # pid port check-command... -> true when the check passes and it is that process listening on the port
    local pid="$1" port="$2"; shift 2
    listens_on "$pid" "$port" && "$@"
}

USED_PORTS=" "
port_free() { # port -> true when nothing listens on 127.0.0.1:port and it was not picked before
    [[ "$USED_PORTS" != *" $1 "* ]] && ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

FREE_PORT=""
pick_port() { # sets FREE_PORT to a 127.0.0.1 port nothing listens on (and not picked before), in 20000..32767
    # Below Linux's ephemeral range (32768+), where the kernel hands out the local ends of outgoing
    # connections and the ports of everything that binds port 0: a port there can be taken between this
    # check and a server's bind ("address already in use" seen in CI). The test suite's own servers take
    # 10000..19999 (RoomServer.Tests' FreePort), so the two never pick the same port.
    local tries port
    for ((tries = 0; tries < 200; tries++)); do
        port=$((20000 + RANDOM % 12768))
        if port_free "$port"; then USED_PORTS+="$port "; FREE_PORT="$port"; return 0; fi
    done
    die "no free 127.0.0.1 port found in 200 tries"
}
