#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and development.
#
#   scripts/pg-test.sh start DIR   create a cluster in DIR (must not exist or be empty), start it
#                                  on 127.0.0.1 and print its URL as the only line on stdout
#   scripts/pg-test.sh stop DIR    stop it and remove DIR
#
# Example:
#   export MAMORI_TEST_PG_URL="$(scripts/pg-test.sh start /tmp/mamori-pg)"
#   cargo test -p mamori-store
#   scripts/pg-test.sh stop /tmp/mamori-pg
#
# The server trusts every local connection (no password), runs without fsync and listens
# on 127.0.0.1 only: it is for tests, never for data anyone wants to keep. When run as root,
# the cluster belongs to the `postgres` OS user (PostgreSQL refuses to run as root), so DIR's
# parent directories must be traversable by that user (/tmp is fine).
set -euo pipefail

MARKER=".mamori-pg-test"
FIRST_PORT=55432
LAST_PORT=55531
WAIT_SECONDS=30

log() { printf 'pg-test: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

usage() {
    cat >&2 <<'EOF'
usage: scripts/pg-test.sh start DIR    start a temporary PostgreSQL in DIR; prints its URL
       scripts/pg-test.sh stop DIR     stop it and remove DIR
EOF
    exit 2
}

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/postgres" && -x "$dir/pg_ctl" ]]; then
            printf '%s\n' "$dir"
            return
        fi
    fi
    # Newest installed major version first.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -rn); do
        if [[ -x "$dir/initdb" && -x "$dir/postgres" && -x "$dir/pg_ctl" ]]; then
            printf '%s\n' "$dir"
            return
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    die "no PostgreSQL server binaries found (looked at pg_config --bindir, /usr/lib/postgresql/*/bin and PATH)"
}

# Runs a command as the cluster's owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_in_use() {
    local port="$1"
    if command -v ss >/dev/null 2>&1; then
        [[ -n "$(ss -Hltn "( sport = :$port )" 2>/dev/null)" ]]
    elif command -v python3 >/dev/null 2>&1; then
        ! python3 - "$port" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
    else
        # Last resort: a TCP connect succeeds only if something listens.
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

abs_path() {
    local d="$1"
    mkdir -p "$d"
    (cd "$d" && pwd -P)
}

cmd_start() {
    local dir bindir pg_isready_bin
    dir="$(abs_path "$1")"
    if [[ -n "$(ls -A "$dir")" ]]; then
        die "$dir is not empty; give a new directory (or run: $0 stop $dir)"
    fi
    bindir="$(find_bindir)"
    pg_isready_bin="$bindir/pg_isready"
    [[ -x "$pg_isready_bin" ]] || pg_isready_bin="$(command -v pg_isready || true)"
    [[ -n "$pg_isready_bin" ]] || die "pg_isready not found"

    touch "$dir/$MARKER"
    if [[ "$(id -u)" -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' OS user"
        chown postgres: "$dir"
        if ! runuser -u postgres -- test -w "$dir"; then
            die "the postgres user cannot write to $dir (are its parent directories traversable?)"
        fi
    fi

    log "initdb in $dir/data ($bindir)"
    if ! as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
        log "initdb with --locale=C.UTF-8 failed; trying --locale=C"
        rm -rf "$dir/data"
        if ! as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            die "initdb failed"
        fi
    fi

    # A Unix socket path is limited to ~107 bytes; without one the server still runs (we use TCP).
    local sockdir="$dir"
    if (( ${#dir} + 20 > 107 )); then
        sockdir=""
    fi

    local port="$FIRST_PORT" pid started=""
    while (( port <= LAST_PORT )); do
        if port_in_use "$port"; then
            port=$((port + 1))
            continue
        fi
        : >"$dir/log"
        if [[ "$(id -u)" -eq 0 ]]; then
            chown postgres: "$dir/log"
        fi
        # Detached (own session, no inherited stdout), so `$(pg-test.sh start DIR)` returns.
        if [[ "$(id -u)" -eq 0 ]]; then
            setsid runuser -u postgres -- "$bindir/postgres" -D "$dir/data" -k "$sockdir" \
                -c listen_addresses=127.0.0.1 -p "$port" -c fsync=off -c full_page_writes=off \
                -c max_connections=200 </dev/null >>"$dir/log" 2>&1 &
        else
            setsid "$bindir/postgres" -D "$dir/data" -k "$sockdir" \
                -c listen_addresses=127.0.0.1 -p "$port" -c fsync=off -c full_page_writes=off \
                -c max_connections=200 </dev/null >>"$dir/log" 2>&1 &
        fi
        pid=$!
        echo "$port" >"$dir/port"

        local waited=0
        while (( waited < WAIT_SECONDS * 10 )); do
            if "$pg_isready_bin" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres >/dev/null 2>&1; then
                started=1
                break
            fi
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
        if [[ -n "$started" ]]; then
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null && grep -qiE 'could not (bind|create listen socket)|address already in use' "$dir/log"; then
            log "port $port was taken meanwhile; trying the next one"
            port=$((port + 1))
            continue
        fi
        log "the server did not become ready within ${WAIT_SECONDS} s; its log:"
        cat "$dir/log" >&2 || true
        kill "$pid" 2>/dev/null || true
        die "start failed (clean up with: $0 stop $dir)"
    done
    [[ -n "$started" ]] || die "no free port in $FIRST_PORT..$LAST_PORT"

    log "PostgreSQL is ready on 127.0.0.1:$port (data $dir/data, log $dir/log)"
    printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$port"
}

cmd_stop() {
    local dir="$1"
    if [[ ! -e "$dir" ]]; then
        log "$dir does not exist; nothing to stop"
        return 0
    fi
    dir="$(cd "$dir" && pwd -P)"
    [[ -f "$dir/$MARKER" ]] || die "$dir was not made by '$0 start'; refusing to remove it"
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        local bindir
        bindir="$(find_bindir)"
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >&2 || log "pg_ctl stop failed; removing $dir anyway"
    fi
    rm -rf -- "$dir"
    log "stopped and removed $dir"
}

[[ $# -eq 2 ]] || usage
case "$1" in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
*) usage ;;
esac
