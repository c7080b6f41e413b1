//! Inspection links (spec §10) — the inspection function: the company_admin's
//! `…/inspections` routes (JWT, like every other route) and the inspector's
//! `/inspect/v1/…` routes, which API Gateway passes through without its JWT authorizer:
//! their bearer is an inspection secret, which [`Inspector`] checks on every request.
//! The secret is never logged (the request log holds route templates only) nor audited
//! (the audit entry names the link as `inspection:{id}`).

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use stamp_domain::extracts::OrderBody;
use stamp_domain::governance::inspection::{
    InspectionLink, LinkView, NewLink, Refusal, INSPECTOR_ROLE,
};
use stamp_domain::reads::queries::AnomalyQuery;
use stamp_domain::DomainError;

use super::company_query::{anomaly_query, at_param, registration_query};
use crate::audit::{AuditAs, AuditSlot};
use crate::claims::Caller;
use crate::params::{json_body, orgnr, Params};
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::views::extracts::ExtractView;
use crate::views::reads::{AnomalyList, Registrations};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/companies/{orgnr}/inspections", post(create).get(list))
        .route("/v1/companies/{orgnr}/inspections/{id}", delete(revoke))
        .route("/inspect/v1/site", get(site))
        .route("/inspect/v1/present", get(present))
        .route("/inspect/v1/registrations", get(registrations))
        .route("/inspect/v1/anomalies", get(anomalies))
        .route("/inspect/v1/extracts", post(order_extract))
        .route("/inspect/v1/extracts/{id}", get(extract_status))
}

/// The link a request's `Authorization: Bearer <secret>` opens; anything else is 401.
/// A real link that expired or was revoked is refused *as that link* in the audit trail.
pub struct Inspector(pub InspectionLink);

fn audit_as(parts: &Parts, link: &InspectionLink) {
    if let Some(slot) = parts.extensions.get::<AuditSlot>() {
        slot.set(AuditAs {
            actor: link.actor(),
            role: INSPECTOR_ROLE.into(),
            company: link.company_orgnr.clone(),
            target: format!("site_id:{}", link.site_id),
        });
    }
}

impl FromRequestParts<AppState> for Inspector {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError(DomainError::Unauthenticated(
                    "an inspection link's secret is required as the bearer token".into(),
                ))
            })?;
        match s.inspections.open(secret).await? {
            Ok(link) => {
                audit_as(parts, &link);
                Ok(Inspector(link))
            }
            Err(refusal) => {
                if let Refusal::Ended(link, _) = &refusal {
                    audit_as(parts, link);
                }
                Err(ApiError(refusal.error()))
            }
        }
    }
}

/// `GET …/inspections`: every link of the company, never a secret.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Links {
    pub inspections: Vec<LinkView>,
}

async fn create(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let o = orgnr(&o)?;
    let req: NewLink = json_body(&body)?;
    let made = s.inspections.create(&c, &o, req, &s.public_url).await?;
    let location = format!("/v1/companies/{o}/inspections/{}", made.id);
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, "no-store".into()),
        ],
        Json(made),
    )
        .into_response())
}

async fn list(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(o): Path<String>,
) -> ApiResult<Response> {
    let inspections = s.inspections.list(&c, &orgnr(&o)?).await?;
    Ok(Json(Links { inspections }).into_response())
}

async fn revoke(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((o, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let view = s.inspections.revoke(&c, &orgnr(&o)?, &id).await?;
    Ok(Json(view).into_response())
}

async fn site(State(s): State<AppState>, Inspector(link): Inspector) -> ApiResult<Response> {
    Ok(Json(s.inspections.site(&link)).into_response())
}

async fn present(
    State(s): State<AppState>,
    Inspector(link): Inspector,
    p: Params,
) -> ApiResult<Response> {
    let ck = s.ledger.company_key(&link.company_orgnr);
    let employer = super::company_query::employer_param(&p)?;
    let body = s
        .queries
        .present_of(&ck, &link.site_id, at_param(&p)?, employer.as_ref())
        .await?;
    Ok(Json(body).into_response())
}

async fn registrations(
    State(s): State<AppState>,
    Inspector(link): Inspector,
    p: Params,
) -> ApiResult<Response> {
    let q = registration_query(&s, &p)?;
    let ck = s.ledger.company_key(&link.company_orgnr);
    let body = s
        .queries
        .site_registrations_of(&ck, &link.site_id, &q)
        .await?;
    Ok(Json(Registrations::from(&body)).into_response())
}

async fn anomalies(
    State(s): State<AppState>,
    Inspector(link): Inspector,
    p: Params,
) -> ApiResult<Response> {
    if p.get("site_id").is_some_and(|x| x != link.site_id.as_str()) {
        return Err(
            DomainError::Forbidden("an inspection link opens its own site only".into()).into(),
        );
    }
    let q = AnomalyQuery {
        site: Some(link.site_id.clone()),
        ..anomaly_query(&s, &p)?
    };
    let ck = s.ledger.company_key(&link.company_orgnr);
    let page = s.queries.anomalies_of(&ck, &q).await?;
    Ok(Json(AnomalyList::from(page)).into_response())
}

async fn order_extract(
    State(s): State<AppState>,
    Inspector(link): Inspector,
    body: Bytes,
) -> ApiResult<Response> {
    let req: OrderBody = json_body(&body)?;
    let record = s.extracts.order_inspection(&link, req).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(
            header::LOCATION,
            format!("/inspect/v1/extracts/{}", record.id),
        )],
        Json(ExtractView::of(&s.extracts.shown(record), &s.public_url)),
    )
        .into_response())
}

async fn extract_status(
    State(s): State<AppState>,
    Inspector(link): Inspector,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = s.extracts.get_inspection(&link, &id).await?;
    Ok(Json(ExtractView::of(&v, &s.public_url)).into_response())
}
