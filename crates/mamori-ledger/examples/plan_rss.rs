//! Peak memory of reading and planning a large ledger file.
//!
//! ```sh
//! cargo run -p mamori-ledger --example plan_rss -- gen-csv  /tmp/assets.csv  1000000
//! cargo run -p mamori-ledger --example plan_rss -- gen-xlsx /tmp/assets.xlsx 300000
//! cargo run -p mamori-ledger --example plan_rss -- plan     /tmp/assets.csv
//! cargo run -p mamori-ledger --example plan_rss -- plan-borrowed /tmp/assets.csv
//! ```
//!
//! `plan` uses `plan_owned` (the cell grid is freed as rows are planned), `plan-borrowed`
//! uses `plan` (the caller keeps the sheets).
//!
//! Generating and planning run as separate processes so that the peak (`VmHWM` from
//! `/proc/self/status`, Linux only) is the planner's alone. The generated asset ledger has
//! ten columns, Japanese text, and a unique serial, IP and MAC per row.

use std::time::Instant;

use mamori_domain::record::RecordKind;
use mamori_ledger::plan::{PlanOptions, References, plan, plan_owned};
use mamori_ledger::read::{Encoding, Limits, read_file};

const HEADER: [&str; 10] =
    ["種別", "機器名", "ホスト名", "製造番号", "IPアドレス", "MACアドレス", "設置場所", "部署", "保守期限", "備考"];

fn row(i: usize) -> [String; 10] {
    let kinds = ["端末PC", "サーバ", "医療機器", "ネットワーク機器"];
    let places = ["1階 受付", "2階 病棟", "3階 検査室", "地下 サーバ室"];
    [
        kinds[i % 4].to_owned(),
        format!("電子カルテ端末{i:07}"),
        format!("PC-{i:07}"),
        format!("SN{i:09}"),
        format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255),
        format!("02:00:00:{:02x}:{:02x}:{:02x}", i >> 16 & 255, i >> 8 & 255, i & 255),
        places[i % 4].to_owned(),
        "医療情報部".to_owned(),
        format!("令和{}年3月31日", 8 + i % 5),
        "定期点検済み".to_owned(),
    ]
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, path) = match args.as_slice() {
        [m, p, ..] => (m.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: plan_rss gen-csv|gen-xlsx|plan PATH [ROWS]");
            std::process::exit(2);
        }
    };
    let rows: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    match mode {
        "gen-csv" => {
            // Header on line 1, so 1,000,000 lines is the reader's limit exactly.
            let mut text = HEADER.join(",");
            text.push_str("\r\n");
            for i in 0..rows - 1 {
                text.push_str(&row(i).join(","));
                text.push_str("\r\n");
            }
            let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
            std::fs::write(path, &bytes).expect("write");
            println!("wrote {path}: {} bytes, {rows} lines", bytes.len());
        }
        "gen-xlsx" => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            for (c, h) in HEADER.iter().enumerate() {
                ws.write_string(0, c as u16, *h).expect("write");
            }
            for i in 0..rows - 1 {
                for (c, v) in row(i).iter().enumerate() {
                    ws.write_string(i as u32 + 1, c as u16, v).expect("write");
                }
            }
            wb.save(path).expect("save");
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            println!("wrote {path}: {len} bytes, {rows} rows");
        }
        "plan" | "plan-borrowed" => {
            let start = Instant::now();
            let bytes = std::fs::read(path).expect("read");
            let name = path.rsplit('/').next().unwrap_or(path);
            let sheets = read_file(&bytes, name, Encoding::Auto, &Limits::default()).expect("read_file");
            drop(bytes);
            let read_at = start.elapsed();
            let read_peak = peak_rss_kib();
            let p = if mode == "plan" {
                plan_owned(sheets, RecordKind::Assets, &[], &References::new(), &PlanOptions::default())
            } else {
                plan(&sheets, RecordKind::Assets, &[], &References::new())
            }
            .expect("plan");
            let total = start.elapsed();
            println!(
                "{path}: rows planned {}, problems {}, read {:.1} s (peak {} MiB), read+plan {:.1} s, peak RSS {} MiB",
                p.rows.len(),
                p.problems.len(),
                read_at.as_secs_f64(),
                read_peak / 1024,
                total.as_secs_f64(),
                peak_rss_kib() / 1024
            );
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
