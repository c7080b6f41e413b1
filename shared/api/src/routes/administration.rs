//! Partners (operator), activation and users (company_admin), health — the
//! administration function.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use stamp_domain::admin::{activation_view, grant_view, ActivationRequest, NewPartner};

use super::list;
use crate::claims::Caller;
use crate::params::{json_body, orgnr, Params};
use crate::problem::ApiResult;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/v1/partners", get(partners).post(accredit))
        .route(
            "/v1/companies/{orgnr}/activation",
            get(activation).put(activate).delete(deregister),
        )
        .route("/v1/companies/{orgnr}/users", get(users))
        .route(
            "/v1/companies/{orgnr}/users/{sub}",
            put(put_user).delete(delete_user),
        )
}

async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

fn partner_view(p: &stamp_domain::model::Partner) -> serde_json::Value {
    json!({
        "partner_id": p.partner_id,
        "name": p.name,
        "feed_url": p.feed_url,
        "accredited_at": p.accredited_at,
        "suspended": p.suspended,
    })
}

async fn accredit(
    State(s): State<AppState>,
    Caller(c): Caller,
    body: Bytes,
) -> ApiResult<Response> {
    stamp_domain::auth::require_operator(&c)?;
    let req: NewPartner = json_body(&body)?;
    let p = s.admin.accredit_partner(&c, req).await?;
    Ok((StatusCode::CREATED, Json(partner_view(&p))).into_response())
}

async fn partners(State(s): State<AppState>, Caller(c): Caller, p: Params) -> ApiResult<Response> {
    let page = s
        .admin
        .partners(&c, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    Ok(list("partners", page, partner_view))
}

async fn activate(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let o = orgnr(&o)?;
    let req: ActivationRequest = json_body(&body)?;
    let a = s.admin.activate(&c, &o, req).await?;
    if let Some(hook) = &s.on_activated {
        hook(&o);
    }
    Ok(Json(activation_view(&a)).into_response())
}

async fn activation(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Response> {
    let a = s.admin.activation(&c, &orgnr(&o)?).await?;
    Ok(Json(activation_view(&a)).into_response())
}

async fn deregister(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Response> {
    let receipt = s.admin.deregister(&c, &orgnr(&o)?).await?;
    Ok(Json(receipt).into_response())
}

async fn users(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Response> {
    let page = s
        .admin
        .users(&c, &orgnr(&o)?, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    Ok(list("users", page, grant_view))
}

#[derive(Deserialize)]
struct Roles {
    roles: Option<Vec<String>>,
}

async fn put_user(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, sub)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let o = orgnr(&o)?;
    let req: Roles = json_body(&body)?;
    let g = s.admin.put_user(&c, &o, &sub, req.roles).await?;
    Ok(Json(json!({ "sub": g.sub, "roles": g.roles })).into_response())
}

async fn delete_user(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, sub)): Path<(String, String)>,
) -> ApiResult<Response> {
    s.admin.delete_user(&c, &orgnr(&o)?, &sub).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
