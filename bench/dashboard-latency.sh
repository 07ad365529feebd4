#!/usr/bin/env bash
# Latency of the logged-in dashboard page (GET /i/<institution>) under a loopback load,
# with GET /healthz (no session, one DB ping) as the baseline.
#
# A benchmark, not a test: it starts its own `mamori serve` (release build) on 127.0.0.1 in a
# fresh temporary data dir, goes through first-run setup (CSRF + TOTP) with curl to get a
# session cookie, then measures
#   1. wrk, duration-based (after a short warm-up), and
#   2. a fixed count of requests from a small python3 http.client loop (hey-style),
# and prints p50/p90/p99 and requests/s for both pages plus the dashboard/healthz p50 ratio.
# Any non-200 response or socket error makes it exit 1. Everything stops by itself: wrk runs
# for a fixed time, the python loop for a fixed count (and a time cap), and the server it
# started is killed on exit.
#
# Usage (from the repo root):  bench/dashboard-latency.sh
# Knobs (environment):
#   DURATION=10s  THREADS=2  CONNECTIONS=8  WARMUP=3s     wrk run
#   COUNT=400  CONCURRENCY="1 4"                          fixed-count python runs, one per concurrency
#   SKIP_BUILD=1        use the existing target/release/mamori as is
#   MAMORI_BIN=path     benchmark another binary (implies no build)
#   KEEP_TMP=1          keep the temp dir (server log, wrk output) for inspection
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
WARMUP=${WARMUP:-3s}
COUNT=${COUNT:-400}
CONCURRENCY=${CONCURRENCY:-1 4}

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'dashboard-latency: %s\n' "$*" >&2; exit 1; }

for tool in curl python3; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
if ! command -v wrk >/dev/null; then
    log "installing wrk (Debian package)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
    command -v wrk >/dev/null || die "could not install wrk"
fi

if [ -n "${MAMORI_BIN:-}" ]; then
    BIN=$MAMORI_BIN
else
    BIN=$ROOT/target/release/mamori
    if [ -z "${SKIP_BUILD:-}" ]; then
        log "cargo build --release -p mamori"
        cargo build --release -p mamori >&2
    fi
fi
[ -x "$BIN" ] || die "no binary at $BIN (build with: cargo build --release -p mamori)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mamori-bench.XXXXXX")
SERVER_PID=
cleanup() {
    local rc=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "${KEEP_TMP:-}" ]; then
        printf 'kept %s\n' "$TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Start the server on a kernel-chosen free loopback port and read the URL and token from stdout.
log "starting mamori serve in $TMP/data"
env -u MAMORI_DB -u MAMORI_DATA_DIR -u LC_ALL -u LC_MESSAGES MAMORI_LANG=ja \
    "$BIN" --data-dir "$TMP/data" serve --listen 127.0.0.1:0 \
    >"$TMP/server.out" 2>"$TMP/server.err" </dev/null &
SERVER_PID=$!

URL=
for _ in $(seq 600); do
    URL=$(grep -o 'http://[^[:space:]]*' "$TMP/server.out" 2>/dev/null | head -n1 || true)
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.err" >&2; die "server exited during start-up"; }
    sleep 0.1
done
[ -n "$URL" ] || { cat "$TMP/server.err" >&2; die "server did not print its URL within 60 s"; }
URL=${URL%/}
case "$URL" in
    http://127.0.0.1:*) ;;
    *) die "refusing to load anything but 127.0.0.1 (server said $URL)" ;;
esac
HOSTPORT=${URL#http://}
PORT=${HOSTPORT##*:}
TOKEN=$(awk '/初回セットアップ用トークン/ { getline; gsub(/[[:space:]]/, ""); print; exit }' "$TMP/server.out")
[ -n "$TOKEN" ] || { cat "$TMP/server.out" >&2; die "no setup token on the server's stdout"; }
log "server at $URL (pid $SERVER_PID)"

# ---------------------------------------------------------------------------------------------
# First-run setup with curl: CSRF token from the form, TOTP from the enrolment page.
JAR=$TMP/cookies
PASSWORD='k7#vLq2m9!'
INSTITUTION='ベンチクリニック'

# extract FILE REGEX: first capture group of REGEX in FILE, HTML-unescaped.
extract() {
    python3 - "$1" "$2" <<'PY'
import html, re, sys
m = re.search(sys.argv[2], open(sys.argv[1], encoding="utf-8").read())
print(html.unescape(m.group(1)) if m else "")
PY
}

# req OUT_BODY curl-args...: prints the status code; never follows redirects.
req() {
    local out=$1; shift
    curl -sS --max-time 30 -b "$JAR" -c "$JAR" -o "$out" -D "$out.headers" -w '%{http_code}' "$@"
}

status=$(req "$TMP/setup.html" "$URL/setup")
[ "$status" = 200 ] || die "GET /setup answered $status"
CSRF=$(extract "$TMP/setup.html" 'name="csrf" value="([^"]*)"')
[ -n "$CSRF" ] || die "no csrf field on /setup"

status=$(req "$TMP/setup2.html" "$URL/setup" \
    --data-urlencode "csrf=$CSRF" --data-urlencode "token=$TOKEN" \
    --data-urlencode "login=admin1" --data-urlencode "display_name=ベンチ管理者" \
    --data-urlencode "password=$PASSWORD" --data-urlencode "password_confirm=$PASSWORD" \
    --data-urlencode "institution=$INSTITUTION" --data-urlencode "kind=clinic")
[ "$status" = 200 ] || die "POST /setup answered $status"
SECRET=$(extract "$TMP/setup2.html" '<code id="totp-secret">([^<]*)</code>')
PENDING=$(extract "$TMP/setup2.html" 'name="pending" value="([^"]*)"')
CSRF2=$(extract "$TMP/setup2.html" 'name="csrf" value="([^"]*)"')
[ -n "$SECRET" ] && [ -n "$PENDING" ] || die "POST /setup did not reach the TOTP step (see $TMP/setup2.html; KEEP_TMP=1)"

CODE=$(python3 - "$SECRET" <<'PY'
import base64, hmac, struct, sys, time
s = sys.argv[1].strip().upper()
key = base64.b32decode(s + "=" * (-len(s) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
off = mac[-1] & 0x0F
print("%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
)

status=$(req "$TMP/confirm.html" "$URL/setup/confirm" \
    --data-urlencode "csrf=${CSRF2:-$CSRF}" --data-urlencode "pending=$PENDING" --data-urlencode "code=$CODE")
case "$status" in 302|303) ;; *) die "POST /setup/confirm answered $status";; esac
SESSION=$(awk -F'\t' '$6 == "mamori_session" { print $7 }' "$JAR" | tail -n1)
[ -n "$SESSION" ] || die "no mamori_session cookie after /setup/confirm"
COOKIE="mamori_session=$SESSION"

location() { awk 'tolower($1) == "location:" { sub(/\r$/, "", $2); print $2 }' "$1.headers" | tail -n1; }
status=$(req "$TMP/dashboard.html" -H "Cookie: $COOKIE" "$URL/dashboard")
DASH_PATH=$(location "$TMP/dashboard.html")
case "$status:$DASH_PATH" in
    30[23]:/i/*) ;;
    *) die "GET /dashboard answered $status -> '$DASH_PATH' (expected a redirect to /i/<id>)" ;;
esac
status=$(req "$TMP/inst.html" -H "Cookie: $COOKIE" "$URL$DASH_PATH")
[ "$status" = 200 ] || die "GET $DASH_PATH answered $status"
grep -q "$INSTITUTION" "$TMP/inst.html" || die "GET $DASH_PATH is not the dashboard of $INSTITUTION"
log "logged in; dashboard is $DASH_PATH ($(wc -c <"$TMP/inst.html") bytes)"

# ---------------------------------------------------------------------------------------------
# wrk: counts every non-200 (wrk's own "Non-2xx or 3xx" would let a 303 to /login pass).
cat >"$TMP/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0; last_bad = 0 end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1; last_bad = status end
end
function done(summary, latency, requests)
  local bad, last = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
    if t:get("last_bad") ~= 0 then last = t:get("last_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non200=%d last_bad=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, bad, last, e.connect + e.read + e.write + e.timeout))
end
LUA

FAILED=0
FAILURES=
# run_wrk NAME PATH DURATION [cookie]: prints the "RESULT ..." line of the run (wrk's report: $TMP/wrk-NAME.txt).
run_wrk() {
    local name=$1 path=$2 dur=$3; shift 3
    local hdr=()
    [ $# -gt 0 ] && hdr=(-H "Cookie: $1")
    local out=$TMP/wrk-$name.txt
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --timeout 10s --latency -s "$TMP/count.lua" \
        "${hdr[@]}" "$URL$path" >"$out" 2>&1 || { cat "$out" >&2; echo "RESULT wrk_failed=1"; return; }
    grep '^RESULT' "$out" | tail -n1
}

# kv LINE KEY: the value of KEY=... in LINE.
kv() { printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }

check() {
    local name=$1 line=$2 non200 sock
    non200=$(kv "$line" non200); sock=$(kv "$line" socket_errors)
    if [ "${non200:-1}" != 0 ] || [ "${sock:-1}" != 0 ]; then
        local msg
        msg=$(printf 'FAIL %s: %s non-200 responses (last status %s), %s socket errors' \
            "$name" "${non200:-?}" "$(kv "$line" last_bad)" "${sock:-?}")
        printf '%s\n' "$msg" >&2
        FAILURES="$FAILURES$msg"$'\n'
        FAILED=1
    fi
}

# Other work on the machine (a concurrent cargo build on 2 cores) skews everything: say so.
# pgrep matches process names of at most 15 characters, so match each name on its own.
busy() {
    local n out=""
    for n in rustc cargo cc1 cc1plus ld rust-lld; do
        pgrep -x "$n" >/dev/null 2>&1 && out="$out $n"
    done
    printf '%s' "${out# }"
}
BUSY_BEFORE=$(busy)
[ -z "$BUSY_BEFORE" ] || log "note: cargo/rustc processes are present (pids $BUSY_BEFORE); if they are busy the numbers will be disturbed"
# CPU accounting over the measured part: machine busy/all jiffies, the server's, and our
# children's (wrk, python), so whatever is left is someone else's.
machine_cpu() { awk '/^cpu / { print $2+$3+$4, $2+$3+$4+$5+$6+$7+$8+$9, $9 }' /proc/stat; }
server_cpu() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
ours_cpu() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$$/stat"; }
read -r M_BUSY0 M_ALL0 M_STEAL0 < <(machine_cpu); S0=$(server_cpu); O0=$(ours_cpu)

log "warm-up: wrk ${WARMUP} on each page"
check "warm-up healthz" "$(run_wrk warmup-healthz /healthz "$WARMUP")"
check "warm-up dashboard" "$(run_wrk warmup-dashboard "$DASH_PATH" "$WARMUP" "$COOKIE")"

log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION: /healthz"
W_HEALTH=$(run_wrk healthz /healthz "$DURATION")
check "wrk healthz" "$W_HEALTH"
log "wrk -t$THREADS -c$CONNECTIONS -d$DURATION: $DASH_PATH"
W_DASH=$(run_wrk dashboard "$DASH_PATH" "$DURATION" "$COOKIE")
check "wrk dashboard" "$W_DASH"

# ---------------------------------------------------------------------------------------------
# Fixed count: COUNT requests over CONCURRENCY keep-alive connections, timed one by one.
cat >"$TMP/fixed.py" <<'PY'
import http.client, math, sys, threading, time
port, path, cookie, count, conc = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
headers = {"Cookie": cookie} if cookie else {}
lock = threading.Lock()
state = {"next": 0}
times, bad, errors = [], [], []
deadline = time.monotonic() + 120  # hard cap: never runs longer than two minutes

def worker():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while True:
        with lock:
            if state["next"] >= count or time.monotonic() > deadline:
                break
            state["next"] += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            dt = time.perf_counter() - t0
            with lock:
                times.append(dt)
                if r.status != 200:
                    bad.append(r.status)
        except Exception as e:
            with lock:
                errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.close()

t0 = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(conc)]
for t in ts: t.start()
for t in ts: t.join()
wall = time.perf_counter() - t0
if errors:
    print("%d request errors, first: %s" % (len(errors), errors[0]), file=sys.stderr)
s = sorted(times)
pct = lambda p: s[max(0, math.ceil(p / 100 * len(s)) - 1)] * 1e6 if s else 0
print("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d non200=%d last_bad=%s socket_errors=%d"
      % (len(s), wall * 1e6, pct(50), pct(90), pct(99), (s[-1] * 1e6 if s else 0), len(bad),
         bad[-1] if bad else 0, count - len(s)))  # errors, and requests cut off by the cap
PY
declare -A F_HEALTH F_DASH
for c in $CONCURRENCY; do
    log "fixed count: $COUNT requests, concurrency $c (python3 http.client): /healthz"
    F_HEALTH[$c]=$(python3 "$TMP/fixed.py" "$PORT" /healthz "" "$COUNT" "$c")
    check "fixed healthz c=$c" "${F_HEALTH[$c]}"
    log "fixed count: $COUNT requests, concurrency $c (python3 http.client): $DASH_PATH"
    F_DASH[$c]=$(python3 "$TMP/fixed.py" "$PORT" "$DASH_PATH" "$COOKIE" "$COUNT" "$c")
    check "fixed dashboard c=$c" "${F_DASH[$c]}"
done

# The server must still be the one we started, and answering.
kill -0 "$SERVER_PID" 2>/dev/null || die "the server died during the run"
read -r M_BUSY1 M_ALL1 M_STEAL1 < <(machine_cpu); S1=$(server_cpu); O1=$(ours_cpu)
OTHER_CORES=$(awk -v b=$((M_BUSY1 - M_BUSY0)) -v a=$((M_ALL1 - M_ALL0)) -v s=$((S1 - S0)) -v o=$((O1 - O0)) -v n="$(nproc)" \
    'BEGIN { x = (a > 0 ? (b - s - o) / a * n : 0); if (x < 0) x = 0; printf "%.2f", x }')
SERVER_CORES=$(awk -v a=$((M_ALL1 - M_ALL0)) -v s=$((S1 - S0)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (a > 0 ? s / a * n : 0) }')
STEAL_CORES=$(awk -v a=$((M_ALL1 - M_ALL0)) -v s=$((M_STEAL1 - M_STEAL0)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (a > 0 ? s / a * n : 0) }')
CLIENT_CORES=$(awk -v a=$((M_ALL1 - M_ALL0)) -v o=$((O1 - O0)) -v n="$(nproc)" 'BEGIN { printf "%.2f", (a > 0 ? o / a * n : 0) }')

# ---------------------------------------------------------------------------------------------
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
rps() { awk -v n="$(kv "$1" requests)" -v us="$(kv "$1" duration_us)" 'BEGIN { printf "%.0f", (us > 0 ? n / (us / 1e6) : 0) }'; }
row() {
    printf '| %-30s | %-9s | %8s | %8s | %8s | %8s | %7s | %6s |\n' "$1" "$2" \
        "$(ms "$(kv "$3" p50_us)")" "$(ms "$(kv "$3" p90_us)")" "$(ms "$(kv "$3" p99_us)")" \
        "$(rps "$3")" "$(kv "$3" requests)" "$(kv "$3" non200)"
}
ratio() { awk -v a="$(kv "$1" p50_us)" -v b="$(kv "$2" p50_us)" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

echo
echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^[ \t]+/, "", $2); print $2; exit }')"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (work tree modified)')"
echo "binary:  $BIN (release profile unless MAMORI_BIN says otherwise)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average after the run)"
echo "cpu:     server $SERVER_CORES cores, load generators $CLIENT_CORES, everything else $OTHER_CORES, hypervisor steal $STEAL_CORES (averaged over the measured part)"
BUSY_AFTER=$(busy)
if [ -n "$BUSY_BEFORE$BUSY_AFTER" ]; then
    echo "note:    cargo/rustc processes present (pids before: ${BUSY_BEFORE:-none}; after: ${BUSY_AFTER:-none})"
fi
if awk -v x="$OTHER_CORES" 'BEGIN { exit !(x > 0.15) }'; then
    echo "WARNING: other processes used $OTHER_CORES cores during the measurement: the machine was shared"
    echo "         and the numbers are disturbed; rerun on a quiet machine."
fi
echo
echo "| run                            | page      | p50 (ms) | p90 (ms) | p99 (ms) |    req/s |   reqs  | non200 |"
echo "|--------------------------------|-----------|---------:|---------:|---------:|---------:|--------:|-------:|"
row "wrk -t$THREADS -c$CONNECTIONS -d$DURATION" dashboard "$W_DASH"
row "wrk -t$THREADS -c$CONNECTIONS -d$DURATION" healthz "$W_HEALTH"
for c in $CONCURRENCY; do
    row "fixed $COUNT reqs, concurrency $c" dashboard "${F_DASH[$c]}"
    row "fixed $COUNT reqs, concurrency $c" healthz "${F_HEALTH[$c]}"
done
echo
ratios="wrk -c$CONNECTIONS $(ratio "$W_DASH" "$W_HEALTH")x"
for c in $CONCURRENCY; do
    ratios="$ratios, fixed-count c=$c $(ratio "${F_DASH[$c]}" "${F_HEALTH[$c]}")x"
done
echo "dashboard p50 / healthz p50: $ratios"

if [ "$FAILED" != 0 ]; then
    tail -n 20 "$TMP/server.err" >&2 || true
    printf '%s' "$FAILURES" >&2
    die "non-200 responses or socket errors (see above)"
fi
