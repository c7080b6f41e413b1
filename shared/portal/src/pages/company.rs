//! What a company user sees: the overview, people, a person, a site, anomalies,
//! statistics and extracts.

use super::{csrf, field, ok, scroll_table, shown, FieldError, FormData};
use crate::charts::{bars, Bar};
use crate::format;
use crate::i18n::{t, Lang};
use crate::{pct_encode, Ctx, PageError, PageResult, Portal, User};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Duration, NaiveDate};
use maud::{html, Markup};
use stamp_api::views::admin::AnnouncementView;
use stamp_api::views::extracts::ExtractView;
use stamp_api::views::reads::{
    AnomalyList, AnomalyView, DuplicateView, EventView, PartnerHealth, Registrations, Statistics,
    UnpairedView,
};
use stamp_domain::extracts::OrderBody;
use stamp_domain::extracts::{ExtractKind, ExtractStatus};
use stamp_domain::identity::pseudonym::PersonRef;
use stamp_domain::identity::{Orgnr, PersonId, SiteId};
use stamp_domain::model::Direction;
use stamp_domain::reads::analysis::{AnomalyKind, Unpaired};
use stamp_domain::reads::queries::{AnomalyQuery, Range, RegistrationQuery};
use stamp_domain::reads::statistics::StatisticsRow;
use stamp_domain::reads::statistics::{Granularity, StatisticsQuery};
use stamp_domain::time::local_day_start;
use stamp_domain::DomainError;
use std::collections::BTreeMap;

mod extracts;
mod people;
mod registrations;
mod statistics;

// The pages' handlers and the helpers they share, for the router and for each other.
pub use extracts::extract_body;
use extracts::*;
use people::*;
use registrations::*;
pub use registrations::{direction_key, kept_events};
use statistics::*;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/companies/{orgnr}", get(overview))
        .route("/companies/{orgnr}/people", get(people))
        .route(
            "/companies/{orgnr}/people/search",
            axum::routing::post(search),
        )
        .route("/companies/{orgnr}/people/{person_ref}", get(person))
        .route("/companies/{orgnr}/sites/{site_id}", get(site))
        .route("/companies/{orgnr}/anomalies", get(anomalies))
        .route("/companies/{orgnr}/statistics", get(statistics))
        .route("/companies/{orgnr}/statistics.csv", get(statistics_csv))
        .route("/companies/{orgnr}/extracts", get(extracts).post(order))
        .route("/companies/{orgnr}/extracts/{id}", get(extract))
}

/// The company of a page's path; a number that is none is a page that does not exist.
pub fn orgnr(raw: &str) -> Option<Orgnr> {
    Orgnr::parse(raw).ok()
}

pub fn no_company() -> DomainError {
    DomainError::NotFound("no such company".into())
}

pub fn today(p: &Portal) -> NaiveDate {
    p.app
        .clock
        .now()
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .date_naive()
}

/// A date field (`YYYY-MM-DD`) of a filter form, or its default.
pub fn date_param(ctx: &Ctx, name: &str, default: NaiveDate) -> Result<NaiveDate, DomainError> {
    match ctx.q(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<NaiveDate>()
            .map_err(|_| DomainError::invalid(name, "must be a date YYYY-MM-DD")),
    }
}

pub fn day_range(from: NaiveDate, to_inclusive: NaiveDate) -> Range {
    Range {
        from: local_day_start(from),
        to: local_day_start(to_inclusive.succ_opt().unwrap_or(to_inclusive)),
    }
}

pub fn kind_key(kind: &str) -> &'static str {
    match kind {
        "duplicate" => "kind.duplicate",
        "missing_check_out" => "kind.missing_check_out",
        "missing_check_in" => "kind.missing_check_in",
        "long_session" => "kind.long_session",
        "future_event" => "kind.future_event",
        "late_entry" => "kind.late_entry",
        "invalid_person_id" => "kind.invalid_person_id",
        _ => "kind.other",
    }
}

pub fn reason_key(reason: Unpaired) -> &'static str {
    match reason {
        Unpaired::MissingCheckIn => "reason.missing_check_in",
        Unpaired::MissingCheckOut => "reason.missing_check_out",
        Unpaired::OnSite => "reason.on_site",
    }
}

fn stats_rows(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    from: NaiveDate,
    to_excl: NaiveDate,
    g: &str,
    site: Option<&str>,
) -> impl std::future::Future<Output = Result<Statistics, DomainError>> + Send {
    let (from, to) = (from.to_string(), to_excl.to_string());
    let g = g.to_string();
    let site = site.map(str::to_string);
    let claims = user.claims().clone();
    let st = p.app.statistics.clone();
    let o = o.clone();
    async move {
        let q = StatisticsQuery {
            from: Some(&from),
            to: Some(&to),
            granularity: Granularity::parse(Some(&g))?,
            site: site.as_deref(),
            employer: None,
            cursor: None,
            limit: 1000,
        };
        Ok(Statistics::from(st.query(&claims, &o, &q).await?))
    }
}

fn charts3(l: Lang, rows: &[StatisticsRow]) -> Markup {
    let total: Vec<&StatisticsRow> = rows.iter().filter(|r| r.site_id.is_none()).collect();
    let series = |f: &dyn Fn(&StatisticsRow) -> f64| -> Vec<Bar> {
        total
            .iter()
            .map(|r| Bar {
                label: r.period.get(5..).unwrap_or(&r.period).to_string(),
                value: f(r),
            })
            .collect()
    };
    html! {
        div class="charts" {
            figure { figcaption { (t(l, "stats.hours")) } (bars(t(l, "stats.hours"), &series(&|r| r.hours))) }
            figure { figcaption { (t(l, "stats.sessions")) } (bars(t(l, "stats.sessions"), &series(&|r| r.sessions as f64))) }
            figure { figcaption { (t(l, "stats.persons")) } (bars(t(l, "stats.persons"), &series(&|r| r.persons as f64))) }
        }
    }
}

fn partner_table(l: Lang, partners: &[PartnerHealth]) -> Markup {
    let heads = [
        "partners.id",
        "health.state",
        "health.received",
        "health.rejected",
        "health.last",
    ];
    html! {
        (scroll_table(l, partners.is_empty(), &heads, html! {
            @for h in partners {
                tr {
                    td { (h.partner_id) }
                    td {
                        // Spec §11: a partner that stopped delivering on a working day.
                        @if let Some(since) = &h.silent_since {
                            span class="badge warn silent" { (t(l, "health.silent_since")) " " (format::instant(l, since)) }
                        } @else {
                            span class="badge ok" { (t(l, "health.delivering")) }
                        }
                    }
                    td class="num" { (h.events_received) }
                    td class="num" { (h.events_rejected) }
                    td { @if let Some(d) = &h.last_delivery { (format::datetime(l, d)) } @else { "–" } }
                }
            }
        }))
    }
}

async fn overview(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &[
                "GET /v1/companies/{orgnr}/sites",
                "GET /v1/companies/{orgnr}/statistics",
            ])
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let c = user.claims();
            let sites = p.app.queries.sites(c, &o, None, 100).await?;
            let end = today(p);
            let start = end - Duration::days(29);
            let stats = stats_rows(p, user, &o, start, end + Duration::days(1), "day", None).await?;
            // Anomalies by kind from the statistics' daily counts (spec §7 counts each
            // kind per day), rather than analysing the whole period again.
            let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
            for r in stats.rows.iter().filter(|r| r.site_id.is_none()) {
                for (k, n) in &r.anomalies {
                    if *n > 0 {
                        *by_kind.entry(k.as_str()).or_default() += n;
                    }
                }
            }
            let body = html! {
                section aria-labelledby="h-sites" {
                    h2 id="h-sites" { (t(l, "overview.sites")) }
                    @if sites.items.is_empty() { p { (t(l, "common.none")) } } @else {
                        ul class="cards" {
                            @for s in &sites.items {
                                li { a href=(format!("/companies/{o}/sites/{}", s.site_id)) { (s.site_id) } " "
                                    span class="muted" { (t(l, "site.last_seen")) " " (format::datetime(l, &stamp_domain::time::format_rfc3339(&s.last_seen))) } }
                            }
                        }
                    }
                }
                section aria-labelledby="h-30" {
                    h2 id="h-30" { (t(l, "overview.last30")) }
                    (charts3(l, &stats.rows))
                }
                section aria-labelledby="h-an" {
                    h2 id="h-an" { (t(l, "overview.anomalies")) }
                    @if by_kind.is_empty() { p { (t(l, "common.none")) } } @else {
                        table {
                            thead { tr { th scope="col" { (t(l, "anomalies.kind")) } th scope="col" { (t(l, "common.count")) } } }
                            tbody {
                                @for (k, n) in &by_kind {
                                    tr { td { a href=(format!("/companies/{o}/anomalies?kind={k}&from={start}&to={end}")) { (t(l, kind_key(k))) } } td class="num" { (n) } }
                                }
                            }
                        }
                    }
                }
                section aria-labelledby="h-health" {
                    h2 id="h-health" { (t(l, "overview.health")) }
                    (partner_table(l, &stats.partners))
                }
            };
            shown(user, "overview.title", &ann, body)
        })
        .await
}
