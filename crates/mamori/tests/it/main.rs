//! The `mamori` binary as a user runs it: every test starts the real executable.

mod api;
mod browser;
mod checklist;
mod cli;
mod harness;
mod ledger;
mod scan;
