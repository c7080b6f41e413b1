//! Extracts: ordering one, the list of a company's extracts, and one extract's page.

use super::*;

#[derive(Default)]
pub(super) struct OrderForm {
    kind: String,
    person_ref: String,
    from: String,
    to: String,
    site_id: String,
    format: String,
}

pub(super) fn extracts_body(
    ctx: &Ctx,
    o: &Orgnr,
    people: &[stamp_domain::table::PersonEntry],
    sites: &[stamp_domain::table::SiteEntry],
    f: &OrderForm,
    err: Option<&FieldError>,
) -> Markup {
    let l = ctx.lang;
    let fe = |id: &str| crate::layout::field_error(l, id, err);
    html! {
        @if let Some(e) = err { @if e.field == "form" { p class="error" role="alert" { (t(l, e.key)) } } }
        form method="post" class="stack" action=(format!("/companies/{o}/extracts")) {
            (csrf(ctx))
            fieldset {
                legend { (t(l, "extracts.kind")) }
                label { input type="radio" name="kind" value="register_extract" checked[f.kind != "authority"]; " " (t(l, "extracts.register")) }
                label { input type="radio" name="kind" value="authority" checked[f.kind == "authority"]; " " (t(l, "extracts.authority")) }
                (fe("kind"))
            }
            label for="person_ref" { (t(l, "extracts.person")) }
            select id="person_ref" name="person_ref" aria-describedby="person_ref-error" {
                option value="" { (t(l, "extracts.everyone")) }
                @for p in people { option value=(p.person_ref) selected[p.person_ref == f.person_ref.as_str()] { (p.person_name) " (" (p.person_id_masked) ")" } }
            }
            (fe("person_ref"))
            label for="from" { (t(l, "common.from")) " " span class="muted" { (t(l, "extracts.authority_only")) } }
            input id="from" name="from" type="date" value=(f.from) aria-describedby="from-error";
            (fe("from"))
            label for="to" { (t(l, "common.to")) " " span class="muted" { (t(l, "extracts.authority_only")) } }
            input id="to" name="to" type="date" value=(f.to) aria-describedby="to-error";
            (fe("to"))
            label for="site_id" { (t(l, "common.site")) }
            select id="site_id" name="site_id" {
                option value="" { (t(l, "common.all")) }
                @for s in sites { option value=(s.site_id) selected[f.site_id == s.site_id] { (s.site_id) } }
            }
            (fe("site_id"))
            label for="format" { (t(l, "extracts.format")) }
            select id="format" name="format" aria-describedby="format-error" {
                @for x in ["pdf", "csv", "json"] { option value=(x) selected[f.format == x] { (x.to_uppercase()) } }
            }
            (fe("format"))
            button type="submit" { (t(l, "extracts.order")) }
        }
    }
}

/// The order form with the company's people and sites to choose from (again with a
/// refused order's error).
pub(super) async fn extracts_page(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    f: &OrderForm,
    err: Option<FieldError>,
) -> PageResult {
    let people = p
        .app
        .queries
        .people(user.claims(), o, None, None, None, 1000)
        .await?;
    let sites = p.app.queries.sites(user.claims(), o, None, 100).await?;
    let body = extracts_body(&user.ctx, o, &people.items, &sites.items, f, err.as_ref());
    shown(user, "extracts.title", ann, body)
}

pub(super) async fn extracts(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
) -> Response {
    p.company_page(
        &user,
        &raw,
        &[
            "GET /v1/companies/{orgnr}/people",
            "GET /v1/companies/{orgnr}/sites",
        ],
    )
    .render(|p, user, o, ann, _| async move {
        let f = OrderForm {
            person_ref: user.ctx.q("person_ref").unwrap_or("").to_string(),
            format: "pdf".into(),
            ..Default::default()
        };
        extracts_page(p, user, &o, &ann, &f, None).await
    })
    .await
}

pub(super) async fn order(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    axum::extract::Form(form): FormData,
) -> Response {
    p.company_page(&user, &raw, &["POST /v1/companies/{orgnr}/extracts"])
        .form(form)
        .render(|p, user, o, ann, form| async move {
            let f = OrderForm {
                kind: field(&form, "kind"),
                person_ref: field(&form, "person_ref"),
                from: field(&form, "from"),
                to: field(&form, "to"),
                site_id: field(&form, "site_id"),
                format: field(&form, "format"),
            };
            let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
            let body = OrderBody {
                employer: None,
                kind: opt(&f.kind),
                format: opt(&f.format),
                person_ref: opt(&f.person_ref),
                from: if f.kind == "authority" {
                    opt(&f.from)
                } else {
                    None
                },
                to: if f.kind == "authority" {
                    opt(&f.to)
                } else {
                    None
                },
                site_id: if f.kind == "authority" {
                    opt(&f.site_id)
                } else {
                    None
                },
            };
            let done = p.app.extracts.order(user.claims(), &o, body).await;
            super::super::form_outcome(
                done.map_err(PageError::from),
                |r| Ok(Redirect::to(&format!("/companies/{o}/extracts/{}", r.id)).into_response()),
                |err| extracts_page(p, user, &o, &ann, &f, Some(err)),
            )
            .await
        })
        .await
}

/// An extract's status; the page reloads itself while it is being rendered.
pub fn extract_body(l: Lang, x: &ExtractView) -> Markup {
    // The status as the API spells it (for the page's reload script), and its words.
    let (status, status_key) = match x.status {
        ExtractStatus::Pending => ("pending", "extracts.pending"),
        ExtractStatus::Ready => ("ready", "extracts.ready"),
        ExtractStatus::Failed => ("failed", "extracts.failed"),
    };
    html! {
        dl {
            dt { (t(l, "extracts.kind")) } dd { (t(l, if x.kind == ExtractKind::Authority { "extracts.authority" } else { "extracts.register" })) }
            dt { (t(l, "extracts.format")) } dd { (x.format.as_str().to_uppercase()) }
            dt { (t(l, "extracts.status")) } dd id="extract-status" data-status=(status) { (t(l, status_key)) }
            @if let Some(h) = &x.sha256 { dt { "SHA-256" } dd class="hash" { (h) } }
        }
        @if let Some(u) = &x.download_url {
            p { a class="button" href=(u) id="download" { (t(l, "extracts.download")) " " (x.file_name.clone().unwrap_or_default()) } }
            p class="muted" { (t(l, "extracts.link_note")) }
        }
        @if x.status == ExtractStatus::Pending { p role="status" { (t(l, "extracts.wait")) " " a href="" { (t(l, "extracts.refresh")) } } }
        script src="/assets/app.js" defer {}
    }
}

pub(super) async fn extract(
    State(p): State<Portal>,
    user: User,
    Path((raw, id)): Path<(String, String)>,
) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/extracts/{id}"])
        .target(format!("id:{id}"))
        .render(|p, user, o, ann, _| async move {
            let x = ExtractView::of(&p.app.extracts.get(user.claims(), &o, &id).await?, "");
            shown(user, "extracts.one", &ann, extract_body(user.ctx.lang, &x))
        })
        .await
}
