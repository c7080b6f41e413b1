//! Every routed request is appended to the audit log after it is answered — reads and
//! refusals included — as actor, role, company, action (the route template), target
//! (path identifiers: person_ref, site ID, user…), outcome, status and request id. If the
//! entry cannot be written the caller gets a 503 instead of a silent gap.
//!
//! Which chain an entry goes to ([`Actor::chain`]): an authenticated caller acting on a
//! company writes to the company's chain, a partner's other requests (pushes, uploads)
//! to its own `partner-{id}` chain, everyone else (anonymous callers, operators,
//! employees) to one of the service chains. Appending is one create-only write, so no
//! chain is a point that requests queue behind.

use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use stamp_domain::auth::Claims;
use stamp_domain::governance::audit::{service_shard, AuditRecord};
use stamp_domain::identity::Orgnr;
use std::sync::{Arc, Mutex};

use crate::budget::Admission;
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

/// Routes not worth a trail entry (liveness probes): neither audited nor held to the
/// anonymous budget.
pub(crate) const UNAUDITED: [&str; 1] = ["/health"];

pub fn outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=399 => "success",
        401 | 403 => "refused",
        400..=499 => "rejected",
        _ => "failed",
    }
}

/// Who acted, as the trail records it. A new kind of caller (an inspection link, say)
/// is a new variant: its id, its role and the chain it writes to.
#[derive(Debug, Clone)]
pub enum Actor {
    Anonymous,
    /// A caller with a verified token.
    User(Claims),
    /// The holder of an inspection link (spec §10): `inspection:{id}`, in the company's
    /// chain.
    Inspection(AuditAs),
}

impl Actor {
    pub fn id(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".into(),
            Actor::User(c) => c.sub.clone(),
            Actor::Inspection(who) => who.actor.clone(),
        }
    }

    pub fn role(&self) -> String {
        match self {
            Actor::Anonymous => String::new(),
            Actor::User(c) => c.roles.join(" "),
            Actor::Inspection(who) => who.role.clone(),
        }
    }

    /// The chain this actor's entry about `company` (if the route names one) goes to.
    pub fn chain(&self, state: &AppState, company: Option<&Orgnr>, request_id: &str) -> String {
        match (self, company) {
            (Actor::Inspection(who), _) => state.ledger.company_key(&who.company).into(),
            (Actor::User(_), Some(o)) => state.ledger.company_key(o).into(),
            (Actor::User(c), None) => match c.partner_id.as_deref() {
                Some(p) if c.roles.iter().any(|r| r == "partner") => partner_chain(p),
                _ => service_shard(request_id),
            },
            // Anonymous requests never land in a company's chain: a flood of them would
            // bury the company's own trail.
            (Actor::Anonymous, _) => service_shard(request_id),
        }
    }
}

/// Over the anonymous budget: 429 with the seconds to wait.
fn too_many_requests(after: std::time::Duration) -> Response {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    let mut res = problem(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "Too many requests",
        "requests without a token are over this server's budget; retry after the time given",
        None,
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&secs.max(1).to_string()) {
        res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    res
}

/// A partner's own chain.
pub fn partner_chain(partner_id: &str) -> String {
    format!("partner-{partner_id}")
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
    // Requests without a verified token go within the anonymous budget (stamp-local);
    // inspection links prove a secret instead of a token and are not held to it.
    let budgeted = claims.is_none() && !route.starts_with("/inspect/");
    let res = match state.anonymous_budget.as_ref().filter(|_| budgeted) {
        Some(budget) => match budget.admit() {
            Admission::After(wait) => {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                next.run(req).await
            }
            Admission::Refused(after) => too_many_requests(after),
        },
        None => next.run(req).await,
    };
    let status = res.status();
    let mut actor = claims.map_or(Actor::Anonymous, Actor::User);
    if let Some(who) = slot.take() {
        company = Some(who.company.clone());
        targets.insert(0, who.target.clone());
        actor = Actor::Inspection(who);
    }
    let request_id = request_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let chain = actor.chain(&state, company.as_ref(), &request_id);
    let entry = AuditRecord {
        actor: actor.id(),
        role: actor.role(),
        company: company.map(|o| o.to_string()),
        action,
        target: (!targets.is_empty()).then(|| targets.join(" ")),
        outcome: outcome(status).into(),
        status: status.as_u16(),
        request_id,
    };
    // Anonymous and refused requests share commits (group commit): a flood of them costs
    // the store one write per group, and no authenticated entry waits in that group.
    let grouped = matches!(actor, Actor::Anonymous) || entry.outcome == "refused";
    let written = if grouped {
        state
            .audit
            .append_grouped(&chain, entry, state.clock.now())
            .await
    } else {
        state.audit.append(&chain, entry, state.clock.now()).await
    };
    match written {
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
