//! Reading a delivery's envelope: JSON `{"batch_id", "events": [...]}` or CSV with a
//! header row. Each event comes out as a map of field name to JSON value; CSV cells are
//! strings and an empty cell is an absent field.

use serde_json::{Map, Value};

/// A push larger than this goes through `/partner/v1/uploads` (spec §5).
pub const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;
pub const MAX_BATCH_EVENTS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFormat {
    Json,
    Csv,
}

impl DeliveryFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            DeliveryFormat::Json => "application/json",
            DeliveryFormat::Csv => "text/csv",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            DeliveryFormat::Json => "json",
            DeliveryFormat::Csv => "csv",
        }
    }
}

/// One event as read, before validation; `Err` when the row itself could not be read.
pub type RawEvent = Result<Map<String, Value>, String>;

#[derive(Debug)]
pub struct Delivery {
    pub batch_id: String,
    pub events: Vec<RawEvent>,
}

/// Why a whole delivery cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("{field}: {reason}")]
    Malformed { field: &'static str, reason: String },
    #[error("{field}: {reason}")]
    Missing { field: &'static str, reason: String },
    #[error("the batch holds {0} events; at most {MAX_BATCH_EVENTS} may be pushed, larger deliveries go through /partner/v1/uploads")]
    TooManyEvents(usize),
}

pub fn parse_delivery(
    format: DeliveryFormat,
    body: &[u8],
    batch_id_param: Option<&str>,
) -> Result<Delivery, EnvelopeError> {
    match format {
        DeliveryFormat::Json => parse_json(body),
        DeliveryFormat::Csv => parse_csv(body, batch_id_param),
    }
}

fn batch_id_ok(raw: &str) -> Result<String, EnvelopeError> {
    let n = raw.chars().count();
    if n == 0 {
        return Err(EnvelopeError::Missing {
            field: "batch_id",
            reason: "is required".into(),
        });
    }
    if n > 128 || raw.chars().any(char::is_control) {
        return Err(EnvelopeError::Malformed {
            field: "batch_id",
            reason: "must be 1–128 printable characters".into(),
        });
    }
    Ok(raw.to_string())
}

fn parse_json(body: &[u8]) -> Result<Delivery, EnvelopeError> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| EnvelopeError::Malformed {
        field: "body",
        reason: format!("is not valid JSON: {e}"),
    })?;
    let Value::Object(mut doc) = doc else {
        return Err(EnvelopeError::Malformed {
            field: "body",
            reason: "must be a JSON object with batch_id and events".into(),
        });
    };
    let batch_id = match doc.remove("batch_id") {
        Some(Value::String(s)) => batch_id_ok(&s)?,
        None | Some(Value::Null) => {
            return Err(EnvelopeError::Missing {
                field: "batch_id",
                reason: "is required".into(),
            })
        }
        Some(_) => {
            return Err(EnvelopeError::Malformed {
                field: "batch_id",
                reason: "must be a string".into(),
            })
        }
    };
    let events = match doc.remove("events") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => {
            return Err(EnvelopeError::Missing {
                field: "events",
                reason: "is required (an array of events)".into(),
            })
        }
        Some(_) => {
            return Err(EnvelopeError::Malformed {
                field: "events",
                reason: "must be an array of events".into(),
            })
        }
    };
    if events.len() > MAX_BATCH_EVENTS {
        return Err(EnvelopeError::TooManyEvents(events.len()));
    }
    let events = events
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => Ok(m),
            other => Err(format!(
                "each event must be a JSON object, got {}",
                json_kind(&other)
            )),
        })
        .collect();
    Ok(Delivery { batch_id, events })
}

pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_csv(body: &[u8], batch_id_param: Option<&str>) -> Result<Delivery, EnvelopeError> {
    let batch_id = batch_id_ok(batch_id_param.unwrap_or(""))?;
    let text = std::str::from_utf8(body).map_err(|e| EnvelopeError::Malformed {
        field: "body",
        reason: format!("CSV must be UTF-8: {e}"),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| EnvelopeError::Malformed {
            field: "body",
            reason: format!("CSV header row cannot be read: {e}"),
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(|h| h.is_empty()) {
        return Err(EnvelopeError::Missing {
            field: "body",
            reason: "CSV needs a header row naming the fields".into(),
        });
    }
    let mut events = Vec::new();
    for row in reader.records() {
        if events.len() >= MAX_BATCH_EVENTS {
            return Err(EnvelopeError::TooManyEvents(events.len() + 1));
        }
        let event = match row {
            Err(e) => Err(format!("CSV row cannot be read: {e}")),
            Ok(r) if r.len() != headers.len() => Err(format!(
                "CSV row has {} cells, the header has {}",
                r.len(),
                headers.len()
            )),
            Ok(r) => {
                let mut m = Map::new();
                for (h, cell) in headers.iter().zip(r.iter()) {
                    if !cell.is_empty() {
                        m.insert(h.clone(), Value::String(cell.to_string()));
                    }
                }
                Ok(m)
            }
        };
        events.push(event);
    }
    Ok(Delivery { batch_id, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_envelope() {
        let d = parse_delivery(
            DeliveryFormat::Json,
            br#"{"batch_id":"b1","events":[{"a":1},2]}"#,
            None,
        )
        .unwrap();
        assert_eq!(d.batch_id, "b1");
        assert!(d.events[0].is_ok());
        assert!(d.events[1].as_ref().unwrap_err().contains("JSON object"));
        for bad in [
            &b"{"[..],
            b"[]",
            br#"{"events":[]}"#,
            br#"{"batch_id":1,"events":[]}"#,
            br#"{"batch_id":"x"}"#,
        ] {
            assert!(parse_delivery(DeliveryFormat::Json, bad, None).is_err());
        }
    }

    #[test]
    fn csv_rows_and_empty_cells() {
        let body = "event_id,direction,card_number\ne1,in,\n\"e,2\",out,123\ne3,in\n";
        let d = parse_delivery(DeliveryFormat::Csv, body.as_bytes(), Some("b")).unwrap();
        assert_eq!(d.events.len(), 3);
        let first = d.events[0].as_ref().unwrap();
        assert!(first.get("card_number").is_none());
        assert_eq!(d.events[1].as_ref().unwrap()["event_id"], "e,2");
        assert!(d.events[2].as_ref().unwrap_err().contains("2 cells"));
        assert!(parse_delivery(DeliveryFormat::Csv, body.as_bytes(), None).is_err());
        assert!(parse_delivery(DeliveryFormat::Csv, b"\xff\xfe", Some("b")).is_err());
    }

    #[test]
    fn too_many_events() {
        let events = vec!["{}"; MAX_BATCH_EVENTS + 1].join(",");
        let body = format!(r#"{{"batch_id":"b","events":[{events}]}}"#);
        assert_eq!(
            parse_delivery(DeliveryFormat::Json, body.as_bytes(), None).unwrap_err(),
            EnvelopeError::TooManyEvents(MAX_BATCH_EVENTS + 1)
        );
    }
}
