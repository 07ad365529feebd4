#![forbid(unsafe_code)]
//! Ledger files: reading clinics' own Excel/CSV 台帳 (asset, staff, vendor, account and
//! network ledgers) into raw sheets, finding their header rows and normalising cell values.
//!
//! - [`read`]: bytes → [`read::Sheet`]s of raw [`read::Cell`]s (XLSX, XLS, ODS, CSV/TSV in
//!   UTF-8, UTF-16 or CP932), with limits and stable error codes.
//! - [`header`]: which row is the header and which column is which ledger field, with the
//!   user's saved corrections ([`header::MappingOverrides`]).
//! - [`normalize`]: NFKC text, dates (Excel serials, 和暦), booleans, IP and MAC addresses.
//! - [`plan`]: the pure planning step of an import: sheets → domain rows with problems,
//!   matched by natural keys against existing rows the caller passes (create, update or
//!   unchanged), with names of referenced records resolved through [`plan::References`].
//! - [`demo`]: fictional ledgers of a clinic and a small hospital, for demonstrations.
//! - [`export`]: ledgers back out as formatted XLSX (filters, frozen header), CSV in CP932 or
//!   UTF-8 with BOM for Excel, and blank templates with Japanese column titles.
//!
//! This crate does no I/O of its own (callers pass bytes) and knows nothing of the store:
//! the caller passes existing records to [`plan`] and writes what it plans.

pub mod demo;
pub mod export;
pub mod header;
pub mod normalize;
pub mod plan;
pub mod read;
