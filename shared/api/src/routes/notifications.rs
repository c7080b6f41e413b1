//! Spec §11 notification settings and deliveries, and the company's part of the latest
//! archive verification (spec §12), all company_admin, served by the administration
//! function.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use stamp_domain::notify::{Delivery, SettingsRequest};

use crate::claims::Caller;
use crate::params::{json_body, orgnr, Params};
use crate::problem::ApiResult;
use crate::state::AppState;
use crate::views::next_cursor;

/// `GET …/notifications/deliveries` and `POST …/notifications/test`: what was sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/companies/{orgnr}/notifications",
            get(settings).put(put_settings),
        )
        .route(
            "/v1/companies/{orgnr}/notifications/deliveries",
            get(deliveries),
        )
        .route("/v1/companies/{orgnr}/notifications/test", post(send_test))
        .route("/v1/companies/{orgnr}/verification", get(verification))
}

/// `GET …/verification`: this company's part of the latest archive verification
/// (counts, its mismatches, the run's time); 404 until a run covered it.
async fn verification(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Response> {
    let v = stamp_domain::governance::verification::latest(&s.ledger, &c, &orgnr(&o)?).await?;
    Ok(Json(v).into_response())
}

async fn settings(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Response> {
    Ok(Json(s.notifications.settings(&c, &orgnr(&o)?).await?).into_response())
}

async fn put_settings(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let o = orgnr(&o)?;
    // Authorization before the body is looked at (validation resolves host names).
    s.notifications.settings(&c, &o).await?;
    let req: SettingsRequest = json_body(&body)?;
    Ok(Json(s.notifications.put_settings(&c, &o, req).await?).into_response())
}

async fn deliveries(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    p: Params,
) -> ApiResult<Response> {
    let page = s
        .notifications
        .deliveries(&c, &orgnr(&o)?, p.cursor()?.as_ref(), p.limit()?)
        .await?;
    Ok(Json(DeliveryList {
        next_cursor: next_cursor(&page),
        deliveries: page.items,
    })
    .into_response())
}

async fn send_test(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Response> {
    let sent = s.notifications.send_test(&c, &orgnr(&o)?).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(DeliveryList {
            deliveries: sent,
            next_cursor: None,
        }),
    )
        .into_response())
}
