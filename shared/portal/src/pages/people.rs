//! The employee's own pages and the operator's: partners and announcements.

use super::company::{day_range, extract_body, today};
use super::{csrf, field, form_outcome, given, scroll_table, shown, FieldError, FormData};
use crate::format;
use crate::i18n::t;
use crate::layout::field_error as fe;
use crate::{Ctx, PageError, Portal, User};
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use stamp_api::views::admin::{AnnouncementView, PartnerView};
use stamp_api::views::extracts::{ExtractView, OwnCompany, OwnRegistrations};
use stamp_domain::extracts::OrderBody;
use stamp_domain::governance::admin::{AnnouncementRequest, NewPartner};
use stamp_domain::reads::queries::RegistrationQuery;
use stamp_domain::DomainError;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/me", get(me))
        .route("/me/extracts", post(order_own))
        .route("/me/extracts/{id}", get(own_extract))
        .route("/operator/partners", get(partners).post(accredit))
        .route("/operator/partners/{partner_id}", post(suspend))
        .route("/operator/announcements", get(announcements).post(announce))
}

async fn me(State(p): State<Portal>, user: User) -> Response {
    p.service_page(&user, &["GET /v1/me/registrations"])
        .render(|p, user, _, ann, _| async move {
            let l = user.ctx.lang;
            let end = today(p);
            let to = super::company::date_param(&user.ctx, "to", end)?;
            let from = super::company::date_param(&user.ctx, "from", to - chrono::Duration::days(30))?;
            let q = RegistrationQuery { range: day_range(from, to), history: false, employer: None, cursor: None, limit: 1000 };
            let own = OwnRegistrations {
                companies: p.app.extracts.own_registrations(user.claims(), &q, None).await?.iter().map(OwnCompany::from).collect(),
            };
            let body = html! {
                form method="get" class="filters" {
                    label for="from" { (t(l, "common.from")) }
                    input id="from" name="from" type="date" value=(from);
                    label for="to" { (t(l, "common.to")) }
                    input id="to" name="to" type="date" value=(to);
                    button type="submit" { (t(l, "common.show")) }
                }
                @if own.companies.is_empty() { p { (t(l, "me.none")) } }
                @for c in &own.companies {
                    section {
                        h2 { (c.company_name.clone().unwrap_or_default()) " (" (c.company_orgnr) ")" }
                        (scroll_table(l, c.registrations.sessions.is_empty(), &["common.day", "common.site", "common.in", "common.out", "common.duration"], html! {
                            @for s in &c.registrations.sessions {
                                tr {
                                    td { @if let Some(d) = format::local_date(&s.check_in.occurred_at) { (format::date(l, d)) } }
                                    td { (s.site_id) }
                                    td { (format::time(&s.check_in.occurred_at)) }
                                    td { (format::time(&s.check_out.occurred_at)) }
                                    td class="num" { (format::minutes(s.duration_minutes)) }
                                }
                            }
                        }))
                        @if !c.registrations.unpaired.is_empty() {
                            h3 { (t(l, "person.unpaired")) }
                            ul { @for u in &c.registrations.unpaired { li { (format::datetime(l, &u.event.occurred_at)) " " (u.event.site_id) " – " (t(l, super::company::reason_key(u.reason))) } } }
                        }
                    }
                }
                h2 { (t(l, "me.extract")) }
                p { (t(l, "me.extract_note")) }
                form method="post" action="/me/extracts" class="stack" {
                    (csrf(&user.ctx))
                    label for="format" { (t(l, "extracts.format")) }
                    select id="format" name="format" { option value="pdf" { "PDF" } option value="json" { "JSON" } }
                    button type="submit" { (t(l, "extracts.order")) }
                }
            };
            shown(user, "me.title", &ann, body)
        })
        .await
}

async fn order_own(State(p): State<Portal>, user: User, Form(f): FormData) -> Response {
    p.service_page(&user, &["POST /v1/me/extracts"])
        .form(f)
        .render(|p, user, _, _, f| async move {
            let body = OrderBody {
                format: Some(f.get("format").cloned().unwrap_or_else(|| "pdf".into())),
                ..Default::default()
            };
            let r = p.app.extracts.order_own(user.claims(), body).await?;
            Ok(Redirect::to(&format!("/me/extracts/{}", r.id)).into_response())
        })
        .await
}

async fn own_extract(State(p): State<Portal>, user: User, Path(id): Path<String>) -> Response {
    p.service_page(&user, &["GET /v1/me/extracts/{id}"])
        .target(format!("id:{id}"))
        .render(|p, user, _, ann, _| async move {
            let x = ExtractView::of(&p.app.extracts.get_own(user.claims(), &id).await?, "");
            shown(user, "extracts.one", &ann, extract_body(user.ctx.lang, &x))
        })
        .await
}

#[derive(Default)]
struct PartnerForm {
    partner_id: String,
    name: String,
    feed_url: String,
}

fn partners_body(
    ctx: &Ctx,
    list: &[PartnerView],
    f: &PartnerForm,
    err: Option<&FieldError>,
) -> Markup {
    let l = ctx.lang;
    html! {
        @if let Some(e) = err { @if e.field == "form" { p class="error" role="alert" { (t(l, e.key)) } } }
        div class="scroll" tabindex="0" {
            table {
                thead { tr {
                    th scope="col" { (t(l, "partners.id")) }
                    th scope="col" { (t(l, "partners.name")) }
                    th scope="col" { (t(l, "partners.feed")) }
                    th scope="col" { (t(l, "partners.accredited")) }
                    th scope="col" { (t(l, "activation.status")) }
                    th scope="col" { (t(l, "common.actions")) }
                } }
                tbody {
                    @for x in list {
                        tr {
                            td { (x.partner_id) }
                            td { (x.name) }
                            td { (x.feed_url.clone().unwrap_or_default()) }
                            td { (format::instant(l, &x.accredited_at)) }
                            td { (t(l, if x.suspended { "partners.suspended" } else { "partners.active" })) }
                            td {
                                form method="post" class="inline" action=(format!("/operator/partners/{}", x.partner_id)) {
                                    (csrf(ctx))
                                    input type="hidden" name="suspended" value=(if x.suspended { "false" } else { "true" });
                                    button type="submit" aria-label=(format!("{} {}", t(l, if x.suspended { "partners.reinstate" } else { "partners.suspend" }), x.partner_id)) {
                                        (t(l, if x.suspended { "partners.reinstate" } else { "partners.suspend" }))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (t(l, "partners.accredit")) }
        form method="post" class="stack" {
            (csrf(ctx))
            label for="partner_id" { (t(l, "partners.id")) }
            input id="partner_id" name="partner_id" value=(f.partner_id) aria-describedby="partner_id-error";
            (fe(l, "partner_id", err))
            label for="name" { (t(l, "partners.name")) }
            input id="name" name="name" value=(f.name) aria-describedby="name-error";
            (fe(l, "name", err))
            label for="feed_url" { (t(l, "partners.feed")) " " span class="muted" { (t(l, "common.optional")) } }
            input id="feed_url" name="feed_url" type="url" value=(f.feed_url) aria-describedby="feed_url-error";
            (fe(l, "feed_url", err))
            button type="submit" { (t(l, "partners.accredit")) }
        }
    }
}

async fn list_partners(p: &Portal, user: &User) -> Result<Vec<PartnerView>, DomainError> {
    let page = p.app.admin.partners(user.claims(), None, 1000).await?;
    Ok(page.items.iter().map(PartnerView::from).collect())
}

async fn partners(State(p): State<Portal>, user: User) -> Response {
    p.service_page(&user, &["GET /v1/partners"])
        .render(|p, user, _, ann, _| async move {
            stamp_domain::auth::require_operator(user.claims())?;
            let list = list_partners(p, user).await?;
            shown(
                user,
                "partners.title",
                &ann,
                partners_body(&user.ctx, &list, &PartnerForm::default(), None),
            )
        })
        .await
}

async fn accredit(State(p): State<Portal>, user: User, Form(f): FormData) -> Response {
    p.service_page(&user, &["POST /v1/partners"])
        .form(f)
        .render(|p, user, _, ann, f| async move {
            stamp_domain::auth::require_operator(user.claims())?;
            let form = PartnerForm {
                partner_id: field(&f, "partner_id"),
                name: field(&f, "name"),
                feed_url: field(&f, "feed_url"),
            };
            let req = NewPartner {
                partner_id: given(&form.partner_id),
                name: given(&form.name),
                feed_url: given(&form.feed_url),
            };
            let done = p.app.admin.accredit_partner(user.claims(), req).await;
            let (ann, form) = (&ann, &form);
            form_outcome(
                done.map_err(PageError::from),
                |_| Ok(Redirect::to("/operator/partners").into_response()),
                |err| async move {
                    let list = list_partners(p, user).await?;
                    shown(
                        user,
                        "partners.title",
                        ann,
                        partners_body(&user.ctx, &list, form, Some(&err)),
                    )
                },
            )
            .await
        })
        .await
}

async fn suspend(
    State(p): State<Portal>,
    user: User,
    Path(id): Path<String>,
    Form(f): FormData,
) -> Response {
    p.service_page(&user, &["PATCH /v1/partners/{partner_id}"])
        .target(format!("partner_id:{id}"))
        .form(f)
        .render(|p, user, _, _, f| async move {
            stamp_domain::auth::require_operator(user.claims())?;
            let suspended = match f.get("suspended").map(String::as_str) {
                Some("true") => true,
                Some("false") => false,
                _ => return Err(DomainError::invalid("suspended", "must be true or false").into()),
            };
            // An id no partner can have names none (as over the API).
            let partner = stamp_domain::identity::PartnerId::parse(&id)
                .map_err(|_| DomainError::NotFound("no such partner".into()))?;
            p.app
                .admin
                .set_partner_suspended(user.claims(), &partner, suspended)
                .await?;
            Ok(Redirect::to("/operator/partners").into_response())
        })
        .await
}

#[derive(Default)]
struct AnnForm {
    kind: String,
    title: String,
    message: String,
    starts_at: String,
    ends_at: String,
}

/// A `datetime-local` value (Swedish local time) as RFC 3339; other text passes to the
/// domain's own check.
fn local_time(raw: &str) -> Option<String> {
    use chrono::TimeZone;
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|n| {
            chrono_tz::Europe::Stockholm
                .from_local_datetime(&n)
                .earliest()
        });
    Some(match parsed {
        Some(t) => t.fixed_offset().to_rfc3339(),
        None => raw.to_string(),
    })
}

fn ann_body(ctx: &Ctx, list: &[AnnouncementView], f: &AnnForm, err: Option<&FieldError>) -> Markup {
    let l = ctx.lang;
    html! {
        @if list.is_empty() { p { (t(l, "common.none")) } } @else {
            ul {
                @for a in list {
                    li { strong { (a.title) } " (" (t(l, if a.kind == "planned_outage" { "ann.planned_outage" } else { "ann.notice" })) ") " (a.message)
                        " " span class="muted" { (format::datetime(l, &a.starts_at)) @if let Some(e) = &a.ends_at { " – " (format::datetime(l, e)) } }
                    }
                }
            }
        }
        h2 { (t(l, "ann.publish")) }
        form method="post" class="stack" {
            (csrf(ctx))
            label for="kind" { (t(l, "ann.kind")) }
            select id="kind" name="kind" {
                option value="notice" selected[f.kind != "planned_outage"] { (t(l, "ann.notice")) }
                option value="planned_outage" selected[f.kind == "planned_outage"] { (t(l, "ann.planned_outage")) }
            }
            (fe(l, "kind", err))
            label for="title" { (t(l, "ann.title_field")) }
            input id="title" name="title" value=(f.title) aria-describedby="title-error";
            (fe(l, "title", err))
            label for="message" { (t(l, "ann.message")) }
            textarea id="message" name="message" rows="3" aria-describedby="message-error" { (f.message) }
            (fe(l, "message", err))
            label for="starts_at" { (t(l, "ann.starts")) }
            input id="starts_at" name="starts_at" type="datetime-local" value=(f.starts_at) aria-describedby="starts_at-error";
            (fe(l, "starts_at", err))
            label for="ends_at" { (t(l, "ann.ends")) }
            input id="ends_at" name="ends_at" type="datetime-local" value=(f.ends_at) aria-describedby="ends_at-error";
            (fe(l, "ends_at", err))
            button type="submit" { (t(l, "ann.publish")) }
        }
    }
}

async fn announcements(State(p): State<Portal>, user: User) -> Response {
    p.service_page(&user, &["GET /v1/announcements"])
        .render(|_, user, _, ann, _| async move {
            stamp_domain::auth::require_operator(user.claims())?;
            shown(
                user,
                "ann.page",
                &ann,
                ann_body(&user.ctx, &ann, &AnnForm::default(), None),
            )
        })
        .await
}

async fn announce(State(p): State<Portal>, user: User, Form(f): FormData) -> Response {
    p.service_page(&user, &["POST /v1/announcements"])
        .form(f)
        .render(|p, user, _, ann, f| async move {
            stamp_domain::auth::require_operator(user.claims())?;
            let form = AnnForm {
                kind: field(&f, "kind"),
                title: field(&f, "title"),
                message: field(&f, "message"),
                starts_at: field(&f, "starts_at"),
                ends_at: field(&f, "ends_at"),
            };
            let req = AnnouncementRequest {
                title: given(&form.title),
                message: given(&form.message),
                kind: given(&form.kind),
                starts_at: local_time(&form.starts_at),
                ends_at: local_time(&form.ends_at),
            };
            let done = p.app.admin.announce(user.claims(), req).await;
            let (ann, form) = (&ann, &form);
            form_outcome(
                done.map_err(PageError::from),
                |_| Ok(Redirect::to("/operator/announcements").into_response()),
                |err| async move {
                    shown(
                        user,
                        "ann.page",
                        ann,
                        ann_body(&user.ctx, ann, form, Some(&err)),
                    )
                },
            )
            .await
        })
        .await
}
