//! Extracts (spec §8) and the employees' own data — the extracts function.
//!
//! `POST …/extracts` answers 202 with the pending extract and a `Location` at once; the
//! rendering happens elsewhere (the extract-rendering function, or a task locally).
//! `GET …/extracts/{id}` answers its status and, when ready, a download link valid for
//! minutes — each link handed out is recorded on the extract.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use stamp_domain::extracts::{ExtractRecord, OrderBody};
use stamp_domain::queries::{Range, RegistrationQuery};
use stamp_domain::DomainError;

use crate::claims::Caller;
use crate::params::{json_body, orgnr, Params};
use crate::problem::ApiResult;
use crate::state::AppState;
use crate::views::extracts::{OwnCompany, OwnRegistrations};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/companies/{orgnr}/extracts", post(order))
        .route("/v1/companies/{orgnr}/extracts/{id}", get(status))
        .route("/v1/me/registrations", get(own_registrations))
        .route("/v1/me/extracts", post(order_own))
        .route("/v1/me/extracts/{id}", get(own_status))
}

fn accepted(s: &AppState, record: &ExtractRecord, location: String) -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(s.extracts.view(record)),
    )
        .into_response()
}

/// A link relative to this server (the local one's) made absolute with the request's Host.
fn absolute(mut v: Value, headers: &HeaderMap) -> Value {
    if let Some(url) = v["download_url"].as_str().filter(|u| u.starts_with('/')) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        v["download_url"] = Value::String(format!("http://{host}{url}"));
    }
    v
}

async fn order(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let o = orgnr(&o)?;
    let req: OrderBody = json_body(&body)?;
    let record = s.extracts.order(&c, &o, req).await?;
    Ok(accepted(
        &s,
        &record,
        format!("/v1/companies/{o}/extracts/{}", record.id),
    ))
}

async fn status(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let v = s.extracts.get(&c, &orgnr(&o)?, &id).await?;
    Ok(Json(absolute(v, &headers)).into_response())
}

async fn order_own(
    State(s): State<AppState>,
    Caller(c): Caller,
    body: Bytes,
) -> ApiResult<Response> {
    // The body may be empty: the own register extract in PDF.
    let req: OrderBody = if body.is_empty() {
        OrderBody::default()
    } else {
        json_body(&body)?
    };
    let req = OrderBody {
        format: req.format.or(Some("pdf".into())),
        ..req
    };
    let record = s.extracts.order_own(&c, req).await?;
    Ok(accepted(
        &s,
        &record,
        format!("/v1/me/extracts/{}", record.id),
    ))
}

async fn own_status(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let v = s.extracts.get_own(&c, &id).await?;
    Ok(Json(absolute(v, &headers)).into_response())
}

async fn own_registrations(
    State(s): State<AppState>,
    Caller(c): Caller,
    p: Params,
) -> ApiResult<Json<OwnRegistrations>> {
    let fix = |v: Option<&str>| v.map(|s| s.replace(' ', "+"));
    let (from, to) = (fix(p.get("from")), fix(p.get("to")));
    let q = RegistrationQuery {
        range: Range::parse(from.as_deref(), to.as_deref())?,
        history: p.flag("history")?,
        cursor: p.cursor()?,
        limit: p.limit()?,
    };
    let company = p
        .get("company")
        .map(|raw| {
            stamp_domain::identity::Orgnr::parse(raw)
                .map_err(|e| DomainError::invalid("company", e.to_string()))
        })
        .transpose()?;
    let companies = s
        .extracts
        .own_registrations(&c, &q, company.as_ref())
        .await?;
    Ok(Json(OwnRegistrations {
        companies: companies.iter().map(OwnCompany::from).collect(),
    }))
}
