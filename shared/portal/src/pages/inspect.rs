//! The inspector's view (spec §10, §13): `GET /inspect/{secret}` checks the secret with
//! the same domain call as the `/inspect/v1/…` API, puts a session naming only the link
//! in its own cookie and sends the browser on to `/inspect`, so the secret leaves the
//! address bar. Every request re-reads the link, so an expiry or a revocation takes
//! effect at once. Audited as the API's actions with actor `inspection:{id}` in the
//! company's chain. The secret is never logged nor audited.

use super::company::{day_range, direction_key, kept_events, today};
use super::{ok, scroll_table, with_cookie};
use crate::format;
use crate::i18n::{t, Lang};
use crate::session;
use crate::{error_page, Audit, Ctx, PageError, PageResult, Portal};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use stamp_api::views::reads::{EventView, Registrations};
use stamp_domain::governance::audit::service_shard;
use stamp_domain::governance::inspection::{InspectionLink, Refusal, INSPECTOR_ROLE};
use stamp_domain::reads::present::Present;
use stamp_domain::reads::queries::RegistrationQuery;
use stamp_domain::DomainError;

pub const INSPECT_COOKIE: &str = "stamp_inspect";
/// Sealing purpose: an inspector session can never pass as a user's session.
const PURPOSE: &str = "inspect";

/// What the inspector's cookie holds: the link's id (never the secret) and an expiry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct InspectSession {
    link: String,
    exp: i64,
}

const PAGE_ACTIONS: &[&str] = &[
    "GET /inspect/v1/site",
    "GET /inspect/v1/present",
    "GET /inspect/v1/registrations",
];
const OPEN_ACTIONS: &[&str] = &["GET /inspect/v1/site"];

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/inspect", get(page))
        .route("/inspect/{secret}", get(open))
}

fn target(link: &InspectionLink) -> Option<String> {
    Some(format!("site_id:{}", link.site_id))
}

/// One trail entry per action as the link's holder; `Err` is a 503 page.
async fn record_as(
    p: &Portal,
    link: &InspectionLink,
    actions: &'static [&'static str],
    status: StatusCode,
) -> Result<(), DomainError> {
    let audit = Audit {
        actions,
        company: Some(&link.company_orgnr),
        target: target(link),
    };
    let chain = p.app.ledger.company_key(&link.company_orgnr);
    p.record(&chain, &link.actor(), INSPECTOR_ROLE, &audit, status)
        .await
}

fn refused(p: &Portal, l: Lang) -> Response {
    with_cookie(
        error_page(l, None, StatusCode::UNAUTHORIZED),
        session::clear_cookie(INSPECT_COOKIE, p.cfg.secure_cookies),
    )
}

/// A refusal audited as the link it names (expired, revoked), or as an anonymous caller
/// in a service chain (a secret Stamp never gave out), as the API does.
async fn refuse(p: &Portal, l: Lang, refusal: Refusal) -> Response {
    let written = match &refusal {
        Refusal::Ended(link, _) => record_as(p, link, OPEN_ACTIONS, StatusCode::UNAUTHORIZED).await,
        Refusal::Unknown => {
            let audit = Audit {
                actions: OPEN_ACTIONS,
                company: None,
                target: None,
            };
            let chain = service_shard(&uuid::Uuid::new_v4().to_string());
            p.record(&chain, "anonymous", "", &audit, StatusCode::UNAUTHORIZED)
                .await
        }
    };
    match written {
        Ok(()) => refused(p, l),
        Err(_) => error_page(l, None, StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// `GET /inspect/{secret}`: the link's holder arrives.
async fn open(State(p): State<Portal>, ctx: Ctx, Path(secret): Path<String>) -> Response {
    let l = ctx.lang;
    let link = match p.app.inspections.open(&secret).await {
        Ok(Ok(link)) => link,
        Ok(Err(refusal)) => return refuse(&p, l, refusal).await,
        Err(e) => {
            tracing::warn!(error = %e, "inspection link could not be checked");
            return error_page(l, None, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    if record_as(&p, &link, OPEN_ACTIONS, StatusCode::SEE_OTHER)
        .await
        .is_err()
    {
        return error_page(l, None, StatusCode::SERVICE_UNAVAILABLE);
    }
    let now = p.app.clock.now();
    // The session ends with the link, or with the portal's session lifetime if sooner.
    let exp = link.expires_at.min(now + p.cfg.session_ttl);
    let sealed = p.keys.seal(
        PURPOSE,
        &InspectSession {
            link: link.id.clone(),
            exp: exp.timestamp(),
        },
    );
    let max_age = (exp - now).num_seconds().max(0);
    with_cookie(
        Redirect::to("/inspect").into_response(),
        session::cookie(INSPECT_COOKIE, &sealed, max_age, p.cfg.secure_cookies),
    )
}

fn present_table(l: Lang, present: &Present) -> Markup {
    html! {
        (scroll_table(l, present.people.is_empty(), &["people.name", "inspect.person_id", "inspect.employer", "inspect.checked_in", "inspect.partner"], html! {
            @for x in &present.people {
                tr {
                    td { (x.person_name) }
                    td { (x.person_id_masked) }
                    td { @match &x.employer_orgnr { Some(o) => { (o.to_string()) }, None => { (t(l, "inspect.own_staff")) } } }
                    td { (format::datetime(l, &x.checked_in_at)) }
                    td { (x.partner_id) }
                }
            }
        }))
    }
}

/// Today's registrations at the site, every kept event in time order.
fn registrations_table(l: Lang, regs: &Registrations) -> Markup {
    let mut events: Vec<&EventView> = kept_events(regs).collect();
    events.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at));
    html! {
        (scroll_table(l, events.is_empty(), &["common.when", "people.name", "common.direction", "inspect.partner"], html! {
            @for e in &events {
                tr {
                    td { (format::datetime(l, &e.occurred_at)) @if e.corrected { " *" } }
                    td { (e.person_name) }
                    td { (t(l, direction_key(e.direction))) }
                    td { (e.partner_id) }
                }
            }
        }))
    }
}

/// `GET /inspect`: the site the session's link opens, and nothing else.
async fn page(State(p): State<Portal>, ctx: Ctx, headers: HeaderMap) -> Response {
    let l = ctx.lang;
    let now = p.app.clock.now().timestamp();
    let Some(s) = session::read_cookie(&headers, INSPECT_COOKIE)
        .and_then(|v| p.keys.open::<InspectSession>(PURPOSE, v))
        .filter(|s| s.exp > now)
    else {
        return refused(&p, l);
    };
    let link = match p.app.inspections.reopen(&s.link).await {
        Ok(Ok(link)) => link,
        Ok(Err(refusal)) => return refuse(&p, l, refusal).await,
        Err(e) => {
            tracing::warn!(error = %e, "inspection link could not be read");
            return error_page(l, None, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    let result = site_page(&p, &ctx, &link).await;
    let status = match &result {
        Ok(r) => r.status(),
        Err(e) => e.status(),
    };
    if record_as(&p, &link, PAGE_ACTIONS, status).await.is_err() {
        return error_page(l, None, StatusCode::SERVICE_UNAVAILABLE);
    }
    match result {
        Ok(r) => r,
        Err(e) => {
            if let (true, PageError::Domain(d)) = (status.is_server_error(), &e) {
                tracing::warn!(error = %d, "inspection page failed");
            }
            error_page(l, None, status)
        }
    }
}

async fn site_page(p: &Portal, ctx: &Ctx, link: &InspectionLink) -> PageResult {
    let l = ctx.lang;
    let site = p.app.inspections.site(link);
    let ck = p.app.ledger.company_key(&link.company_orgnr);
    let present = p
        .app
        .queries
        .present_of(&ck, &link.site_id, None, None)
        .await?;
    let day = today(p);
    let q = RegistrationQuery {
        range: day_range(day, day),
        history: false,
        employer: None,
        cursor: None,
        limit: 1000,
    };
    let regs = Registrations::from(
        &p.app
            .queries
            .site_registrations_of(&ck, &link.site_id, &q)
            .await?,
    );
    let valid_until =
        stamp_domain::time::format_rfc3339(&stamp_domain::time::to_fixed(site.valid_until));
    let body = html! {
        section class="present" aria-labelledby="h-site" {
            h2 id="h-site" { (t(l, "inspect.about")) }
            dl {
                dt { (t(l, "inspect.company")) } dd { (site.company_name) }
                dt { (t(l, "inspect.orgnr")) } dd { (site.company_orgnr.to_string()) }
                dt { (t(l, "common.site")) } dd { (site.site_id.as_str()) }
                dt { (t(l, "inspect.valid_until")) } dd { (format::datetime(l, &valid_until)) }
            }
        }
        section class="present" aria-labelledby="h-now" {
            h2 id="h-now" { (t(l, "site.present")) }
            p class="muted" { (t(l, "inspect.as_of")) " " (format::datetime(l, &present.at)) }
            (present_table(l, &present))
        }
        section class="present" aria-labelledby="h-today" {
            h2 id="h-today" { (t(l, "inspect.today")) " " (format::date(l, day)) }
            (registrations_table(l, &regs))
        }
        p class="no-print" { button type="button" class="print" data-print="1" { (t(l, "site.print")) } }
        script src="/assets/app.js" defer {}
    };
    Ok(ok(ctx, t(l, "inspect.title"), &[], body))
}
