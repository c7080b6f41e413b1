use super::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Skatteverket's ID of a byggarbetsplats: exactly 13 characters `A–Z`, `0–9`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

impl SiteId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.chars().count() != 13 {
            return Err(Invalid::new(format!(
                "must be exactly 13 characters, got {}",
                raw.chars().count()
            )));
        }
        if let Some(c) = raw
            .chars()
            .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
        {
            return Err(Invalid::new(format!(
                "may only hold A–Z and 0–9, found {c:?}"
            )));
        }
        Ok(SiteId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SiteId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        SiteId::parse(&s)
    }
}

impl From<SiteId> for String {
    fn from(s: SiteId) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests;
