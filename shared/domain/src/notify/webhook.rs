//! Webhooks per the Standard Webhooks convention (spec §11): every message carries
//! `webhook-id` (one per message, the same on each retry so receivers can deduplicate),
//! `webhook-timestamp` (the attempt's Unix time) and `webhook-signature`
//! (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the secret's key).
//!
//! Messages wait in a stored queue; each drain posts the due ones. A non-2xx answer or a
//! timeout is retried on [`RETRY_OFFSETS`] (from the message's creation) for 24 h; every
//! attempt is recorded on the message.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The signing secret's prefix (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// When each attempt is due, counted from the message's creation: at once, then after
/// 30 s, 5 min, 30 min, 2 h, 5 h, 10 h and 24 h. After the eighth attempt the message is
/// given up (`failed`).
pub const RETRY_OFFSETS: [Duration; 8] = [
    Duration::zero(),
    Duration::seconds(30),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(24),
];

/// A fresh signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{SECRET_PREFIX}{}", B64.encode(bytes))
}

fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let raw = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    B64.decode(raw).map_err(|e| format!("bad secret: {e}"))
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
}

/// How far a receiver lets `webhook-timestamp` stray from its clock (Standard Webhooks).
pub const TIMESTAMP_TOLERANCE: Duration = Duration::minutes(5);

/// A receiver's check: the timestamp is recent and one of the (space-separated)
/// signatures matches. What the tests' receiver runs, and what docs/webhooks.md shows.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), String> {
    let ts: i64 = timestamp.parse().map_err(|_| "bad timestamp".to_string())?;
    let at = DateTime::from_timestamp(ts, 0).ok_or("bad timestamp")?;
    if (now - at).abs() > TIMESTAMP_TOLERANCE {
        return Err("timestamp outside the tolerance".into());
    }
    let key = secret_key(secret)?;
    for sig in signatures.split(' ') {
        // Constant-time comparison through the MAC itself.
        if let Some(b64) = sig.strip_prefix("v1,") {
            if let Ok(given) = B64.decode(b64) {
                let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
                mac.update(format!("{id}.{ts}.").as_bytes());
                mac.update(body);
                if mac.verify_slice(&given).is_ok() {
                    return Ok(());
                }
            }
        }
    }
    Err("no matching signature".into())
}

/// The headers of one attempt.
pub fn headers(
    secret: &str,
    id: &str,
    at: DateTime<Utc>,
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    let ts = at.timestamp();
    Ok(vec![
        ("content-type".into(), "application/json".into()),
        ("webhook-id".into(), id.to_string()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), sign(secret, id, ts, body)?),
    ])
}

/// One try at delivering a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The HTTP status answered; `None` when none came (timeout, refused connection).
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Every attempt of 24 h failed (or, for e-mail, the mail service refused it).
    Failed,
}

/// When the attempt after `done` attempts is due; `None` once they are used up.
pub fn next_due(created_at: DateTime<Utc>, done: usize) -> Option<DateTime<Utc>> {
    RETRY_OFFSETS.get(done).map(|o| created_at + *o)
}

#[cfg(test)]
mod tests;
