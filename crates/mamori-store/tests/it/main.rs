//! The store's integration tests: one conformance suite run against SQLite and a real
//! PostgreSQL server (started by `scripts/test.sh`, found through `MAMORI_TEST_PG_URL`).

mod audit;
mod checklists;
mod durability;
mod files;
mod harness;
mod jobs;
mod ledger;
mod schema;
mod users;
