use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A partner's id as the operator accredited it. Partner ids appear in storage and
/// archive keys, so they keep to a safe alphabet: 1–64 characters `A–Z`, `a–z`, `0–9`,
/// `-`, `_` or `.`, beginning with a letter or digit, so `.`, `..` and other path-like
/// ids (which would name a folder of the archive rather than a partner's own) are refused.
///
/// On the wire and in storage it is a plain JSON string. `Deserialize` validates (what a
/// client sends); stored types read their ids with [`PartnerId::deserialize_stored`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct PartnerId(String);

/// The id as a plain string (as `String` did, without a copy: events are written often).
impl Serialize for PartnerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl PartnerId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = (1..=64).contains(&raw.len())
            && raw.as_bytes()[0].is_ascii_alphanumeric()
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(PartnerId(raw.to_string()))
        } else {
            Err(Invalid::new(
                "must be 1–64 characters A–Z, a–z, 0–9, '-', '_' or '.', beginning with a letter or digit",
            ))
        }
    }

    /// A partner id as storage holds it (a key, a stored record, the partners
    /// partition). It was validated by [`PartnerId::parse`] before it was first written,
    /// so reading it back neither checks it again nor can fail on data written before the
    /// alphabet was enforced.
    pub fn from_stored(id: impl Into<String>) -> Self {
        PartnerId(id.into())
    }

    /// For `#[serde(deserialize_with = "PartnerId::deserialize_stored")]` on the fields of
    /// stored types: reads any string as [`PartnerId::from_stored`] does. The
    /// `Deserialize` impl (for what clients send) validates; both read and write the id
    /// as a plain JSON string, so stored bytes and the wire format are unchanged.
    pub fn deserialize_stored<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(PartnerId)
    }

    /// [`PartnerId::deserialize_stored`] for an optional field (with `#[serde(default)]`).
    pub fn deserialize_stored_option<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Self>, D::Error> {
        Option::<String>::deserialize(d).map(|o| o.map(PartnerId))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for PartnerId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PartnerId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for PartnerId {
    fn eq(&self, other: &String) -> bool {
        self.0 == *other
    }
}

impl AsRef<str> for PartnerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for PartnerId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PartnerId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        PartnerId::parse(&s)
    }
}

impl From<&PartnerId> for serde_json::Value {
    fn from(p: &PartnerId) -> serde_json::Value {
        serde_json::Value::String(p.0.clone())
    }
}

impl From<PartnerId> for String {
    fn from(p: PartnerId) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests;
