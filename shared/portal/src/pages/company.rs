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

fn people_body(
    ctx: &Ctx,
    o: &Orgnr,
    list: &[stamp_domain::table::PersonEntry],
    next: Option<String>,
    err: Option<&FieldError>,
    typed_id: &str,
) -> Markup {
    let l = ctx.lang;
    let q = ctx.q("q").unwrap_or("");
    let employer = ctx.q("employer").unwrap_or("");
    html! {
        form method="get" class="filters" role="search" {
            label for="q" { (t(l, "people.search_name")) }
            input id="q" name="q" type="search" value=(q);
            label for="employer" { (t(l, "people.employer")) }
            input id="employer" name="employer" value=(employer) inputmode="numeric" autocomplete="off" aria-describedby="employer-error";
            button type="submit" { (t(l, "common.search")) }
            (crate::layout::field_error(l, "employer", err))
        }
        form method="post" action=(format!("/companies/{o}/people/search")) class="filters" {
            (csrf(ctx))
            label for="person_id" { (t(l, "people.search_id")) }
            input id="person_id" name="person_id" value=(typed_id) autocomplete="off" aria-describedby="person_id-error";
            button type="submit" { (t(l, "common.find")) }
            (crate::layout::field_error(l, "person_id", err))
        }
        @if list.is_empty() { p { (t(l, "common.none")) } } @else {
            table {
                thead { tr { th scope="col" { (t(l, "people.name")) } th scope="col" { (t(l, "people.id")) } } }
                tbody {
                    @for e in list {
                        tr { td { a href=(format!("/companies/{o}/people/{}", e.person_ref)) { (e.person_name) } } td { (e.person_id_masked) } }
                    }
                }
            }
        }
        @if let Some(c) = next {
            p { a href=(format!("?q={}&employer={}&cursor={}", pct_encode(q), pct_encode(employer), pct_encode(&c))) { (t(l, "common.more")) } }
        }
    }
}

async fn people(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/people"])
        .render(|p, user, o, ann, _| async move {
            let cursor = user
                .ctx
                .q("cursor")
                .map(stamp_domain::pagination::Cursor::decode)
                .transpose()?;
            // `employer=ORGNR` as the API takes it (spec §4); a bad one is shown at its field.
            let employer = match user.ctx.q("employer").filter(|e| !e.trim().is_empty()) {
                None => Ok(None),
                Some(raw) => Orgnr::parse(raw.trim())
                    .map(Some)
                    .map_err(|e| DomainError::invalid("employer", e.to_string())),
            };
            let employer = match employer {
                Ok(e) => e,
                Err(e) => return people_again(user, &o, &ann, e.into(), "").await,
            };
            let page = p
                .app
                .queries
                .people(
                    user.claims(),
                    &o,
                    user.ctx.q("q"),
                    employer.as_ref(),
                    cursor.as_ref(),
                    100,
                )
                .await?;
            let body = people_body(
                &user.ctx,
                &o,
                &page.items,
                page.next.map(|c| c.encode()),
                None,
                "",
            );
            shown(user, "people.title", &ann, body)
        })
        .await
}

/// The people page again (without a list), with a refused search's error at its field.
async fn people_again(
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    e: PageError,
    typed_id: &str,
) -> PageResult {
    super::refused(e, |err| async move {
        let body = people_body(&user.ctx, o, &[], None, Some(&err), typed_id);
        shown(user, "people.title", ann, body)
    })
    .await
}

/// Find by personnummer (a POST, so the number is in no address or log).
async fn search(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    axum::extract::Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["POST /v1/companies/{orgnr}/people/search"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let typed_id = field(&f, "person_id");
            let found = async {
                if typed_id.trim().is_empty() {
                    return Err(PageError::from(DomainError::missing("person_id")));
                }
                let person = PersonId::parse(typed_id.trim(), None, None)
                    .map_err(|e| DomainError::invalid("person_id", e.to_string()))?;
                Ok(p.app
                    .queries
                    .find_person(user.claims(), &o, &person)
                    .await?)
            }
            .await;
            // Nobody with that number is said at the field too.
            let found =
                found.map_err(|e| match e {
                    PageError::Domain(DomainError::NotFound(_)) => PageError::Field(
                        FieldError::new("person_id", "people.not_found", StatusCode::NOT_FOUND),
                    ),
                    other => other,
                });
            match found {
                Ok(e) => Ok(
                    Redirect::to(&format!("/companies/{o}/people/{}", e.person_ref))
                        .into_response(),
                ),
                Err(e) => people_again(user, &o, &ann, e, &typed_id).await,
            }
        })
        .await
}

fn period_form(ctx: &Ctx, from: NaiveDate, to: NaiveDate, extra: Markup) -> Markup {
    let l = ctx.lang;
    html! {
        form method="get" class="filters" {
            label for="from" { (t(l, "common.from")) }
            input id="from" name="from" type="date" value=(from);
            label for="to" { (t(l, "common.to")) }
            input id="to" name="to" type="date" value=(to);
            (extra)
            button type="submit" { (t(l, "common.show")) }
        }
    }
}

fn sessions_by_day(l: Lang, regs: &Registrations, from: NaiveDate, to: NaiveDate) -> Markup {
    let mut per_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut d = from;
    while d <= to {
        per_day.insert(d, 0.0);
        d = match d.succ_opt() {
            Some(n) => n,
            None => break,
        };
    }
    for s in &regs.sessions {
        if let Some(day) = format::local_date(&s.check_in.occurred_at) {
            *per_day.entry(day).or_default() += 1.0;
        }
    }
    let data: Vec<Bar> = per_day
        .iter()
        .map(|(d, v)| Bar {
            label: d.format("%m-%d").to_string(),
            value: *v,
        })
        .collect();
    bars(t(l, "person.sessions_by_day"), &data)
}

fn sessions_table(l: Lang, o: &Orgnr, regs: &Registrations, show_person: bool) -> Markup {
    let person = show_person.then_some("people.name");
    let heads: Vec<&str> = ["common.day"]
        .into_iter()
        .chain(person)
        .chain(["common.site", "common.in", "common.out", "common.duration"])
        .collect();
    html! {
        (scroll_table(l, regs.sessions.is_empty(), &heads, html! {
            @for s in &regs.sessions {
                tr {
                    td { @if let Some(d) = format::local_date(&s.check_in.occurred_at) { (format::date(l, d)) } }
                    @if show_person { td { a href=(format!("/companies/{o}/people/{}", s.person_ref)) { (s.check_in.person_name) } } }
                    td { a href=(format!("/companies/{o}/sites/{}", s.site_id)) { (s.site_id) } }
                    td { (format::time(&s.check_in.occurred_at)) @if s.check_in.corrected { " *" } }
                    td { (format::time(&s.check_out.occurred_at)) @if s.check_out.corrected { " *" } }
                    td class="num" { (format::minutes(s.duration_minutes)) }
                }
            }
        }))
    }
}

/// Why each unpaired event is unpaired.
fn unpaired_notes(l: Lang, list: &[UnpairedView]) -> Vec<(&EventView, Markup)> {
    list.iter()
        .map(|u| (&u.event, html! { (t(l, reason_key(u.reason))) }))
        .collect()
}

/// Which kept event each duplicate repeats.
fn duplicate_notes(l: Lang, list: &[DuplicateView]) -> Vec<(&EventView, Markup)> {
    list.iter()
        .map(|d| {
            let of = &d.duplicate_of;
            (
                &d.event,
                html! { (t(l, "person.duplicate_of")) " " (of.partner_id) "/" (of.event_id) },
            )
        })
        .collect()
}

/// Events, each with what is to be said of it (column `what`).
fn events_table(l: Lang, events: &[(&EventView, Markup)], what: &str) -> Markup {
    html! {
        @if events.is_empty() { p { (t(l, "common.none")) } } @else {
            table {
                thead { tr {
                    th scope="col" { (t(l, "common.when")) }
                    th scope="col" { (t(l, "common.site")) }
                    th scope="col" { (t(l, "common.direction")) }
                    th scope="col" { (t(l, what)) }
                } }
                tbody {
                    @for (e, note) in events {
                        tr {
                            td { (format::datetime(l, &e.occurred_at)) }
                            td { (e.site_id) }
                            td { (t(l, direction_key(e.direction))) }
                            td { (note) }
                        }
                    }
                }
            }
        }
    }
}

pub fn direction_key(d: Direction) -> &'static str {
    match d {
        Direction::In => "common.dir_in",
        Direction::Out => "common.dir_out",
    }
}

/// Every event of an answer that is kept (in a session, unpaired or a duplicate).
pub fn kept_events(regs: &Registrations) -> impl Iterator<Item = &EventView> {
    regs.sessions
        .iter()
        .flat_map(|s| [&s.check_in, &s.check_out])
        .chain(regs.unpaired.iter().map(|u| &u.event))
        .chain(regs.duplicates.iter().map(|d| &d.event))
}

fn corrections_table(l: Lang, regs: &Registrations) -> Markup {
    let withdrawn = regs.withdrawn.iter().flatten();
    let rows: Vec<(&EventView, &stamp_domain::table::CorrectionEntry)> = kept_events(regs)
        .chain(withdrawn)
        .flat_map(|e| e.corrections.iter().flatten().map(move |c| (e, c)))
        .collect();
    html! {
        @if rows.is_empty() { p { (t(l, "common.none")) } } @else {
            table {
                thead { tr {
                    th scope="col" { (t(l, "common.when")) }
                    th scope="col" { (t(l, "person.corrected_by")) }
                    th scope="col" { (t(l, "person.corrected_at")) }
                    th scope="col" { (t(l, "person.changes")) }
                } }
                tbody {
                    @for (e, c) in rows {
                        tr {
                            td { (format::datetime(l, &e.occurred_at)) }
                            td { (c.recorded_by.clone().unwrap_or_else(|| e.partner_id.clone())) }
                            td { (format::instant(l, &c.received_at)) }
                            td { @if c.void { (t(l, "person.voided")) } @else { (c.changes.keys().cloned().collect::<Vec<_>>().join(", ")) } }
                        }
                    }
                }
            }
        }
    }
}

fn anomalies_table(l: Lang, o: &Orgnr, list: &[AnomalyView], show_person: bool) -> Markup {
    let person = show_person.then_some("people.name");
    let heads: Vec<&str> = ["common.when", "anomalies.kind"]
        .into_iter()
        .chain(person)
        .chain(["common.site"])
        .collect();
    html! {
        (scroll_table(l, list.is_empty(), &heads, html! {
            @for a in list {
                tr {
                    td { (format::datetime(l, &a.occurred_at)) }
                    td { (t(l, kind_key(a.kind.as_str()))) }
                    @if show_person { td { a href=(format!("/companies/{o}/people/{}", a.person_ref)) { (a.person_name) } } }
                    td { a href=(format!("/companies/{o}/sites/{}", a.site_id)) { (a.site_id) } }
                }
            }
        }))
    }
}

async fn person(
    State(p): State<Portal>,
    user: User,
    Path((raw, person_ref)): Path<(String, String)>,
) -> Response {
    p.company_page(&user, &raw, &[
                "GET /v1/companies/{orgnr}/people/{person_ref}/registrations",
                "GET /v1/companies/{orgnr}/anomalies",
            ])
        .target(format!("person_ref:{person_ref}"))
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let end = today(p);
            let to = date_param(&user.ctx, "to", end)?;
            let from = date_param(&user.ctx, "from", to - Duration::days(30))?;
            let range = day_range(from, to);
            if range.to < range.from {
                return Err(DomainError::invalid("to", "must not be before from").into());
            }
            let q = RegistrationQuery {
                range,
                history: true,
                employer: None,
                cursor: None,
                limit: 1000,
            };
            let regs = Registrations::from(
                &p.app
                    .queries
                    .person_registrations(user.claims(), &o, &PersonRef::named(person_ref.as_str()), &q)
                    .await?,
            );
            let an = AnomalyList::from(
                p.app
                    .queries
                    .anomalies(
                        user.claims(),
                        &o,
                        &AnomalyQuery {
                            range,
                            site: None,
                            kind: None,
                            cursor: None,
                            limit: 1000,
                        },
                    )
                    .await?,
            );
            let mine: Vec<AnomalyView> = an
                .anomalies
                .into_iter()
                .filter(|a| a.person_ref == person_ref)
                .collect();
            let name = regs
                .sessions
                .first()
                .map(|s| s.check_in.person_name.clone())
                .or_else(|| regs.unpaired.first().map(|u| u.event.person_name.clone()))
                .unwrap_or_else(|| t(l, "person.title").to_string());
            let body = html! {
                (period_form(&user.ctx, from, to, html!{}))
                p { a href=(format!("/companies/{o}/extracts?person_ref={person_ref}")) { (t(l, "person.order_extract")) } }
                section aria-labelledby="h-days" {
                    h2 id="h-days" { (t(l, "person.sessions_by_day")) }
                    (sessions_by_day(l, &regs, from, to))
                    (sessions_table(l, &o, &regs, false))
                    @if regs.next_cursor.is_some() { p { (t(l, "common.truncated")) } }
                }
                section aria-labelledby="h-unp" { h2 id="h-unp" { (t(l, "person.unpaired")) } (events_table(l, &unpaired_notes(l, &regs.unpaired), "person.reason")) }
                section aria-labelledby="h-dup" { h2 id="h-dup" { (t(l, "person.duplicates")) } (events_table(l, &duplicate_notes(l, &regs.duplicates), "person.reason")) }
                section aria-labelledby="h-cor" { h2 id="h-cor" { (t(l, "person.corrections")) } (corrections_table(l, &regs)) }
                section aria-labelledby="h-an" { h2 id="h-an" { (t(l, "nav.anomalies")) } (anomalies_table(l, &o, &mine, false)) }
            };
            Ok(ok(&user.ctx, &name, &ann, body))
        })
        .await
}

async fn site(
    State(p): State<Portal>,
    user: User,
    Path((raw, site_raw)): Path<(String, String)>,
) -> Response {
    let target = SiteId::parse(&site_raw)
        .map(|s| format!("site_id:{}", s.as_str()))
        .ok();
    let actions = &["GET /v1/companies/{orgnr}/sites/{site_id}/registrations"];
    p.company_page(&user, &raw, actions)
        .target(target)
        .render(|p, user, o, ann, _| async move {
            let site = SiteId::parse(&site_raw)
                .map_err(|_| DomainError::NotFound("no such site".into()))?;
            let l = user.ctx.lang;
            let end = today(p);
            let to = date_param(&user.ctx, "to", end)?;
            let from = date_param(&user.ctx, "from", to - Duration::days(13))?;
            let q = RegistrationQuery {
                range: day_range(from, to),
                history: false,
                employer: None,
                cursor: None,
                limit: 1000,
            };
            let regs = Registrations::from(
                &p.app
                    .queries
                    .site_registrations(user.claims(), &o, &site, &q)
                    .await?,
            );
            // Who is on site now: check-ins still open (spec §6 `on_site`), over today's range.
            let now_q = RegistrationQuery {
                range: day_range(end - Duration::days(1), end),
                history: false,
                employer: None,
                cursor: None,
                limit: 1000,
            };
            let now_regs = Registrations::from(
                &p.app
                    .queries
                    .site_registrations(user.claims(), &o, &site, &now_q)
                    .await?,
            );
            let present: Vec<&EventView> = now_regs
                .unpaired
                .iter()
                .filter(|u| u.reason == Unpaired::OnSite)
                .map(|u| &u.event)
                .collect();
            let body = html! {
                section aria-labelledby="h-now" class="present" {
                    h2 id="h-now" { (t(l, "site.present")) }
                    p class="muted" { (t(l, "site.present_note")) }
                    @if present.is_empty() { p { (t(l, "common.none")) } } @else {
                        table {
                            thead { tr { th scope="col" { (t(l, "people.name")) } th scope="col" { (t(l, "common.in")) } } }
                            tbody { @for e in &present { tr { td { (e.person_name) } td { (format::datetime(l, &e.occurred_at)) } } } }
                        }
                    }
                    p class="no-print" { button type="button" class="print" data-print="1" { (t(l, "site.print")) } }
                }
                (period_form(&user.ctx, from, to, html!{}))
                section aria-labelledby="h-days" {
                    h2 id="h-days" { (t(l, "person.sessions_by_day")) }
                    (sessions_by_day(l, &regs, from, to))
                    (sessions_table(l, &o, &regs, true))
                }
                script src="/assets/app.js" defer {}
            };
            Ok(ok(&user.ctx, &format!("{} {}", t(l, "site.title"), site.as_str()), &ann, body))
        })
        .await
}

async fn anomalies(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/anomalies"])
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let end = today(p);
            let to = date_param(&user.ctx, "to", end)?;
            let from = date_param(&user.ctx, "from", to - Duration::days(29))?;
            let kind = user
                .ctx
                .q("kind")
                .map(|k| AnomalyKind::parse(k).ok_or_else(|| DomainError::invalid("kind", "unknown")))
                .transpose()?;
            let site = user
                .ctx
                .q("site_id")
                .map(|s| SiteId::parse(s).map_err(|e| DomainError::invalid("site_id", e.to_string())))
                .transpose()?;
            let cursor = user
                .ctx
                .q("cursor")
                .map(stamp_domain::pagination::Cursor::decode)
                .transpose()?;
            let sites = p.app.queries.sites(user.claims(), &o, None, 100).await?;
            let an = AnomalyList::from(
                p.app
                    .queries
                    .anomalies(
                        user.claims(),
                        &o,
                        &AnomalyQuery {
                            range: day_range(from, to),
                            site: site.clone(),
                            kind,
                            cursor,
                            limit: 100,
                        },
                    )
                    .await?,
            );
            let chosen_kind = user.ctx.q("kind").unwrap_or("");
            let chosen_site = user.ctx.q("site_id").unwrap_or("");
            let extra = html! {
                label for="kind" { (t(l, "anomalies.kind")) }
                select id="kind" name="kind" {
                    option value="" { (t(l, "common.all")) }
                    @for k in AnomalyKind::ALL { option value=(k.as_str()) selected[chosen_kind == k.as_str()] { (t(l, kind_key(k.as_str()))) } }
                }
                label for="site_id" { (t(l, "common.site")) }
                select id="site_id" name="site_id" {
                    option value="" { (t(l, "common.all")) }
                    @for s in &sites.items { option value=(s.site_id) selected[chosen_site == s.site_id] { (s.site_id) } }
                }
            };
            let body = html! {
                (period_form(&user.ctx, from, to, extra))
                (anomalies_table(l, &o, &an.anomalies, true))
                @if let Some(c) = &an.next_cursor {
                    p { a href=(format!("?from={from}&to={to}&kind={chosen_kind}&site_id={chosen_site}&cursor={}", pct_encode(c))) { (t(l, "common.more")) } }
                }
            };
            shown(user, "anomalies.title", &ann, body)
        })
        .await
}

struct StatParams {
    from: NaiveDate,
    to: NaiveDate,
    granularity: String,
    site: Option<String>,
}

fn stat_params(p: &Portal, ctx: &Ctx) -> Result<StatParams, DomainError> {
    let end = today(p);
    let to = date_param(ctx, "to", end)?;
    let from = date_param(ctx, "from", to - Duration::days(29))?;
    let granularity = ctx.q("granularity").unwrap_or("day").to_string();
    Granularity::parse(Some(&granularity))?;
    let site = ctx
        .q("site_id")
        .map(|s| {
            SiteId::parse(s)
                .map(|s| s.as_str().to_string())
                .map_err(|e| DomainError::invalid("site_id", e.to_string()))
        })
        .transpose()?;
    Ok(StatParams {
        from,
        to,
        granularity,
        site,
    })
}

async fn statistics(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/statistics"])
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let sp = stat_params(p, &user.ctx)?;
            let stats = stats_rows(
                p,
                user,
                &o,
                sp.from,
                sp.to + Duration::days(1),
                &sp.granularity,
                sp.site.as_deref(),
            )
            .await?;
            let sites = p.app.queries.sites(user.claims(), &o, None, 100).await?;
            let chosen_site = sp.site.clone().unwrap_or_default();
            let rows: Vec<StatisticsRow> = match &sp.site {
                // With a site, its rows stand in for the total.
                Some(_) => stats
                    .rows
                    .iter()
                    .cloned()
                    .map(|mut r| {
                        r.site_id = None;
                        r
                    })
                    .collect(),
                None => stats.rows.clone(),
            };
            let extra = html! {
                label for="granularity" { (t(l, "stats.granularity")) }
                select id="granularity" name="granularity" {
                    @for (g, k) in [("day", "stats.day"), ("week", "stats.week"), ("month", "stats.month")] {
                        option value=(g) selected[sp.granularity == g] { (t(l, k)) }
                    }
                }
                label for="site_id" { (t(l, "common.site")) }
                select id="site_id" name="site_id" {
                    option value="" { (t(l, "common.all")) }
                    @for s in &sites.items { option value=(s.site_id) selected[chosen_site == s.site_id] { (s.site_id) } }
                }
            };
            let csv = format!(
                "/companies/{o}/statistics.csv?from={}&to={}&granularity={}&site_id={}",
                sp.from, sp.to, sp.granularity, chosen_site
            );
            let body = html! {
                (period_form(&user.ctx, sp.from, sp.to, extra))
                p { a href=(csv) download { (t(l, "stats.csv")) } }
                (charts3(l, &rows))
                div class="scroll" tabindex="0" {
                    table {
                        caption { (t(l, "stats.table")) }
                        thead { tr {
                            th scope="col" { (t(l, "stats.period")) }
                            th scope="col" { (t(l, "stats.hours")) }
                            th scope="col" { (t(l, "stats.sessions")) }
                            th scope="col" { (t(l, "stats.persons")) }
                            th scope="col" { (t(l, "nav.anomalies")) }
                        } }
                        tbody {
                            @for r in rows.iter().filter(|r| r.site_id.is_none()) {
                                tr {
                                    td { (r.period) }
                                    td class="num" { (format::hours(l, r.hours)) }
                                    td class="num" { (r.sessions) }
                                    td class="num" { (r.persons) }
                                    td class="num" { (r.anomalies.values().sum::<u64>()) }
                                }
                            }
                        }
                    }
                }
            };
            shown(user, "stats.title", &ann, body)
        })
        .await
}

/// The statistics rows as CSV (the company total and each site per period).
async fn statistics_csv(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/statistics"])
        .render(|p, user, o, _, _| async move {
            let sp = stat_params(p, &user.ctx)?;
            let stats = stats_rows(
                p,
                user,
                &o,
                sp.from,
                sp.to + Duration::days(1),
                &sp.granularity,
                sp.site.as_deref(),
            )
            .await?;
            let mut out =
                String::from("period,site_id,persons,sessions,hours,check_ins,check_outs");
            for k in AnomalyKind::ALL {
                out.push(',');
                out.push_str(k.as_str());
            }
            out.push('\n');
            for r in &stats.rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}",
                    r.period,
                    r.site_id.as_deref().unwrap_or(""),
                    r.persons,
                    r.sessions,
                    r.hours,
                    r.check_ins,
                    r.check_outs
                ));
                for k in AnomalyKind::ALL {
                    out.push_str(&format!(
                        ",{}",
                        r.anomalies.get(k.as_str()).copied().unwrap_or(0)
                    ));
                }
                out.push('\n');
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "attachment; filename=\"statistics-{o}-{}-{}.csv\"",
                            sp.from, sp.to
                        ),
                    ),
                ],
                out,
            )
                .into_response())
        })
        .await
}

#[derive(Default)]
struct OrderForm {
    kind: String,
    person_ref: String,
    from: String,
    to: String,
    site_id: String,
    format: String,
}

fn extracts_body(
    ctx: &Ctx,
    o: &Orgnr,
    people: &[stamp_domain::table::PersonEntry],
    sites: &[stamp_domain::table::SiteEntry],
    f: &OrderForm,
    err: Option<&FieldError>,
) -> Markup {
    let l = ctx.lang;
    let fe = |id: &str| crate::layout::field_error(l, id, err);
    html! {
        @if let Some(e) = err { @if e.field == "form" { p class="error" role="alert" { (t(l, e.key)) } } }
        form method="post" class="stack" action=(format!("/companies/{o}/extracts")) {
            (csrf(ctx))
            fieldset {
                legend { (t(l, "extracts.kind")) }
                label { input type="radio" name="kind" value="register_extract" checked[f.kind != "authority"]; " " (t(l, "extracts.register")) }
                label { input type="radio" name="kind" value="authority" checked[f.kind == "authority"]; " " (t(l, "extracts.authority")) }
                (fe("kind"))
            }
            label for="person_ref" { (t(l, "extracts.person")) }
            select id="person_ref" name="person_ref" aria-describedby="person_ref-error" {
                option value="" { (t(l, "extracts.everyone")) }
                @for p in people { option value=(p.person_ref) selected[p.person_ref == f.person_ref.as_str()] { (p.person_name) " (" (p.person_id_masked) ")" } }
            }
            (fe("person_ref"))
            label for="from" { (t(l, "common.from")) " " span class="muted" { (t(l, "extracts.authority_only")) } }
            input id="from" name="from" type="date" value=(f.from) aria-describedby="from-error";
            (fe("from"))
            label for="to" { (t(l, "common.to")) " " span class="muted" { (t(l, "extracts.authority_only")) } }
            input id="to" name="to" type="date" value=(f.to) aria-describedby="to-error";
            (fe("to"))
            label for="site_id" { (t(l, "common.site")) }
            select id="site_id" name="site_id" {
                option value="" { (t(l, "common.all")) }
                @for s in sites { option value=(s.site_id) selected[f.site_id == s.site_id] { (s.site_id) } }
            }
            (fe("site_id"))
            label for="format" { (t(l, "extracts.format")) }
            select id="format" name="format" aria-describedby="format-error" {
                @for x in ["pdf", "csv", "json"] { option value=(x) selected[f.format == x] { (x.to_uppercase()) } }
            }
            (fe("format"))
            button type="submit" { (t(l, "extracts.order")) }
        }
    }
}

/// The order form with the company's people and sites to choose from (again with a
/// refused order's error).
async fn extracts_page(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    f: &OrderForm,
    err: Option<FieldError>,
) -> PageResult {
    let people = p
        .app
        .queries
        .people(user.claims(), o, None, None, None, 1000)
        .await?;
    let sites = p.app.queries.sites(user.claims(), o, None, 100).await?;
    let body = extracts_body(&user.ctx, o, &people.items, &sites.items, f, err.as_ref());
    shown(user, "extracts.title", ann, body)
}

async fn extracts(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(
        &user,
        &raw,
        &[
            "GET /v1/companies/{orgnr}/people",
            "GET /v1/companies/{orgnr}/sites",
        ],
    )
    .render(|p, user, o, ann, _| async move {
        let f = OrderForm {
            person_ref: user.ctx.q("person_ref").unwrap_or("").to_string(),
            format: "pdf".into(),
            ..Default::default()
        };
        extracts_page(p, user, &o, &ann, &f, None).await
    })
    .await
}

async fn order(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    axum::extract::Form(form): FormData,
) -> Response {
    p.company_page(&user, &raw, &["POST /v1/companies/{orgnr}/extracts"])
        .form(form)
        .render(|p, user, o, ann, form| async move {
            let f = OrderForm {
                kind: field(&form, "kind"),
                person_ref: field(&form, "person_ref"),
                from: field(&form, "from"),
                to: field(&form, "to"),
                site_id: field(&form, "site_id"),
                format: field(&form, "format"),
            };
            let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
            let body = OrderBody {
                employer: None,
                kind: opt(&f.kind),
                format: opt(&f.format),
                person_ref: opt(&f.person_ref),
                from: if f.kind == "authority" {
                    opt(&f.from)
                } else {
                    None
                },
                to: if f.kind == "authority" {
                    opt(&f.to)
                } else {
                    None
                },
                site_id: if f.kind == "authority" {
                    opt(&f.site_id)
                } else {
                    None
                },
            };
            let done = p.app.extracts.order(user.claims(), &o, body).await;
            super::form_outcome(
                done.map_err(PageError::from),
                |r| Ok(Redirect::to(&format!("/companies/{o}/extracts/{}", r.id)).into_response()),
                |err| extracts_page(p, user, &o, &ann, &f, Some(err)),
            )
            .await
        })
        .await
}

/// An extract's status; the page reloads itself while it is being rendered.
pub fn extract_body(l: Lang, x: &ExtractView) -> Markup {
    // The status as the API spells it (for the page's reload script), and its words.
    let (status, status_key) = match x.status {
        ExtractStatus::Pending => ("pending", "extracts.pending"),
        ExtractStatus::Ready => ("ready", "extracts.ready"),
        ExtractStatus::Failed => ("failed", "extracts.failed"),
    };
    html! {
        dl {
            dt { (t(l, "extracts.kind")) } dd { (t(l, if x.kind == ExtractKind::Authority { "extracts.authority" } else { "extracts.register" })) }
            dt { (t(l, "extracts.format")) } dd { (x.format.as_str().to_uppercase()) }
            dt { (t(l, "extracts.status")) } dd id="extract-status" data-status=(status) { (t(l, status_key)) }
            @if let Some(h) = &x.sha256 { dt { "SHA-256" } dd class="hash" { (h) } }
        }
        @if let Some(u) = &x.download_url {
            p { a class="button" href=(u) id="download" { (t(l, "extracts.download")) " " (x.file_name.clone().unwrap_or_default()) } }
            p class="muted" { (t(l, "extracts.link_note")) }
        }
        @if x.status == ExtractStatus::Pending { p role="status" { (t(l, "extracts.wait")) " " a href="" { (t(l, "extracts.refresh")) } } }
        script src="/assets/app.js" defer {}
    }
}

async fn extract(
    State(p): State<Portal>,
    user: User,
    Path((raw, id)): Path<(String, String)>,
) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/extracts/{id}"])
        .target(format!("id:{id}"))
        .render(|p, user, o, ann, _| async move {
            let x = ExtractView::of(&p.app.extracts.get(user.claims(), &o, &id).await?, "");
            shown(user, "extracts.one", &ann, extract_body(user.ctx.lang, &x))
        })
        .await
}
