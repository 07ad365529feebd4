#!/usr/bin/env bash
# Wall time and peak memory (RSS) of `mamori ledger import FILE --kind assets` on a large
# 機器台帳: a 50,000-row XLSX and the same rows as a CP932 CSV (Excel's "CSV" on Japanese
# Windows), each as a dry run (no --yes: read, check, plan, write nothing) and as the real
# import (--yes: one job, all or nothing), plus the re-import of the same file (nothing changes).
#
# A benchmark, not a test: it generates both files with python3 (xlsxwriter, installed with
# pip if missing), then for each file and each repetition makes a fresh temporary data dir
# (`mamori init`, `mamori institution add --name ベンチ病院`) and times, with /usr/bin/time -v,
#   1. the dry run          mamori --data-dir D ledger import FILE --kind assets
#   2. the import           mamori --data-dir D ledger import FILE --kind assets --yes
#   3. the re-import        the same command again
# It checks that the dry run saved nothing and planned ROWS new rows, that the import stored
# exactly ROWS rows (`ledger list --json`), and that the re-import reports "変更なし ROWS 件";
# any mismatch makes it exit 1. Only local files; the temp dir is removed on exit.
#
# Usage (from the repo root):  bench/ledger-import.sh
# Knobs (environment):
#   ROWS=50000          data rows per file
#   RUNS=2              repetitions of each measurement (each in a fresh data dir)
#   FORMATS="xlsx csv"  which files to measure
#   SKIP_BUILD=1        use the existing target/release/mamori as is
#   MAMORI_BIN=path     benchmark another binary (implies no build)
#   KEEP_TMP=1          keep the temp dir (input files, command output, time -v reports)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

ROWS=${ROWS:-50000}
RUNS=${RUNS:-2}
FORMATS=${FORMATS:-xlsx csv}

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'ledger-import: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is required"
if [ ! -x /usr/bin/time ]; then
    log "installing time (Debian package)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
    fi
    [ -x /usr/bin/time ] || die "could not install /usr/bin/time"
fi
if ! python3 -c 'import xlsxwriter' 2>/dev/null; then
    log "installing xlsxwriter (pip)"
    python3 -m pip install --quiet xlsxwriter >&2 || python3 -m pip install --quiet --user xlsxwriter >&2
    python3 -c 'import xlsxwriter' 2>/dev/null || die "could not install xlsxwriter"
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
cleanup() {
    local rc=$?
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
# The input: the same ROWS rows as XLSX (sheet 機器台帳, a title row above the header) and as
# CP932 CSV (title row, blank row, header), the way clinics keep them.
log "generating $ROWS rows: $TMP/機器台帳.xlsx and $TMP/機器台帳.csv (CP932)"
python3 - "$TMP" "$ROWS" <<'PY'
import csv, io, sys
import xlsxwriter

out, n = sys.argv[1], int(sys.argv[2])
title = "機器台帳（令和8年4月1日現在）"
header = ["機器名", "種別", "製造番号", "ホスト名", "IPアドレス", "MACアドレス", "設置場所",
          "部署", "メーカー", "型番", "OS", "保守期限", "備考"]
kinds = [("サーバ", "サーバ", "Windows Server 2022"), ("端末", "診察室PC", "Windows 11"),
         ("ネットワーク機器", "スイッチ", ""), ("医療機器", "超音波診断装置", ""),
         ("IoT", "ナースコール端末", "")]
places = ["本館1階 診察室", "本館2階 病棟", "別館 検査室", "地下 サーバ室", "外来 受付", "放射線科 操作室"]
depts = ["内科", "外科", "放射線科", "臨床検査科", "医事課", "情報システム室", "看護部"]
makers = [("〇〇電機", "SV-100"), ("△△メディカル", "US-7"), ("□□ネットワークス", "SW-24"),
          ("××情報システム", "PC-9"), ("◇◇工業", "NC-3")]
notes = ["", "リース契約", "電子カルテ接続", "夜間停止不可", "更新予定（令和9年度）", "予備機"]

def row(i):
    k, name, os_ = kinds[i % len(kinds)]
    maker, model = makers[(i // 5) % len(makers)]
    x = i + 1
    ip = "10.%d.%d.%d" % (x >> 16 & 255, x >> 8 & 255, x & 255)
    mac = "02:00:00:%02X:%02X:%02X" % (x >> 16 & 255, x >> 8 & 255, x & 255)
    year = 2026 + i % 4
    if i % 2:
        due = "令和%d年3月31日" % (year - 2018)
    else:
        due = "%d/%d/%d" % (year, 1 + i % 12, 1 + i % 28)
    return ["%s %05d" % (name, x), k, "SN-%06d" % x, "host-%05d" % x, ip, mac,
            places[i % len(places)], depts[i % len(depts)], maker, model, os_, due,
            notes[i % len(notes)]]

rows = [row(i) for i in range(n)]

buf = io.StringIO()
w = csv.writer(buf, lineterminator="\r\n")
w.writerow([title])
w.writerow([])
w.writerow(header)
w.writerows(rows)
with open(out + "/機器台帳.csv", "wb") as f:
    f.write(buf.getvalue().encode("cp932"))

wb = xlsxwriter.Workbook(out + "/機器台帳.xlsx", {"constant_memory": True})
ws = wb.add_worksheet("機器台帳")
ws.write_row(0, 0, [title])
ws.write_row(1, 0, header)
for r, values in enumerate(rows, start=2):
    ws.write_row(r, 0, values)
wb.close()
PY
ls -l "$TMP"/機器台帳.* >&2

# ---------------------------------------------------------------------------------------------
mamori() {
    env -u MAMORI_DB -u MAMORI_DATA_DIR -u LC_ALL -u LC_MESSAGES MAMORI_LANG=ja "$BIN" "$@"
}

# timed NAME cmd...: runs cmd under /usr/bin/time -v (stdout/stderr to $TMP/NAME.out/.err,
# the report to $TMP/NAME.time); fails the script if the command fails.
timed() {
    local name=$1; shift
    if ! /usr/bin/time -v -o "$TMP/$name.time" \
        env -u MAMORI_DB -u MAMORI_DATA_DIR -u LC_ALL -u LC_MESSAGES MAMORI_LANG=ja "$BIN" "$@" \
        >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null; then
        tail -n 20 "$TMP/$name.out" "$TMP/$name.err" >&2
        die "$name: mamori $* failed"
    fi
}
# secs NAME / rss_mb NAME: wall-clock seconds and peak RSS (MiB) from the time -v report.
secs() {
    awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$TMP/$1.time"
}
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$TMP/$1.time"; }
cpu_s() {
    awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$TMP/$1.time"
}

count_assets() {
    mamori --data-dir "$1" ledger list --kind assets --json \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

busy() {
    local n out=""
    for n in rustc cargo cc1 cc1plus ld rust-lld; do
        pgrep -x "$n" >/dev/null 2>&1 && out="$out $n"
    done
    printf '%s' "${out# }"
}
BUSY_BEFORE=$(busy)
[ -z "$BUSY_BEFORE" ] || log "note: cargo/rustc processes are present ($BUSY_BEFORE); the numbers may be disturbed"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A RESULT
for fmt in $FORMATS; do
    file=$TMP/機器台帳.$fmt
    for run in $(seq "$RUNS"); do
        D=$TMP/data-$fmt-$run
        mamori --data-dir "$D" init >/dev/null
        mamori --data-dir "$D" institution add --name ベンチ病院 >/dev/null

        log "$fmt run $run: dry run"
        timed "$fmt-dry-$run" --data-dir "$D" ledger import "$file" --kind assets
        grep -q "新規 $ROWS 件、更新 0 件、変更なし 0 件" "$TMP/$fmt-dry-$run.out" \
            || { head -n 20 "$TMP/$fmt-dry-$run.out" >&2; die "$fmt dry run did not plan $ROWS new rows"; }
        n=$(count_assets "$D")
        [ "$n" = 0 ] || die "$fmt dry run saved $n rows (expected none)"

        log "$fmt run $run: import --yes"
        timed "$fmt-import-$run" --data-dir "$D" ledger import "$file" --kind assets --yes
        n=$(count_assets "$D")
        [ "$n" = "$ROWS" ] || { head -n 20 "$TMP/$fmt-import-$run.out" >&2; die "$fmt import stored $n rows (expected $ROWS)"; }

        log "$fmt run $run: re-import --yes"
        timed "$fmt-reimport-$run" --data-dir "$D" ledger import "$file" --kind assets --yes
        grep -q "変更なし $ROWS 件" "$TMP/$fmt-reimport-$run.out" \
            || { head -n 20 "$TMP/$fmt-reimport-$run.out" >&2; die "$fmt re-import did not report 変更なし $ROWS 件"; }
        n=$(count_assets "$D")
        [ "$n" = "$ROWS" ] || die "$fmt re-import left $n rows (expected $ROWS)"

        for step in dry import reimport; do
            RESULT[$fmt-$step-$run]="$(secs "$fmt-$step-$run") $(rss_mb "$fmt-$step-$run") $(cpu_s "$fmt-$step-$run")"
        done
        rm -rf "$D"
    done
done

# ---------------------------------------------------------------------------------------------
echo
echo "machine: $(nproc) cores, $(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^[ \t]+/, "", $2); print $2; exit }'), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (work tree modified)')"
echo "binary:  $BIN (release profile unless MAMORI_BIN says otherwise)"
echo "input:   $ROWS rows; xlsx $(stat -c %s "$TMP/機器台帳.xlsx") bytes, csv (CP932) $(stat -c %s "$TMP/機器台帳.csv") bytes"
echo "load:    before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average)"
BUSY_AFTER=$(busy)
if [ -n "$BUSY_BEFORE$BUSY_AFTER" ]; then
    echo "note:    cargo/rustc processes present (before: ${BUSY_BEFORE:-none}; after: ${BUSY_AFTER:-none})"
fi
echo
echo "| file | step     | run | wall (s) | CPU user+sys (s) | peak RSS (MiB) |   rows/s |"
echo "|------|----------|----:|---------:|-----------------:|---------------:|---------:|"
for fmt in $FORMATS; do
    for step in dry import reimport; do
        for run in $(seq "$RUNS"); do
            read -r s m c <<<"${RESULT[$fmt-$step-$run]}"
            printf '| %-4s | %-8s | %3s | %8s | %16s | %14s | %8s |\n' "$fmt" "$step" "$run" "$s" "$c" "$m" \
                "$(awk -v n="$ROWS" -v s="$s" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')"
        done
    done
done
echo
echo "all checks passed: dry runs planned $ROWS new rows and saved nothing, imports stored $ROWS rows, re-imports changed nothing"
