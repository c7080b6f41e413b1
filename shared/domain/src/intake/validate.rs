//! Validating one event on its own (spec §5). Every rejection names the field and why.

use crate::identity::{Orgnr, PersonId, SiteId};
use crate::model::{Direction, EventFields, Source};
use crate::time::parse_rfc3339;
use serde::Serialize;
use serde_json::{Map, Value};

/// Why an event of a delivery was rejected (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    MissingField,
    InvalidField,
    CompanyNotActivated,
    EventConflict,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: RejectionCode,
    pub field: String,
    pub message: String,
}

impl Rejection {
    pub fn missing(field: &str) -> Self {
        Rejection {
            code: RejectionCode::MissingField,
            field: field.to_string(),
            message: format!("{field}: is required"),
        }
    }
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Rejection {
            code: RejectionCode::InvalidField,
            field: field.to_string(),
            message: format!("{field}: {reason}"),
        }
    }
}

/// A field's text: absent, `null` and `""` are all absent (spec §5).
fn text<'a>(m: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, Rejection> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Rejection::invalid(
            field,
            format!("must be a string, got {}", super::parse::json_kind(other)),
        )),
    }
}

fn required<'a>(m: &'a Map<String, Value>, field: &str) -> Result<&'a str, Rejection> {
    text(m, field)?.ok_or_else(|| Rejection::missing(field))
}

fn printable(field: &str, s: &str, max: usize) -> Result<String, Rejection> {
    let n = s.chars().count();
    if n > max {
        return Err(Rejection::invalid(
            field,
            format!("must be at most {max} characters, got {n}"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Rejection::invalid(field, "must be printable characters"));
    }
    Ok(s.to_string())
}

fn void_flag(m: &Map<String, Value>) -> Result<bool, Rejection> {
    match m.get("void") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.is_empty() => Ok(false),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(_) => Err(Rejection::invalid("void", "must be true or false")),
    }
}

/// Validates one delivered event. A personnummer whose date or checksum fails is *kept*
/// (flagged later); a value that is not 12 digits is rejected.
/// Spec §2.7: `occurred_at` and `recorded_at` lie in `[2016-01-01T00:00:00Z, received +
/// 30 days)`; outside that the event is rejected, naming the field.
pub fn within_bounds(
    f: EventFields,
    received: chrono::DateTime<chrono::Utc>,
) -> Result<EventFields, Rejection> {
    crate::time::check_event_time(&f.occurred_at, received)
        .map_err(|e| Rejection::invalid("occurred_at", e))?;
    if let Some(r) = &f.recorded_at {
        crate::time::check_event_time(r, received)
            .map_err(|e| Rejection::invalid("recorded_at", e))?;
    }
    Ok(f)
}

pub fn validate_event(m: &Map<String, Value>) -> Result<EventFields, Rejection> {
    let event_id = printable("event_id", required(m, "event_id")?, 128)?;
    let company_orgnr = Orgnr::parse(required(m, "company_orgnr")?)
        .map_err(|e| Rejection::invalid("company_orgnr", e))?;
    let company_name = printable("company_name", required(m, "company_name")?, 200)?;
    let site_id =
        SiteId::parse(required(m, "site_id")?).map_err(|e| Rejection::invalid("site_id", e))?;
    let person_raw = required(m, "person_id")?;
    let kind = text(m, "person_id_kind")?;
    if let Some(k) = kind {
        if k != "personnummer" && k != "foreign" {
            return Err(Rejection::invalid(
                "person_id_kind",
                format!("must be personnummer or foreign, got {k:?}"),
            ));
        }
    }
    let country = text(m, "person_country")?;
    if kind == Some("foreign") && country.is_none() {
        return Err(Rejection {
            code: super::RejectionCode::MissingField,
            field: "person_country".into(),
            message: "person_country: is required with person_id_kind foreign".into(),
        });
    }
    let person = PersonId::parse(person_raw, kind, country).map_err(|e| {
        let field = if e.0.starts_with("person_country") {
            "person_country"
        } else {
            "person_id"
        };
        Rejection::invalid(field, e)
    })?;
    let person_name = required(m, "person_name")?;
    if person_name.trim().is_empty() {
        return Err(Rejection::invalid("person_name", "must not be blank"));
    }
    let person_name = printable("person_name", person_name, 200)?;
    let employer_orgnr = text(m, "employer_orgnr")?
        .map(Orgnr::parse)
        .transpose()
        .map_err(|e| Rejection::invalid("employer_orgnr", e))?;
    let card_number = text(m, "card_number")?
        .map(|c| printable("card_number", c, 64))
        .transpose()?;
    let direction = match required(m, "direction")? {
        "in" => Direction::In,
        "out" => Direction::Out,
        other => {
            return Err(Rejection::invalid(
                "direction",
                format!("must be in or out, got {other:?}"),
            ))
        }
    };
    let occurred_at = parse_rfc3339(required(m, "occurred_at")?)
        .map_err(|e| Rejection::invalid("occurred_at", e))?;
    let recorded_at = text(m, "recorded_at")?
        .map(parse_rfc3339)
        .transpose()
        .map_err(|e| Rejection::invalid("recorded_at", e))?;
    let source = match text(m, "source")? {
        None | Some("card") => Source::Card,
        Some("app") => Source::App,
        Some("manual") => Source::Manual,
        Some(other) => {
            return Err(Rejection::invalid(
                "source",
                format!("must be card, app or manual, got {other:?}"),
            ))
        }
    };
    let recorded_by = text(m, "recorded_by")?
        .map(|r| printable("recorded_by", r, 200))
        .transpose()?;
    if source == Source::Manual && recorded_by.is_none() {
        return Err(Rejection {
            code: super::RejectionCode::MissingField,
            field: "recorded_by".into(),
            message: "recorded_by: is required when source is manual".into(),
        });
    }
    let corrects = text(m, "corrects")?
        .map(|c| printable("corrects", c, 128))
        .transpose()?;
    let void = void_flag(m)?;
    if void && corrects.is_none() {
        return Err(Rejection::invalid(
            "void",
            "void needs corrects: the event_id it withdraws",
        ));
    }
    if corrects.as_deref() == Some(event_id.as_str()) {
        return Err(Rejection::invalid(
            "corrects",
            "an event cannot correct itself",
        ));
    }
    Ok(EventFields {
        event_id,
        company_orgnr,
        company_name,
        site_id,
        person,
        person_name,
        employer_orgnr,
        card_number,
        direction,
        occurred_at,
        recorded_at,
        source,
        recorded_by,
        corrects,
        void,
    })
}

#[cfg(test)]
mod tests;
