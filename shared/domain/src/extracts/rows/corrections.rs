//! Corrections as the extracts show them: in Swedish words for the PDF and CSV, and as a
//! record for the JSON extract.

use super::{event_ref, local_datetime, local_datetime_utc};
use crate::model::EventKey;
use crate::table::CorrectionEntry;
use crate::time::parse_rfc3339;
use serde_json::{json, Value};

/// A changed value as people read it: times in Swedish local time.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "(tomt)".into(),
        Value::String(s) => match parse_rfc3339(s) {
            Ok(t) => local_datetime(&t),
            Err(_) => s.clone(),
        },
        other => other.to_string(),
    }
}

/// Fields a correction can change that say nothing to a reader (the pseudonym follows
/// the person id; the withdrawal is said in words).
const UNSHOWN_CHANGES: [&str; 2] = ["person_ref", "withdrawn"];

/// One correction in words: what, who, when. `p:e rättad 2026-03-02 09:12:00 av Kalle
/// genom p:e-fix, mottagen 2026-03-02 09:12:05: occurred_at 2026-03-02 07:00:00 → 06:55:00`.
pub fn correction_text(event: &EventKey, c: &CorrectionEntry) -> String {
    let action = if c.void { "återkallad" } else { "rättad" };
    let who = c
        .recorded_by
        .clone()
        .unwrap_or_else(|| format!("systemet {}", c.partner_id));
    let changes: Vec<String> = c
        .changes
        .iter()
        .filter(|(f, _)| !UNSHOWN_CHANGES.contains(&f.as_str()))
        .map(|(f, ch)| {
            format!(
                "{f} {} → {}",
                value_text(&ch["from"]),
                value_text(&ch["to"])
            )
        })
        .collect();
    let mut s = format!(
        "{} {action} {} av {who} genom {}:{}, mottagen {}",
        event_ref(event),
        local_datetime(&c.recorded_at),
        c.partner_id,
        c.event_id,
        local_datetime_utc(&c.received_at),
    );
    if !changes.is_empty() {
        s.push_str(": ");
        s.push_str(&changes.join(", "));
    }
    s
}

pub fn correction_json(event: &EventKey, c: &CorrectionEntry) -> Value {
    json!({
        "event": { "partner_id": event.partner_id, "event_id": event.event_id },
        "seq": c.seq,
        "action": if c.void { "withdrawal" } else { "correction" },
        "correction_event": { "partner_id": c.partner_id, "event_id": c.event_id },
        "recorded_at": local_datetime(&c.recorded_at),
        "received_at": local_datetime_utc(&c.received_at),
        "recorded_by": c.recorded_by,
        "source": c.source,
        "batch_id": c.batch_id,
        "changes": c.changes,
        "text": correction_text(event, c),
    })
}
