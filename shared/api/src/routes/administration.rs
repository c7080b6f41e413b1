//! Partners (operator), activation and users (company_admin), health — the
//! administration function.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use stamp_domain::governance::admin::{
    ActivationRequest, AnnouncementRequest, HoldRequest, NewPartner,
};

use crate::claims::Caller;
use crate::params::{json_body, orgnr, Params};
use crate::problem::ApiResult;
use crate::state::AppState;
use crate::views::admin::{
    ActivationView, AnnouncementList, AnnouncementView, AuditEntryView, AuditList, Deregistration,
    HoldList, HoldView, PartnerChange, PartnerList, PartnerView, Roles, UserList, UserRoles,
};
use crate::views::{items, next_cursor, Health};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/v1/partners", get(partners).post(accredit))
        .route(
            "/v1/companies/{orgnr}/activation",
            get(activation).put(activate).delete(deregister),
        )
        .route("/v1/privacy", get(privacy))
        .route("/v1/announcements", get(announcements).post(announce))
        .route(
            "/v1/partners/{partner_id}",
            axum::routing::patch(update_partner),
        )
        .route("/v1/companies/{orgnr}/audit", get(audit))
        .route(
            "/v1/companies/{orgnr}/legal-holds",
            get(holds).post(place_hold),
        )
        .route(
            "/v1/companies/{orgnr}/legal-holds/{id}",
            get(hold).delete(lift_hold),
        )
        .route("/v1/companies/{orgnr}/users", get(users))
        .route(
            "/v1/companies/{orgnr}/users/{sub}",
            put(put_user).delete(delete_user),
        )
        .merge(super::notifications::router())
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

async fn accredit(
    State(s): State<AppState>,
    Caller(c): Caller,
    body: Bytes,
) -> ApiResult<Response> {
    stamp_domain::auth::require_operator(&c)?;
    let req: NewPartner = json_body(&body)?;
    let p = s.admin.accredit_partner(&c, req).await?;
    Ok((StatusCode::CREATED, Json(PartnerView::from(&p))).into_response())
}

async fn partners(
    State(s): State<AppState>,
    Caller(c): Caller,
    p: Params,
) -> ApiResult<Json<PartnerList>> {
    let page = s
        .admin
        .partners(&c, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    Ok(Json(PartnerList {
        partners: items(&page),
        next_cursor: next_cursor(&page),
    }))
}

async fn activate(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ActivationView>> {
    let o = orgnr(&o)?;
    let req: ActivationRequest = json_body(&body)?;
    let a = s.admin.activate(&c, &o, req).await?;
    if let Some(hook) = &s.on_activated {
        hook(&o);
    }
    Ok(Json(ActivationView::from(&a)))
}

async fn activation(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Json<ActivationView>> {
    let a = s.admin.activation(&c, &orgnr(&o)?).await?;
    Ok(Json(ActivationView::from(&a)))
}

async fn deregister(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Json<Deregistration>> {
    let a = s.admin.deregister(&c, &orgnr(&o)?).await?;
    Ok(Json(Deregistration::of(&a, &c.sub)))
}

async fn users(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Json<UserList>> {
    let page = s
        .admin
        .users(&c, &orgnr(&o)?, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    Ok(Json(UserList {
        users: items(&page),
        next_cursor: next_cursor(&page),
    }))
}

async fn put_user(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, sub)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<UserRoles>> {
    let o = orgnr(&o)?;
    let req: Roles = json_body(&body)?;
    let g = s.admin.put_user(&c, &o, &sub, req.roles).await?;
    Ok(Json(UserRoles {
        sub: g.sub,
        roles: g.roles,
    }))
}

async fn delete_user(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, sub)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.admin.delete_user(&c, &orgnr(&o)?, &sub).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn privacy() -> Json<stamp_domain::governance::notice::PrivacyNotice> {
    Json(stamp_domain::governance::notice::privacy_notice())
}

async fn announcements(State(s): State<AppState>) -> ApiResult<Json<AnnouncementList>> {
    Ok(Json(AnnouncementList {
        announcements: s
            .admin
            .announcements()
            .await?
            .into_iter()
            .map(AnnouncementView::from)
            .collect(),
    }))
}

async fn announce(
    State(s): State<AppState>,
    Caller(c): Caller,
    body: Bytes,
) -> ApiResult<Response> {
    stamp_domain::auth::require_operator(&c)?;
    let req: AnnouncementRequest = json_body(&body)?;
    let a = AnnouncementView::from(s.admin.announce(&c, req).await?);
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// The `{partner_id}` of a path, parsed once here: an id no partner can have names none.
fn partner_in_path(
    raw: &str,
) -> Result<stamp_domain::identity::PartnerId, stamp_domain::DomainError> {
    stamp_domain::identity::PartnerId::parse(raw)
        .map_err(|_| stamp_domain::DomainError::NotFound("no such partner".into()))
}

async fn update_partner(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<PartnerView>> {
    stamp_domain::auth::require_operator(&c)?;
    let req: PartnerChange = json_body(&body)?;
    let suspended = req
        .suspended
        .ok_or_else(|| stamp_domain::DomainError::missing("suspended"))?;
    let p = s
        .admin
        .set_partner_suspended(&c, &partner_in_path(&id)?, suspended)
        .await?;
    Ok(Json(PartnerView::from(&p)))
}

async fn audit(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Json<AuditList>> {
    let o = orgnr(&o)?;
    stamp_domain::auth::require_company(
        &s.ledger,
        &c,
        &o,
        stamp_domain::auth::CompanyAccess::Retained,
    )
    .await?;
    let range = super::company_query::range(&s, &p)?;
    let (from, to) = (
        range.from.with_timezone(&chrono::Utc),
        range.to.with_timezone(&chrono::Utc),
    );
    let chain = s.ledger.company_key(&o);
    let page = s
        .audit
        .entries(&chain, from, to, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    let states = s.audit.seal_states(&chain, &page.items).await?;
    Ok(Json(AuditList {
        entries: page
            .items
            .iter()
            .zip(states)
            .map(|(e, st)| AuditEntryView::new(e, st))
            .collect(),
        next_cursor: next_cursor(&page),
    }))
}

async fn place_hold(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let o = orgnr(&o)?;
    let req: HoldRequest = json_body(&body)?;
    let h = s.admin.place_hold(&c, &o, req).await?;
    Ok((StatusCode::CREATED, Json(HoldView::from(&h))).into_response())
}

async fn holds(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Json<HoldList>> {
    let hs = s.admin.holds(&c, &orgnr(&o)?).await?;
    Ok(Json(HoldList {
        legal_holds: hs.iter().map(HoldView::from).collect(),
    }))
}

async fn hold(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, id)): Path<(String, String)>,
) -> ApiResult<Json<HoldView>> {
    Ok(Json(HoldView::from(
        &s.admin.hold(&c, &orgnr(&o)?, &id).await?,
    )))
}

async fn lift_hold(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, id)): Path<(String, String)>,
) -> ApiResult<Json<HoldView>> {
    Ok(Json(HoldView::from(
        &s.admin.lift_hold(&c, &orgnr(&o)?, &id).await?,
    )))
}
