//! A partner's delivery, from raw bytes to stored events (spec §5): parse the envelope,
//! validate each event on its own, archive first, then index. Pushes, uploads, pulled
//! pages and replays from the archive all take this one path.

mod directories;
mod parse;
pub mod pull;
pub mod rebuild;
mod service;
mod stream;
mod survey;
mod uploads;
mod validate;

#[cfg(test)]
mod tests;

pub use parse::{
    check_batch_id, feed_page_envelope, parse_delivery, stream_delivery, BatchIdRule, Delivery,
    DeliveryFormat, EnvelopeError, EnvelopeInfo, RawEvent, MAX_BATCH_BYTES, MAX_BATCH_EVENTS,
};
pub use service::{
    receipt_key, ArchivedDelivery, BatchAnswer, ImportFailure, ImportService, Receipt, Rejected,
    RECEIPTS_PREFIX, STREAM_CHUNK_EVENTS, UPLOAD_REJECTED_LISTED,
};
pub use uploads::{
    parse_upload_key, upload_key, BatchStatus, NewUpload, UploadAnswer, UploadHeaders,
    UploadOutcome, UploadProgress, UploadTicket, MAX_UPLOAD_BYTES, UPLOAD_URL_VALIDITY,
};
pub use validate::{validate_event, Rejection, RejectionCode};
