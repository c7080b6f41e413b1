//! The digest and the silence notice as e-mail: Swedish text and a small HTML table.

use super::{Digest, SilenceNotice};
use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::ports::OutgoingMail;
use crate::reads::analysis::AnomalyKind;
use chrono::{DateTime, Utc};

pub(super) fn local_hm(t: &crate::time::Instant) -> String {
    t.with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn kind_sv(k: AnomalyKind) -> &'static str {
    match k {
        AnomalyKind::Duplicate => "Dubbelregistrering",
        AnomalyKind::MissingCheckOut => "Saknad utcheckning",
        AnomalyKind::MissingCheckIn => "Saknad incheckning",
        AnomalyKind::LongSession => "Arbetspass längre än 12 timmar",
        AnomalyKind::FutureEvent => "Registrerad i förväg",
        AnomalyKind::LateEntry => "Sen registrering",
        AnomalyKind::InvalidPersonId => "Ogiltigt personnummer eller samordningsnummer",
    }
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn stockholm(t: &DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Stockholm)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Lines shown per group in the e-mail; the webhook carries them all.
pub(super) const MAIL_ROWS: usize = 25;

/// The digest as plain text and HTML, in Swedish.
pub fn render(d: &Digest) -> (String, String, String) {
    let subject = format!("Stamp: sammanfattning för {} den {}", d.company_name, d.day);
    let mut t = String::new();
    let mut h = String::new();
    t.push_str(&format!(
        "Daglig sammanfattning från Stamp för {} ({}), {}.\n\n",
        d.company_name, d.company_orgnr, d.day
    ));
    h.push_str(&format!(
        "<!DOCTYPE html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\
         <h1>Daglig sammanfattning</h1><p>{} ({}), {}.</p>",
        esc(&subject),
        esc(&d.company_name),
        esc(&d.company_orgnr),
        d.day
    ));
    t.push_str("AVVIKELSER\n");
    h.push_str("<h2>Avvikelser</h2>");
    if d.anomalies.is_empty() {
        t.push_str("Inga avvikelser.\n");
        h.push_str("<p>Inga avvikelser.</p>");
    }
    for g in &d.anomalies {
        t.push_str(&format!(
            "\n{} – arbetsplats {}: {}\n",
            kind_sv(g.kind),
            g.site_id,
            g.count
        ));
        h.push_str(&format!(
            "<h3>{} – arbetsplats {}: {}</h3><ul>",
            esc(kind_sv(g.kind)),
            esc(&g.site_id),
            g.count
        ));
        for a in g.anomalies.iter().take(MAIL_ROWS) {
            t.push_str(&format!(
                "  {}  {} ({})\n",
                a.occurred_at, a.person_name, a.person_ref
            ));
            h.push_str(&format!(
                "<li>{} {} <small>({})</small></li>",
                esc(&a.occurred_at),
                esc(&a.person_name),
                esc(&a.person_ref)
            ));
        }
        if g.anomalies.len() > MAIL_ROWS {
            let more = g.anomalies.len() - MAIL_ROWS;
            t.push_str(&format!("  … och {more} till\n"));
            h.push_str(&format!("<li>… och {more} till</li>"));
        }
        h.push_str("</ul>");
    }
    t.push_str("\nFORTFARANDE INCHECKADE\n");
    h.push_str("<h2>Fortfarande incheckade</h2>");
    if d.still_checked_in.is_empty() {
        t.push_str("Ingen är kvar incheckad från dagen.\n");
        h.push_str("<p>Ingen är kvar incheckad från dagen.</p>");
    } else {
        h.push_str("<ul>");
        for p in &d.still_checked_in {
            t.push_str(&format!(
                "  {} ({}), arbetsplats {}, incheckad {}\n",
                p.person_name, p.person_ref, p.site_id, p.checked_in_at
            ));
            h.push_str(&format!(
                "<li>{} <small>({})</small>, arbetsplats {}, incheckad {}</li>",
                esc(&p.person_name),
                esc(&p.person_ref),
                esc(&p.site_id),
                esc(&p.checked_in_at)
            ));
        }
        h.push_str("</ul>");
    }
    if !d.partner_silence.is_empty() {
        t.push_str("\nTYSTA LEVERANTÖRER\n");
        h.push_str("<h2>Tysta leverantörer</h2><ul>");
        for s in &d.partner_silence {
            let name = s.partner_name.as_deref().unwrap_or(&s.partner_id);
            t.push_str(&format!(
                "  {} har inte levererat något sedan {}.\n",
                name,
                stockholm(&s.silent_since)
            ));
            h.push_str(&format!(
                "<li>{} har inte levererat något sedan {}.</li>",
                esc(name),
                stockholm(&s.silent_since)
            ));
        }
        h.push_str("</ul>");
    }
    t.push_str("\nDetta meddelande skickas av Stamp. Inställningarna ändras i portalen.\n");
    h.push_str("<p><small>Detta meddelande skickas av Stamp. Inställningarna ändras i portalen.</small></p></body></html>");
    (subject, t, h)
}

pub(super) fn silence_text(orgnr: &Orgnr, notices: &[SilenceNotice]) -> (String, String, String) {
    let subject = format!("Stamp: leverantör har slutat leverera ({orgnr})");
    let mut t = String::from("Stamp har inte fått några registreringar från:\n\n");
    let mut h = String::from("<!DOCTYPE html><html lang=\"sv\"><head><meta charset=\"utf-8\"></head><body><p>Stamp har inte fått några registreringar från:</p><ul>");
    for s in notices {
        let name = s.partner_name.as_deref().unwrap_or(&s.partner_id);
        t.push_str(&format!("  {name} sedan {}\n", stockholm(&s.silent_since)));
        h.push_str(&format!(
            "<li>{} sedan {}</li>",
            esc(name),
            stockholm(&s.silent_since)
        ));
    }
    t.push_str("\nKontrollera att personalliggaren på arbetsplatsen fungerar.\n");
    h.push_str(
        "</ul><p>Kontrollera att personalliggaren på arbetsplatsen fungerar.</p></body></html>",
    );
    (subject, t, h)
}

/// A MIME message (multipart/alternative: plain text and HTML) built with `lettre`.
pub fn mail(
    from: &str,
    to: &[String],
    subject: &str,
    text: String,
    html: String,
    at: DateTime<Utc>,
) -> Result<OutgoingMail, DomainError> {
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    use lettre::message::{Mailbox, MultiPart, SinglePart};
    let bad = |e: String| DomainError::Internal(format!("e-mail: {e}"));
    let from_box: Mailbox = from
        .parse()
        .map_err(|e: lettre::address::AddressError| bad(e.to_string()))?;
    let mut b = lettre::Message::builder()
        .from(from_box)
        .subject(subject)
        .date(std::time::SystemTime::from(at));
    for a in to {
        let m: Mailbox = a
            .parse()
            .map_err(|e: lettre::address::AddressError| bad(e.to_string()))?;
        b = b.to(m);
    }
    // Quoted-printable keeps the text legible in the raw message (and scannable).
    let part = |ct: ContentType, body: String| {
        SinglePart::builder()
            .header(ct)
            .header(ContentTransferEncoding::QuotedPrintable)
            .body(body)
    };
    let msg = b
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, text))
                .singlepart(part(ContentType::TEXT_HTML, html)),
        )
        .map_err(|e| bad(e.to_string()))?;
    Ok(OutgoingMail {
        from: from.to_string(),
        to: to.to_vec(),
        subject: subject.to_string(),
        raw: msg.formatted(),
    })
}

pub fn test_mail(from: &str, to: &[String], orgnr: &Orgnr) -> Result<OutgoingMail, DomainError> {
    let subject = format!("Stamp: provmeddelande ({orgnr})");
    mail(
        from,
        to,
        &subject,
        "Detta är ett provmeddelande från Stamp. Aviseringarna fungerar.\n".into(),
        "<!DOCTYPE html><html lang=\"sv\"><body><p>Detta är ett provmeddelande från Stamp. Aviseringarna fungerar.</p></body></html>".into(),
        Utc::now(),
    )
}
