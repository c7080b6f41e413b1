//! The people of a company: the list, a search by name or by the full person id.

use super::*;

pub(super) fn people_body(
    ctx: &Ctx,
    o: &Orgnr,
    list: &[stamp_domain::table::PersonEntry],
    next: Option<String>,
    err: Option<&FieldError>,
    typed_id: &str,
) -> Markup {
    let l = ctx.lang;
    let q = ctx.q("q").unwrap_or("");
    let employer = ctx.q("employer").unwrap_or("");
    html! {
        form method="get" class="filters" role="search" {
            label for="q" { (t(l, "people.search_name")) }
            input id="q" name="q" type="search" value=(q);
            label for="employer" { (t(l, "people.employer")) }
            input id="employer" name="employer" value=(employer) inputmode="numeric" autocomplete="off" aria-describedby="employer-error";
            button type="submit" { (t(l, "common.search")) }
            (crate::layout::field_error(l, "employer", err))
        }
        form method="post" action=(format!("/companies/{o}/people/search")) class="filters" {
            (csrf(ctx))
            label for="person_id" { (t(l, "people.search_id")) }
            input id="person_id" name="person_id" value=(typed_id) autocomplete="off" aria-describedby="person_id-error";
            button type="submit" { (t(l, "common.find")) }
            (crate::layout::field_error(l, "person_id", err))
        }
        @if list.is_empty() { p { (t(l, "common.none")) } } @else {
            table {
                thead { tr { th scope="col" { (t(l, "people.name")) } th scope="col" { (t(l, "people.id")) } } }
                tbody {
                    @for e in list {
                        tr { td { a href=(format!("/companies/{o}/people/{}", e.person_ref)) { (e.person_name) } } td { (e.person_id_masked) } }
                    }
                }
            }
        }
        @if let Some(c) = next {
            p { a href=(format!("?q={}&employer={}&cursor={}", pct_encode(q), pct_encode(employer), pct_encode(&c))) { (t(l, "common.more")) } }
        }
    }
}

pub(super) async fn people(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/people"])
        .render(|p, user, o, ann, _| async move {
            let cursor = user
                .ctx
                .q("cursor")
                .map(stamp_domain::pagination::Cursor::decode)
                .transpose()?;
            // `employer=ORGNR` as the API takes it (spec §4); a bad one is shown at its field.
            let employer = match user.ctx.q("employer").filter(|e| !e.trim().is_empty()) {
                None => Ok(None),
                Some(raw) => Orgnr::parse(raw.trim())
                    .map(Some)
                    .map_err(|e| DomainError::invalid("employer", e.to_string())),
            };
            let employer = match employer {
                Ok(e) => e,
                Err(e) => return people_again(user, &o, &ann, e.into(), "").await,
            };
            let page = p
                .app
                .queries
                .people(
                    user.claims(),
                    &o,
                    user.ctx.q("q"),
                    employer.as_ref(),
                    cursor.as_ref(),
                    100,
                )
                .await?;
            let body = people_body(
                &user.ctx,
                &o,
                &page.items,
                page.next.map(|c| c.encode()),
                None,
                "",
            );
            shown(user, "people.title", &ann, body)
        })
        .await
}

/// The people page again (without a list), with a refused search's error at its field.
pub(super) async fn people_again(
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    e: PageError,
    typed_id: &str,
) -> PageResult {
    super::super::refused(e, |err| async move {
        let body = people_body(&user.ctx, o, &[], None, Some(&err), typed_id);
        shown(user, "people.title", ann, body)
    })
    .await
}

/// Find by personnummer (a POST, so the number is in no address or log).
pub(super) async fn search(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    axum::extract::Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["POST /v1/companies/{orgnr}/people/search"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let typed_id = field(&f, "person_id");
            let found = async {
                if typed_id.trim().is_empty() {
                    return Err(PageError::from(DomainError::missing("person_id")));
                }
                let person = PersonId::parse(typed_id.trim(), None, None)
                    .map_err(|e| DomainError::invalid("person_id", e.to_string()))?;
                Ok(p.app
                    .queries
                    .find_person(user.claims(), &o, &person)
                    .await?)
            }
            .await;
            // Nobody with that number is said at the field too.
            let found =
                found.map_err(|e| match e {
                    PageError::Domain(DomainError::NotFound(_)) => PageError::Field(
                        FieldError::new("person_id", "people.not_found", StatusCode::NOT_FOUND),
                    ),
                    other => other,
                });
            match found {
                Ok(e) => Ok(
                    Redirect::to(&format!("/companies/{o}/people/{}", e.person_ref))
                        .into_response(),
                ),
                Err(e) => people_again(user, &o, &ann, e, &typed_id).await,
            }
        })
        .await
}
