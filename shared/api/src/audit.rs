//! Every routed request is appended to the audit log after it is answered — reads and
//! refusals included — as actor, role, company, action (the route template), target
//! (path identifiers: person_ref, site ID, user…), outcome, status and request id. If the
//! entry cannot be written the caller gets a 503 instead of a silent gap.

use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use stamp_domain::audit::{AuditRecord, SERVICE_CHAIN};
use stamp_domain::identity::Orgnr;
use std::sync::{Arc, Mutex};

use crate::claims::claims_from_map;
use crate::problem::problem;
use crate::state::AppState;

/// Who acted, when the caller is not a JWT's subject: an inspection link's holder
/// (spec §10, actor `inspection:{id}` in the company's chain). A route's extractor fills
/// the [`AuditSlot`] this middleware hands it.
#[derive(Debug, Clone)]
pub struct AuditAs {
    pub actor: String,
    pub role: String,
    pub company: Orgnr,
    pub target: String,
}

/// Filled during the request by whoever learns who the caller is (see [`AuditAs`]).
#[derive(Debug, Clone, Default)]
pub struct AuditSlot(pub Arc<Mutex<Option<AuditAs>>>);

impl AuditSlot {
    pub fn set(&self, who: AuditAs) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(who);
        }
    }

    fn take(&self) -> Option<AuditAs> {
        self.0.lock().ok().and_then(|mut g| g.take())
    }
}

/// Routes not worth a trail entry: liveness probes.
const UNAUDITED: [&str; 1] = ["/health"];

pub fn outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=399 => "success",
        401 | 403 => "refused",
        400..=499 => "rejected",
        _ => "failed",
    }
}

pub async fn record(
    State(state): State<AppState>,
    matched: MatchedPath,
    params: RawPathParams,
    req: Request,
    next: Next,
) -> Response {
    let route = matched.as_str().to_string();
    if UNAUDITED.contains(&route.as_str()) {
        return next.run(req).await;
    }
    let slot = AuditSlot::default();
    let mut req = req;
    req.extensions_mut().insert(slot.clone());
    let action = format!("{} {route}", req.method());
    let (claims, request_id) = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => (
            ctx.authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .and_then(|j| claims_from_map(&j.claims)),
            ctx.request_id.clone(),
        ),
        _ => (None, None),
    };
    let mut company = None;
    let mut targets = Vec::new();
    for (name, value) in params.iter() {
        if name == "orgnr" {
            company = Orgnr::parse(value).ok();
        } else {
            targets.push(format!("{name}:{value}"));
        }
    }
    let res = next.run(req).await;
    let status = res.status();
    let (mut actor, mut role) = (
        claims
            .as_ref()
            .map(|c| c.sub.clone())
            .unwrap_or_else(|| "anonymous".into()),
        claims
            .as_ref()
            .map(|c| c.roles.join(" "))
            .unwrap_or_default(),
    );
    if let Some(who) = slot.take() {
        actor = who.actor;
        role = who.role;
        company = Some(who.company);
        targets.insert(0, who.target);
    }
    let chain = company
        .as_ref()
        .map(|o| state.ledger.company_key(o))
        .unwrap_or_else(|| SERVICE_CHAIN.to_string());
    let entry = AuditRecord {
        actor,
        role,
        company: company.map(|o| o.to_string()),
        action,
        target: (!targets.is_empty()).then(|| targets.join(" ")),
        outcome: outcome(status).into(),
        status: status.as_u16(),
        request_id: request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    };
    match state.audit.append(&chain, entry, state.clock.now()).await {
        Ok(_) => res,
        Err(e) => {
            tracing::error!(error = %e, route, "audit entry could not be written");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "Temporarily unavailable",
                "the action could not be recorded in the audit log; retry",
                None,
            )
        }
    }
}
