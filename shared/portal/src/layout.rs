//! The page shell: language, skip link, navigation by role, the announcements banner,
//! the language switch, sign-out and the privacy notice one click away.

use crate::i18n::{t, Lang};
use crate::Ctx;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use stamp_api::views::admin::AnnouncementView;
use stamp_domain::auth::{Claims, Role};

pub const CSS: &str = include_str!("../assets/style.css");
pub const JS: &str = include_str!("../assets/app.js");

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " – Stamp" }
            link rel="stylesheet" href="/assets/style.css";
            link rel="icon" href="data:,";
        }
    }
}

/// The same page in the other language.
pub fn switch_href(ctx: &Ctx) -> String {
    let other = ctx.lang.other();
    let mut pairs: Vec<String> = ctx
        .query
        .iter()
        .filter(|(k, _)| k.as_str() != "lang")
        .map(|(k, v)| format!("{}={}", crate::pct_encode(k), crate::pct_encode(v)))
        .collect();
    pairs.sort();
    pairs.push(format!("lang={}", other.code()));
    format!("{}?{}", ctx.path, pairs.join("&"))
}

/// The company a company page is about: the one in the path, else the first the
/// session names.
pub fn current_company(ctx: &Ctx, claims: &Claims) -> Option<String> {
    ctx.path
        .strip_prefix("/companies/")
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string)
        .or_else(|| claims.companies.first().cloned())
}

fn nav(ctx: &Ctx, claims: &Claims) -> Markup {
    let l = ctx.lang;
    let company_role = claims.has_role(Role::CompanyUser) || claims.has_role(Role::CompanyAdmin);
    let company = current_company(ctx, claims);
    let item = |href: String, key: &str| {
        let current = ctx.path == href;
        html! {
            li { a href=(href) aria-current=[current.then_some("page")] { (t(l, key)) } }
        }
    };
    html! {
        nav aria-label=(t(l, "nav.label")) {
            ul {
                @if company_role {
                    @if let Some(o) = &company {
                        (item(format!("/companies/{o}"), "nav.overview"))
                        (item(format!("/companies/{o}/people"), "nav.people"))
                        (item(format!("/companies/{o}/anomalies"), "nav.anomalies"))
                        (item(format!("/companies/{o}/statistics"), "nav.statistics"))
                        (item(format!("/companies/{o}/extracts"), "nav.extracts"))
                        @if claims.has_role(Role::CompanyAdmin) {
                            (item(format!("/companies/{o}/users"), "nav.users"))
                            (item(format!("/companies/{o}/activation"), "nav.activation"))
                            (item(format!("/companies/{o}/legal-holds"), "nav.holds"))
                            (item(format!("/companies/{o}/inspections"), "nav.inspections"))
                            (item(format!("/companies/{o}/notifications"), "nav.notifications"))
                            (item(format!("/companies/{o}/verification"), "nav.verification"))
                            (item(format!("/companies/{o}/audit"), "nav.audit"))
                        }
                    }
                }
                @if claims.has_role(Role::Employee) {
                    (item("/me".into(), "nav.me"))
                }
                @if claims.has_role(Role::Operator) {
                    (item("/operator/partners".into(), "nav.partners"))
                    (item("/operator/announcements".into(), "nav.announcements"))
                }
            }
        }
    }
}

fn banner(l: Lang, list: &[AnnouncementView]) -> Markup {
    html! {
        @if !list.is_empty() {
            section class="announcements" aria-label=(t(l, "ann.banner")) {
                @for a in list {
                    div class=(format!("announcement {}", a.kind)) {
                        strong { (a.title) }
                        " "
                        span { (a.message) }
                        " "
                        span class="when" {
                            "(" (crate::format::datetime(l, &a.starts_at))
                            @if let Some(e) = &a.ends_at { " – " (crate::format::datetime(l, e)) }
                            ")"
                        }
                    }
                }
            }
        }
    }
}

fn footer(l: Lang, local: bool) -> Markup {
    html! {
        footer {
            a href="/privacy" { (t(l, "nav.privacy")) }
            @if local { " · " span class="local" { (t(l, "login.local_only")) } }
        }
    }
}

/// A page for a signed-in user.
pub fn page(ctx: &Ctx, title: &str, announcements: &[AnnouncementView], body: Markup) -> Markup {
    let l = ctx.lang;
    let claims = ctx.session.as_ref().map(|s| &s.claims);
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            (head(title))
            body {
                a class="skip" href="#main" { (t(l, "nav.skip")) }
                header {
                    a class="brand" href="/" { "Stamp" }
                    @if let Some(c) = claims { (nav(ctx, c)) }
                    div class="tools" {
                        a href=(switch_href(ctx)) lang=(l.other().code()) hreflang=(l.other().code()) { (t(l, "nav.switch")) }
                        @if let Some(s) = &ctx.session {
                            span class="who" { (s.claims.sub) }
                            form method="post" action="/logout" class="inline" {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                button type="submit" { (t(l, "nav.logout")) }
                            }
                        }
                    }
                }
                (banner(l, announcements))
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
                (footer(l, ctx.session.as_ref().is_some_and(|s| s.via == "local")))
            }
        }
    }
}

/// A page without a user (sign-in, errors before sign-in, the privacy notice).
pub fn bare(l: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            (head(title))
            body {
                a class="skip" href="#main" { (t(l, "nav.skip")) }
                header { a class="brand" href="/" { "Stamp" } }
                main id="main" tabindex="-1" { h1 { (title) } (body) }
                (footer(l, false))
            }
        }
    }
}

/// A form field's error, next to it, in the user's language.
pub fn field_error(l: Lang, id: &str, err: Option<&crate::pages::FieldError>) -> Markup {
    html! {
        @if let Some(e) = err {
            @if e.field == id {
                p class="error" id=(format!("{id}-error")) role="alert" { (t(l, e.key)) @if l == Lang::En { @if let Some(d) = &e.detail { ": " (d) } } }
            }
        }
    }
}

pub fn raw(s: &str) -> PreEscaped<String> {
    PreEscaped(s.to_string())
}
