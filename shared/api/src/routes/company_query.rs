//! What a company reads: sites, people, registrations — the company-query function.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use stamp_domain::identity::pseudonym::PersonRef;
use stamp_domain::identity::{Orgnr, PersonId};
use stamp_domain::reads::analysis::AnomalyKind;
use stamp_domain::reads::present::Present;
use stamp_domain::reads::queries::{AnomalyQuery, Range, RegistrationQuery};
use stamp_domain::reads::statistics::{Granularity, StatisticsQuery};
use stamp_domain::DomainError;

use crate::claims::Caller;
use crate::params::{json_body, orgnr, site_id, Params};
use crate::problem::ApiResult;
use crate::state::AppState;
use crate::views::reads::{
    AnomalyList, PeopleList, PersonSearch, PersonView, Registrations, SiteList, Statistics,
};
use crate::views::{items, next_cursor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/companies/{orgnr}/sites", get(sites))
        .route("/v1/companies/{orgnr}/people", get(people))
        .route("/v1/companies/{orgnr}/people/search", post(search))
        .route(
            "/v1/companies/{orgnr}/people/{person_ref}/registrations",
            get(person_registrations),
        )
        .route(
            "/v1/companies/{orgnr}/sites/{site_id}/registrations",
            get(site_registrations),
        )
        .route("/v1/companies/{orgnr}/anomalies", get(anomalies))
        .route("/v1/companies/{orgnr}/statistics", get(statistics))
        .route(
            "/v1/companies/{orgnr}/sites/{site_id}/present",
            get(present),
        )
}

/// `at=` (RFC 3339; a `+` left unencoded arrives as a space); `None`: now.
pub(crate) fn at_param(p: &Params) -> Result<Option<stamp_domain::time::Instant>, DomainError> {
    p.get("at")
        .map(|raw| {
            stamp_domain::time::parse_rfc3339(&raw.replace(' ', "+"))
                .map_err(|e| DomainError::invalid("at", e))
        })
        .transpose()
}

/// `employer=ORGNR` (spec §4): the events' `employer_orgnr`.
pub(crate) fn employer_param(p: &Params) -> Result<Option<Orgnr>, DomainError> {
    p.get("employer")
        .map(|raw| Orgnr::parse(raw).map_err(|e| DomainError::invalid("employer", e.to_string())))
        .transpose()
}

async fn present(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, site)): Path<(String, String)>,
    p: Params,
) -> ApiResult<Json<Present>> {
    let employer = employer_param(&p)?;
    let body = s
        .queries
        .present(
            &c,
            &orgnr(&o)?,
            &site_id(&site)?,
            at_param(&p)?,
            employer.as_ref(),
        )
        .await?;
    Ok(Json(body))
}

async fn sites(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Json<SiteList>> {
    let page = s
        .queries
        .sites(&c, &orgnr(&o)?, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    Ok(Json(SiteList {
        sites: items(&page),
        next_cursor: next_cursor(&page),
    }))
}

async fn people(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Json<PeopleList>> {
    let page = s
        .queries
        .people(
            &c,
            &orgnr(&o)?,
            p.get("q"),
            employer_param(&p)?.as_ref(),
            p.cursor()?.as_ref(),
            p.limit()?,
        )
        .await?;
    Ok(Json(PeopleList {
        people: items(&page),
        next_cursor: next_cursor(&page),
    }))
}

async fn search(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Json<PersonView>> {
    let o = orgnr(&o)?;
    let req: PersonSearch = json_body(&body)?;
    let raw = req
        .person_id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DomainError::missing("person_id"))?;
    let person = PersonId::parse(
        &raw,
        req.person_id_kind.as_deref(),
        req.person_country.as_deref(),
    )
    .map_err(|e| DomainError::invalid("person_id", e.to_string()))?;
    let found = s.queries.find_person(&c, &o, &person).await?;
    Ok(Json(PersonView::from(&found)))
}

/// `from`/`to` as RFC 3339; a `+` left unencoded in a query string arrives as a space.
pub(crate) fn range(s: &AppState, p: &Params) -> Result<Range, DomainError> {
    let fix = |v: Option<&str>| v.map(|s| s.replace(' ', "+"));
    let (from, to) = (fix(p.get("from")), fix(p.get("to")));
    Range::parse(from.as_deref(), to.as_deref(), s.clock.now())
}

pub(crate) fn registration_query(
    s: &AppState,
    p: &Params,
) -> Result<RegistrationQuery, DomainError> {
    Ok(RegistrationQuery {
        range: range(s, p)?,
        history: p.flag("history")?,
        employer: employer_param(p)?,
        cursor: p.cursor()?,
        limit: p.limit()?,
    })
}

async fn person_registrations(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, person_ref)): Path<(String, String)>,
    p: Params,
) -> ApiResult<Json<Registrations>> {
    let q = registration_query(&s, &p)?;
    let body = s
        .queries
        .person_registrations(&c, &orgnr(&o)?, &PersonRef::named(person_ref), &q)
        .await?;
    Ok(Json(Registrations::from(&body)))
}

async fn site_registrations(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, site)): Path<(String, String)>,
    p: Params,
) -> ApiResult<Json<Registrations>> {
    let q = registration_query(&s, &p)?;
    let body = s
        .queries
        .site_registrations(&c, &orgnr(&o)?, &site_id(&site)?, &q)
        .await?;
    Ok(Json(Registrations::from(&body)))
}

async fn anomalies(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Json<AnomalyList>> {
    let q = anomaly_query(&s, &p)?;
    let page = s.queries.anomalies(&c, &orgnr(&o)?, &q).await?;
    Ok(Json(AnomalyList::from(page)))
}

/// `from`, `to`, `site_id`, `kind`, `cursor`, `limit` of an anomalies read.
pub(crate) fn anomaly_query(s: &AppState, p: &Params) -> ApiResult<AnomalyQuery> {
    Ok(AnomalyQuery {
        range: range(s, p)?,
        site: p.get("site_id").map(site_id).transpose()?,
        kind: p
            .get("kind")
            .map(|k| {
                AnomalyKind::parse(k).ok_or_else(|| {
                    DomainError::invalid("kind", format!("is not an anomaly kind: {k:?}"))
                })
            })
            .transpose()?,
        cursor: p.cursor()?,
        limit: p.limit()?,
    })
}

async fn statistics(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Json<Statistics>> {
    let o = orgnr(&o)?;
    let site = p.get("site_id").map(site_id).transpose()?;
    let employer = employer_param(&p)?.map(|o| o.to_string());
    let cursor = p.cursor()?;
    let q = StatisticsQuery {
        from: p.get("from"),
        to: p.get("to"),
        granularity: Granularity::parse(p.get("granularity"))?,
        site: site.as_ref().map(|s| s.as_str()),
        employer: employer.as_deref(),
        cursor: cursor.as_ref(),
        limit: p.limit()?,
    };
    Ok(Json(Statistics::from(
        s.statistics.query(&c, &o, &q).await?,
    )))
}
