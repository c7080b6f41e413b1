//! A partner's delivery, from raw bytes to stored events (spec §5): parse the envelope,
//! validate each event on its own, archive first, then index.

mod parse;
mod service;
mod validate;

pub use parse::{
    parse_delivery, Delivery, DeliveryFormat, EnvelopeError, RawEvent, MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
};
pub use service::{BatchAnswer, ImportService, Rejected};
pub use validate::{validate_event, Rejection, RejectionCode};
