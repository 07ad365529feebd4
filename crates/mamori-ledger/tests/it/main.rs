//! The one integration-test binary of mamori-ledger: real XLSX and CP932 CSV files are
//! generated here and read back through the public API.

mod csv_files;
mod demo;
mod kinds;
mod malformed;
mod mapping;
mod never_panics;
mod plan;
mod xlsx;

use mamori_ledger::read::{Encoding, Limits, ReadError, Sheet, read_file};

pub fn read(bytes: &[u8], name: &str) -> Result<Vec<Sheet>, ReadError> {
    read_file(bytes, name, Encoding::Auto, &Limits::default())
}
