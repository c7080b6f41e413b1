//! What a company admin sees besides: users and roles, activation and terms,
//! deregistration, legal holds and the audit log.

use super::{csrf, field, form_outcome, given, scroll_table, shown, FieldError, FormData};
use crate::format;
use crate::i18n::t;
use crate::layout::field_error as fe;
use crate::{pct_encode, Ctx, PageError, PageResult, Portal, User};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use stamp_api::views::admin::{ActivationView, AnnouncementView, GrantView, HoldView};
use stamp_domain::auth::{require_company, CompanyAccess};
use stamp_domain::governance::admin::{ActivationRequest, HoldRequest};
use stamp_domain::identity::pseudonym::PersonRef;
use stamp_domain::identity::Orgnr;
use stamp_domain::DomainError;

/// The terms a company accepts on activation; their text stands in the translation
/// tables (`terms.text`).
pub const TERMS_VERSION: &str = "2026-01";

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/companies/{orgnr}/users", get(users).post(grant))
        .route("/companies/{orgnr}/users/{sub}/remove", post(remove))
        .route(
            "/companies/{orgnr}/activation",
            get(activation).post(activate),
        )
        .route("/companies/{orgnr}/deregistration", post(deregister))
        .route(
            "/companies/{orgnr}/legal-holds",
            get(holds).post(place_hold),
        )
        .route("/companies/{orgnr}/legal-holds/{id}/lift", post(lift_hold))
        .route("/companies/{orgnr}/audit", get(audit))
}

const ROLES: [(&str, &str); 2] = [
    ("company_admin", "role.company_admin"),
    ("company_user", "role.company_user"),
];

fn users_body(
    ctx: &Ctx,
    o: &Orgnr,
    grants: &[GrantView],
    err: Option<&FieldError>,
    typed_sub: &str,
) -> Markup {
    let l = ctx.lang;
    html! {
        @if let Some(e) = err { @if e.field == "form" { p class="error" role="alert" id="form-error" { (t(l, e.key)) } } }
        table {
            thead { tr { th scope="col" { (t(l, "users.sub")) } th scope="col" { (t(l, "users.roles")) } th scope="col" { (t(l, "users.granted")) } th scope="col" { (t(l, "common.actions")) } } }
            tbody {
                @for g in grants {
                    tr {
                        td { (g.sub) }
                        td {
                            form method="post" class="inline" aria-label=(format!("{} {}", t(l, "users.change"), g.sub)) {
                                (csrf(ctx))
                                input type="hidden" name="sub" value=(g.sub);
                                @for (r, k) in ROLES {
                                    @let id = format!("r-{}-{r}", g.sub);
                                    input type="checkbox" id=(id) name=(r) value="1" checked[g.roles.iter().any(|x| x == r)];
                                    label for=(id) { (t(l, k)) } " "
                                }
                                button type="submit" { (t(l, "users.change")) }
                            }
                        }
                        td { (format::instant(l, &g.granted_at)) " " span class="muted" { (g.granted_by) } }
                        td {
                            form method="post" class="inline" action=(format!("/companies/{o}/users/{}/remove", pct_encode(&g.sub))) {
                                (csrf(ctx))
                                button type="submit" class="danger" aria-label=(format!("{} {}", t(l, "users.remove"), g.sub)) { (t(l, "users.remove")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t(l, "users.grant")) }
        form method="post" class="stack" {
            (csrf(ctx))
            label for="sub" { (t(l, "users.sub")) }
            input id="sub" name="sub" value=(typed_sub) required aria-describedby="sub-error";
            (fe(l, "sub", err))
            fieldset {
                legend { (t(l, "users.roles")) }
                @for (r, k) in ROLES {
                    label { input type="checkbox" name=(r) value="1" checked[r == "company_user"]; " " (t(l, k)) }
                }
                (fe(l, "roles", err))
            }
            button type="submit" { (t(l, "users.grant")) }
        }
    }
}

async fn list_grants(p: &Portal, user: &User, o: &Orgnr) -> Result<Vec<GrantView>, DomainError> {
    let page = p.app.admin.users(user.claims(), o, None, 1000).await?;
    Ok(page.items.iter().map(GrantView::from).collect())
}

/// The users page again, with a refused form's error.
async fn users_again(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    err: FieldError,
    typed_sub: &str,
) -> PageResult {
    let grants = list_grants(p, user, o).await?;
    shown(
        user,
        "users.title",
        ann,
        users_body(&user.ctx, o, &grants, Some(&err), typed_sub),
    )
}

async fn users(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/users"])
        .render(|p, user, o, ann, _| async move {
            let grants = list_grants(p, user, &o).await?;
            shown(
                user,
                "users.title",
                &ann,
                users_body(&user.ctx, &o, &grants, None, ""),
            )
        })
        .await
}

/// Grants or changes a user's roles (PUT …/users/{sub}); no role ticked removes none —
/// the domain refuses an empty list with a field error.
async fn grant(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    let sub = field(&f, "sub");
    p.company_page(&user, &raw, &["PUT /v1/companies/{orgnr}/users/{sub}"])
        .target(format!("sub:{sub}"))
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let roles: Vec<String> = ROLES
                .iter()
                .filter(|(r, _)| f.contains_key(*r))
                .map(|(r, _)| r.to_string())
                .collect();
            let done = if sub.trim().is_empty() {
                Err(DomainError::missing("sub"))
            } else {
                p.app
                    .admin
                    .put_user(user.claims(), &o, sub.trim(), Some(roles))
                    .await
                    .map(|_| ())
            };
            form_outcome(
                done.map_err(PageError::from),
                |()| Ok(Redirect::to(&format!("/companies/{o}/users")).into_response()),
                |err| users_again(p, user, &o, &ann, err, &sub),
            )
            .await
        })
        .await
}

async fn remove(
    State(p): State<Portal>,
    user: User,
    Path((raw, sub)): Path<(String, String)>,
    Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["DELETE /v1/companies/{orgnr}/users/{sub}"])
        .target(format!("sub:{sub}"))
        .form(f)
        .render(|p, user, o, ann, _| async move {
            let done = p.app.admin.delete_user(user.claims(), &o, &sub).await;
            form_outcome(
                done.map_err(PageError::from),
                |()| Ok(Redirect::to(&format!("/companies/{o}/users")).into_response()),
                |err| users_again(p, user, &o, &ann, err, ""),
            )
            .await
        })
        .await
}

struct ActivationForm {
    company_name: String,
    month: String,
    accept: bool,
}

fn activation_body(
    ctx: &Ctx,
    o: &Orgnr,
    current: Option<&ActivationView>,
    f: &ActivationForm,
    err: Option<&FieldError>,
) -> Markup {
    let l = ctx.lang;
    html! {
        @if let Some(a) = current {
            dl {
                dt { (t(l, "activation.company")) } dd { (a.company_name) " (" (a.company_orgnr) ")" }
                dt { (t(l, "activation.status")) } dd { (t(l, if a.status == "active" { "activation.active" } else { "activation.deregistered" })) }
                dt { (t(l, "activation.terms_version")) } dd { (a.terms_version) }
                dt { (t(l, "activation.accepted_at")) } dd { (format::instant(l, &a.terms_accepted_at)) }
                dt { (t(l, "activation.month")) } dd { (a.fiscal_year_end_month) }
                @if let Some(d) = &a.deregistered_at { dt { (t(l, "activation.deregistered_at")) } dd { (format::instant(l, d)) } }
            }
        } @else {
            p { (t(l, "activation.not_yet")) }
        }
        h2 { (t(l, "activation.terms")) " " (TERMS_VERSION) }
        div class="terms" { @for para in t(l, "terms.text").split("\n\n") { p { (para) } } }
        form method="post" class="stack" action=(format!("/companies/{o}/activation")) {
            (csrf(ctx))
            label for="company_name" { (t(l, "activation.company_name")) }
            input id="company_name" name="company_name" value=(f.company_name) aria-describedby="company_name-error";
            (fe(l, "company_name", err))
            label for="fiscal_year_end_month" { (t(l, "activation.month")) }
            input id="fiscal_year_end_month" name="fiscal_year_end_month" type="number" min="1" max="12" value=(f.month) aria-describedby="fiscal_year_end_month-error";
            (fe(l, "fiscal_year_end_month", err))
            input type="hidden" name="terms_version" value=(TERMS_VERSION);
            label { input type="checkbox" name="accept" value="1" checked[f.accept] aria-describedby="accept-error"; " " (t(l, "activation.accept")) " " (TERMS_VERSION) }
            (fe(l, "accept", err))
            (fe(l, "terms_version", err))
            button type="submit" { (t(l, "activation.submit")) }
        }
        @if current.is_some_and(|a| a.status == "active") {
            h2 { (t(l, "dereg.title")) }
            p { (t(l, "dereg.what")) }
            form method="post" class="stack" action=(format!("/companies/{o}/deregistration")) {
                (csrf(ctx))
                label { input type="checkbox" name="confirm" value="1" required aria-describedby="confirm-error"; " " (t(l, "dereg.confirm")) }
                (fe(l, "confirm", err))
                button type="submit" class="danger" { (t(l, "dereg.submit")) }
            }
        }
    }
}

async fn current_activation(
    p: &Portal,
    user: &User,
    o: &Orgnr,
) -> Result<Option<ActivationView>, DomainError> {
    match p.app.admin.activation(user.claims(), o).await {
        Ok(a) => Ok(Some(ActivationView::from(&a))),
        Err(DomainError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The activation page again, with a refused form's error.
async fn activation_again(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    form: &ActivationForm,
    err: FieldError,
) -> PageResult {
    let a = current_activation(p, user, o).await?;
    shown(
        user,
        "activation.title",
        ann,
        activation_body(&user.ctx, o, a.as_ref(), form, Some(&err)),
    )
}

async fn activation(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/activation"])
        .render(|p, user, o, ann, _| async move {
            let a = current_activation(p, user, &o).await?;
            let f = ActivationForm {
                company_name: a
                    .as_ref()
                    .map(|a| a.company_name.clone())
                    .unwrap_or_default(),
                month: a
                    .as_ref()
                    .map(|a| a.fiscal_year_end_month)
                    .unwrap_or(12)
                    .to_string(),
                accept: false,
            };
            shown(
                user,
                "activation.title",
                &ann,
                activation_body(&user.ctx, &o, a.as_ref(), &f, None),
            )
        })
        .await
}

async fn activate(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["PUT /v1/companies/{orgnr}/activation"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let form = ActivationForm {
                company_name: field(&f, "company_name"),
                month: field(&f, "fiscal_year_end_month"),
                accept: f.contains_key("accept"),
            };
            let done = async {
                if !form.accept {
                    return Err(DomainError::missing("accept"));
                }
                let month = match form.month.trim() {
                    "" => None,
                    m => Some(m.parse::<u32>().map_err(|_| {
                        DomainError::invalid("fiscal_year_end_month", "must be a month 1–12")
                    })?),
                };
                let req = ActivationRequest {
                    terms_version: f.get("terms_version").cloned(),
                    company_name: Some(form.company_name.clone()).filter(|s| !s.is_empty()),
                    fiscal_year_end_month: month,
                };
                p.app.admin.activate(user.claims(), &o, req).await
            }
            .await;
            form_outcome(
                done.map_err(PageError::from),
                |_| {
                    if let Some(hook) = &p.app.on_activated {
                        hook(&o);
                    }
                    Ok(Redirect::to(&format!("/companies/{o}/activation")).into_response())
                },
                |err| activation_again(p, user, &o, &ann, &form, err),
            )
            .await
        })
        .await
}

async fn deregister(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["DELETE /v1/companies/{orgnr}/activation"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let l = user.ctx.lang;
            let done = if f.contains_key("confirm") {
                p.app.admin.deregister(user.claims(), &o).await.map_err(PageError::from)
            } else {
                Err(PageError::Field(FieldError::new("confirm", "form.missing", StatusCode::BAD_REQUEST)))
            };
            let form = ActivationForm { company_name: String::new(), month: String::new(), accept: false };
            form_outcome(
                done,
                |a| {
                    let d = stamp_api::views::admin::Deregistration::of(&a, &user.claims().sub);
                    let r = &d.receipt;
                    let body = html! {
                        p role="status" { (t(l, "dereg.done")) }
                        dl class="receipt" {
                            dt { (t(l, "activation.company")) } dd { (r.company_orgnr) }
                            dt { (t(l, "activation.deregistered_at")) } dd { @if let Some(at) = &r.deregistered_at { (format::instant(l, at)) } }
                            dt { (t(l, "dereg.by")) } dd { (r.deregistered_by) }
                            dt { (t(l, "dereg.imports")) } dd { (t(l, "dereg.imports_text")) }
                            dt { (t(l, "dereg.data")) } dd { (t(l, "dereg.data_text")) }
                        }
                    };
                    shown(user, "dereg.receipt", &ann, body)
                },
                |err| activation_again(p, user, &o, &ann, &form, err),
            )
            .await
        })
        .await
}

#[derive(Default)]
struct HoldForm {
    site_id: String,
    person_ref: String,
    from: String,
    to: String,
    reason: String,
}

fn holds_body(
    ctx: &Ctx,
    o: &Orgnr,
    list: &[HoldView],
    f: &HoldForm,
    err: Option<&FieldError>,
) -> Markup {
    let l = ctx.lang;
    html! {
        (scroll_table(l, list.is_empty(), &["holds.scope", "holds.reason", "holds.placed", "activation.status", "common.actions"], html! {
            @for h in list {
                tr {
                    td {
                        @if let Some(s) = &h.site_id { (t(l, "common.site")) " " (s) " " }
                        @if let Some(p) = &h.person_ref { (t(l, "holds.person")) " " (p) " " }
                        @if let Some(f) = &h.from { (format::datetime(l, f)) } " – " @if let Some(x) = &h.to { (format::datetime(l, x)) }
                    }
                    td { (h.reason) }
                    td { (format::instant(l, &h.placed_at)) " " span class="muted" { (h.placed_by) } }
                    td { (t(l, if h.active { "holds.active" } else { "holds.lifted" })) }
                    td {
                        @if h.active {
                            form method="post" class="inline" action=(format!("/companies/{o}/legal-holds/{}/lift", h.id)) {
                                (csrf(ctx))
                                button type="submit" { (t(l, "holds.lift")) }
                            }
                        }
                    }
                }
            }
        }))
        h2 { (t(l, "holds.place")) }
        form method="post" class="stack" {
            (csrf(ctx))
            label for="site_id" { (t(l, "common.site")) }
            input id="site_id" name="site_id" value=(f.site_id) aria-describedby="site_id-error";
            (fe(l, "site_id", err))
            label for="person_ref" { (t(l, "holds.person")) }
            input id="person_ref" name="person_ref" value=(f.person_ref) aria-describedby="person_ref-error";
            (fe(l, "person_ref", err))
            label for="from" { (t(l, "common.from")) }
            input id="from" name="from" type="date" value=(f.from) aria-describedby="from-error";
            (fe(l, "from", err))
            label for="to" { (t(l, "common.to")) }
            input id="to" name="to" type="date" value=(f.to) aria-describedby="to-error";
            (fe(l, "to", err))
            label for="reason" { (t(l, "holds.reason")) }
            textarea id="reason" name="reason" rows="3" aria-describedby="reason-error" { (f.reason) }
            (fe(l, "reason", err))
            (fe(l, "form", err))
            button type="submit" { (t(l, "holds.place")) }
        }
    }
}

async fn list_holds(p: &Portal, user: &User, o: &Orgnr) -> Result<Vec<HoldView>, DomainError> {
    Ok(p.app
        .admin
        .holds(user.claims(), o)
        .await?
        .iter()
        .map(HoldView::from)
        .collect())
}

/// The legal holds page again, with a refused form's error.
async fn holds_again(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    form: &HoldForm,
    err: FieldError,
) -> PageResult {
    let list = list_holds(p, user, o).await?;
    shown(
        user,
        "holds.title",
        ann,
        holds_body(&user.ctx, o, &list, form, Some(&err)),
    )
}

async fn holds(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/legal-holds"])
        .render(|p, user, o, ann, _| async move {
            let list = list_holds(p, user, &o).await?;
            shown(
                user,
                "holds.title",
                &ann,
                holds_body(&user.ctx, &o, &list, &HoldForm::default(), None),
            )
        })
        .await
}

/// A date field as the domain takes it: a local date is that day's start in Sweden.
fn day_start(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<chrono::NaiveDate>() {
        Ok(d) => Some(stamp_domain::time::format_rfc3339(
            &stamp_domain::time::local_day_start(d),
        )),
        Err(_) => Some(raw.to_string()),
    }
}

async fn place_hold(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["POST /v1/companies/{orgnr}/legal-holds"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let form = HoldForm {
                site_id: field(&f, "site_id"),
                person_ref: field(&f, "person_ref"),
                from: field(&f, "from"),
                to: field(&f, "to"),
                reason: field(&f, "reason"),
            };
            let req = HoldRequest {
                site_id: given(&form.site_id),
                person_ref: given(&form.person_ref).map(PersonRef::named),
                from: day_start(&form.from),
                to: day_start(&form.to),
                reason: given(&form.reason),
            };
            let done = p.app.admin.place_hold(user.claims(), &o, req).await;
            form_outcome(
                done.map_err(PageError::from),
                |_| Ok(Redirect::to(&format!("/companies/{o}/legal-holds")).into_response()),
                |err| holds_again(p, user, &o, &ann, &form, err),
            )
            .await
        })
        .await
}

async fn lift_hold(
    State(p): State<Portal>,
    user: User,
    Path((raw, id)): Path<(String, String)>,
    Form(f): FormData,
) -> Response {
    p.company_page(
        &user,
        &raw,
        &["DELETE /v1/companies/{orgnr}/legal-holds/{id}"],
    )
    .target(format!("id:{id}"))
    .form(f)
    .render(|p, user, o, _, _| async move {
        p.app.admin.lift_hold(user.claims(), &o, &id).await?;
        Ok(Redirect::to(&format!("/companies/{o}/legal-holds")).into_response())
    })
    .await
}

async fn audit(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/audit"])
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            require_company(&p.app.ledger, user.claims(), &o, CompanyAccess::Admin).await?;
            let end = super::company::today(p);
            let to = super::company::date_param(&user.ctx, "to", end)?;
            let from = super::company::date_param(&user.ctx, "from", to - chrono::Duration::days(7))?;
            let range = super::company::day_range(from, to);
            let cursor = user.ctx.q("cursor").map(stamp_domain::pagination::Cursor::decode).transpose()?;
            let actor = user.ctx.q("actor").unwrap_or("").to_string();
            let page = p
                .app
                .audit
                .entries(
                    &p.app.ledger.company_key(&o),
                    range.from.with_timezone(&chrono::Utc),
                    range.to.with_timezone(&chrono::Utc),
                    cursor.as_ref(),
                    50,
                )
                .await?;
            let next = page.next.map(|c| c.encode());
            let body = html! {
                form method="get" class="filters" {
                    label for="from" { (t(l, "common.from")) }
                    input id="from" name="from" type="date" value=(from);
                    label for="to" { (t(l, "common.to")) }
                    input id="to" name="to" type="date" value=(to);
                    label for="actor" { (t(l, "audit.actor")) }
                    input id="actor" name="actor" value=(actor);
                    button type="submit" { (t(l, "common.show")) }
                }
                div class="scroll" tabindex="0" {
                    table {
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { (t(l, "common.when")) }
                            th scope="col" { (t(l, "audit.actor")) }
                            th scope="col" { (t(l, "audit.action")) }
                            th scope="col" { (t(l, "audit.target")) }
                            th scope="col" { (t(l, "audit.outcome")) }
                        } }
                        tbody {
                            @for e in page.items.iter().filter(|e| actor.is_empty() || e.record.actor == actor) {
                                tr {
                                    td class="num" { code { (e.id.rsplit('#').next().unwrap_or(&e.id)) } }
                                    td { (format::datetime(l, &e.at.to_rfc3339())) }
                                    td { (e.record.actor) " " span class="muted" { (e.record.role) } }
                                    td { code { (e.record.action) } }
                                    td { (e.record.target.clone().unwrap_or_default()) }
                                    td { (e.record.outcome) " (" (e.record.status) ")" }
                                }
                            }
                        }
                    }
                }
                @if let Some(c) = next {
                    p { a href=(format!("?from={from}&to={to}&actor={}&cursor={}", pct_encode(&actor), pct_encode(&c))) { (t(l, "common.more")) } }
                }
            };
            shown(user, "audit.title", &ann, body)
        })
        .await
}
