//! Opaque cursors and pages (spec §4: `limit` 1–1000, default 100, larger clamped).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// The longest cursor accepted (encoded).
pub const MAX_CURSOR_LEN: usize = 2048;

/// Where the next page starts: after this key. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "k")]
    pub key: String,
}

impl Cursor {
    pub fn after(key: impl Into<String>) -> Self {
        Cursor { key: key.into() }
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> Result<Self, DomainError> {
        // Cursors this API gives out are sort keys: a few hundred characters at most.
        if raw.len() > MAX_CURSOR_LEN {
            return Err(DomainError::invalid(
                "cursor",
                "is not a cursor this API gave out (too long)",
            ));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| DomainError::invalid("cursor", "is not a cursor this API gave out"))?;
        let c: Cursor = serde_json::from_slice(&bytes)
            .map_err(|_| DomainError::invalid("cursor", "is not a cursor this API gave out"))?;
        // A cursor is only one this API could have given out if its own encoding fits the
        // bound too: a compact or escaped JSON form can pack a key whose encoding does not
        // (found by fuzzing: `fuzz/corpus/cursor/crash-3cc1a2…`).
        if c.encode().len() > MAX_CURSOR_LEN {
            return Err(DomainError::invalid(
                "cursor",
                "is not a cursor this API gave out (too long)",
            ));
        }
        Ok(c)
    }
}

/// `limit` as requested: absent → default; 0 or negative → error; above max → max.
pub fn clamp_limit(raw: Option<i64>) -> Result<usize, DomainError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if n < 1 => Err(DomainError::invalid("limit", "must be between 1 and 1000")),
        Some(n) => Ok((n as usize).min(MAX_LIMIT)),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn last(items: Vec<T>) -> Self {
        Page { items, next: None }
    }
    pub fn more(items: Vec<T>, next: Cursor) -> Self {
        Page {
            items,
            next: Some(next),
        }
    }
}

#[cfg(test)]
mod tests;
