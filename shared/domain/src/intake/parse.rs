//! Reading a delivery's envelope: JSON `{"batch_id", "events": [...]}`, a pulled feed
//! page `{"events": [...], "next_cursor", "has_more"}`, or CSV with a header row. Each
//! event comes out as a map of field name to JSON value; CSV cells are strings and an
//! empty cell is an absent field.
//!
//! There is one reader, [`stream_delivery`], which hands events to a sink one at a time
//! from any `std::io::Read`: a push collects them ([`parse_delivery`]), an upload of
//! hundreds of megabytes is validated and indexed chunk by chunk without ever holding the
//! whole delivery in memory.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;
use std::io::Read;

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

// --- JSON ----------------------------------------------------------------------------

#[derive(Debug, Default, PartialEq)]
enum EventsState {
    #[default]
    Absent,
    Null,
    Array(usize),
    Malformed,
    Twice,
}

/// What the visitor learns while reading; kept outside serde's error so the envelope can
/// be judged (in a fixed order) once the document has been read.
#[derive(Default)]
struct JsonState {
    not_object: bool,
    batch_id: Option<Value>,
    events: EventsState,
    next_cursor: Option<Value>,
    has_more: Option<Value>,
    aborted: Option<String>,
}

struct Top<'a, 's> {
    state: &'a RefCell<JsonState>,
    feed: bool,
    sink: &'a mut (dyn FnMut(usize, RawEvent) -> Result<(), String> + 's),
}

macro_rules! not_an_object {
    ($($name:ident: $t:ty),*) => {
        $(fn $name<E: de::Error>(self, _: $t) -> Result<(), E> {
            self.state.borrow_mut().not_object = true;
            Err(E::custom("not an object"))
        })*
    };
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    not_an_object!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.state.borrow_mut().not_object = true;
        Err(E::custom("not an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.state.borrow_mut().not_object = true;
        Err(de::Error::custom("not an object"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "batch_id" => {
                    let v = map.next_value::<Value>()?;
                    self.state.borrow_mut().batch_id = Some(v);
                }
                "events" => {
                    if self.state.borrow().events != EventsState::Absent {
                        map.next_value::<IgnoredAny>()?;
                        self.state.borrow_mut().events = EventsState::Twice;
                        continue;
                    }
                    let found = map.next_value_seed(Events {
                        state: self.state,
                        sink: &mut *self.sink,
                    })?;
                    self.state.borrow_mut().events = found;
                }
                "next_cursor" if self.feed => {
                    let v = map.next_value::<Value>()?;
                    self.state.borrow_mut().next_cursor = Some(v);
                }
                "has_more" if self.feed => {
                    let v = map.next_value::<Value>()?;
                    self.state.borrow_mut().has_more = Some(v);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Events<'a, 's> {
    state: &'a RefCell<JsonState>,
    sink: &'a mut (dyn FnMut(usize, RawEvent) -> Result<(), String> + 's),
}

impl<'de> DeserializeSeed<'de> for Events<'_, '_> {
    type Value = EventsState;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<EventsState, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Events<'_, '_> {
    type Value = EventsState;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events")
    }
    fn visit_unit<E: de::Error>(self) -> Result<EventsState, E> {
        Ok(EventsState::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<EventsState, E> {
        Ok(EventsState::Malformed)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<EventsState, E> {
        Ok(EventsState::Malformed)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<EventsState, E> {
        Ok(EventsState::Malformed)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<EventsState, E> {
        Ok(EventsState::Malformed)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<EventsState, E> {
        Ok(EventsState::Malformed)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventsState, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(EventsState::Malformed)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventsState, A::Error> {
        let mut n = 0usize;
        while let Some(v) = seq.next_element::<Value>()? {
            if let Err(why) = (self.sink)(n, raw_event(v)) {
                self.state.borrow_mut().aborted = Some(why);
                return Err(de::Error::custom("aborted by the consumer"));
            }
            n += 1;
        }
        Ok(EventsState::Array(n))
    }
}

fn stream_json<R: Read>(
    reader: R,
    rule: BatchIdRule<'_>,
    feed: bool,
    sink: &mut dyn FnMut(usize, RawEvent) -> Result<(), String>,
) -> Result<EnvelopeInfo, EnvelopeError> {
    let state = RefCell::new(JsonState::default());
    let mut de = serde_json::Deserializer::from_reader(reader);
    let read = Top {
        state: &state,
        feed,
        sink,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    let state = state.into_inner();
    if let Err(e) = read {
        if let Some(why) = state.aborted {
            return Err(EnvelopeError::Aborted(why));
        }
        if e.is_io() {
            return Err(EnvelopeError::Aborted(format!(
                "reading the bytes failed: {e}"
            )));
        }
        if state.not_object {
            return Err(EnvelopeError::Malformed {
                field: "body",
                reason: if feed {
                    "must be a JSON object with events, next_cursor and has_more".into()
                } else {
                    "must be a JSON object with batch_id and events".into()
                },
            });
        }
        return Err(EnvelopeError::Malformed {
            field: "body",
            reason: format!("is not valid JSON: {e}"),
        });
    }
    let batch_id = match rule {
        BatchIdRule::Given(id) => batch_id_ok(id)?,
        BatchIdRule::FromBody | BatchIdRule::Declared(_) => match (state.batch_id, rule) {
            (Some(Value::String(s)), BatchIdRule::Declared(d)) if s != d => {
                return Err(EnvelopeError::Malformed {
                    field: "batch_id",
                    reason: format!(
                        "the body names batch_id {s:?}, but the upload was created for {d:?}"
                    ),
                })
            }
            (Some(Value::String(s)), _) => batch_id_ok(&s)?,
            (None | Some(Value::Null), BatchIdRule::Declared(d)) => batch_id_ok(d)?,
            (None | Some(Value::Null), _) => {
                return Err(EnvelopeError::Missing {
                    field: "batch_id",
                    reason: "is required".into(),
                })
            }
            (Some(_), _) => {
                return Err(EnvelopeError::Malformed {
                    field: "batch_id",
                    reason: "must be a string".into(),
                })
            }
        },
    };
    let events = match state.events {
        EventsState::Array(n) => n,
        EventsState::Absent | EventsState::Null => {
            return Err(EnvelopeError::Missing {
                field: "events",
                reason: "is required (an array of events)".into(),
            })
        }
        EventsState::Malformed => {
            return Err(EnvelopeError::Malformed {
                field: "events",
                reason: "must be an array of events".into(),
            })
        }
        EventsState::Twice => {
            return Err(EnvelopeError::Malformed {
                field: "events",
                reason: "appears more than once".into(),
            })
        }
    };
    let mut info = EnvelopeInfo {
        batch_id,
        events,
        next_cursor: None,
        has_more: false,
    };
    if feed {
        info.has_more = match state.has_more {
            Some(Value::Bool(b)) => b,
            None | Some(Value::Null) => {
                return Err(EnvelopeError::Missing {
                    field: "has_more",
                    reason: "is required (true or false)".into(),
                })
            }
            Some(_) => {
                return Err(EnvelopeError::Malformed {
                    field: "has_more",
                    reason: "must be true or false".into(),
                })
            }
        };
        info.next_cursor = match state.next_cursor {
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s))
                if s.chars().count() > 1024 || s.chars().any(char::is_control) =>
            {
                return Err(EnvelopeError::Malformed {
                    field: "next_cursor",
                    reason: "must be at most 1024 printable characters".into(),
                })
            }
            Some(Value::String(s)) => Some(s),
            None | Some(Value::Null) => None,
            Some(_) => {
                return Err(EnvelopeError::Malformed {
                    field: "next_cursor",
                    reason: "must be a string".into(),
                })
            }
        };
        if info.has_more && info.next_cursor.is_none() {
            return Err(EnvelopeError::Missing {
                field: "next_cursor",
                reason: "is required when has_more is true".into(),
            });
        }
    }
    Ok(info)
}

// --- CSV -----------------------------------------------------------------------------

/// Drops a UTF-8 byte-order mark at the start of a stream.
struct SkipBom<R> {
    inner: R,
    head: Vec<u8>,
    checked: bool,
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.checked {
            self.checked = true;
            let mut head = [0u8; 3];
            let mut n = 0;
            while n < 3 {
                let got = self.inner.read(&mut head[n..])?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            if head[..n] != [0xef, 0xbb, 0xbf] {
                self.head = head[..n].to_vec();
            }
        }
        if !self.head.is_empty() {
            let n = self.head.len().min(buf.len());
            buf[..n].copy_from_slice(&self.head[..n]);
            self.head.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

fn csv_failure(e: &csv::Error, what: &str) -> Option<EnvelopeError> {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => Some(EnvelopeError::Malformed {
            field: "body",
            reason: format!("CSV must be UTF-8: {err}"),
        }),
        csv::ErrorKind::Io(io) => Some(EnvelopeError::Aborted(format!(
            "reading the {what} failed: {io}"
        ))),
        _ => None,
    }
}

fn stream_csv<R: Read>(
    reader: R,
    rule: BatchIdRule<'_>,
    sink: &mut dyn FnMut(usize, RawEvent) -> Result<(), String>,
) -> Result<EnvelopeInfo, EnvelopeError> {
    let batch_id = match rule {
        BatchIdRule::Given(id) | BatchIdRule::Declared(id) => batch_id_ok(id)?,
        BatchIdRule::FromBody => batch_id_ok("")?,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(SkipBom {
            inner: reader,
            head: Vec::new(),
            checked: false,
        });
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|h| h.trim().to_string()).collect(),
        Err(e) => {
            return Err(
                csv_failure(&e, "header row").unwrap_or_else(|| EnvelopeError::Malformed {
                    field: "body",
                    reason: format!("CSV header row cannot be read: {e}"),
                }),
            )
        }
    };
    if headers.iter().all(|h| h.is_empty()) {
        return Err(EnvelopeError::Missing {
            field: "body",
            reason: "CSV needs a header row naming the fields".into(),
        });
    }
    let mut n = 0usize;
    let mut record = csv::StringRecord::new();
    loop {
        let event = match reader.read_record(&mut record) {
            Ok(false) => break,
            Err(e) => match csv_failure(&e, "rows") {
                Some(fatal) => return Err(fatal),
                None => Err(format!("CSV row cannot be read: {e}")),
            },
            Ok(true) if record.len() != headers.len() => Err(format!(
                "CSV row has {} cells, the header has {}",
                record.len(),
                headers.len()
            )),
            Ok(true) => {
                let mut m = Map::new();
                for (h, cell) in headers.iter().zip(record.iter()) {
                    if !cell.is_empty() {
                        m.insert(h.clone(), Value::String(cell.to_string()));
                    }
                }
                Ok(m)
            }
        };
        sink(n, event).map_err(EnvelopeError::Aborted)?;
        n += 1;
    }
    Ok(EnvelopeInfo {
        batch_id,
        events: n,
        next_cursor: None,
        has_more: false,
    })
}

#[cfg(test)]
mod tests;
