//! The portal's pages. Paths mirror the API's (`/companies/{orgnr}/people` stands for
//! `GET /v1/companies/{orgnr}/people`), so what a page is and how it is audited read
//! the same.

mod admin;
mod company;
mod inspect;
mod inspections;
mod notifications;
mod people;

use crate::i18n::t;
use crate::layout;
use crate::session::{self, Session};
use crate::{html, safe_next, Audit, Ctx, PageError, PageResult, Portal, SignIn, User};
use axum::extract::{Form, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use stamp_api::views::admin::AnnouncementView;
use stamp_domain::auth::Role;
use stamp_domain::identity::Orgnr;
use stamp_domain::DomainError;
use std::collections::HashMap;
use std::future::Future;

pub type FormData = Form<HashMap<String, String>>;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_local))
        .route("/auth/callback", get(callback))
        .route("/logout", post(logout))
        .route("/assets/{*file}", get(asset))
        .route("/privacy", get(privacy))
        .merge(company::router())
        .merge(admin::router())
        .merge(people::router())
        .merge(inspect::router())
        .merge(inspections::router())
        .merge(notifications::router())
}

/// A signed-in page view being set up: what it is audited as, the company its path
/// names, the form it carries. [`PageView::render`] runs the page's own part and
/// audits the view as the API request it stands for ([`Portal::finish`]).
pub struct PageView<'a, O> {
    p: &'a Portal,
    user: &'a User,
    actions: &'static [&'static str],
    /// The company whose chain the view is audited in; `None`: the service's chain.
    company: Option<Orgnr>,
    /// What the page is of (its company, or `()`); `None`: a path naming no company.
    of: Option<O>,
    target: Option<String>,
    form: Option<HashMap<String, String>>,
}

impl Portal {
    /// A page of the company its path names (`/companies/{orgnr}/…`), audited with
    /// `actions` in that company's chain; a path naming no company is a 404 page.
    pub fn company_page<'a>(
        &'a self,
        user: &'a User,
        raw_orgnr: &str,
        actions: &'static [&'static str],
    ) -> PageView<'a, Orgnr> {
        let company = company::orgnr(raw_orgnr);
        PageView {
            p: self,
            user,
            actions,
            of: company.clone(),
            company,
            target: None,
            form: None,
        }
    }

    /// A page of no company (the employee's own, the operator's), audited in the
    /// service's chain.
    pub fn service_page<'a>(
        &'a self,
        user: &'a User,
        actions: &'static [&'static str],
    ) -> PageView<'a, ()> {
        PageView {
            p: self,
            user,
            actions,
            company: None,
            of: Some(()),
            target: None,
            form: None,
        }
    }
}

impl<'a, O> PageView<'a, O> {
    /// The audit entry's target (`id:…`, `sub:…`, `site_id:…`; never a personnummer).
    pub fn target(mut self, target: impl Into<Option<String>>) -> Self {
        self.target = target.into();
        self
    }

    /// A state-changing form: without this session's CSRF token the page is refused
    /// (403) before its own part runs.
    pub fn form(mut self, form: HashMap<String, String>) -> Self {
        self.form = Some(form);
        self
    }

    /// Runs the page's own part (after the company and CSRF checks), then audits the
    /// view with the status it answers. The part is given the portal, the user, the
    /// page's company (`()` for a page of no company), the banner's announcements and
    /// the form's fields (empty for a page without a form).
    pub async fn render<F, Fut>(self, page: F) -> Response
    where
        F: FnOnce(&'a Portal, &'a User, O, Vec<AnnouncementView>, HashMap<String, String>) -> Fut,
        Fut: Future<Output = PageResult>,
    {
        let PageView {
            p,
            user,
            actions,
            company,
            of,
            target,
            form,
        } = self;
        let ann = p.announcements().await;
        let result: PageResult = async {
            let o = of.ok_or_else(company::no_company)?;
            if let Some(f) = &form {
                crate::check_csrf(p, user, f)?;
            }
            page(p, user, o, ann, form.unwrap_or_default()).await
        }
        .await;
        let audit = Audit {
            actions,
            company: company.as_ref(),
            target,
        };
        p.finish(user, audit, result).await
    }
}

/// A form field's error: the field, the translation key of the message, (shown in
/// English only) the domain's own reason, and the status the API would answer.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub key: &'static str,
    pub detail: Option<String>,
    pub status: StatusCode,
}

impl FieldError {
    /// A refusal the page itself decides (a box not ticked, a number not found).
    pub fn new(field: &str, key: &'static str, status: StatusCode) -> Self {
        FieldError {
            field: field.into(),
            key,
            detail: None,
            status,
        }
    }
}

/// A domain refusal of bad input as an error next to its field; other errors pass.
pub fn field_error(e: PageError) -> Result<FieldError, PageError> {
    match e {
        PageError::Field(f) => Ok(f),
        PageError::Domain(DomainError::InvalidField { field, reason }) => Ok(FieldError {
            field,
            key: "form.invalid",
            detail: Some(reason),
            status: StatusCode::BAD_REQUEST,
        }),
        PageError::Domain(DomainError::MissingField { field, .. }) => Ok(FieldError {
            field,
            key: "form.missing",
            detail: None,
            status: StatusCode::BAD_REQUEST,
        }),
        PageError::Domain(DomainError::Conflict { code, detail }) => Ok(FieldError {
            field: "form".into(),
            key: match code {
                "last_company_admin" => "users.last_admin",
                "partner_exists" => "partners.exists",
                "no_notification_settings" => "notify.no_settings",
                _ => "form.conflict",
            },
            detail: Some(detail),
            status: StatusCode::CONFLICT,
        }),
        other => Err(other),
    }
}

/// What a form's submission comes to: `done` on success, else [`refused`].
pub async fn form_outcome<T, Fut>(
    result: Result<T, PageError>,
    done: impl FnOnce(T) -> PageResult,
    again: impl FnOnce(FieldError) -> Fut,
) -> PageResult
where
    Fut: std::future::Future<Output = PageResult>,
{
    match result {
        Ok(v) => done(v),
        Err(e) => refused(e, again).await,
    }
}

/// A refusal of a form's input: the page again (`again`, given the error to show at its
/// field) with the status the API would answer. Any other error passes to the error page.
pub async fn refused<Fut>(e: PageError, again: impl FnOnce(FieldError) -> Fut) -> PageResult
where
    Fut: std::future::Future<Output = PageResult>,
{
    let err = field_error(e)?;
    let status = err.status;
    let page = again(err).await?;
    Ok((status, page).into_response())
}

pub fn with_cookie(mut res: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub fn ok(ctx: &Ctx, title: &str, ann: &[AnnouncementView], body: maud::Markup) -> Response {
    html(StatusCode::OK, layout::page(ctx, title, ann, body))
}

/// A page titled by the translation key `title`, answered 200.
pub fn shown(user: &User, title: &str, ann: &[AnnouncementView], body: maud::Markup) -> PageResult {
    Ok(ok(&user.ctx, t(user.ctx.lang, title), ann, body))
}

/// A form field as typed (empty when absent).
pub fn field(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// A typed value trimmed, `None` when nothing was typed.
pub fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A list as a table in a scrolling box under its column headings (translation keys),
/// or `common.none` when it is empty.
pub fn scroll_table(
    l: crate::i18n::Lang,
    empty: bool,
    heads: &[&str],
    rows: maud::Markup,
) -> maud::Markup {
    html! {
        @if empty { p { (t(l, "common.none")) } } @else {
            div class="scroll" tabindex="0" {
                table {
                    thead { tr { @for h in heads { th scope="col" { (t(l, h)) } } } }
                    tbody { (rows) }
                }
            }
        }
    }
}

/// A hidden CSRF field for the session's forms.
pub fn csrf(ctx: &Ctx) -> maud::Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// Where a signed-in user starts: their role's first page.
fn start_page(s: &Session) -> String {
    let c = &s.claims;
    if c.has_role(Role::CompanyAdmin) || c.has_role(Role::CompanyUser) {
        if let Some(o) = c.companies.first() {
            return format!("/companies/{o}");
        }
    }
    if c.has_role(Role::Employee) {
        return "/me".into();
    }
    if c.has_role(Role::Operator) {
        return "/operator/partners".into();
    }
    "/privacy".into()
}

async fn home(ctx: Ctx) -> Response {
    match &ctx.session {
        Some(s) => Redirect::to(&start_page(s)).into_response(),
        None => Redirect::to("/login").into_response(),
    }
}

async fn login_page(State(p): State<Portal>, ctx: Ctx) -> Response {
    let l = ctx.lang;
    let next = safe_next(ctx.q("next"));
    match &p.cfg.sign_in {
        SignIn::Local(ids) => {
            let body = html! {
                p class="local-only" role="note" { strong { (t(l, "login.local_only")) } " " (t(l, "login.local_note")) }
                ul class="identities" {
                    @for (i, id) in ids.iter().enumerate() {
                        li {
                            form method="post" action="/login" {
                                input type="hidden" name="identity" value=(i);
                                input type="hidden" name="next" value=(next);
                                button type="submit" { (t(l, id.label)) }
                                " " span class="muted" { (id.claims.sub) }
                            }
                        }
                    }
                }
                p { a href=(layout::switch_href(&ctx)) { (t(l, "nav.switch")) } }
            };
            html(StatusCode::OK, layout::bare(l, t(l, "login.title"), body))
        }
        SignIn::Oidc(o) => match o.begin(&p.keys, &next, p.app.clock.now()).await {
            Ok((url, cookie)) => with_cookie(
                Redirect::to(&url).into_response(),
                session::cookie(session::LOGIN_COOKIE, &cookie, 600, p.cfg.secure_cookies),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "sign-in could not start");
                crate::error_page(l, None, StatusCode::SERVICE_UNAVAILABLE)
            }
        },
    }
}

/// Signs a session in and sends the user on.
pub fn signed_in(
    p: &Portal,
    claims: stamp_domain::auth::Claims,
    via: &str,
    next: &str,
) -> Response {
    let s = Session {
        claims,
        exp: (p.app.clock.now() + p.cfg.session_ttl).timestamp(),
        sid: session::random_token(),
        via: via.into(),
    };
    let sealed = p.keys.seal("session", &s);
    let res = Redirect::to(next).into_response();
    let res = with_cookie(
        res,
        session::cookie(
            session::SESSION_COOKIE,
            &sealed,
            p.cfg.session_ttl.num_seconds(),
            p.cfg.secure_cookies,
        ),
    );
    with_cookie(
        res,
        session::clear_cookie(session::LOGIN_COOKIE, p.cfg.secure_cookies),
    )
}

/// `POST /login` (local only): one click signs in as a demo identity.
async fn login_local(State(p): State<Portal>, ctx: Ctx, Form(f): FormData) -> Response {
    let SignIn::Local(ids) = &p.cfg.sign_in else {
        return crate::error_page(ctx.lang, None, StatusCode::NOT_FOUND);
    };
    let Some(id) = f
        .get("identity")
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| ids.get(i))
    else {
        return crate::error_page(ctx.lang, None, StatusCode::BAD_REQUEST);
    };
    let next = safe_next(f.get("next").map(String::as_str));
    let next = if next == "/" { "/".to_string() } else { next };
    signed_in(&p, id.claims.clone(), "local", &next)
}

/// `GET /auth/callback`: the issuer sends the user back with a code; state, PKCE and
/// nonce are checked against the sign-in this browser started.
async fn callback(State(p): State<Portal>, ctx: Ctx, headers: axum::http::HeaderMap) -> Response {
    let SignIn::Oidc(o) = &p.cfg.sign_in else {
        return crate::error_page(ctx.lang, None, StatusCode::NOT_FOUND);
    };
    let pending = session::read_cookie(&headers, session::LOGIN_COOKIE).map(str::to_string);
    let clear = session::clear_cookie(session::LOGIN_COOKIE, p.cfg.secure_cookies);
    match o
        .finish(
            &p.keys,
            pending.as_deref(),
            ctx.q("code"),
            ctx.q("state"),
            p.app.clock.now(),
        )
        .await
    {
        Ok((claims, next)) => signed_in(&p, claims, "oidc", &safe_next(Some(&next))),
        Err(e) => {
            tracing::warn!(error = %e, "sign-in callback refused");
            with_cookie(
                crate::error_page(ctx.lang, None, StatusCode::FORBIDDEN),
                clear,
            )
        }
    }
}

/// `POST /logout`: the session cookie is removed (with this session's CSRF token, so
/// no other site can sign a user out).
async fn logout(State(p): State<Portal>, user: User, Form(f): FormData) -> Response {
    if crate::check_csrf(&p, &user, &f).is_err() {
        return crate::error_page(user.ctx.lang, Some(&user.ctx), StatusCode::FORBIDDEN);
    }
    let l = user.ctx.lang;
    let body = html! {
        p { (t(l, "logout.done")) }
        p { a href="/login" { (t(l, "login.again")) } }
    };
    let res = html(StatusCode::OK, layout::bare(l, t(l, "logout.title"), body));
    with_cookie(
        res,
        session::clear_cookie(session::SESSION_COOKIE, p.cfg.secure_cookies),
    )
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match file.as_str() {
        "style.css" => (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            layout::CSS,
        )
            .into_response(),
        "app.js" => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            layout::JS,
        )
            .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /privacy`, one click from every page (GET /v1/privacy; public, as there).
async fn privacy(State(p): State<Portal>, ctx: Ctx) -> Response {
    let l = ctx.lang;
    let notice = stamp_domain::governance::notice::PRIVACY_NOTICE_MARKDOWN;
    let body = html! {
        p { (t(l, "privacy.intro")) }
        // The notice's own text is kept in one language (docs/privacy-notice.md).
        div class="notice" lang="en" {
            @for para in notice.split("\n\n") {
                p { (para.trim_start_matches('#').trim()) }
            }
        }
    };
    let title = t(l, "privacy.title");
    match &ctx.session {
        Some(_) => {
            let ann = p.announcements().await;
            ok(&ctx, title, &ann, body)
        }
        None => html(StatusCode::OK, layout::bare(l, title, body)),
    }
}
