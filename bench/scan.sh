#!/usr/bin/env bash
# mamori's scanner versus nmap -sT -sV on the same real loopback daemons, in the same run.
#
# A benchmark, not a test. It starts, on ONE loopback address (default 127.0.0.77):
#   nginx (HTTP + HTTPS, self-signed cert), OpenSSH sshd, dcmtk storescp (DICOM), Orthanc
#   (DICOM + REST), mosquitto (MQTT, anonymous), snmpd (UDP, community public), the HL7 v2
#   MLLP listener (scripts/hl7-mllp-ack-server.py) and the FHIR R4 node test server,
# then times, on exactly those ports of that address,
#   (a) mamori: crates/mamori-scan/examples/scan_once, profile 標準 (standard) with its limits,
#       discovery and service detection as shipped, port list replaced by the daemons' ports;
#   (b) nmap -sT -sV -Pn -n -p T:<tcp>,U:<udp> (plus -sU so the SNMP port is scanned too);
#   (c) rustscan -g (port discovery only, no service detection), if it is already installed,
# and prints the wall times, the nmap/mamori ratio and a per-port table of what each tool
# identified next to what really runs there (bench/scan-compare.py).
#
# Only 127.0.0.0/8 is ever contacted. Orthanc and storescp cannot be told an address to bind, so
# they listen on 0.0.0.0 of their ports for the duration (as in the integration tests); nothing
# connects to them except over loopback. Every daemon is stopped by PID on exit (SIGTERM, then
# SIGKILL after 5 s) and the temp dir removed.
#
# Usage (from the repo root, as root: sshd, snmpd and nmap -sU need it):
#   bench/scan.sh
# Knobs (environment):
#   BENCH_ADDR=127.0.0.77   the loopback address the daemons listen on and the tools scan
#   PORT_SET=standard       standard = the services' usual ports (22, 80, 443, 104, 4242, 8042,
#                           1883, 2575, 8080, U:161); high = 17xxx ports, so neither tool gets
#                           a hint from the port number
#   RUNS=1                  timed rounds (mamori then nmap each round); the table is the last
#   NMAP_UDP=1              0 = leave the UDP port out of the nmap run (plain -sT -sV)
#   SKIP_BUILD=1            use the existing target/release/examples/scan_once
#   SCAN_BIN=path           another scan_once-compatible binary (implies no build)
#   KEEP_TMP=1              keep the temp dir (daemon logs, mamori JSON, nmap XML)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
SHARED_SCRIPTS=${SHARED_SCRIPTS:-$ROOT/../shared/scripts}
PEERS_DIR=${MAMORI_PEERS_DIR:-/opt/mamori-peers}

ADDR=${BENCH_ADDR:-127.0.0.77}
PORT_SET=${PORT_SET:-standard}
RUNS=${RUNS:-1}
NMAP_UDP=${NMAP_UDP:-1}

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'scan.sh: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

[[ $ADDR =~ ^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || die "BENCH_ADDR must be a 127.0.0.0/8 address, got $ADDR"
[ "$(id -u)" = 0 ] || die "run as root (sshd, snmpd and nmap -sU need it)"
for t in nmap nginx openssl /usr/sbin/sshd ssh-keygen storescp Orthanc mosquitto snmpd python3 node ss; do
    have "$t" || die "$t is missing (see ../shared/peers.md, ../shared/scripts/install-peers.sh)"
done
python3 -c 'import hl7' 2>/dev/null || die "python module hl7 is missing (pip install hl7)"
[ -f "$SHARED_SCRIPTS/hl7-mllp-ack-server.py" ] || die "no $SHARED_SCRIPTS/hl7-mllp-ack-server.py"
FHIR_JS="$PEERS_DIR/fhir-test-server/server.js"
[ -d "$PEERS_DIR/fhir-test-server/node_modules" ] || die "no FHIR test server in $PEERS_DIR (install-peers.sh medical)"

# ---- ports ---------------------------------------------------------------------------------------
case $PORT_SET in
    standard) P_SSH=22 P_HTTP=80 P_HTTPS=443 P_SCP=104 P_ODICOM=4242 P_OREST=8042 P_MQTT=1883 P_HL7=2575 P_FHIR=8080 P_SNMP=161 ;;
    high) P_SSH=17022 P_HTTP=17080 P_HTTPS=17443 P_SCP=17104 P_ODICOM=17242 P_OREST=17042 P_MQTT=17883 P_HL7=17575 P_FHIR=17090 P_SNMP=17161 ;;
    *) die "PORT_SET must be standard or high" ;;
esac
TCP_PORTS="$P_SSH,$P_HTTP,$P_HTTPS,$P_SCP,$P_ODICOM,$P_OREST,$P_MQTT,$P_HL7,$P_FHIR"
MAMORI_PORTS="$TCP_PORTS,U:$P_SNMP"
if [ "$NMAP_UDP" = 1 ]; then NMAP_PORTS="T:$TCP_PORTS,U:$P_SNMP"; NMAP_TYPES=(-sT -sU); else NMAP_PORTS="$TCP_PORTS"; NMAP_TYPES=(-sT); fi

# Refuse to start when something already listens where a daemon would (on ADDR or a wildcard).
for p in ${TCP_PORTS//,/ }; do
    if ss -Hltn "( sport = :$p )" | awk '{print $4}' | grep -Eq "^(\\*|0\\.0\\.0\\.0|\\[::\\]|$ADDR):$p\$"; then
        die "TCP port $p is already in use (ss -ltnp 'sport = :$p'); try PORT_SET=high or another BENCH_ADDR"
    fi
done
if ss -Hlun "( sport = :$P_SNMP )" | awk '{print $4}' | grep -Eq "^(\\*|0\\.0\\.0\\.0|\\[::\\]|$ADDR):$P_SNMP\$"; then
    die "UDP port $P_SNMP is already in use"
fi

# ---- scanner binary --------------------------------------------------------------------------------
if [ -n "${SCAN_BIN:-}" ]; then
    BIN=$SCAN_BIN
elif [ -n "${SKIP_BUILD:-}" ]; then
    BIN=$ROOT/target/release/examples/scan_once
else
    log "building scan_once (release)"
    cargo build --release -q -p mamori-scan --example scan_once || die "build failed"
    BIN=$ROOT/target/release/examples/scan_once
fi
[ -x "$BIN" ] || die "no scanner binary at $BIN"

# ---- temp dir, daemons, cleanup -----------------------------------------------------------------------
T=$(mktemp -d /tmp/mamori-bench-scan.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
    local p alive
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 1 50); do
        alive=0
        for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -n "${KEEP_TMP:-}" ]; then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bg() {  # bg NAME COMMAND...   start a daemon in the foreground mode, remember its PID
    local name=$1; shift
    "$@" >"$T/$name.log" 2>&1 &
    PIDS+=("$!")
}
wait_tcp() {  # wait_tcp NAME PORT
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/$ADDR/$2") 2>/dev/null && return 0
        sleep 0.2
    done
    die "$1 did not listen on $ADDR:$2 within 20 s; log: $(tail -n 5 "$T/$1.log" 2>/dev/null)"
}

log "starting daemons on $ADDR ($PORT_SET ports) in $T"

# nginx, HTTP + HTTPS with a self-signed certificate for ADDR.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 \
    -subj "/CN=mamori-bench" -addext "subjectAltName=DNS:localhost,IP:$ADDR" >/dev/null 2>&1 || die "openssl failed"
mkdir -p "$T/nginx"
cat >"$T/nginx.conf" <<EOF
worker_processes 1; pid $T/nginx.pid; error_log $T/nginx/error.log; daemon off;
events { worker_connections 64; }
http { access_log $T/nginx/access.log; client_body_temp_path $T/nginx; proxy_temp_path $T/nginx;
  fastcgi_temp_path $T/nginx; uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
  server { listen $ADDR:$P_HTTP; location / { return 200 "plain\n"; } }
  server { listen $ADDR:$P_HTTPS ssl; ssl_certificate $T/tls.crt; ssl_certificate_key $T/tls.key;
           location / { return 200 "tls\n"; } } }
EOF
bg nginx nginx -c "$T/nginx.conf"

# OpenSSH.
[ -d /run/sshd ] || mkdir -p /run/sshd  # privilege-separation dir sshd insists on (left in place)
ssh-keygen -q -t ed25519 -N "" -f "$T/hostkey" >/dev/null
bg sshd /usr/sbin/sshd -D -e -f /dev/null -o ListenAddress="$ADDR" -p "$P_SSH" -h "$T/hostkey" \
    -o PidFile="$T/sshd.pid" -o UsePAM=no

# DICOM: dcmtk storescp, and Orthanc (DICOM + REST).
mkdir -p "$T/scp" "$T/orthanc"
bg storescp storescp -aet STORESCP -od "$T/scp" "$P_SCP"
cat >"$T/orthanc.json" <<EOF
{ "Name": "MAMORI-BENCH", "StorageDirectory": "$T/orthanc", "IndexDirectory": "$T/orthanc",
  "HttpPort": $P_OREST, "DicomPort": $P_ODICOM, "DicomAet": "ORTHANC", "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false, "Plugins": [] }
EOF
bg orthanc Orthanc "$T/orthanc.json"

# MQTT (anonymous allowed).
printf 'listener %s %s\nallow_anonymous true\npersistence false\nlog_dest stderr\n' "$P_MQTT" "$ADDR" >"$T/mosquitto.conf"
bg mosquitto mosquitto -c "$T/mosquitto.conf"

# SNMP v1/v2c, community public, readable from loopback only.
printf 'agentAddress udp:%s:%s\nrocommunity public 127.0.0.0/8\nsysName mamori-bench\n' "$ADDR" "$P_SNMP" >"$T/snmpd.conf"
bg snmpd snmpd -f -Lf "$T/snmpd.log.txt" -C -c "$T/snmpd.conf" -p "$T/snmpd.pid"

# HL7 v2 MLLP listener and FHIR R4 server.
bg hl7 python3 "$SHARED_SCRIPTS/hl7-mllp-ack-server.py" --host "$ADDR" --port "$P_HL7"
bg fhir node "$FHIR_JS" "$P_FHIR" "$ADDR"

wait_tcp nginx "$P_HTTP"; wait_tcp nginx "$P_HTTPS"; wait_tcp sshd "$P_SSH"; wait_tcp storescp "$P_SCP"
wait_tcp orthanc "$P_ODICOM"; wait_tcp orthanc "$P_OREST"; wait_tcp mosquitto "$P_MQTT"
wait_tcp hl7 "$P_HL7"; wait_tcp fhir "$P_FHIR"
if have snmpget; then
    ok=0
    for _ in $(seq 1 25); do
        snmpget -v2c -c public -On -t 1 -r 0 "$ADDR:$P_SNMP" 1.3.6.1.2.1.1.5.0 >/dev/null 2>&1 && { ok=1; break; }
        sleep 0.2
    done
    [ $ok = 1 ] || die "snmpd did not answer on $ADDR:$P_SNMP; log: $(tail -n 5 "$T/snmpd.log.txt" 2>/dev/null)"
else
    sleep 1.5
fi
# Orthanc answers on the DICOM port before its REST API is fully up; give the REST API a moment.
for _ in $(seq 1 50); do
    python3 - "$ADDR" "$P_OREST" <<'PY' 2>/dev/null && break
import sys, urllib.request
urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/system", timeout=1).read()
PY
    sleep 0.2
done
log "all daemons up"

# What really runs where: proto, port, label, regex the identification must match, version regex.
pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null | sed -E 's/^[0-9]+://; s/[+~-].*//'; }
re_esc() { printf '%s' "$1" | sed -E 's/[.]/\\./g'; }
V_SSH=$(re_esc "$(pkgver openssh-server)")
V_NGINX=$(re_esc "$(pkgver nginx)")
V_ORTHANC=$(re_esc "$(pkgver orthanc)")
V_DCMTK_RAW=$(pkgver dcmtk)
V_DCMTK="$(re_esc "$V_DCMTK_RAW")|${V_DCMTK_RAW//./}"
V_MOSQ=$(re_esc "$(pkgver mosquitto)")
V_SNMP=$(re_esc "$(pkgver snmpd)")
{
    printf 'tcp\t%s\tsshd (OpenSSH %s)\topenssh\t%s\n' "$P_SSH" "$(pkgver openssh-server)" "${V_SSH:--}"
    printf 'tcp\t%s\tnginx HTTP\tnginx\t%s\n' "$P_HTTP" "${V_NGINX:--}"
    printf 'tcp\t%s\tnginx HTTPS (self-signed)\tnginx\t%s\n' "$P_HTTPS" "${V_NGINX:--}"
    printf 'tcp\t%s\tdcmtk storescp (DICOM)\tdcmtk|offis\t%s\n' "$P_SCP" "$V_DCMTK"
    printf 'tcp\t%s\tOrthanc DICOM\torthanc\t%s\n' "$P_ODICOM" "${V_ORTHANC:--}"
    printf 'tcp\t%s\tOrthanc REST\torthanc\t%s\n' "$P_OREST" "${V_ORTHANC:--}"
    printf 'tcp\t%s\tmosquitto (MQTT)\tmosquitto\t%s\n' "$P_MQTT" "${V_MOSQ:--}"
    printf 'tcp\t%s\tHL7 v2 MLLP listener\thl7|mllp\t-\n' "$P_HL7"
    printf 'tcp\t%s\tFHIR R4 server (node)\tfhir\t-\n' "$P_FHIR"
    printf 'udp\t%s\tsnmpd (net-snmp)\tnet-snmp|netsnmp\t%s\n' "$P_SNMP" "${V_SNMP:--}"
} >"$T/manifest.tsv"

# ---- timed runs ---------------------------------------------------------------------------------
now() { printf '%s' "$EPOCHREALTIME"; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

HAVE_RUSTSCAN=0
have rustscan && HAVE_RUSTSCAN=1
MAMORI_CMD=("$BIN" --profile standard --target "$ADDR" --ports "$MAMORI_PORTS")
NMAP_CMD=(nmap "${NMAP_TYPES[@]}" -sV -Pn -n -p "$NMAP_PORTS" "$ADDR")
log "mamori: ${MAMORI_CMD[*]}"
log "nmap:   ${NMAP_CMD[*]} -oX FILE"

declare -a M_TIMES N_TIMES R_TIMES
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RUST_PORTS=""
for i in $(seq 1 "$RUNS"); do
    t0=$(now)
    timeout 600 "${MAMORI_CMD[@]}" >"$T/mamori.json" 2>"$T/mamori.err" || die "mamori scan failed: $(cat "$T/mamori.err")"
    t1=$(now)
    M_TIMES+=("$(secs "$t0" "$t1")")
    log "round $i: mamori ${M_TIMES[-1]} s ($(tail -n 1 "$T/mamori.err"))"

    t0=$(now)
    timeout 1200 "${NMAP_CMD[@]}" -oX "$T/nmap.xml" >"$T/nmap.txt" 2>&1 || die "nmap failed: $(tail -n 5 "$T/nmap.txt")"
    t1=$(now)
    N_TIMES+=("$(secs "$t0" "$t1")")
    log "round $i: nmap ${N_TIMES[-1]} s"

    if [ $HAVE_RUSTSCAN = 1 ]; then
        t0=$(now)
        RUST_PORTS=$(timeout 120 rustscan -a "$ADDR" -p "$TCP_PORTS" -b 500 -t 1000 --ulimit 5000 -g --no-config 2>/dev/null |
            sed -n 's/.*\[\(.*\)\].*/\1/p' | tr -d ' ')
        t1=$(now)
        R_TIMES+=("$(secs "$t0" "$t1")")
        log "round $i: rustscan ${R_TIMES[-1]} s (ports only: $RUST_PORTS)"
    fi
done

# ---- report -----------------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
M_MED=$(median "${M_TIMES[@]}")
N_MED=$(median "${N_TIMES[@]}")
RATIO=$(python3 -c "import sys; m,n=map(float,sys.argv[1:]); print(f'{n/m:.1f}' if m > 0 else 'inf')" "$M_MED" "$N_MED")

echo
echo "mamori-scan vs nmap on $ADDR ($PORT_SET ports: T:$TCP_PORTS U:$P_SNMP), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr); $(nmap --version | head -n1)"
echo "load average before/after: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows both tools)"
echo "mamori:  ${MAMORI_CMD[*]}"
echo "nmap:    ${NMAP_CMD[*]}"
echo
printf '| tool | wall s (per round) | median s |\n|---|---|---|\n'
printf '| mamori scan_once, 標準 | %s | %s |\n' "${M_TIMES[*]}" "$M_MED"
printf '| nmap %s -sV | %s | %s |\n' "${NMAP_TYPES[*]}" "${N_TIMES[*]}" "$N_MED"
if [ $HAVE_RUSTSCAN = 1 ]; then
    printf '| rustscan -g (ports only, no -sV) | %s | %s |\n' "${R_TIMES[*]}" "$(median "${R_TIMES[@]}")"
else
    echo "(rustscan is not installed: skipped)"
fi
echo
echo "ratio nmap/mamori (median wall time): $RATIO"
echo
python3 "$ROOT/bench/scan-compare.py" "$T/manifest.tsv" "$T/mamori.json" "$T/nmap.xml" "$RUST_PORTS"
