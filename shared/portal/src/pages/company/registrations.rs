//! A person's and a site's registrations, and the company's anomalies: the tables of
//! sessions, events, corrections and anomalies that those pages share.

use super::*;

pub(super) fn period_form(ctx: &Ctx, from: NaiveDate, to: NaiveDate, extra: Markup) -> Markup {
    let l = ctx.lang;
    html! {
        form method="get" class="filters" {
            label for="from" { (t(l, "common.from")) }
            input id="from" name="from" type="date" value=(from);
            label for="to" { (t(l, "common.to")) }
            input id="to" name="to" type="date" value=(to);
            (extra)
            button type="submit" { (t(l, "common.show")) }
        }
    }
}

pub(super) fn sessions_by_day(
    l: Lang,
    regs: &Registrations,
    from: NaiveDate,
    to: NaiveDate,
) -> Markup {
    let mut per_day: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut d = from;
    while d <= to {
        per_day.insert(d, 0.0);
        d = match d.succ_opt() {
            Some(n) => n,
            None => break,
        };
    }
    for s in &regs.sessions {
        if let Some(day) = format::local_date(&s.check_in.occurred_at) {
            *per_day.entry(day).or_default() += 1.0;
        }
    }
    let data: Vec<Bar> = per_day
        .iter()
        .map(|(d, v)| Bar {
            label: d.format("%m-%d").to_string(),
            value: *v,
        })
        .collect();
    bars(t(l, "person.sessions_by_day"), &data)
}

pub(super) fn sessions_table(
    l: Lang,
    o: &Orgnr,
    regs: &Registrations,
    show_person: bool,
) -> Markup {
    let person = show_person.then_some("people.name");
    let heads: Vec<&str> = ["common.day"]
        .into_iter()
        .chain(person)
        .chain(["common.site", "common.in", "common.out", "common.duration"])
        .collect();
    html! {
        (scroll_table(l, regs.sessions.is_empty(), &heads, html! {
            @for s in &regs.sessions {
                tr {
                    td { @if let Some(d) = format::local_date(&s.check_in.occurred_at) { (format::date(l, d)) } }
                    @if show_person { td { a href=(format!("/companies/{o}/people/{}", s.person_ref)) { (s.check_in.person_name) } } }
                    td { a href=(format!("/companies/{o}/sites/{}", s.site_id)) { (s.site_id) } }
                    td { (format::time(&s.check_in.occurred_at)) @if s.check_in.corrected { " *" } }
                    td { (format::time(&s.check_out.occurred_at)) @if s.check_out.corrected { " *" } }
                    td class="num" { (format::minutes(s.duration_minutes)) }
                }
            }
        }))
    }
}

/// Why each unpaired event is unpaired.
pub(super) fn unpaired_notes(l: Lang, list: &[UnpairedView]) -> Vec<(&EventView, Markup)> {
    list.iter()
        .map(|u| (&u.event, html! { (t(l, reason_key(u.reason))) }))
        .collect()
}

/// Which kept event each duplicate repeats.
pub(super) fn duplicate_notes(l: Lang, list: &[DuplicateView]) -> Vec<(&EventView, Markup)> {
    list.iter()
        .map(|d| {
            let of = &d.duplicate_of;
            (
                &d.event,
                html! { (t(l, "person.duplicate_of")) " " (of.partner_id) "/" (of.event_id) },
            )
        })
        .collect()
}

/// Events, each with what is to be said of it (column `what`).
pub(super) fn events_table(l: Lang, events: &[(&EventView, Markup)], what: &str) -> Markup {
    html! {
        @if events.is_empty() { p { (t(l, "common.none")) } } @else {
            table {
                thead { tr {
                    th scope="col" { (t(l, "common.when")) }
                    th scope="col" { (t(l, "common.site")) }
                    th scope="col" { (t(l, "common.direction")) }
                    th scope="col" { (t(l, what)) }
                } }
                tbody {
                    @for (e, note) in events {
                        tr {
                            td { (format::datetime(l, &e.occurred_at)) }
                            td { (e.site_id) }
                            td { (t(l, direction_key(e.direction))) }
                            td { (note) }
                        }
                    }
                }
            }
        }
    }
}

pub fn direction_key(d: Direction) -> &'static str {
    match d {
        Direction::In => "common.dir_in",
        Direction::Out => "common.dir_out",
    }
}

/// Every event of an answer that is kept (in a session, unpaired or a duplicate).
pub fn kept_events(regs: &Registrations) -> impl Iterator<Item = &EventView> {
    regs.sessions
        .iter()
        .flat_map(|s| [&s.check_in, &s.check_out])
        .chain(regs.unpaired.iter().map(|u| &u.event))
        .chain(regs.duplicates.iter().map(|d| &d.event))
}

pub(super) fn corrections_table(l: Lang, regs: &Registrations) -> Markup {
    let withdrawn = regs.withdrawn.iter().flatten();
    let rows: Vec<(&EventView, &stamp_domain::table::CorrectionEntry)> = kept_events(regs)
        .chain(withdrawn)
        .flat_map(|e| e.corrections.iter().flatten().map(move |c| (e, c)))
        .collect();
    html! {
        @if rows.is_empty() { p { (t(l, "common.none")) } } @else {
            table {
                thead { tr {
                    th scope="col" { (t(l, "common.when")) }
                    th scope="col" { (t(l, "person.corrected_by")) }
                    th scope="col" { (t(l, "person.corrected_at")) }
                    th scope="col" { (t(l, "person.changes")) }
                } }
                tbody {
                    @for (e, c) in rows {
                        tr {
                            td { (format::datetime(l, &e.occurred_at)) }
                            td { (c.recorded_by.clone().unwrap_or_else(|| e.partner_id.clone())) }
                            td { (format::instant(l, &c.received_at)) }
                            td { @if c.void { (t(l, "person.voided")) } @else { (c.changes.keys().cloned().collect::<Vec<_>>().join(", ")) } }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn anomalies_table(
    l: Lang,
    o: &Orgnr,
    list: &[AnomalyView],
    show_person: bool,
) -> Markup {
    let person = show_person.then_some("people.name");
    let heads: Vec<&str> = ["common.when", "anomalies.kind"]
        .into_iter()
        .chain(person)
        .chain(["common.site"])
        .collect();
    html! {
        (scroll_table(l, list.is_empty(), &heads, html! {
            @for a in list {
                tr {
                    td { (format::datetime(l, &a.occurred_at)) }
                    td { (t(l, kind_key(a.kind.as_str()))) }
                    @if show_person { td { a href=(format!("/companies/{o}/people/{}", a.person_ref)) { (a.person_name) } } }
                    td { a href=(format!("/companies/{o}/sites/{}", a.site_id)) { (a.site_id) } }
                }
            }
        }))
    }
}

pub(super) async fn person(
    State(p): State<Portal>,
    user: User,
    Path((raw, person_ref)): Path<(String, String)>,
) -> Response {
    p.company_page(&user, &raw, &[
                "GET /v1/companies/{orgnr}/people/{person_ref}/registrations",
                "GET /v1/companies/{orgnr}/anomalies",
            ])
        .target(format!("person_ref:{person_ref}"))
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let end = today(p);
            let to = date_param(&user.ctx, "to", end)?;
            let from = date_param(&user.ctx, "from", to - Duration::days(30))?;
            let range = day_range(from, to);
            if range.to < range.from {
                return Err(DomainError::invalid("to", "must not be before from").into());
            }
            let q = RegistrationQuery {
                range,
                history: true,
                employer: None,
                cursor: None,
                limit: 1000,
            };
            let regs = Registrations::from(
                &p.app
                    .queries
                    .person_registrations(user.claims(), &o, &PersonRef::named(person_ref.as_str()), &q)
                    .await?,
            );
            let an = AnomalyList::from(
                p.app
                    .queries
                    .anomalies(
                        user.claims(),
                        &o,
                        &AnomalyQuery {
                            range,
                            site: None,
                            kind: None,
                            cursor: None,
                            limit: 1000,
                        },
                    )
                    .await?,
            );
            let mine: Vec<AnomalyView> = an
                .anomalies
                .into_iter()
                .filter(|a| a.person_ref == person_ref)
                .collect();
            let name = regs
                .sessions
                .first()
                .map(|s| s.check_in.person_name.clone())
                .or_else(|| regs.unpaired.first().map(|u| u.event.person_name.clone()))
                .unwrap_or_else(|| t(l, "person.title").to_string());
            let body = html! {
                (period_form(&user.ctx, from, to, html!{}))
                p { a href=(format!("/companies/{o}/extracts?person_ref={person_ref}")) { (t(l, "person.order_extract")) } }
                section aria-labelledby="h-days" {
                    h2 id="h-days" { (t(l, "person.sessions_by_day")) }
                    (sessions_by_day(l, &regs, from, to))
                    (sessions_table(l, &o, &regs, false))
                    @if regs.next_cursor.is_some() { p { (t(l, "common.truncated")) } }
                }
                section aria-labelledby="h-unp" { h2 id="h-unp" { (t(l, "person.unpaired")) } (events_table(l, &unpaired_notes(l, &regs.unpaired), "person.reason")) }
                section aria-labelledby="h-dup" { h2 id="h-dup" { (t(l, "person.duplicates")) } (events_table(l, &duplicate_notes(l, &regs.duplicates), "person.reason")) }
                section aria-labelledby="h-cor" { h2 id="h-cor" { (t(l, "person.corrections")) } (corrections_table(l, &regs)) }
                section aria-labelledby="h-an" { h2 id="h-an" { (t(l, "nav.anomalies")) } (anomalies_table(l, &o, &mine, false)) }
            };
            Ok(ok(&user.ctx, &name, &ann, body))
        })
        .await
}

pub(super) async fn site(
    State(p): State<Portal>,
    user: User,
    Path((raw, site_raw)): Path<(String, String)>,
) -> Response {
    let target = SiteId::parse(&site_raw)
        .map(|s| format!("site_id:{}", s.as_str()))
        .ok();
    let actions = &["GET /v1/companies/{orgnr}/sites/{site_id}/registrations"];
    p.company_page(&user, &raw, actions)
        .target(target)
        .render(|p, user, o, ann, _| async move {
            let site = SiteId::parse(&site_raw)
                .map_err(|_| DomainError::NotFound("no such site".into()))?;
            let l = user.ctx.lang;
            let end = today(p);
            let to = date_param(&user.ctx, "to", end)?;
            let from = date_param(&user.ctx, "from", to - Duration::days(13))?;
            let q = RegistrationQuery {
                range: day_range(from, to),
                history: false,
                employer: None,
                cursor: None,
                limit: 1000,
            };
            let regs = Registrations::from(
                &p.app
                    .queries
                    .site_registrations(user.claims(), &o, &site, &q)
                    .await?,
            );
            // Who is on site now: check-ins still open (spec §6 `on_site`), over today's range.
            let now_q = RegistrationQuery {
                range: day_range(end - Duration::days(1), end),
                history: false,
                employer: None,
                cursor: None,
                limit: 1000,
            };
            let now_regs = Registrations::from(
                &p.app
                    .queries
                    .site_registrations(user.claims(), &o, &site, &now_q)
                    .await?,
            );
            let present: Vec<&EventView> = now_regs
                .unpaired
                .iter()
                .filter(|u| u.reason == Unpaired::OnSite)
                .map(|u| &u.event)
                .collect();
            let body = html! {
                section aria-labelledby="h-now" class="present" {
                    h2 id="h-now" { (t(l, "site.present")) }
                    p class="muted" { (t(l, "site.present_note")) }
                    @if present.is_empty() { p { (t(l, "common.none")) } } @else {
                        table {
                            thead { tr { th scope="col" { (t(l, "people.name")) } th scope="col" { (t(l, "common.in")) } } }
                            tbody { @for e in &present { tr { td { (e.person_name) } td { (format::datetime(l, &e.occurred_at)) } } } }
                        }
                    }
                    p class="no-print" { button type="button" class="print" data-print="1" { (t(l, "site.print")) } }
                }
                (period_form(&user.ctx, from, to, html!{}))
                section aria-labelledby="h-days" {
                    h2 id="h-days" { (t(l, "person.sessions_by_day")) }
                    (sessions_by_day(l, &regs, from, to))
                    (sessions_table(l, &o, &regs, true))
                }
                script src="/assets/app.js" defer {}
            };
            Ok(ok(&user.ctx, &format!("{} {}", t(l, "site.title"), site.as_str()), &ann, body))
        })
        .await
}

pub(super) async fn anomalies(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/anomalies"])
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let end = today(p);
            let to = date_param(&user.ctx, "to", end)?;
            let from = date_param(&user.ctx, "from", to - Duration::days(29))?;
            let kind = user
                .ctx
                .q("kind")
                .map(|k| AnomalyKind::parse(k).ok_or_else(|| DomainError::invalid("kind", "unknown")))
                .transpose()?;
            let site = user
                .ctx
                .q("site_id")
                .map(|s| SiteId::parse(s).map_err(|e| DomainError::invalid("site_id", e.to_string())))
                .transpose()?;
            let cursor = user
                .ctx
                .q("cursor")
                .map(stamp_domain::pagination::Cursor::decode)
                .transpose()?;
            let sites = p.app.queries.sites(user.claims(), &o, None, 100).await?;
            let an = AnomalyList::from(
                p.app
                    .queries
                    .anomalies(
                        user.claims(),
                        &o,
                        &AnomalyQuery {
                            range: day_range(from, to),
                            site: site.clone(),
                            kind,
                            cursor,
                            limit: 100,
                        },
                    )
                    .await?,
            );
            let chosen_kind = user.ctx.q("kind").unwrap_or("");
            let chosen_site = user.ctx.q("site_id").unwrap_or("");
            let extra = html! {
                label for="kind" { (t(l, "anomalies.kind")) }
                select id="kind" name="kind" {
                    option value="" { (t(l, "common.all")) }
                    @for k in AnomalyKind::ALL { option value=(k.as_str()) selected[chosen_kind == k.as_str()] { (t(l, kind_key(k.as_str()))) } }
                }
                label for="site_id" { (t(l, "common.site")) }
                select id="site_id" name="site_id" {
                    option value="" { (t(l, "common.all")) }
                    @for s in &sites.items { option value=(s.site_id) selected[chosen_site == s.site_id] { (s.site_id) } }
                }
            };
            let body = html! {
                (period_form(&user.ctx, from, to, extra))
                (anomalies_table(l, &o, &an.anomalies, true))
                @if let Some(c) = &an.next_cursor {
                    p { a href=(format!("?from={from}&to={to}&kind={chosen_kind}&site_id={chosen_site}&cursor={}", pct_encode(c))) { (t(l, "common.more")) } }
                }
            };
            shown(user, "anomalies.title", &ann, body)
        })
        .await
}
