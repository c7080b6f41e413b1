//! A company admin's notifications (spec §11) and the latest archive verification
//! (spec §12): the settings form, validated by the same domain code as
//! `PUT …/notifications` (the signing secret shown once when the webhook URL is set or
//! changed), "send a test message", the deliveries with every attempt, and the
//! company's part of the latest verification report. The same domain calls as the API
//! routes, audited as those routes.

use super::{csrf, field, refused, shown, FieldError, FormData};
use crate::format;
use crate::i18n::{t, Lang};
use crate::layout::field_error as fe;
use crate::{Ctx, PageError, PageResult, Portal, User};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use stamp_api::views::admin::AnnouncementView;
use stamp_domain::governance::verification::{CompanyVerification, VerificationScope};
use stamp_domain::governance::verify::MismatchKind;
use stamp_domain::identity::Orgnr;
use stamp_domain::notify::webhook::DeliveryState;
use stamp_domain::notify::{Channel, Delivery, SettingsRequest, SettingsView, MAX_EMAILS};
use stamp_domain::DomainError;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/companies/{orgnr}/notifications", get(page).post(save))
        .route("/companies/{orgnr}/notifications/test", post(send_test))
        .route("/companies/{orgnr}/verification", get(verification))
}

/// How many deliveries the page lists (newest first).
const DELIVERIES: usize = 20;

/// What the form holds: one field per address slot, so an error names the slot typed in.
struct SettingsForm {
    webhook_url: String,
    emails: Vec<String>,
    daily_digest: bool,
    partner_silence: bool,
}

impl SettingsForm {
    fn of(s: &SettingsView) -> Self {
        SettingsForm {
            webhook_url: s.webhook_url.clone().unwrap_or_default(),
            emails: s.emails.clone(),
            daily_digest: s.daily_digest,
            partner_silence: s.partner_silence,
        }
    }

    fn read(f: &std::collections::HashMap<String, String>) -> Self {
        SettingsForm {
            webhook_url: field(f, "webhook_url"),
            emails: (0..MAX_EMAILS)
                .map(|i| field(f, &format!("email_{i}")))
                .collect(),
            daily_digest: f.contains_key("daily_digest"),
            partner_silence: f.contains_key("partner_silence"),
        }
    }

    /// The request the API takes, and for each address in it the slot it was typed in
    /// (empty slots are left out).
    fn request(&self) -> (SettingsRequest, Vec<usize>) {
        let (slots, emails): (Vec<usize>, Vec<String>) = self
            .emails
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.trim().is_empty())
            .map(|(i, e)| (i, e.trim().to_string()))
            .unzip();
        let url = self.webhook_url.trim();
        (
            SettingsRequest {
                webhook_url: (!url.is_empty()).then(|| url.to_string()),
                emails: Some(emails),
                daily_digest: self.daily_digest,
                partner_silence: self.partner_silence,
            },
            slots,
        )
    }
}

/// The domain names a bad address by its place in the list (`emails[2]`); the page
/// shows it at the slot it was typed in, saying what the field needs.
fn at_slot(mut e: FieldError, slots: &[usize]) -> FieldError {
    if let Some(i) = e
        .field
        .strip_prefix("emails[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok())
    {
        if let Some(slot) = slots.get(i) {
            e.field = format!("email_{slot}");
            e.key = "notify.bad_email";
        }
    } else if e.field == "webhook_url" && e.key == "form.invalid" {
        e.key = "notify.bad_webhook";
    }
    e
}

fn state_key(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "notify.pending",
        DeliveryState::Delivered => "notify.delivered",
        DeliveryState::Failed => "notify.failed",
    }
}

fn state_class(s: DeliveryState) -> &'static str {
    match s {
        DeliveryState::Pending => "pending",
        DeliveryState::Delivered => "delivered",
        DeliveryState::Failed => "failed",
    }
}

fn kind_key(kind: &str) -> &'static str {
    match kind {
        "daily_digest" => "notify.kind_digest",
        "partner_silence" => "notify.kind_silence",
        "test" => "notify.kind_test",
        _ => "kind.other",
    }
}

/// What the page says above the form after an action.
enum Notice<'a> {
    None,
    Saved { secret: Option<&'a str> },
    Sent(usize),
}

struct Body<'a> {
    form: &'a SettingsForm,
    err: Option<&'a FieldError>,
    notice: Notice<'a>,
    deliveries: &'a [Delivery],
}

fn deliveries_table(l: Lang, list: &[Delivery]) -> Markup {
    html! {
        @if list.is_empty() { p { (t(l, "common.none")) } } @else {
            div class="scroll" tabindex="0" {
                table {
                    caption { (t(l, "notify.deliveries_caption")) }
                    thead { tr {
                        th scope="col" { (t(l, "notify.created")) }
                        th scope="col" { (t(l, "notify.kind")) }
                        th scope="col" { (t(l, "notify.channel")) }
                        th scope="col" { (t(l, "notify.target")) }
                        th scope="col" { (t(l, "activation.status")) }
                        th scope="col" { (t(l, "notify.attempts")) }
                    } }
                    tbody {
                        @for d in list {
                            tr {
                                td { (format::instant(l, &d.created_at)) }
                                td { (t(l, kind_key(&d.kind))) }
                                td { (t(l, match d.channel { Channel::Webhook => "notify.webhook", Channel::Email => "notify.email" })) }
                                td class="target" { (d.target) }
                                td {
                                    span class=(format!("state {}", state_class(d.state))) { (t(l, state_key(d.state))) }
                                    @if let Some(n) = &d.next_attempt_at { br; span class="muted" { (t(l, "notify.next")) " " (format::instant(l, n)) } }
                                }
                                td {
                                    ol class="attempts" {
                                        @for a in &d.attempts {
                                            li {
                                                (format::instant(l, &a.at)) ": "
                                                @match (d.channel, a.status) {
                                                    (Channel::Webhook, Some(s)) => { "HTTP " (s) }
                                                    // The mail service's own code (250: accepted).
                                                    (Channel::Email, Some(s)) => { (t(l, "notify.mail_accepted")) " (" (s) ")" }
                                                    (_, None) => { (t(l, "notify.no_answer")) }
                                                }
                                                @if let Some(e) = &a.error { " " span class="muted" { "(" (e) ")" } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn body(ctx: &Ctx, o: &Orgnr, b: Body<'_>) -> Markup {
    let l = ctx.lang;
    let f = b.form;
    html! {
        @match b.notice {
            Notice::None => {}
            Notice::Saved { secret } => {
                section class="made" aria-labelledby="h-saved" role="status" {
                    h2 id="h-saved" { (t(l, "notify.saved")) }
                    @if let Some(s) = secret {
                        p { (t(l, "notify.secret_once")) }
                        label for="webhook-secret" { (t(l, "notify.secret")) }
                        input id="webhook-secret" type="text" readonly value=(s) size="60";
                    }
                }
            }
            Notice::Sent(n) => {
                p class="made" role="status" id="test-sent" { (t(l, "notify.test_sent")) " (" (n) ")" }
            }
        }
        @if let Some(e) = b.err { @if e.field == "form" { p class="error" role="alert" id="form-error" { (t(l, e.key)) } } }
        p { (t(l, "notify.intro")) }
        form method="post" class="stack" novalidate action=(format!("/companies/{o}/notifications")) {
            (csrf(ctx))
            label for="webhook_url" { (t(l, "notify.webhook_url")) " " span class="muted" { (t(l, "common.optional")) } }
            input id="webhook_url" name="webhook_url" type="url" inputmode="url" value=(f.webhook_url) size="60" aria-describedby="webhook_url-hint webhook_url-error";
            p class="muted hint" id="webhook_url-hint" { (t(l, "notify.webhook_hint")) }
            (fe(l, "webhook_url", b.err))
            fieldset {
                legend { (t(l, "notify.emails")) }
                (fe(l, "emails", b.err))
                @for i in 0..MAX_EMAILS {
                    @let id = format!("email_{i}");
                    label for=(id) { (t(l, "notify.email_n")) " " (i + 1) }
                    input id=(id) name=(id) type="email" inputmode="email" autocomplete="email" size="40"
                        value=(f.emails.get(i).cloned().unwrap_or_default())
                        aria-describedby=(format!("{id}-error"));
                    (fe(l, &id, b.err))
                }
            }
            fieldset {
                legend { (t(l, "notify.what")) }
                label { input type="checkbox" name="daily_digest" value="1" checked[f.daily_digest]; " " (t(l, "notify.daily_digest")) }
                label { input type="checkbox" name="partner_silence" value="1" checked[f.partner_silence]; " " (t(l, "notify.partner_silence")) }
            }
            button type="submit" { (t(l, "notify.save")) }
        }
        h2 { (t(l, "notify.test")) }
        p { (t(l, "notify.test_what")) }
        form method="post" class="inline" action=(format!("/companies/{o}/notifications/test")) {
            (csrf(ctx))
            button type="submit" { (t(l, "notify.test_button")) }
        }
        h2 { (t(l, "notify.deliveries")) }
        (deliveries_table(l, b.deliveries))
    }
}

async fn deliveries(p: &Portal, user: &User, o: &Orgnr) -> Result<Vec<Delivery>, DomainError> {
    Ok(p.app
        .notifications
        .deliveries(user.claims(), o, None, DELIVERIES)
        .await?
        .items)
}

/// The page with the stored settings in the form (after a test message, or as first
/// shown).
async fn render(
    p: &Portal,
    user: &User,
    o: &Orgnr,
    ann: &[AnnouncementView],
    notice: Notice<'_>,
    err: Option<&FieldError>,
) -> PageResult {
    let settings = p.app.notifications.settings(user.claims(), o).await?;
    let list = deliveries(p, user, o).await?;
    let form = SettingsForm::of(&settings);
    let b = Body {
        form: &form,
        err,
        notice,
        deliveries: &list,
    };
    shown(user, "notify.title", ann, body(&user.ctx, o, b))
}

const PAGE_ACTIONS: &[&str] = &[
    "GET /v1/companies/{orgnr}/notifications",
    "GET /v1/companies/{orgnr}/notifications/deliveries",
];

async fn page(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, PAGE_ACTIONS)
        .render(
            |p, user, o, ann, _| async move { render(p, user, &o, &ann, Notice::None, None).await },
        )
        .await
}

/// `PUT …/notifications` from the form: the answer's secret (a new or changed webhook
/// URL) is shown this once; a refused field is shown at its slot with what was typed.
async fn save(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    p.company_page(&user, &raw, &["PUT /v1/companies/{orgnr}/notifications"])
        .form(f)
        .render(|p, user, o, ann, f| async move {
            let form = SettingsForm::read(&f);
            let (req, slots) = form.request();
            let done = p
                .app
                .notifications
                .put_settings(user.claims(), &o, req)
                .await
                .map_err(PageError::from);
            let saved = match done {
                Ok(saved) => saved,
                Err(e) => {
                    let (o, ann, form) = (&o, &ann, &form);
                    return refused(e, |err| async move {
                        let err = at_slot(err, &slots);
                        let list = deliveries(p, user, o).await?;
                        let b = Body {
                            form,
                            err: Some(&err),
                            notice: Notice::None,
                            deliveries: &list,
                        };
                        shown(user, "notify.title", ann, body(&user.ctx, o, b))
                    })
                    .await;
                }
            };
            let notice = Notice::Saved {
                secret: saved.webhook_secret.as_deref(),
            };
            render(p, user, &o, &ann, notice, None).await
        })
        .await
}

/// `POST …/notifications/test`: a test message to every target now. Without settings the
/// domain's 409 `no_notification_settings` is said plainly above the form.
async fn send_test(
    State(p): State<Portal>,
    user: User,
    Path(raw): Path<String>,
    Form(f): FormData,
) -> Response {
    p.company_page(
        &user,
        &raw,
        &["POST /v1/companies/{orgnr}/notifications/test"],
    )
    .form(f)
    .render(|p, user, o, ann, _| async move {
        match p.app.notifications.send_test(user.claims(), &o).await {
            Ok(sent) => {
                let page = render(p, user, &o, &ann, Notice::Sent(sent.len()), None).await?;
                Ok((StatusCode::ACCEPTED, page).into_response())
            }
            Err(e) => {
                let (o, ann) = (&o, &ann);
                refused(e.into(), |err| async move {
                    render(p, user, o, ann, Notice::None, Some(&err)).await
                })
                .await
            }
        }
    })
    .await
}

fn mismatch_key(k: MismatchKind) -> &'static str {
    match k {
        MismatchKind::UnreadableReceipt => "verify.unreadable_receipt",
        MismatchKind::MissingDelivery => "verify.missing_delivery",
        MismatchKind::ChangedDelivery => "verify.changed_delivery",
        MismatchKind::AnswerMismatch => "verify.answer_mismatch",
        MismatchKind::ShortLock => "verify.short_lock",
        MismatchKind::EventDeliveryMissing => "verify.event_delivery_missing",
    }
}

fn verification_body(l: Lang, v: Option<&CompanyVerification>) -> Markup {
    html! {
        p { (t(l, "verify.intro")) }
        @match v {
            None => { p role="status" id="verify-none" { (t(l, "verify.none")) } }
            Some(v) => {
                @if v.ok {
                    p class="badge ok" role="status" id="verify-ok" { (t(l, "verify.ok")) }
                } @else {
                    p class="badge warn" role="status" id="verify-bad" { (t(l, "verify.bad")) " (" (v.mismatches.len()) ")" }
                }
                dl {
                    dt { (t(l, "verify.run_at")) } dd { (format::instant(l, &v.run_at)) }
                    dt { (t(l, "verify.scope")) } dd { (t(l, match v.scope { VerificationScope::Company => "verify.scope_company", VerificationScope::All => "verify.scope_all" })) }
                    dt { (t(l, "verify.receipts")) } dd { (v.receipts) }
                    @if let Some(n) = v.events { dt { (t(l, "verify.events")) } dd { (n) } }
                    @if let Some(n) = v.event_deliveries { dt { (t(l, "verify.event_deliveries")) } dd { (n) } }
                    dt { (t(l, "verify.seconds")) } dd { (format!("{:.1}", v.seconds)) " s" }
                    @if let Some(k) = &v.report_key { dt { (t(l, "verify.report")) } dd { code { (k) } } }
                }
                @if !v.mismatches.is_empty() {
                    h2 { (t(l, "verify.mismatches")) }
                    div class="scroll" tabindex="0" {
                        table {
                            thead { tr {
                                th scope="col" { (t(l, "verify.kind")) }
                                th scope="col" { (t(l, "verify.object")) }
                                th scope="col" { (t(l, "verify.detail")) }
                            } }
                            tbody {
                                @for m in &v.mismatches {
                                    tr {
                                        td { (t(l, mismatch_key(m.kind))) }
                                        td { code { (m.key) } }
                                        // The verifier's own words (kept in English in the report).
                                        td lang="en" { (m.detail) }
                                    }
                                }
                            }
                        }
                    }
                }
                p class="muted" { (t(l, "verify.scope_note")) }
            }
        }
    }
}

/// `GET …/verification`: the company's part of the latest verification, or a plain
/// "none yet" (the API's 404 becomes an empty state, not an error page).
async fn verification(State(p): State<Portal>, user: User, Path(raw): Path<String>) -> Response {
    p.company_page(&user, &raw, &["GET /v1/companies/{orgnr}/verification"])
        .render(|p, user, o, ann, _| async move {
            let v = match stamp_domain::governance::verification::latest(
                &p.app.ledger,
                user.claims(),
                &o,
            )
            .await
            {
                Ok(v) => Some(v),
                Err(DomainError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            let l = user.ctx.lang;
            shown(user, "verify.title", &ann, verification_body(l, v.as_ref()))
        })
        .await
}
