//! An extract as Stamp keeps it: what was ordered, by whom and when, its status, the
//! file once rendered (key, SHA-256), and every download link handed out.

use crate::error::DomainError;
use crate::identity::pseudonym::PersonRef;
use crate::identity::{Orgnr, PersonId, SiteId};
use crate::time::{local_day_start, parse_rfc3339, Instant};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The item type the DynamoDB stream filter of the extract-rendering function matches
/// (template.yaml: INSERTs whose `item_type` is this).
pub const ITEM_TYPE: &str = "extract";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtractKind {
    /// *Registerutdrag* (GDPR art. 15): everything on one person.
    RegisterExtract,
    /// *Underlag till Skatteverket*: a company's ledger for a period.
    Authority,
}

impl ExtractKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractKind::RegisterExtract => "register_extract",
            ExtractKind::Authority => "authority",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "register_extract" => Some(ExtractKind::RegisterExtract),
            "authority" => Some(ExtractKind::Authority),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExtractFormat {
    Csv,
    Pdf,
    Json,
}

impl ExtractFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExtractFormat::Csv => "csv",
            ExtractFormat::Pdf => "pdf",
            ExtractFormat::Json => "json",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "csv" => Some(ExtractFormat::Csv),
            "pdf" => Some(ExtractFormat::Pdf),
            "json" => Some(ExtractFormat::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExtractFormat::Csv => "text/csv; charset=utf-8",
            ExtractFormat::Pdf => "application/pdf",
            ExtractFormat::Json => "application/json",
        }
    }

    /// The formats each kind comes in (spec §8).
    pub fn allowed_for(self, kind: ExtractKind) -> bool {
        match kind {
            ExtractKind::RegisterExtract => {
                matches!(self, ExtractFormat::Pdf | ExtractFormat::Json)
            }
            ExtractKind::Authority => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExtractStatus {
    Pending,
    Ready,
    Failed,
}

/// Who did something, in which role, when (ordering, each download).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    pub sub: String,
    pub role: String,
    pub at: DateTime<Utc>,
}

/// An order as validated: what to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractRequest {
    pub kind: ExtractKind,
    pub format: ExtractFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ref: Option<PersonRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    /// Only the rows of people this employer's (spec §4 `employer=`; authority only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer: Option<Orgnr>,
}

/// An order as it arrives in a request body; every field optional so that a missing one
/// is answered with a problem naming it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct OrderBody {
    pub kind: Option<String>,
    pub format: Option<String>,
    pub person_ref: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub site_id: Option<String>,
    pub employer: Option<String>,
}

/// `from`/`to` of an authority extract: RFC 3339, or a Swedish local date (its midnight).
pub fn parse_bound(field: &str, raw: &str) -> Result<Instant, DomainError> {
    if let Ok(d) = raw.parse::<NaiveDate>() {
        return Ok(local_day_start(d));
    }
    parse_rfc3339(raw)
        .map_err(|e| DomainError::invalid(field, format!("must be a date YYYY-MM-DD or {e}")))
}

impl OrderBody {
    /// Validates the order's shape (not yet whether the person exists).
    pub fn validate(self) -> Result<ExtractRequest, DomainError> {
        let kind_raw = self
            .kind
            .filter(|k| !k.is_empty())
            .ok_or_else(|| DomainError::missing("kind"))?;
        let kind = ExtractKind::parse(&kind_raw).ok_or_else(|| {
            DomainError::invalid(
                "kind",
                format!("must be register_extract or authority, got {kind_raw:?}"),
            )
        })?;
        let format_raw = self
            .format
            .filter(|f| !f.is_empty())
            .ok_or_else(|| DomainError::missing("format"))?;
        let format = ExtractFormat::parse(&format_raw)
            .filter(|f| f.allowed_for(kind))
            .ok_or_else(|| {
                DomainError::invalid(
                    "format",
                    match kind {
                        ExtractKind::RegisterExtract => {
                            format!("a register_extract is pdf or json, got {format_raw:?}")
                        }
                        ExtractKind::Authority => {
                            format!("an authority extract is csv, pdf or json, got {format_raw:?}")
                        }
                    },
                )
            })?;
        let person_ref = self.person_ref.filter(|p| !p.is_empty());
        if let Some(p) = &person_ref {
            if p.len() > 64 || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(DomainError::invalid(
                    "person_ref",
                    "is not a person_ref Stamp gave out",
                ));
            }
        }
        let person_ref = person_ref.map(PersonRef::named);
        match kind {
            ExtractKind::RegisterExtract => {
                let person_ref = person_ref.ok_or_else(|| DomainError::missing("person_ref"))?;
                for (field, value) in [
                    ("from", &self.from),
                    ("to", &self.to),
                    ("site_id", &self.site_id),
                    ("employer", &self.employer),
                ] {
                    if value.as_deref().is_some_and(|v| !v.is_empty()) {
                        return Err(DomainError::invalid(field, "a register_extract holds everything on the person; it takes no range or site"));
                    }
                }
                Ok(ExtractRequest {
                    kind,
                    format,
                    person_ref: Some(person_ref),
                    from: None,
                    to: None,
                    site_id: None,
                    employer: None,
                })
            }
            ExtractKind::Authority => {
                let from = self
                    .from
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| DomainError::missing("from"))?;
                let to = self
                    .to
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| DomainError::missing("to"))?;
                let from = parse_bound("from", &from)?;
                let to = parse_bound("to", &to)?;
                if to <= from {
                    return Err(DomainError::invalid("to", "must be after from"));
                }
                let site_id = self
                    .site_id
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        SiteId::parse(&s)
                            .map_err(|e| DomainError::invalid("site_id", e.to_string()))
                    })
                    .transpose()?;
                let employer = self
                    .employer
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        Orgnr::parse(&s)
                            .map_err(|e| DomainError::invalid("employer", e.to_string()))
                    })
                    .transpose()?;
                Ok(ExtractRequest {
                    kind,
                    format,
                    person_ref,
                    from: Some(from),
                    to: Some(to),
                    site_id,
                    employer,
                })
            }
        }
    }
}

/// The rendered file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractFile {
    pub key: String,
    pub sha256: String,
    pub bytes: u64,
    pub content_type: String,
    pub file_name: String,
    pub rendered_at: DateTime<Utc>,
}

/// An extract as stored (item `CO#{ck}#EXTRACTS / {id}`, or `ME#{subject}#EXTRACTS / {id}`
/// for an employee's own). Created `pending` (create-only), then updated once to
/// `ready` or `failed`, and on every download link handed out — each update conditional
/// on `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtractRecord {
    pub id: String,
    pub item_type: String,
    pub kind: ExtractKind,
    pub format: ExtractFormat,
    pub status: ExtractStatus,
    pub request: ExtractRequest,
    /// The company whose ledger it is; `None` for an employee's own extract, which
    /// spans every company holding the person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_orgnr: Option<Orgnr>,
    /// The person an employee's own extract is about (from the token's `person_id`);
    /// only ever an attribute, never in a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<PersonId>,
    pub ordered_by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<ExtractFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Every download link handed out: who, in which role, when.
    #[serde(default)]
    pub downloads: Vec<Actor>,
    #[serde(default)]
    pub version: i64,
}

/// How long an extract may stay `pending` before it is reported `failed`: longer than
/// the rendering function's timeout times its attempts (template.yaml: 900 s, 3).
pub const RENDER_DEADLINE: chrono::Duration = chrono::Duration::minutes(60);

impl ExtractRecord {
    /// The status as answered: a `pending` extract past [`RENDER_DEADLINE`] has failed
    /// (its rendering gave up without being able to say so).
    pub fn status_at(&self, now: DateTime<Utc>) -> ExtractStatus {
        match self.status {
            ExtractStatus::Pending if now - self.ordered_by.at > RENDER_DEADLINE => {
                ExtractStatus::Failed
            }
            s => s,
        }
    }
}

#[cfg(test)]
mod tests;
