//! Every storage key of the single-table design, in one place. docs/data-model.md lists
//! the access pattern each one serves. No key holds a personnummer or a partner-chosen
//! id in clear: companies and people appear as keyed hashes, partner-chosen ids as
//! [`id_fragment`]s.

use crate::privacy::id_fragment;
use crate::time::{sortable, Instant};

pub const PARTNERS: &str = "PARTNERS";
pub const COMPANIES: &str = "COMPANIES";
pub const ACTIVATION: &str = "ACTIVATION";
pub const BATCH: &str = "BATCH";
pub const RECORD: &str = "RECORD";
pub const EFFECTIVE: &str = "EFFECTIVE";
pub const CORRECTION_PREFIX: &str = "CORR#";
/// A delivery that has begun: its receipt time and archive key, taken over by a retry.
pub const START: &str = "START";
pub const UPLOAD: &str = "UPLOAD";
pub const STATUS: &str = "STATUS";

pub fn company(ck: &str) -> String {
    format!("CO#{ck}")
}

pub fn users(ck: &str) -> String {
    format!("CO#{ck}#USERS")
}

pub fn people(ck: &str) -> String {
    format!("CO#{ck}#PEOPLE")
}

pub fn sites(ck: &str) -> String {
    format!("CO#{ck}#SITES")
}

pub fn person_timeline(ck: &str, person_ref: &str) -> String {
    format!("CO#{ck}#P#{person_ref}")
}

pub fn site_timeline(ck: &str, site_id: &str) -> String {
    format!("CO#{ck}#S#{site_id}")
}

/// The company's events of one Swedish local day (`YYYY-MM-DD`).
pub fn day_timeline(ck: &str, local_day: &str) -> String {
    format!("CO#{ck}#D#{local_day}")
}

/// The local days that hold any of the company's events (sort key `YYYY-MM-DD`): what
/// company-wide reads, extracts and the purge walk, so their work follows the data and
/// not the calendar span a request names.
pub fn data_days(ck: &str) -> String {
    format!("CO#{ck}#DAYS")
}

/// Days whose statistics must be recomputed (an import touched them).
pub fn dirty_days(ck: &str) -> String {
    format!("CO#{ck}#DIRTY")
}

/// Stored daily aggregates; sort key `{day}#{site_id}` or `{day}#*` for the total.
pub fn day_stats(ck: &str) -> String {
    format!("CO#{ck}#STATS")
}

pub fn stats_row(day: &str, site: Option<&str>) -> String {
    format!("{day}#{}", site.unwrap_or("*"))
}

/// Delivery health per partner of a company.
pub fn partner_health(ck: &str) -> String {
    format!("CO#{ck}#PARTNERHEALTH")
}

/// A company's legal holds.
pub fn holds(ck: &str) -> String {
    format!("CO#{ck}#HOLDS")
}

/// Archived objects by the year their retention ends; sort key `{retain_until}#{key}`.
pub fn retention(year: i32) -> String {
    format!("RETENTION#{year}")
}

pub const ANNOUNCEMENTS: &str = "ANNOUNCEMENTS";

pub fn batch(partner_id: &str, batch_id: &str) -> String {
    format!("BATCH#{partner_id}#{}", id_fragment(batch_id))
}

/// The partition of one event: its record, its effective state, its corrections.
pub fn event(partner_id: &str, event_id: &str) -> String {
    format!("EV#{partner_id}#{}", id_fragment(event_id))
}

pub fn correction(seq: u32) -> String {
    format!("{CORRECTION_PREFIX}{seq:06}")
}

/// Timeline sort key: time first, so a `[from, to)` range is one key range.
pub fn at(occurred_at: &Instant, partner_id: &str, event_id: &str) -> String {
    format!(
        "{}#{partner_id}#{}",
        sortable(occurred_at),
        id_fragment(event_id)
    )
}

/// The sort-key bounds of `[from, to)` on a timeline. Every timeline key continues
/// after the time with `#...`, so `to` itself is excluded by the inclusive upper bound.
pub fn time_range(from: &Instant, to: &Instant) -> (String, String) {
    (sortable(from), sortable(to))
}

/// A company's extracts (spec §8); sort key the extract id.
pub fn extracts(ck: &str) -> String {
    format!("CO#{ck}#EXTRACTS")
}

/// An employee's own register extracts, under the keyed hash of their identity
/// (`PseudonymKey::subject_key`), never the id itself.
pub fn own_extracts(subject_key: &str) -> String {
    format!("ME#{subject_key}#EXTRACTS")
}

/// Where a rendered extract file lives in the archive bucket: under `extracts/` (the
/// prefix with the 7-day expiry), by owner key, extract id and rendering attempt.
pub fn extract_file(owner_key: &str, extract_id: &str, attempt: &str, extension: &str) -> String {
    format!("extracts/{owner_key}/{extract_id}/{attempt}.{extension}")
}

/// An upload a partner was given a URL for (`upload_id` is Stamp's own UUID).
pub fn upload(partner_id: &str, upload_id: &str) -> String {
    format!("UPLOAD#{partner_id}#{upload_id}")
}

/// The feed cursors of a company: one item per pulling partner (sort key `partner_id`).
pub fn feeds(ck: &str) -> String {
    format!("CO#{ck}#FEEDS")
}

/// A pulling partner's status after its last pull round.
pub fn pull_status(partner_id: &str) -> String {
    format!("PULL#{partner_id}")
}
