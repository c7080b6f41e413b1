//! A JSON delivery read as it streams: the envelope's fields in any order, the events
//! array handed on one event at a time, duplicate and unknown envelope keys refused.

use super::{batch_id_ok, raw_event, BatchIdRule, EnvelopeError, EnvelopeInfo, RawEvent};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;
use std::io::Read;

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

pub(super) fn stream_json<R: Read>(
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
