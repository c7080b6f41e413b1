use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A partner's id as the operator accredited it. Partner ids appear in storage and
/// archive keys, so they keep to a safe alphabet: 1–64 characters `A–Z`, `a–z`, `0–9`,
/// `-`, `_` or `.`, beginning with a letter or digit, so `.`, `..` and other path-like
/// ids (which would name a folder of the archive rather than a partner's own) are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartnerId(String);

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

    pub fn as_str(&self) -> &str {
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

impl From<PartnerId> for String {
    fn from(p: PartnerId) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests;
