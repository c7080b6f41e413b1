//! Who may put data in and take it out, and the proof of what was done: partners,
//! activation and grants (`admin`), inspection links, legal holds and announcements, the
//! audit log, retention and its purge, and the archive verification.

pub mod admin;
pub mod audit;
pub mod inspection;
pub mod notice;
pub mod purge;
pub mod retention;
pub mod verification;
pub mod verify;
