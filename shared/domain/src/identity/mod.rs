//! The identities of spec §1: organisationsnummer, personnummer/samordningsnummer and
//! foreign ids, Skatteverket's site ID. Each newtype validates in `parse` and can only
//! hold a valid value.

mod country;
mod orgnr;
mod partner_id;
mod person_id;
pub mod pseudonym;
mod site_id;

pub use orgnr::Orgnr;
pub use partner_id::PartnerId;
pub use person_id::{PersonId, PersonIdKind, PersonIdParse};
pub use site_id::SiteId;

/// Why a value is not acceptable; the caller adds the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(reason: impl Into<String>) -> Self {
        Invalid(reason.into())
    }
}

/// Luhn (mod 10) over ASCII digits, as used for personnummer and organisationsnummer.
pub(crate) fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let d = u32::from(b - b'0');
        sum += if i % 2 == 1 {
            let x = d * 2;
            if x > 9 {
                x - 9
            } else {
                x
            }
        } else {
            d
        };
    }
    sum.is_multiple_of(10)
}

pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A real calendar date from `YYYYMMDD`.
pub(crate) fn real_date(yyyymmdd: &str) -> Option<chrono::NaiveDate> {
    let y: i32 = yyyymmdd.get(0..4)?.parse().ok()?;
    let m: u32 = yyyymmdd.get(4..6)?.parse().ok()?;
    let d: u32 = yyyymmdd.get(6..8)?.parse().ok()?;
    chrono::NaiveDate::from_ymd_opt(y, m, d)
}

#[cfg(test)]
mod tests;
