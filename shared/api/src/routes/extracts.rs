//! Extracts (spec §8) and the employees' own data — the extracts function.
//!
//! `POST …/extracts` answers 202 with the pending extract and a `Location` at once; the
//! rendering happens elsewhere (the extract-rendering function, or a task locally).
//! `GET …/extracts/{id}` answers its status and, when ready, a download link valid for
//! minutes — each link handed out is recorded on the extract.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use stamp_domain::extracts::{ExtractRecord, OrderBody};
use stamp_domain::DomainError;

use crate::claims::Caller;
use crate::params::{json_body, orgnr, Params};
use crate::problem::ApiResult;
use crate::state::AppState;
use crate::views::extracts::{ExtractView, OwnCompany, OwnRegistrations};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/companies/{orgnr}/extracts", post(order))
        .route("/v1/companies/{orgnr}/extracts/{id}", get(status))
        .route("/v1/me/registrations", get(own_registrations))
        .route("/v1/me/extracts", post(order_own))
        .route("/v1/me/extracts/{id}", get(own_status))
}

fn accepted(s: &AppState, record: ExtractRecord, location: String) -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(ExtractView::of(&s.extracts.shown(record), &s.public_url)),
    )
        .into_response()
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
    let location = format!("/v1/companies/{o}/extracts/{}", record.id);
    Ok(accepted(&s, record, location))
}

async fn status(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, id)): Path<(String, String)>,
) -> ApiResult<Json<ExtractView>> {
    let v = s.extracts.get(&c, &orgnr(&o)?, &id).await?;
    Ok(Json(ExtractView::of(&v, &s.public_url)))
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
    let location = format!("/v1/me/extracts/{}", record.id);
    Ok(accepted(&s, record, location))
}

async fn own_status(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ExtractView>> {
    let v = s.extracts.get_own(&c, &id).await?;
    Ok(Json(ExtractView::of(&v, &s.public_url)))
}

async fn own_registrations(
    State(s): State<AppState>,
    Caller(c): Caller,
    p: Params,
) -> ApiResult<Json<OwnRegistrations>> {
    let q = super::company_query::registration_query(&s, &p)?;
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
