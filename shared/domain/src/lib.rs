//! Stamp's domain: everything about a staff ledger that does not depend on where it runs.
//!
//! A check-in travels: `import` (parse, validate, archive first, store) → `ledger`
//! (records, effective events, indexes on the `ports::ItemStore`) → `analysis` (spec §6)
//! → `queries` (what a company reads).

pub mod admin;
pub mod analysis;
pub mod audit;
pub mod auth;
#[cfg(test)]
mod bounded_work_tests;
pub mod error;
pub mod extracts;
pub mod feeds;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod import;
#[cfg(test)]
mod ingest_tests;
pub mod inspection;
pub mod ledger;
pub mod memory;
pub mod model;
pub mod notice;
pub mod notify;
pub mod pagination;
pub mod ports;
pub mod present;
pub mod privacy;
pub mod purge;
pub mod queries;
pub mod query_string;
pub mod rebuild;
pub mod retention;
pub mod statistics;
pub mod store_rules;
pub mod time;
pub mod verification;
pub mod verify;

pub use error::{DomainError, ErrorKind, ErrorRecord};
