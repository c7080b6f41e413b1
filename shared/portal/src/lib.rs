//! The portal (spec §13): Stamp in a web browser, rendered on the server from typed Rust
//! values with maud. Every page calls the same domain services as the API route it
//! stands for, with the signed-in user's claims, so the same authorization applies; each
//! page view is audited with that route's action (`GET /v1/companies/{orgnr}/people`).
//! Served by the `portal` Lambda function behind the same HTTP API, and by
//! `stamp-local serve` at `/` beside the API.

pub mod charts;
pub mod format;
pub mod i18n;
pub mod layout;
pub mod oidc;
pub mod pages;
pub mod session;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use i18n::{t, Lang};
use maud::Markup;
use session::{Keys, Session};
use stamp_api::views::admin::AnnouncementView;
use stamp_api::AppState;
use stamp_domain::auth::Claims;
use stamp_domain::governance::audit::{AuditRecord, SERVICE_CHAIN};
use stamp_domain::identity::Orgnr;
use stamp_domain::DomainError;
use std::collections::HashMap;
use std::sync::Arc;

/// One demo identity offered by the local sign-in page.
#[derive(Debug, Clone)]
pub struct LocalIdentity {
    /// Translation key of its label (`login.operator`, …).
    pub label: &'static str,
    pub claims: Claims,
}

/// How users sign in.
#[derive(Clone)]
pub enum SignIn {
    /// stamp-local: one click per demo identity, marked as local only.
    Local(Vec<LocalIdentity>),
    /// AWS: OpenID Connect authorization code flow with PKCE.
    Oidc(Arc<oidc::Oidc>),
}

#[derive(Clone)]
pub struct PortalConfig {
    /// The secret sessions and CSRF tokens are MACed with.
    pub session_key: Vec<u8>,
    /// `Secure` cookies; off only on plain-http localhost.
    pub secure_cookies: bool,
    pub sign_in: SignIn,
    pub session_ttl: chrono::Duration,
}

#[derive(Clone)]
pub struct Portal {
    pub app: AppState,
    pub keys: Keys,
    pub cfg: Arc<PortalConfig>,
}

/// The portal's routes without a fallback, to be merged beside the API (stamp-local).
pub fn routes(app: AppState, cfg: PortalConfig) -> Router {
    let portal = Portal {
        app,
        keys: Keys::new(&cfg.session_key),
        cfg: Arc::new(cfg),
    };
    pages::router()
        .route_layer(axum::middleware::from_fn(language))
        .with_state(portal)
}

/// The portal as its own function: its routes and a 404 page for anything else.
pub fn app(app: AppState, cfg: PortalConfig) -> Router {
    routes(app, cfg).fallback(fallback)
}

async fn fallback(req: Request) -> Response {
    let lang = Lang::from_request(req.headers(), req.uri().query());
    error_page(lang, None, StatusCode::NOT_FOUND)
}

/// `?lang=en|sv` switches language and is remembered in a cookie; else the cookie; else
/// Swedish.
async fn language(mut req: Request, next: Next) -> Response {
    let chosen = i18n::query_lang(req.uri().query());
    let lang = Lang::from_request(req.headers(), req.uri().query());
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if let Some(l) = chosen {
        // Not HttpOnly-sensitive, but kept with the same attributes as the session.
        let c = format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            session::LANG_COOKIE,
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// What every page knows about its request.
#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    pub session: Option<Session>,
    /// This page's path and query, for the language switch and the return after sign-in.
    pub here: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub csrf: String,
    pub secure: bool,
}

impl Ctx {
    pub fn t(&self, key: &str) -> &'static str {
        t(self.lang, key)
    }

    pub fn q(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// The query string's pairs, decoded as the API decodes them (one decoder:
/// `stamp_domain::query_string`); a repeated name keeps its last value.
pub fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    q.map(|q| stamp_domain::query_string::pairs(q).into_iter().collect())
        .unwrap_or_default()
}

/// A form or query value decoded (`+` a space, `%XX` a byte).
pub fn pct_decode(s: &str) -> String {
    stamp_domain::query_string::decode(s)
}

pub fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<Portal> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, p: &Portal) -> Result<Self, Self::Rejection> {
        let lang = parts
            .extensions
            .get::<Lang>()
            .copied()
            .unwrap_or_else(|| Lang::from_request(&parts.headers, parts.uri.query()));
        let now = p.app.clock.now().timestamp();
        let session = session::read_cookie(&parts.headers, session::SESSION_COOKIE)
            .and_then(|v| p.keys.session(v, now));
        let csrf = session.as_ref().map(|s| p.keys.csrf(s)).unwrap_or_default();
        Ok(Ctx {
            lang,
            csrf,
            here: parts
                .uri
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            path: parts.uri.path().to_string(),
            query: parse_query(parts.uri.query()),
            session,
            secure: p.cfg.secure_cookies,
        })
    }
}

/// A signed-in request: without a (valid, unexpired) session the user is sent to sign
/// in and brought back here afterwards.
pub struct User {
    pub ctx: Ctx,
    pub session: Session,
}

impl User {
    pub fn claims(&self) -> &Claims {
        &self.session.claims
    }
}

impl FromRequestParts<Portal> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, p: &Portal) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, p).await?;
        match ctx.session.clone() {
            Some(session) => Ok(User { ctx, session }),
            None => Err(to_login(&ctx.here)),
        }
    }
}

pub fn to_login(next: &str) -> Response {
    Redirect::to(&format!("/login?next={}", pct_encode(next))).into_response()
}

/// Where a `next` parameter may send the user: a path on this site only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    Domain(DomainError),
    /// A form without this session's CSRF token.
    Csrf,
    /// A form's input refused, already said at its field (the page shows it again).
    Field(pages::FieldError),
}

impl From<DomainError> for PageError {
    fn from(e: DomainError) -> Self {
        PageError::Domain(e)
    }
}

impl PageError {
    pub fn status(&self) -> StatusCode {
        match self {
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::Field(f) => f.status,
            PageError::Domain(e) => match e {
                DomainError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                DomainError::Forbidden(_) | DomainError::NotActivated(_) => StatusCode::FORBIDDEN,
                DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                DomainError::InvalidField { .. } | DomainError::MissingField { .. } => {
                    StatusCode::BAD_REQUEST
                }
                DomainError::Conflict { .. } => StatusCode::CONFLICT,
                DomainError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                DomainError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                DomainError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }
}

pub type PageResult = Result<Response, PageError>;

/// An error page in the user's language: what happened and what to do. Never the raw
/// error (it may name internals).
pub fn error_page(lang: Lang, user: Option<&Ctx>, status: StatusCode) -> Response {
    let key = match status.as_u16() {
        401 => "err401",
        403 => "err403",
        404 => "err404",
        409 => "err409",
        400 => "err400",
        503 => "err503",
        _ => "err500",
    };
    let title = t(lang, &format!("{key}.title"));
    let body = maud::html! {
        p { (t(lang, &format!("{key}.what"))) }
        p { (t(lang, &format!("{key}.todo"))) }
        p { a href="/" { (t(lang, "nav.home")) } }
    };
    let page = match user {
        Some(ctx) => layout::page(ctx, title, &[], body),
        None => layout::bare(lang, title, body),
    };
    html(status, page)
}

pub fn html(status: StatusCode, m: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        m.into_string(),
    )
        .into_response()
}

/// What one page view stands for in the audit trail.
pub struct Audit<'a> {
    /// The API routes' actions, `GET /v1/companies/{orgnr}/people` (a page that reads
    /// what several routes answer records each).
    pub actions: &'static [&'static str],
    pub company: Option<&'a Orgnr>,
    /// `person_ref:…`, `site_id:…` — never a personnummer.
    pub target: Option<String>,
}

impl Portal {
    /// Records the page view as the API request it stands for, then answers it; a
    /// trail entry that cannot be written turns the answer into a 503 (as in the API).
    pub async fn finish(&self, user: &User, audit: Audit<'_>, result: PageResult) -> Response {
        let status = match &result {
            Ok(r) => r.status(),
            Err(e) => e.status(),
        };
        let c = user.claims();
        let chain = audit
            .company
            .map(|o| String::from(self.app.ledger.company_key(o)))
            .unwrap_or_else(|| SERVICE_CHAIN.to_string());
        if self
            .record(&chain, &c.sub, &c.roles.join(" "), &audit, status)
            .await
            .is_err()
        {
            return error_page(
                user.ctx.lang,
                Some(&user.ctx),
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
        match result {
            Ok(r) => r,
            Err(PageError::Domain(DomainError::Unauthenticated(_))) => to_login(&user.ctx.here),
            Err(e) => {
                let status = e.status();
                if let PageError::Domain(d) = &e {
                    if status.is_server_error() {
                        tracing::warn!(error = %d, "page failed");
                    }
                }
                error_page(user.ctx.lang, Some(&user.ctx), status)
            }
        }
    }

    /// Appends one trail entry per action of `audit` to `chain`, as `actor`.
    pub async fn record(
        &self,
        chain: &str,
        actor: &str,
        role: &str,
        audit: &Audit<'_>,
        status: StatusCode,
    ) -> Result<(), DomainError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        for action in audit.actions {
            let entry = AuditRecord {
                actor: actor.to_string(),
                role: role.to_string(),
                company: audit.company.map(|o| o.to_string()),
                action: action.to_string(),
                target: audit.target.clone(),
                outcome: stamp_api::audit::outcome(status).into(),
                status: status.as_u16(),
                request_id: request_id.clone(),
            };
            if let Err(e) = self
                .app
                .audit
                .append(chain, entry, self.app.clock.now())
                .await
            {
                tracing::error!(error = %e, action, "audit entry could not be written");
                return Err(e);
            }
        }
        Ok(())
    }

    /// Current and planned announcements, for the banner (an outage of the store must
    /// not take every page down with it: then no banner).
    pub async fn announcements(&self) -> Vec<AnnouncementView> {
        match self.app.admin.announcements().await {
            Ok(list) => list.into_iter().map(AnnouncementView::from).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "announcements unavailable");
                Vec::new()
            }
        }
    }
}

/// A state-changing form: its fields, checked against this session's CSRF token.
pub fn check_csrf(
    p: &Portal,
    user: &User,
    form: &HashMap<String, String>,
) -> Result<(), PageError> {
    match form.get("csrf") {
        Some(t) if p.keys.csrf_ok(&user.session, t) => Ok(()),
        _ => Err(PageError::Csrf),
    }
}
