//! `cargo +nightly fuzz run read_file` (from crates/mamori-ledger): any bytes, under any
//! encoding choice, must give sheets or a `ReadError`, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ledger::read::{Encoding, Limits, read_file};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_rows: 10_000, max_bytes: 4 << 20 };
    let enc = match data.first() {
        Some(b) if b % 3 == 1 => Encoding::Utf8,
        Some(b) if b % 3 == 2 => Encoding::ShiftJis,
        _ => Encoding::Auto,
    };
    if let Err(e) = read_file(data, "fuzz.csv", enc, &limits) {
        assert!(!e.code().is_empty());
    }
});
