//! Every storage key of the single-table design, in one place. docs/data-model.md lists
//! the access pattern each one serves. No key holds a personnummer or a partner-chosen
//! id in clear: companies and people appear as keyed hashes, partner-chosen ids as
//! [`id_fragment`]s.

use crate::identity::pseudonym::PersonRef;
use crate::identity::pseudonym::{id_fragment, CompanyKey};
use crate::identity::PartnerId;
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

pub fn company(ck: &CompanyKey) -> String {
    format!("CO#{ck}")
}

pub fn users(ck: &CompanyKey) -> String {
    format!("CO#{ck}#USERS")
}

pub fn people(ck: &CompanyKey) -> String {
    format!("CO#{ck}#PEOPLE")
}

/// The people an employer's events name (spec §4 `people?employer=`), sort key
/// `person_ref`; the organisationsnummer of an employer is a company's, not a person's.
pub fn employer_people(ck: &CompanyKey, employer: &str) -> String {
    format!("CO#{ck}#EMPLOYER#{employer}#PEOPLE")
}

/// The employers a person's events have named (sort key the orgnr), so that the purge
/// can remove the person from each [`employer_people`] directory.
pub fn person_employers(ck: &CompanyKey, person_ref: &PersonRef) -> String {
    format!("CO#{ck}#P#{person_ref}#EMPLOYERS")
}

pub fn sites(ck: &CompanyKey) -> String {
    format!("CO#{ck}#SITES")
}

pub fn person_timeline(ck: &CompanyKey, person_ref: &PersonRef) -> String {
    format!("CO#{ck}#P#{person_ref}")
}

/// A site's timeline: written by Stamp before site reads came from the day partitions.
/// Nothing writes it any more; the purge and corrections still remove such entries.
pub fn site_timeline(ck: &CompanyKey, site_id: &str) -> String {
    format!("CO#{ck}#S#{site_id}")
}

/// The company's events of one Swedish local day (`YYYY-MM-DD`).
pub fn day_timeline(ck: &CompanyKey, local_day: &str) -> String {
    format!("CO#{ck}#D#{local_day}")
}

/// In a day partition, the sort key of a *day chunk*: the new events that one import
/// transaction stored on that day, in one item (received time first, then the first
/// event's timeline key, so no two chunks share a key). Chunk keys sort after every
/// timeline key (`C` after the digits of a time).
pub fn day_chunk(received_at: &chrono::DateTime<chrono::Utc>, first_at: &str) -> String {
    format!(
        "{DAY_CHUNK_PREFIX}{}#{first_at}",
        received_at.timestamp_millis()
    )
}

pub const DAY_CHUNK_PREFIX: &str = "C#";

/// In a day partition, the mark that an event's first version, held in one of that
/// day's chunks, has been superseded by a correction (its current version is then a
/// timeline entry of its own, on whatever day it now falls).
pub fn superseded(partner_id: &PartnerId, event_id: &str) -> String {
    format!("{SUPERSEDED_PREFIX}{partner_id}#{}", id_fragment(event_id))
}

pub const SUPERSEDED_PREFIX: &str = "X#";

/// The local days that hold any of the company's events (sort key `YYYY-MM-DD`): what
/// company-wide reads, extracts and the purge walk, so their work follows the data and
/// not the calendar span a request names.
pub fn data_days(ck: &CompanyKey) -> String {
    format!("CO#{ck}#DAYS")
}

/// Days whose statistics must be recomputed (an import touched them).
pub fn dirty_days(ck: &CompanyKey) -> String {
    format!("CO#{ck}#DIRTY")
}

/// Stored daily aggregates; sort key `{day}#{site_id}` or `{day}#*` for the total.
pub fn day_stats(ck: &CompanyKey) -> String {
    format!("CO#{ck}#STATS")
}

/// The sort key, in a company's statistics partition, of when its aggregates were last
/// refreshed (it sorts after every `YYYY-MM-DD#…` row, so day ranges never meet it).
pub const STATS_REFRESHED: &str = "REFRESHED";

pub fn stats_row(day: &str, site: Option<&str>) -> String {
    format!("{day}#{}", site.unwrap_or("*"))
}

/// Delivery health per partner of a company.
pub fn partner_health(ck: &CompanyKey) -> String {
    format!("CO#{ck}#PARTNERHEALTH")
}

/// A company's legal holds.
pub fn holds(ck: &CompanyKey) -> String {
    format!("CO#{ck}#HOLDS")
}

/// Archived objects by the year their retention ends; sort key `{retain_until}#{key}`.
pub fn retention(year: i32) -> String {
    format!("RETENTION#{year}")
}

pub const ANNOUNCEMENTS: &str = "ANNOUNCEMENTS";

pub fn batch(partner_id: &PartnerId, batch_id: &str) -> String {
    format!("BATCH#{partner_id}#{}", id_fragment(batch_id))
}

/// The partition of one event: its record, its effective state, its corrections.
pub fn event(partner_id: &PartnerId, event_id: &str) -> String {
    format!("EV#{partner_id}#{}", id_fragment(event_id))
}

pub fn correction(seq: u32) -> String {
    format!("{CORRECTION_PREFIX}{seq:06}")
}

/// Timeline sort key: time first, so a `[from, to)` range is one key range.
pub fn at(occurred_at: &Instant, partner_id: &PartnerId, event_id: &str) -> String {
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
pub fn extracts(ck: &CompanyKey) -> String {
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
pub fn upload(partner_id: &PartnerId, upload_id: &str) -> String {
    format!("UPLOAD#{partner_id}#{upload_id}")
}

/// The feed cursors of a company: one item per pulling partner (sort key `partner_id`).
pub fn feeds(ck: &CompanyKey) -> String {
    format!("CO#{ck}#FEEDS")
}

/// A pulling partner's status after its last pull round.
pub fn pull_status(partner_id: &PartnerId) -> String {
    format!("PULL#{partner_id}")
}

/// A company's notification settings (sort key [`SETTINGS`]) and the partner-silence
/// notices already sent (sort key `SILENCE#{partner_id}`), digests sent (`DIGEST#{day}`).
pub fn notifications(ck: &CompanyKey) -> String {
    format!("CO#{ck}#NOTIFY")
}

pub const SETTINGS: &str = "SETTINGS";

/// A company's notification deliveries (webhook messages and e-mails), newest first:
/// sort key `{inverted creation millis}#{id}`.
pub fn deliveries(ck: &CompanyKey) -> String {
    format!("CO#{ck}#DELIVERIES")
}

/// Webhook messages waiting for an attempt; sort key `{due}#{ck}#{delivery sk}`.
pub const WEBHOOK_QUEUE: &str = "WEBHOOKQ";

/// Purge receipts by run (spec §12), and archive verification reports, in the archive.
/// The run's time sorts the keys; a random suffix keeps two runs in the same millisecond
/// (or under a fixed clock) from writing to one locked object.
pub fn purge_receipt(run_at: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "purge-receipts/{}-{}.json",
        run_at.format("%Y-%m-%dT%H-%M-%S%.3fZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

pub fn verification_report(run_at: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "verification/{}-{}.json",
        run_at.format("%Y-%m-%dT%H-%M-%S%.3fZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}
/// A company's inspection links, for the company_admin's list (sort key the link id).
pub fn inspections(ck: &CompanyKey) -> String {
    format!("CO#{ck}#INSPECTIONS")
}

/// One inspection link by its id, where a secret presented to `/inspect/v1/…` is looked
/// up (the id is the secret's public half; only the secret's SHA-256 is stored).
pub fn inspection(id: &str) -> String {
    format!("INSPECTION#{id}")
}

pub const LINK: &str = "LINK";
