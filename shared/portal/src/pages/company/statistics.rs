//! A company's statistics: the page with its charts, and the same figures as CSV.

use super::*;

pub(super) struct StatParams {
    from: NaiveDate,
    to: NaiveDate,
    granularity: String,
    site: Option<String>,
}

pub(super) fn stat_params(p: &Portal, ctx: &Ctx) -> Result<StatParams, DomainError> {
    let end = today(p);
    let to = date_param(ctx, "to", end)?;
    let from = date_param(ctx, "from", to - Duration::days(29))?;
    let granularity = ctx.q("granularity").unwrap_or("day").to_string();
    Granularity::parse(Some(&granularity))?;
    let site = ctx
        .q("site_id")
        .map(|s| {
            SiteId::parse(s)
                .map(|s| s.as_str().to_string())
                .map_err(|e| DomainError::invalid("site_id", e.to_string()))
        })
        .transpose()?;
    Ok(StatParams {
        from,
        to,
        granularity,
        site,
    })
}

pub(super) async fn statistics(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/statistics"])
        .render(|p, user, o, ann, _| async move {
            let l = user.ctx.lang;
            let sp = stat_params(p, &user.ctx)?;
            let stats = stats_rows(
                p,
                user,
                &o,
                sp.from,
                sp.to + Duration::days(1),
                &sp.granularity,
                sp.site.as_deref(),
            )
            .await?;
            let sites = p.app.queries.sites(user.claims(), &o, None, 100).await?;
            let chosen_site = sp.site.clone().unwrap_or_default();
            let rows: Vec<StatisticsRow> = match &sp.site {
                // With a site, its rows stand in for the total.
                Some(_) => stats
                    .rows
                    .iter()
                    .cloned()
                    .map(|mut r| {
                        r.site_id = None;
                        r
                    })
                    .collect(),
                None => stats.rows.clone(),
            };
            let extra = html! {
                label for="granularity" { (t(l, "stats.granularity")) }
                select id="granularity" name="granularity" {
                    @for (g, k) in [("day", "stats.day"), ("week", "stats.week"), ("month", "stats.month")] {
                        option value=(g) selected[sp.granularity == g] { (t(l, k)) }
                    }
                }
                label for="site_id" { (t(l, "common.site")) }
                select id="site_id" name="site_id" {
                    option value="" { (t(l, "common.all")) }
                    @for s in &sites.items { option value=(s.site_id) selected[chosen_site == s.site_id] { (s.site_id) } }
                }
            };
            let csv = format!(
                "/companies/{o}/statistics.csv?from={}&to={}&granularity={}&site_id={}",
                sp.from, sp.to, sp.granularity, chosen_site
            );
            let body = html! {
                (period_form(&user.ctx, sp.from, sp.to, extra))
                p { a href=(csv) download { (t(l, "stats.csv")) } }
                (charts3(l, &rows))
                div class="scroll" tabindex="0" {
                    table {
                        caption { (t(l, "stats.table")) }
                        thead { tr {
                            th scope="col" { (t(l, "stats.period")) }
                            th scope="col" { (t(l, "stats.hours")) }
                            th scope="col" { (t(l, "stats.sessions")) }
                            th scope="col" { (t(l, "stats.persons")) }
                            th scope="col" { (t(l, "nav.anomalies")) }
                        } }
                        tbody {
                            @for r in rows.iter().filter(|r| r.site_id.is_none()) {
                                tr {
                                    td { (r.period) }
                                    td class="num" { (format::hours(l, r.hours)) }
                                    td class="num" { (r.sessions) }
                                    td class="num" { (r.persons) }
                                    td class="num" { (r.anomalies.values().sum::<u64>()) }
                                }
                            }
                        }
                    }
                }
            };
            shown(user, "stats.title", &ann, body)
        })
        .await
}

/// The statistics rows as CSV (the company total and each site per period).
pub(super) async fn statistics_csv(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/statistics"])
        .render(|p, user, o, _, _| async move {
            let sp = stat_params(p, &user.ctx)?;
            let stats = stats_rows(
                p,
                user,
                &o,
                sp.from,
                sp.to + Duration::days(1),
                &sp.granularity,
                sp.site.as_deref(),
            )
            .await?;
            let mut out =
                String::from("period,site_id,persons,sessions,hours,check_ins,check_outs");
            for k in AnomalyKind::ALL {
                out.push(',');
                out.push_str(k.as_str());
            }
            out.push('\n');
            for r in &stats.rows {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}",
                    r.period,
                    r.site_id.as_deref().unwrap_or(""),
                    r.persons,
                    r.sessions,
                    r.hours,
                    r.check_ins,
                    r.check_outs
                ));
                for k in AnomalyKind::ALL {
                    out.push_str(&format!(
                        ",{}",
                        r.anomalies.get(k.as_str()).copied().unwrap_or(0)
                    ));
                }
                out.push('\n');
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "attachment; filename=\"statistics-{o}-{}-{}.csv\"",
                            sp.from, sp.to
                        ),
                    ),
                ],
                out,
            )
                .into_response())
        })
        .await
}
