use super::{all_digits, country, luhn_ok, real_date, Invalid};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonIdKind {
    Personnummer,
    Samordningsnummer,
    Foreign,
}

impl PersonIdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonIdKind::Personnummer => "personnummer",
            PersonIdKind::Samordningsnummer => "samordningsnummer",
            PersonIdKind::Foreign => "foreign",
        }
    }
}

/// A person's identity as delivered. A 12-digit number whose date or checksum fails is
/// still a `PersonId` (the ledger is what it is) with `valid == false`; spec §6 flags it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonId {
    kind: PersonIdKind,
    value: String,
    country: Option<String>,
    valid: bool,
}

/// The outcome of reading a person id: usable (possibly flagged) or rejected.
pub type PersonIdParse = Result<PersonId, Invalid>;

impl PersonId {
    /// `kind` is the delivered `person_id_kind` (`None` = personnummer), `country` the
    /// delivered `person_country`.
    pub fn parse(raw: &str, kind: Option<&str>, country: Option<&str>) -> PersonIdParse {
        match kind.unwrap_or("personnummer") {
            "personnummer" => Self::parse_swedish(raw),
            "foreign" => Self::parse_foreign(raw, country),
            other => Err(Invalid::new(format!(
                "person_id_kind must be personnummer or foreign, got {other:?}"
            ))),
        }
    }

    fn parse_swedish(raw: &str) -> PersonIdParse {
        // A `-` or `+` before the last four digits is accepted.
        let compact = if raw.len() == 13 && matches!(raw.as_bytes()[8], b'-' | b'+') {
            format!("{}{}", &raw[..8], &raw[9..])
        } else {
            raw.to_string()
        };
        if !all_digits(&compact) || compact.len() != 12 {
            return Err(Invalid::new(format!(
                "must be a 12-digit personnummer or samordningsnummer (YYYYMMDDNNNN), got {} characters",
                raw.chars().count()
            )));
        }
        let day: u32 = compact[6..8].parse().unwrap_or(0);
        let (kind, date) = if day > 60 {
            (
                PersonIdKind::Samordningsnummer,
                format!("{}{:02}", &compact[..6], day - 60),
            )
        } else {
            (PersonIdKind::Personnummer, compact[..8].to_string())
        };
        let valid = real_date(&date).is_some() && luhn_ok(&compact[2..]);
        Ok(PersonId {
            kind,
            value: compact,
            country: None,
            valid,
        })
    }

    fn parse_foreign(raw: &str, country_raw: Option<&str>) -> PersonIdParse {
        let n = raw.chars().count();
        if n == 0 || n > 32 {
            return Err(Invalid::new("a foreign id must be 1–32 characters"));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(Invalid::new("a foreign id must be printable characters"));
        }
        let Some(c) = country_raw.filter(|c| !c.is_empty()) else {
            return Err(Invalid::new(
                "person_country is required with person_id_kind foreign",
            ));
        };
        if !country::is_iso3166_alpha2(c) {
            return Err(Invalid::new(format!(
                "person_country must be an ISO 3166 alpha-2 code, got {c:?}"
            )));
        }
        Ok(PersonId {
            kind: PersonIdKind::Foreign,
            value: raw.to_string(),
            country: Some(c.to_string()),
            valid: true,
        })
    }

    pub fn kind(&self) -> PersonIdKind {
        self.kind
    }
    /// The normalised id (12 digits for Swedish ids).
    pub fn value(&self) -> &str {
        &self.value
    }
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }
    /// False for a personnummer/samordningsnummer whose date or checksum fails.
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The canonical text a person is recognised by (kind, country, id).
    pub fn canonical(&self) -> String {
        match self.kind {
            PersonIdKind::Foreign => {
                format!(
                    "foreign:{}:{}",
                    self.country.as_deref().unwrap_or(""),
                    self.value
                )
            }
            _ => format!("se:{}", self.value),
        }
    }

    /// The masked form for lists: `YYYYMMDD-XXXX`; for a foreign id its country and
    /// `XXXX` (spec §2.6: the full id only in extracts and single-record views).
    pub fn masked(&self) -> String {
        match self.kind {
            PersonIdKind::Foreign => {
                format!("{}-XXXX", self.country.as_deref().unwrap_or("??"))
            }
            _ => format!("{}-XXXX", &self.value[..8]),
        }
    }
}

#[cfg(test)]
mod tests;
