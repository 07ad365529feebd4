#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (Debian packages), then
# checks formatting, runs clippy with warnings as errors, starts a temporary PostgreSQL
# server on 127.0.0.1 and runs every test against it and against SQLite.
#
#   scripts/test.sh            everything
#   scripts/test.sh -p CRATE   pass extra arguments to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test.sh] %s\n' "$*" >&2; }

# ---- what the tests need from the system ------------------------------------------------------
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
have_pg_server() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }

missing=()
have_pg_server || missing+=(postgresql)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
# The browser test (crates/mamori/tests/it/browser.rs): headless Chromium, its WebDriver, and a
# Japanese font so that its screenshots are legible.
pkg_installed chromium || missing+=(chromium)
pkg_installed chromium-driver || missing+=(chromium-driver)
pkg_installed fonts-ipafont-gothic || missing+=(fonts-ipafont-gothic)
# The checklist PDF test reads the PDF back as text and images (pdftotext, pdftoppm, pdffonts).
pkg_installed poppler-utils || missing+=(poppler-utils)
# The scanner's tests (crates/mamori-scan/tests): real daemons on 127.0.0.x, started by the tests.
for pkg in nginx openssl openssh-server openssh-client dcmtk orthanc mosquitto snmpd nodejs; do
    pkg_installed "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        log "missing ${missing[*]} and no apt-get to install them: install them and run again"
        exit 1
    fi
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    # Package scripts must not start system daemons: the tests start their own on loopback.
    policy_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        policy_created=1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$policy_created" -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
fi

# The FHIR R4 test server the scanner's tests identify (npm, put in /opt/mamori-peers by the
# shared peer installer that sits beside the project in CI).
fhir_server="${MAMORI_PEERS_DIR:-/opt/mamori-peers}/fhir-test-server/server.js"
if [ ! -f "$fhir_server" ]; then
    if [ -x ../shared/scripts/install-peers.sh ] || [ -f ../shared/scripts/install-peers.sh ]; then
        log "installing the FHIR test server (../shared/scripts/install-peers.sh medical)"
        bash ../shared/scripts/install-peers.sh medical >/dev/null
    else
        log "no $fhir_server and no ../shared/scripts/install-peers.sh: the FHIR scan test will fail"
    fi
fi

# ---- static checks ----------------------------------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# ---- a real PostgreSQL for the conformance suite ----------------------------------------------
pg_dir="$(mktemp -d /tmp/mamori-test-pg.XXXXXX)"
chmod 755 "$pg_dir"
stop_pg() { scripts/pg-test.sh stop "$pg_dir/cluster" >/dev/null 2>&1 || true; rm -rf "$pg_dir"; }
trap stop_pg EXIT
MAMORI_TEST_PG_URL="$(scripts/pg-test.sh start "$pg_dir/cluster")"
export MAMORI_TEST_PG_URL
log "PostgreSQL for tests: $MAMORI_TEST_PG_URL"

# ---- tests ------------------------------------------------------------------------------------
log "cargo test"
cargo test --workspace --locked --no-fail-fast "$@"
