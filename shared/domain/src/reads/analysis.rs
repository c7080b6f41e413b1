//! Spec §6, the one place that holds the rules: duplicates, pairing into work sessions,
//! and the anomaly kinds. A pure function of the effective events and the analysis time;
//! every view (registrations, anomalies, statistics, extracts) calls it.

use crate::model::{Direction, LedgerEvent};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub const DUPLICATE_WINDOW: Duration = Duration::seconds(120);
pub const MAX_SESSION: Duration = Duration::hours(16);
pub const LONG_SESSION: Duration = Duration::hours(12);
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(5);
pub const LATE_TOLERANCE: Duration = Duration::hours(1);

/// How far before a range a view must read so that the range's events are judged as
/// they would be with the whole history: an `out` pairs with an `in` up to 16 h back,
/// and duplicates look 120 s back. (Only an unbroken run of events less than 120 s apart
/// for longer than this margin could be judged differently.)
pub const LOOKBACK: Duration = Duration::hours(24);
/// How far after a range a view must read so that sessions starting in it are whole.
pub const LOOKAHEAD: Duration = Duration::hours(16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    Duplicate,
    MissingCheckOut,
    MissingCheckIn,
    LongSession,
    FutureEvent,
    LateEntry,
    InvalidPersonId,
}

impl AnomalyKind {
    pub const ALL: [AnomalyKind; 7] = [
        AnomalyKind::Duplicate,
        AnomalyKind::MissingCheckOut,
        AnomalyKind::MissingCheckIn,
        AnomalyKind::LongSession,
        AnomalyKind::FutureEvent,
        AnomalyKind::LateEntry,
        AnomalyKind::InvalidPersonId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Duplicate => "duplicate",
            AnomalyKind::MissingCheckOut => "missing_check_out",
            AnomalyKind::MissingCheckIn => "missing_check_in",
            AnomalyKind::LongSession => "long_session",
            AnomalyKind::FutureEvent => "future_event",
            AnomalyKind::LateEntry => "late_entry",
            AnomalyKind::InvalidPersonId => "invalid_person_id",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Indexes into the analysed slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub check_in: usize,
    pub check_out: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unpaired {
    MissingCheckIn,
    MissingCheckOut,
    /// An `in` still open at the analysis time, less than 16 h ago: on site.
    OnSite,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub event: usize,
    pub related: Vec<usize>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    pub sessions: Vec<Session>,
    /// Kept events in no session, with why.
    pub unpaired: Vec<(usize, Unpaired)>,
    /// (the duplicate, the kept event it repeats)
    pub duplicates: Vec<(usize, usize)>,
    pub anomalies: Vec<Anomaly>,
}

fn minutes(d: Duration) -> i64 {
    d.num_minutes()
}

fn hm(d: Duration) -> String {
    let m = d.num_minutes();
    format!("{} h {:02} min", m / 60, m % 60)
}

fn local(e: &LedgerEvent) -> String {
    e.occurred_at
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The order of spec §6: by `occurred_at`, `out` before `in` at the same instant, then
/// `(partner_id, event_id)`.
pub fn compare(a: &LedgerEvent, b: &LedgerEvent) -> std::cmp::Ordering {
    let dir = |e: &LedgerEvent| match e.direction {
        Direction::Out => 0,
        Direction::In => 1,
    };
    a.occurred_at
        .cmp(&b.occurred_at)
        .then(dir(a).cmp(&dir(b)))
        .then_with(|| a.partner_id.cmp(&b.partner_id))
        .then_with(|| a.event_id.cmp(&b.event_id))
}

/// Analyses effective events (withdrawn events must already be left out) at `now`.
pub fn analyse(events: &[LedgerEvent], now: DateTime<Utc>) -> Analysis {
    let mut by_person: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        by_person.entry(e.person_ref.as_str()).or_default().push(i);
    }
    let mut out = Analysis::default();
    for (_, mut idx) in by_person {
        idx.sort_by(|&a, &b| compare(&events[a], &events[b]));
        analyse_person(events, &idx, now, &mut out);
    }
    for (i, e) in events.iter().enumerate() {
        per_event_rules(i, e, &mut out);
    }
    out.anomalies
        .sort_by(|a, b| compare(&events[a.event], &events[b.event]).then(a.kind.cmp(&b.kind)));
    out
}

fn analyse_person(events: &[LedgerEvent], idx: &[usize], now: DateTime<Utc>, out: &mut Analysis) {
    // 1. duplicates: against the latest kept event of the same site and direction.
    let mut last_kept: HashMap<(&str, Direction), usize> = HashMap::new();
    let mut kept = Vec::with_capacity(idx.len());
    for &i in idx {
        let e = &events[i];
        let slot = (e.site_id.as_str(), e.direction);
        if let Some(&k) = last_kept.get(&slot) {
            let gap = e.occurred_at - events[k].occurred_at;
            if gap <= DUPLICATE_WINDOW {
                out.duplicates.push((i, k));
                out.anomalies.push(Anomaly {
                    kind: AnomalyKind::Duplicate,
                    event: i,
                    related: vec![k],
                    detail: format!(
                        "Check-{} registered again {} s after the same registration at {} ({}); the repeat is not counted.",
                        e.direction.as_str(),
                        gap.num_seconds(),
                        local(&events[k]),
                        e.site_id
                    ),
                });
                continue;
            }
        }
        last_kept.insert(slot, i);
        kept.push(i);
    }

    // 2. pairing, at most one open `in`.
    let mut open: Option<usize> = None;
    for &i in &kept {
        let e = &events[i];
        match (e.direction, open) {
            (Direction::In, None) => open = Some(i),
            (Direction::In, Some(o)) => {
                missing_out(
                    o,
                    format!(
                        "Checked in at {} ({}) but checked in again at {} without checking out.",
                        local(&events[o]),
                        events[o].site_id,
                        local(e)
                    ),
                    out,
                );
                open = Some(i);
            }
            (Direction::Out, None) => {
                missing_in(i, "Checked out with no open check-in.".into(), out)
            }
            (Direction::Out, Some(o)) => {
                let inn = &events[o];
                let length = e.occurred_at - inn.occurred_at;
                if inn.site_id == e.site_id && length <= MAX_SESSION {
                    out.sessions.push(Session {
                        check_in: o,
                        check_out: i,
                    });
                    if length > LONG_SESSION {
                        out.anomalies.push(Anomaly {
                            kind: AnomalyKind::LongSession,
                            event: o,
                            related: vec![i],
                            detail: format!(
                                "Work session of {} at {} from {} to {} is longer than 12 hours.",
                                hm(length),
                                inn.site_id,
                                local(inn),
                                local(e)
                            ),
                        });
                    }
                } else if inn.site_id != e.site_id {
                    missing_out(
                        o,
                        format!(
                        "Checked in at {} ({}) but the next check-out was at another site ({}).",
                        local(inn), inn.site_id, e.site_id
                    ),
                        out,
                    );
                    missing_in(
                        i,
                        format!(
                            "Checked out at {} but the open check-in was at another site ({}).",
                            e.site_id, inn.site_id
                        ),
                        out,
                    );
                } else {
                    missing_out(o, format!(
                        "Checked in at {} ({}); the next check-out came {} later, more than 16 hours.",
                        local(inn), inn.site_id, hm(length)
                    ), out);
                    missing_in(
                        i,
                        format!(
                            "Checked out more than 16 hours ({}) after the open check-in at {}.",
                            hm(length),
                            local(inn)
                        ),
                        out,
                    );
                }
                open = None;
            }
        }
    }
    if let Some(o) = open {
        let since = now.signed_duration_since(events[o].occurred_at);
        if since > MAX_SESSION {
            missing_out(
                o,
                // Independent of when the analysis runs: the same ledger, the same text.
                format!(
                    "Checked in at {} ({}) and no check-out followed within 16 hours.",
                    local(&events[o]),
                    events[o].site_id
                ),
                out,
            );
        } else {
            out.unpaired.push((o, Unpaired::OnSite));
        }
    }
}

fn missing_out(i: usize, detail: String, out: &mut Analysis) {
    out.unpaired.push((i, Unpaired::MissingCheckOut));
    out.anomalies.push(Anomaly {
        kind: AnomalyKind::MissingCheckOut,
        event: i,
        related: vec![],
        detail,
    });
}

fn missing_in(i: usize, detail: String, out: &mut Analysis) {
    out.unpaired.push((i, Unpaired::MissingCheckIn));
    out.anomalies.push(Anomaly {
        kind: AnomalyKind::MissingCheckIn,
        event: i,
        related: vec![],
        detail,
    });
}

/// Rules 4–6: how the event was first recorded, and the person id.
fn per_event_rules(i: usize, e: &LedgerEvent, out: &mut Analysis) {
    let ahead = e.first_occurred_at - e.recorded_at;
    if ahead > FUTURE_TOLERANCE {
        out.anomalies.push(Anomaly {
            kind: AnomalyKind::FutureEvent,
            event: i,
            related: vec![],
            detail: format!(
                "Registered {} minutes before the time it records.",
                minutes(ahead)
            ),
        });
    }
    let behind = e.recorded_at - e.first_occurred_at;
    if behind > LATE_TOLERANCE {
        out.anomalies.push(Anomaly {
            kind: AnomalyKind::LateEntry,
            event: i,
            related: vec![],
            detail: format!(
                "Entered {} after the check-{} it records; entries must be made as work starts and ends.",
                hm(behind),
                e.direction.as_str()
            ),
        });
    }
    if !e.person.valid() {
        out.anomalies.push(Anomaly {
            kind: AnomalyKind::InvalidPersonId,
            event: i,
            related: vec![],
            detail: "The personnummer or samordningsnummer has an impossible date or a wrong check digit.".into(),
        });
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
