use super::{all_digits, luhn_ok, real_date, Invalid};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An organisationsnummer, normalised to its 10 digits. Accepts `NNNNNN-NNNN`, the
/// 12-digit `16`-prefixed form, and a sole trader's 12-digit personnummer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Orgnr(String);

impl Orgnr {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let compact: String = match s.len() {
            11 if s.as_bytes()[6] == b'-' => format!("{}{}", &s[..6], &s[7..]),
            13 if s.as_bytes()[8] == b'-' => format!("{}{}", &s[..8], &s[9..]),
            _ => s.to_string(),
        };
        if !all_digits(&compact) {
            return Err(Invalid::new(
                "must be 10 digits (or 12 with a 16 or century prefix)",
            ));
        }
        let ten = match compact.len() {
            10 => compact,
            12 if compact.starts_with("16") => compact[2..].to_string(),
            // A sole trader's personnummer: the date must exist.
            12 if compact.starts_with("19") || compact.starts_with("20") => {
                let day_ok = real_date(&compact[..8]).is_some()
                    || compact[6..8]
                        .parse::<u32>()
                        .ok()
                        .filter(|d| *d > 60)
                        .and_then(|d| real_date(&format!("{}{:02}", &compact[..6], d - 60)))
                        .is_some();
                if !day_ok {
                    return Err(Invalid::new(
                        "is a 12-digit personnummer with a date that does not exist",
                    ));
                }
                compact[2..].to_string()
            }
            _ => {
                return Err(Invalid::new(
                    "must be 10 digits (or 12 with a 16 or century prefix)",
                ))
            }
        };
        if !luhn_ok(&ten) {
            return Err(Invalid::new("fails the Luhn check"));
        }
        Ok(Orgnr(ten))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Orgnr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Orgnr {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Orgnr::parse(&s)
    }
}

impl From<Orgnr> for String {
    fn from(o: Orgnr) -> String {
        o.0
    }
}

#[cfg(test)]
mod tests;
