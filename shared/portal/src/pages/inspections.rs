//! A company admin's inspection links (spec §10): the list, a form that makes one and
//! shows its link once, and a revoke button per active link. The same domain calls as
//! `…/inspections` in the API, audited as those routes.

use super::{csrf, field, field_error, ok, scroll_table, shown, FieldError, FormData};
use crate::format;
use crate::i18n::{t, Lang};
use crate::layout::field_error as fe;
use crate::{Ctx, Portal, User};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use stamp_domain::governance::inspection::{
    CreatedLink, LinkStatus, LinkView, NewLink, DEFAULT_VALID_HOURS, MAX_VALID_HOURS,
};
use stamp_domain::identity::Orgnr;
use stamp_domain::DomainError;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/companies/{orgnr}/inspections", get(list).post(create))
        .route("/companies/{orgnr}/inspections/{id}/revoke", post(revoke))
}

#[derive(Default)]
struct LinkForm {
    site_id: String,
    valid_hours: String,
    note: String,
}

fn status_key(s: LinkStatus) -> &'static str {
    match s {
        LinkStatus::Active => "inspections.active",
        LinkStatus::Expired => "inspections.expired",
        LinkStatus::Revoked => "inspections.revoked",
    }
}

fn rfc(t: &chrono::DateTime<chrono::Utc>) -> String {
    stamp_domain::time::format_rfc3339(&stamp_domain::time::to_fixed(*t))
}

struct Body<'a> {
    links: &'a [LinkView],
    sites: &'a [String],
    form: &'a LinkForm,
    err: Option<&'a FieldError>,
    made: Option<&'a CreatedLink>,
}

fn body(ctx: &Ctx, o: &Orgnr, b: Body<'_>) -> Markup {
    let l: Lang = ctx.lang;
    html! {
        @if let Some(m) = b.made {
            section class="made" aria-labelledby="h-made" role="status" {
                h2 id="h-made" { (t(l, "inspections.made")) }
                p { (t(l, "inspections.once")) }
                label for="made-link" { (t(l, "inspections.link")) }
                input id="made-link" type="text" readonly value=(m.link) size="80";
                p { (t(l, "common.site")) " " (m.site_id.as_str()) ", " (t(l, "inspections.expires")) " " (format::datetime(l, &rfc(&m.expires_at))) }
            }
        }
        (scroll_table(l, b.links.is_empty(), &["activation.status", "common.site", "inspections.expires", "inspections.note", "inspections.made_by", "common.actions"], html! {
            @for k in b.links {
                tr {
                    td { (t(l, status_key(k.status))) }
                    td { (k.site_id.as_str()) }
                    td { (format::datetime(l, &rfc(&k.expires_at))) }
                    td { (k.note.clone().unwrap_or_default()) }
                    td { span class="muted" { (k.created_by) } }
                    td {
                        @if k.status == LinkStatus::Active {
                            form method="post" class="inline" action=(format!("/companies/{o}/inspections/{}/revoke", k.id)) {
                                (csrf(ctx))
                                button type="submit" aria-label=(format!("{} {}", t(l, "inspections.revoke"), k.site_id.as_str())) { (t(l, "inspections.revoke")) }
                            }
                        }
                    }
                }
            }
        }))
        h2 { (t(l, "inspections.new")) }
        @if b.sites.is_empty() { p { (t(l, "inspections.no_sites")) } } @else {
            form method="post" class="stack" {
                (csrf(ctx))
                label for="site_id" { (t(l, "common.site")) }
                select id="site_id" name="site_id" aria-describedby="site_id-error" {
                    @for s in b.sites {
                        option value=(s) selected[*s == b.form.site_id] { (s) }
                    }
                }
                (fe(l, "site_id", b.err))
                label for="valid_hours" { (t(l, "inspections.valid_hours")) }
                input id="valid_hours" name="valid_hours" type="number" min="1" max=(MAX_VALID_HOURS)
                    value=(if b.form.valid_hours.is_empty() { DEFAULT_VALID_HOURS.to_string() } else { b.form.valid_hours.clone() })
                    aria-describedby="valid_hours-error";
                (fe(l, "valid_hours", b.err))
                label for="note" { (t(l, "inspections.note")) }
                input id="note" name="note" value=(b.form.note) maxlength="500" aria-describedby="note-error";
                (fe(l, "note", b.err))
                (fe(l, "form", b.err))
                button type="submit" { (t(l, "inspections.make")) }
            }
        }
    }
}

async fn sites(p: &Portal, user: &User, o: &Orgnr) -> Result<Vec<String>, DomainError> {
    Ok(p.app
        .queries
        .sites(user.claims(), o, None, 1000)
        .await?
        .items
        .into_iter()
        .map(|s| s.site_id)
        .collect())
}

const LIST_ACTIONS: &[&str] = &[
    "GET /v1/companies/{orgnr}/inspections",
    "GET /v1/companies/{orgnr}/sites",
];

async fn list(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, LIST_ACTIONS)
        .render(|p, user, o, ann, _| async move {
            let links = p.app.inspections.list(user.claims(), &o).await?;
            let sites = sites(p, user, &o).await?;
            let b = Body {
                links: &links,
                sites: &sites,
                form: &LinkForm::default(),
                err: None,
                made: None,
            };
            shown(user, "inspections.title", &ann, body(&user.ctx, &o, b))
        })
        .await
}

/// The hours field as the domain takes it: a number, or the text (which it names as
/// the field in error).
fn hours(raw: &str) -> Option<serde_json::Value> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    Some(
        raw.parse::<i64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| serde_json::Value::String(raw.into())),
    )
}

async fn create(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["POST /v1/companies/{orgnr}/inspections"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let form = LinkForm {
                site_id: field(&f, "site_id"),
                valid_hours: field(&f, "valid_hours"),
                note: field(&f, "note"),
            };
            let req = NewLink {
                site_id: Some(form.site_id.trim().to_string()),
                valid_hours: hours(&form.valid_hours),
                note: Some(form.note.clone()),
            };
            let (status, made, err) = match p
                .app
                .inspections
                .create(user.claims(), &o, req, &p.app.public_url)
                .await
            {
                Ok(m) => (StatusCode::CREATED, Some(m), None),
                Err(e) => (StatusCode::BAD_REQUEST, None, Some(field_error(e.into())?)),
            };
            let links = p.app.inspections.list(user.claims(), &o).await?;
            let sites = sites(p, user, &o).await?;
            let b = Body {
                links: &links,
                sites: &sites,
                form: if made.is_some() {
                    &LinkForm::default()
                } else {
                    &form
                },
                err: err.as_ref(),
                made: made.as_ref(),
            };
            let page = ok(
                &user.ctx,
                t(user.ctx.lang, "inspections.title"),
                &ann,
                body(&user.ctx, &o, b),
            );
            Ok((status, page).into_response())
        })
        .await
}

async fn revoke(
    State(p): State<Portal>,
    user: User,
    Path((raw, id)): Path<(String, String)>,
    Form(f): FormData,
) -> Response {
    p.company_page(
        &user,
        &raw,
        &["DELETE /v1/companies/{orgnr}/inspections/{id}"],
    )
    .target(format!("id:{id}"))
    .form(f)
    .render(|p, user, o, _, _| async move {
        p.app.inspections.revoke(user.claims(), &o, &id).await?;
        Ok(Redirect::to(&format!("/companies/{o}/inspections")).into_response())
    })
    .await
}
