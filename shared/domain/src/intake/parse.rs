//! Reading a delivery's envelope: JSON `{"batch_id", "events": [...]}`, a pulled feed
//! page `{"events": [...], "next_cursor", "has_more"}`, or CSV with a header row. Each
//! event comes out as a map of field name to JSON value; CSV cells are strings and an
//! empty cell is an absent field.
//!
//! There is one reader, [`stream_delivery`], which hands events to a sink one at a time
//! from any `std::io::Read`: a push collects them ([`parse_delivery`]), an upload of
//! hundreds of megabytes is validated and indexed chunk by chunk without ever holding the
//! whole delivery in memory.

use serde_json::{Map, Value};
use std::io::Read;

mod csv_stream;
mod json_stream;

use csv_stream::stream_csv;
use json_stream::stream_json;

/// A push larger than this goes through `/partner/v1/uploads` (spec §5).
pub const MAX_BATCH_BYTES: usize = 6 * 1024 * 1024;
pub const MAX_BATCH_EVENTS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFormat {
    Json,
    Csv,
    /// A page of a partner's feed (spec §5 Pull): JSON with `events`, `next_cursor` and
    /// `has_more`; Stamp chooses its batch id.
    FeedPage,
}

impl DeliveryFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            DeliveryFormat::Json | DeliveryFormat::FeedPage => "application/json",
            DeliveryFormat::Csv => "text/csv",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            DeliveryFormat::Json | DeliveryFormat::FeedPage => "json",
            DeliveryFormat::Csv => "csv",
        }
    }
    /// The name kept in receipts and upload records.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryFormat::Json => "json",
            DeliveryFormat::Csv => "csv",
            DeliveryFormat::FeedPage => "feed_page",
        }
    }
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "json" => Some(DeliveryFormat::Json),
            "csv" => Some(DeliveryFormat::Csv),
            "feed_page" => Some(DeliveryFormat::FeedPage),
            _ => None,
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
    /// Reading stopped for a reason outside the delivery (the byte stream failed, or the
    /// consumer of the events gave up); the delivery itself may be fine.
    #[error("reading the delivery stopped: {0}")]
    Aborted(String),
}

/// Where a delivery's batch id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchIdRule<'a> {
    /// A pushed JSON body must carry it.
    FromBody,
    /// Given outside the body (CSV's `?batch_id=`, a feed page's chosen id, a receipt).
    Given(&'a str),
    /// Declared beforehand (an upload): a JSON body may repeat it, but not contradict it.
    Declared(&'a str),
}

/// What the envelope says besides its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeInfo {
    pub batch_id: String,
    /// How many events the delivery holds (each was handed to the sink).
    pub events: usize,
    /// Feed pages: where the next page starts (absent on a last page that names none).
    pub next_cursor: Option<String>,
    /// Feed pages: whether more pages follow.
    pub has_more: bool,
}

/// Reads a whole delivery into memory (a push: at most [`MAX_BATCH_EVENTS`] events).
pub fn parse_delivery(
    format: DeliveryFormat,
    body: &[u8],
    batch_id_param: Option<&str>,
) -> Result<Delivery, EnvelopeError> {
    let rule = match format {
        DeliveryFormat::Json => BatchIdRule::FromBody,
        DeliveryFormat::Csv | DeliveryFormat::FeedPage => {
            BatchIdRule::Given(batch_id_param.unwrap_or(""))
        }
    };
    let mut events = Vec::new();
    let info = stream_delivery(format, body, rule, &mut |_, e| {
        // Past the limit only count: the answer is a 413 anyway.
        if events.len() < MAX_BATCH_EVENTS {
            events.push(e);
        }
        Ok(())
    })?;
    if info.events > MAX_BATCH_EVENTS {
        return Err(EnvelopeError::TooManyEvents(info.events));
    }
    Ok(Delivery {
        batch_id: info.batch_id,
        events,
    })
}

/// A feed page's envelope without its events (the puller reads where to go next).
pub fn feed_page_envelope(body: &[u8]) -> Result<EnvelopeInfo, EnvelopeError> {
    stream_delivery(
        DeliveryFormat::FeedPage,
        body,
        BatchIdRule::Given("page"),
        &mut |_, _| Ok(()),
    )
}

/// Reads a delivery from `reader`, handing each event with its index to `sink` as soon
/// as it is read. An error from the sink stops reading ([`EnvelopeError::Aborted`]).
///
/// The whole envelope is judged only at the end (a JSON syntax error anywhere, a missing
/// `batch_id`), so a caller that must not act on a broken delivery reads it through once
/// before acting on its events.
pub fn stream_delivery<R: Read>(
    format: DeliveryFormat,
    reader: R,
    rule: BatchIdRule<'_>,
    sink: &mut dyn FnMut(usize, RawEvent) -> Result<(), String>,
) -> Result<EnvelopeInfo, EnvelopeError> {
    match format {
        DeliveryFormat::Json | DeliveryFormat::FeedPage => {
            stream_json(reader, rule, format == DeliveryFormat::FeedPage, sink)
        }
        DeliveryFormat::Csv => stream_csv(reader, rule, sink),
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

/// Checks a batch id chosen by a partner (an upload's, before any byte arrives).
pub fn check_batch_id(raw: &str) -> Result<String, EnvelopeError> {
    batch_id_ok(raw)
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

fn raw_event(v: Value) -> RawEvent {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(format!(
            "each event must be a JSON object, got {}",
            json_kind(&other)
        )),
    }
}

#[cfg(test)]
mod tests;
