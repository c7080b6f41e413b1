//! Stamp's domain: everything about a staff ledger that does not depend on where it runs.
//!
//! The folders follow a check-in (README "Layout"): `intake` (parse, validate, archive
//! first, store; uploads, pulled feeds and rebuilds take the same path) → `table` (the
//! records, effective events and indexes on the `ports::ItemStore`, each part with its own
//! keys) → `reads` (spec §6 analysis, company reads, statistics, who is on site) →
//! `extracts` (spec §8) and `notify` (spec §11); `governance` holds who may put data in
//! and take it out (partners, activation, grants, holds, audit, purge, verification);
//! `identity` the identities and the pseudonymous keys.

pub mod auth;
pub mod error;
pub mod extracts;
#[doc(hidden)]
pub mod fuzzing;
pub mod governance;
pub mod identity;
pub mod intake;
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod model;
pub mod notify;
pub mod pagination;
pub mod ports;
pub mod query_string;
pub mod reads;
pub mod store_rules;
pub mod table;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod time;

pub use error::{DomainError, ErrorKind, ErrorRecord};
