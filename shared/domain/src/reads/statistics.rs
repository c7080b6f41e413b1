//! Spec §7: per company, per site and in total, per Swedish local day — persons,
//! sessions, hours, check-ins, check-outs and anomalies by kind — rolled up to ISO weeks
//! and months, plus each partner's delivery health.
//!
//! Aggregation is incremental: an import marks the local days it touched; a refresh
//! recomputes only those days (and their neighbours, since pairing crosses midnight) from
//! the day partitions around them, so its cost follows the new events, not the history.
//! The scheduled `statistics` function refreshes every company and stores the result. A
//! read only reads: the stored aggregates, with the days marked dirty since the last
//! refresh (and the last two days) computed in memory for that answer, so it is never
//! stale; `refreshed_at` says when the stored part was refreshed.

use crate::auth::{require_company_and, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::Orgnr;
use crate::pagination::Cursor;
use crate::ports::Clock;
use crate::reads::analysis::{LOOKAHEAD, LOOKBACK};
use crate::table::Ledger;
use crate::time::{local_date, local_day_start};
use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod figures;

use figures::daily_figures;
pub use figures::Figures;

/// One row of the statistics answer (spec §7).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StatisticsRow {
    /// `YYYY-MM-DD`, `YYYY-Www` or `YYYY-MM`.
    pub period: String,
    /// `null` for the company total.
    pub site_id: Option<String>,
    pub persons: u64,
    pub sessions: u64,
    pub hours: f64,
    pub check_ins: u64,
    pub check_outs: u64,
    /// Count by anomaly kind; every kind present.
    pub anomalies: BTreeMap<String, u64>,
}

/// A page of `GET …/statistics`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatisticsPage {
    pub granularity: Granularity,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<StatisticsRow>,
    /// Delivery health per partner.
    pub partners: Vec<crate::table::PartnerHealth>,
    /// The employer filter (`employer=`), when one was given.
    pub employer: Option<String>,
    pub next: Option<Cursor>,
    /// When the stored aggregates were last refreshed by the job (`None`: never). The
    /// answer is current either way: days changed since are computed for it.
    pub refreshed_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw.unwrap_or("day") {
            "day" => Ok(Granularity::Day),
            "week" => Ok(Granularity::Week),
            "month" => Ok(Granularity::Month),
            other => Err(DomainError::invalid(
                "granularity",
                format!("must be day, week or month, got {other:?}"),
            )),
        }
    }

    /// `YYYY-MM-DD`, ISO `YYYY-Www`, or `YYYY-MM`.
    pub fn period(self, day: NaiveDate) -> String {
        match self {
            Granularity::Day => day.to_string(),
            Granularity::Week => {
                let w = day.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Granularity::Month => format!("{}-{:02}", day.year(), day.month()),
        }
    }
}

/// A statistics request: `from`/`to` local dates (or RFC 3339 times), `to` exclusive.
#[derive(Debug, Clone, Copy)]
pub struct StatisticsQuery<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub granularity: Granularity,
    pub site: Option<&'a str>,
    /// Only the figures of events naming this employer (normalised orgnr).
    pub employer: Option<&'a str>,
    pub cursor: Option<&'a Cursor>,
    pub limit: usize,
}

#[derive(Clone)]
pub struct Statistics {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
}

/// One day's stored rows: `(site or employer slot, row)`; `None` is the company total.
type DayRows = Vec<(Option<String>, Value)>;

/// Days recomputed in memory: the dirty marks read first, then each day's rows.
struct Recomputed {
    marks: Vec<(NaiveDate, String)>,
    days: Vec<(NaiveDate, DayRows)>,
    events_read: usize,
}

/// What one refresh did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RefreshSummary {
    pub companies: usize,
    /// Companies whose refresh failed this round (retried at the next).
    pub failed: usize,
    pub days: usize,
    pub events_read: usize,
    /// Partner-health batch rows folded into their partners' rollups.
    pub health_rows_folded: usize,
}

impl Statistics {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Statistics { ledger, clock }
    }

    /// Marks the local days an import touched, for the next refresh.
    pub async fn mark(
        &self,
        ck: &CompanyKey,
        days: BTreeSet<NaiveDate>,
    ) -> Result<(), DomainError> {
        let marker = uuid::Uuid::new_v4().to_string();
        self.ledger
            .mark_dirty(ck, &days.into_iter().collect::<Vec<_>>(), &marker)
            .await
    }

    /// The aggregate rows of the days a refresh would recompute now — the dirty days
    /// (with their neighbours: pairing crosses midnight) and the last two days (an open
    /// check-in turns into a missing check-out as time passes, without any new event) —
    /// computed from the ledger in memory; nothing is written. With `within`, only the
    /// days in that range (inclusive).
    async fn recompute(
        &self,
        ck: &CompanyKey,
        within: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Recomputed, DomainError> {
        let (marks, span) =
            futures::try_join!(self.ledger.dirty_days(ck), self.ledger.company_span(ck))?;
        let today = self.today();
        let mut days: BTreeSet<NaiveDate> = BTreeSet::new();
        for (d, _) in &marks {
            days.extend([d.pred_opt(), Some(*d), d.succ_opt()].into_iter().flatten());
        }
        if span.is_some_and(|(first, _)| local_date(&first) <= today) {
            days.extend([today.pred_opt(), Some(today)].into_iter().flatten());
        }
        if let Some((lo, hi)) = within {
            days.retain(|d| (lo..=hi).contains(d));
        }
        let mut out = Recomputed {
            marks,
            days: Vec::new(),
            events_read: 0,
        };
        for run in contiguous_runs(&days) {
            let (first, last) = (run[0], run[run.len() - 1]);
            let from = local_day_start(first)
                .checked_sub_signed(LOOKBACK)
                .unwrap_or(local_day_start(first));
            let end = local_day_start(last.succ_opt().unwrap_or(last));
            let to = end.checked_add_signed(LOOKAHEAD).unwrap_or(end);
            let events = self.ledger.company_events(ck, &from, &to).await?;
            out.events_read += events.len();
            let wanted: BTreeSet<NaiveDate> = run.iter().copied().collect();
            let figures = daily_figures(&events, self.clock.now(), &wanted);
            // A wanted day without figures has no rows (any stored ones are stale).
            for day in run {
                let rows = figures
                    .get(&day)
                    .map(|by_site| {
                        by_site
                            .iter()
                            .map(|(site, f)| (site.clone(), f.to_stored()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.days.push((day, rows));
            }
        }
        Ok(out)
    }

    /// Recomputes a company's dirty days and the last two days, stores their rows, and
    /// notes when this refresh started (`refreshed_at`: every import marked before it
    /// is in the stored aggregates).
    pub async fn refresh_company(&self, ck: &CompanyKey) -> Result<RefreshSummary, DomainError> {
        let started = self.clock.now();
        let r = self.recompute(ck, None).await?;
        let mut summary = RefreshSummary {
            companies: 1,
            events_read: r.events_read,
            ..Default::default()
        };
        for (day, rows) in r.days {
            self.ledger.replace_day_stats(ck, day, rows).await?;
            summary.days += 1;
        }
        for (d, marker) in r.marks {
            self.ledger.clear_dirty(ck, d, &marker).await?;
        }
        self.ledger.set_stats_refreshed_at(ck, started).await?;
        // Keeps the health read proportional to partners, not to batches ever delivered.
        summary.health_rows_folded = self.ledger.fold_partner_health(ck).await?.rows;
        Ok(summary)
    }

    /// One round of the scheduled job: every company.
    pub async fn run_once(&self) -> Result<RefreshSummary, DomainError> {
        let mut total = RefreshSummary::default();
        // One company's failure never stops the round for the others: it is logged,
        // counted, and retried at the next round (its dirty marks stay).
        for (ck, _, _) in self.ledger.companies().await? {
            match self.refresh_company(&ck).await {
                Ok(s) => {
                    total.companies += 1;
                    total.days += s.days;
                    total.events_read += s.events_read;
                    total.health_rows_folded += s.health_rows_folded;
                }
                Err(e) => {
                    total.failed += 1;
                    tracing::warn!(error = %e, "statistics refresh of one company failed; the others go on");
                }
            }
        }
        tracing::info!(
            failed = total.failed,
            companies = total.companies,
            days = total.days,
            events_read = total.events_read,
            health_rows_folded = total.health_rows_folded,
            "statistics refreshed"
        );
        Ok(total)
    }

    /// `GET …/statistics`: `from`/`to` are local dates (`YYYY-MM-DD`, `to` exclusive) or
    /// RFC 3339 times (their local dates).
    pub async fn query(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        q: &StatisticsQuery<'_>,
    ) -> Result<StatisticsPage, DomainError> {
        let StatisticsQuery {
            from,
            to,
            granularity,
            site,
            employer,
            cursor,
            limit,
        } = *q;
        let ck = self.ledger.company_key(orgnr);
        let span = require_company_and(
            &self.ledger,
            claims,
            orgnr,
            CompanyAccess::Read,
            self.ledger.company_span(&ck),
        )
        .await?;
        let from = match from {
            Some(f) => parse_day("from", f)?,
            None => span
                .map(|(f, _)| local_date(&f))
                .unwrap_or_else(|| self.today()),
        };
        let to = match to {
            Some(t) => parse_day("to", t)?,
            None => span
                .map(|(_, l)| local_date(&l))
                .unwrap_or_else(|| self.today())
                .succ_opt()
                .unwrap_or(NaiveDate::MAX),
        };
        // Spec §2.7: a named end lies in [2016-01-01, now + 1 year], and from < to.
        let (lo, hi) = (
            NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or(NaiveDate::MIN),
            crate::time::query_horizon(self.clock.now()).date_naive(),
        );
        for (field, given, day) in [("from", q.from.is_some(), from), ("to", q.to.is_some(), to)] {
            if given && !(lo..=hi).contains(&day) {
                return Err(DomainError::invalid(
                    field,
                    "must lie between 2016-01-01 and one year from now",
                ));
            }
        }
        if to <= from && (q.from.is_some() || q.to.is_some()) {
            return Err(DomainError::invalid("to", "must be after from"));
        }
        // Reads only: the stored aggregates where they are fresh, and the days an import
        // marked dirty since (and the last two) computed from the ledger in memory for
        // this answer — so it includes every delivery answered before it. Storing them
        // is the scheduled job's. The marks are read before the stored rows: a day whose
        // mark the job cleared meanwhile was stored before it was cleared.
        let mut periods: BTreeMap<(String, Option<String>), Figures> = BTreeMap::new();
        let (stored, partners, refreshed_at) = if to > from {
            let last = to.pred_opt().unwrap_or(to);
            let fresh = self.recompute(&ck, Some((from, last))).await?;
            let (rows, partners, refreshed_at) = futures::try_join!(
                self.ledger.day_stats(&ck, from, last),
                self.ledger.partner_health(&ck, self.clock.now()),
                self.ledger.stats_refreshed_at(&ck),
            )?;
            let recomputed: BTreeSet<String> =
                fresh.days.iter().map(|(d, _)| format!("{d}#")).collect();
            let mut all: Vec<(String, Value)> = rows
                .into_iter()
                .filter(|(sk, _)| {
                    sk.split_once('#')
                        .is_none_or(|(d, _)| !recomputed.contains(&format!("{d}#")))
                })
                .collect();
            for (day, rows) in fresh.days {
                for (site, row) in rows {
                    all.push((
                        crate::table::keys::stats_row(&day.to_string(), site.as_deref()),
                        row,
                    ));
                }
            }
            (all, partners, refreshed_at)
        } else {
            let (partners, refreshed_at) = futures::try_join!(
                self.ledger.partner_health(&ck, self.clock.now()),
                self.ledger.stats_refreshed_at(&ck),
            )?;
            (Vec::new(), partners, refreshed_at)
        };
        // Rows for the company total (site None) and per site; with `site_id`, that site only.
        {
            for (sk, row) in stored {
                let Some((day, row_site)) = sk.split_once('#') else {
                    continue;
                };
                let Ok(day) = day.parse::<NaiveDate>() else {
                    continue;
                };
                let row_site = match (employer, row_site.strip_prefix("~E")) {
                    (None, None) => row_site,
                    (Some(o), Some(rest)) => {
                        match rest.strip_prefix(o).and_then(|r| r.strip_prefix('#')) {
                            Some(slot) => slot,
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                let row_site = (row_site != "*").then(|| row_site.to_string());
                let keep = match site {
                    Some(wanted) => row_site.as_deref() == Some(wanted),
                    None => true,
                };
                if keep {
                    periods
                        .entry((granularity.period(day), row_site))
                        .or_default()
                        .add(&Figures::from_stored(&row));
                }
            }
        }
        // Totals first within a period, then sites in order; paginated by that order.
        let mut rows: Vec<(String, StatisticsRow)> = periods
            .into_iter()
            .map(|((period, row_site), f)| {
                let order = format!(
                    "{period}#{}",
                    row_site
                        .as_deref()
                        .map(|s| format!("1{s}"))
                        .unwrap_or_else(|| "0".into())
                );
                (order, f.to_row(&period, row_site.as_deref()))
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let start = cursor.map(|c| c.key.as_str());
        let mut page: Vec<(String, StatisticsRow)> = rows
            .into_iter()
            .filter(|(k, _)| start.is_none_or(|s| k.as_str() > s))
            .take(limit + 1)
            .collect();
        let next = (page.len() > limit).then(|| Cursor::after(page[limit - 1].0.clone()));
        page.truncate(limit);
        Ok(StatisticsPage {
            granularity,
            from,
            to,
            rows: page.into_iter().map(|(_, v)| v).collect(),
            partners,
            refreshed_at,
            employer: employer.map(str::to_string),
            next,
        })
    }

    fn today(&self) -> NaiveDate {
        self.clock
            .now()
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .date_naive()
    }
}

fn parse_day(field: &str, raw: &str) -> Result<NaiveDate, DomainError> {
    if let Ok(d) = raw.parse::<NaiveDate>() {
        return Ok(d);
    }
    crate::time::parse_rfc3339(&raw.replace(' ', "+"))
        .map(|t| local_date(&t))
        .map_err(|_| DomainError::invalid(field, "must be a date YYYY-MM-DD or an RFC 3339 time"))
}

/// Splits sorted days into runs of consecutive days.
fn contiguous_runs(days: &BTreeSet<NaiveDate>) -> Vec<Vec<NaiveDate>> {
    let mut runs: Vec<Vec<NaiveDate>> = Vec::new();
    for d in days {
        match runs.last_mut() {
            Some(run) if run.last().and_then(|l| l.succ_opt()) == Some(*d) => run.push(*d),
            _ => runs.push(vec![*d]),
        }
    }
    runs
}

#[cfg(test)]
mod tests;
