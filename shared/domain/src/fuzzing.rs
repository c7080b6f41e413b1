//! What the fuzz targets (`fuzz/`, `cargo +nightly fuzz`) run, kept here so the same
//! checks replay the kept corpus as ordinary tests on stable. Each entry takes arbitrary
//! bytes, must never panic, and asserts what must hold of whatever the parser accepts.

use crate::identity::{Orgnr, PersonId, SiteId};
use crate::intake::{parse_delivery, validate_event, DeliveryFormat};
use crate::pagination::Cursor;
use crate::time::{check_event_time, parse_rfc3339, query_range, sortable};
use chrono::{TimeZone, Utc};

fn received() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("a fixed time")
}

/// The JSON envelope and event parser (and each event's validation).
pub fn delivery_json(data: &[u8]) {
    delivery(DeliveryFormat::Json, data, None);
    delivery(DeliveryFormat::FeedPage, data, Some("page"));
}

/// The CSV parser: a first line of up to 64 bytes is taken as the `?batch_id=`.
pub fn delivery_csv(data: &[u8]) {
    let (param, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) if i <= 64 => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        _ => (Some("fuzz"), data),
    };
    delivery(DeliveryFormat::Csv, body, param);
}

fn delivery(format: DeliveryFormat, body: &[u8], param: Option<&str>) {
    let Ok(d) = parse_delivery(format, body, param) else {
        return;
    };
    assert!(
        !d.batch_id.is_empty(),
        "an accepted delivery has a batch id"
    );
    for raw in d.events.iter().flatten() {
        let Ok(f) = validate_event(raw) else {
            continue;
        };
        assert!(
            f.same_delivery_as(&f),
            "an event is the same delivery as itself"
        );
        // Whatever time an event names, its key form is fixed-width.
        assert_eq!(sortable(&f.occurred_at).len(), 27);
        let _ = check_event_time(&f.occurred_at, received());
        let _ = f.person.masked();
    }
}

/// Every identity parser; what one accepts it accepts again in its own written form.
pub fn identities(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(o) = Orgnr::parse(s) {
        assert_eq!(Orgnr::parse(&o.to_string()).as_ref(), Ok(&o));
        assert_eq!(o.to_string().len(), 10);
    }
    if let Ok(site) = SiteId::parse(s) {
        assert_eq!(SiteId::parse(&site.to_string()).as_ref(), Ok(&site));
    }
    let (id, country) = s.split_once('|').unwrap_or((s, "SE"));
    for (kind, country) in [
        (None, None),
        (Some("foreign"), Some(country)),
        (Some(country), None),
    ] {
        if let Ok(p) = PersonId::parse(id, kind, country) {
            let masked = p.masked();
            assert!(!masked.is_empty());
        }
    }
}

/// Cursor decoding: only cursors this API could have given out decode, and they
/// round-trip.
pub fn cursor(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Cursor::decode(s) {
        assert_eq!(Cursor::decode(&c.encode()).ok().as_ref(), Some(&c));
    }
}

/// The query-string parser and the bounded `from`/`to` of every range.
pub fn query(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let pairs = crate::query_string::pairs(s);
    let get = |name: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    for (_, v) in &pairs {
        if let Ok(t) = parse_rfc3339(v) {
            assert_eq!(sortable(&t).len(), 27);
        }
    }
    let now = received();
    if let Ok(r) = crate::reads::queries::Range::parse(get("from"), get("to"), now) {
        assert!(r.from < r.to);
        let utc = |t: &crate::time::Instant| Some(t.with_timezone(&Utc));
        assert!(query_range(utc(&r.from), utc(&r.to), now).is_ok());
    }
    if let Some(c) = get("cursor") {
        let _ = Cursor::decode(c);
    }
}

/// Replays the kept corpus (and any crash inputs) of every target on stable.
#[cfg(test)]
mod tests;
