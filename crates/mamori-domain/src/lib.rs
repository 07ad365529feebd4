//! mamori's domain: the types every capability shares and the rules that need no I/O.
//!
//! The pipeline is collect → facts → analyse → findings → answer. This crate holds the
//! facts (ledger records, evidence), the findings, the jobs that produce them and the
//! hash-chained audit log. It must not read files, open sockets or talk to a database:
//! those belong to `mamori-store` and the collectors.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod evidence;
pub mod finding;
pub mod ids;
pub mod institution;
pub mod job;
pub mod ledger;
pub mod record;
pub mod time_fmt;

pub use ids::*;
