//! Extracts (spec §8): a *registerutdrag* for one person, and the *underlag till
//! Skatteverket* for a company and period — ordered over HTTP, rendered asynchronously,
//! kept 7 days and downloaded through a short-lived link.
//!
//! Ordering writes a `pending` record and answers at once. Rendering is
//! [`Extracts::render`]: in AWS the table's DynamoDB stream runs the extract-rendering
//! function on the record's INSERT; locally (and in tests) [`Dispatch::InProcess`]
//! spawns it on a tokio task. Rendering itself is pure (rows, register content, CSV,
//! JSON, PDF in the submodules) over what the ledger reads.

pub mod authority;
pub mod model;
mod orders;
pub mod pdf;
pub mod register;
mod render;
pub mod rows;
mod source;
pub mod texts;

pub use model::*;
use source::{histories, LedgerSource};
pub use source::{write_authority, EventSource};

use crate::auth::{Claims, Role};
use crate::error::DomainError;
use crate::identity::pseudonym::PersonRef;
use crate::identity::{Orgnr, PersonId};
use crate::ports::{Clock, ExtractFiles};
use crate::table::Ledger;
use authority::{AuthorityHeader, AuthorityWriter};
use chrono::{DateTime, Utc};
use register::{RegisterDoc, RegisterSection};
use rows::{attach_corrections, build_rows, corrected_events, RowFilter, Span};

use std::sync::Arc;

/// An extract as answered: its status now and, when ready, a fresh download link.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractAnswer {
    pub record: ExtractRecord,
    /// The status now (a `pending` one past its deadline has failed).
    pub status: ExtractStatus,
    pub link: Option<DownloadLink>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DownloadLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// The employee's registrations in one company (`GET /v1/me/registrations`).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnCompany {
    pub company_orgnr: Orgnr,
    pub company_name: Option<String>,
    pub company_active: bool,
    pub person_ref: PersonRef,
    pub person_name: String,
    pub registrations: crate::reads::queries::Registrations,
}

/// How long a download link is valid.
pub const LINK_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Local days an authority extract is built from at a time.
pub const CHUNK_DAYS: u64 = 7;

/// Who renders an ordered extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// The table's DynamoDB stream triggers the extract-rendering function (AWS).
    Stream,
    /// This process renders it on a tokio task (stamp-local, tests).
    InProcess,
}

/// What a rendering did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderOutcome {
    Ready {
        sha256: String,
        bytes: u64,
    },
    Failed(String),
    /// Not pending any more (rendered by an earlier delivery of the trigger).
    AlreadyDone,
    Missing,
}

#[derive(Clone)]
pub struct Extracts {
    ledger: Ledger,
    files: Arc<dyn ExtractFiles>,
    clock: Arc<dyn Clock>,
    dispatch: Dispatch,
    link_ttl: std::time::Duration,
}

/// The role an actor acted in for the record: the least one that allows the action.
fn acting_role(claims: &Claims, candidates: &[Role]) -> String {
    candidates
        .iter()
        .find(|r| claims.has_role(**r))
        .map(|r| r.as_str().to_string())
        .unwrap_or_else(|| claims.primary_role().to_string())
}

/// The person an employee token speaks for.
pub fn require_employee(claims: &Claims) -> Result<PersonId, DomainError> {
    if !claims.has_role(Role::Employee) {
        return Err(DomainError::Forbidden(
            "this needs the employee role".into(),
        ));
    }
    let raw = claims
        .person_id
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| DomainError::Forbidden("an employee token must carry person_id".into()))?;
    PersonId::parse(raw, None, None).map_err(|_| {
        DomainError::Forbidden(
            "the token's person_id is not a personnummer or samordningsnummer".into(),
        )
    })
}

/// A whole timeline: every instant Stamp can hold.
fn all_time() -> Span {
    let t = |s: &str| crate::time::parse_rfc3339(s).expect("a fixed time");
    Span {
        from: t("1900-01-01T00:00:00Z"),
        to: t("9999-12-31T00:00:00Z"),
    }
}

impl Extracts {
    pub fn new(
        ledger: Ledger,
        files: Arc<dyn ExtractFiles>,
        clock: Arc<dyn Clock>,
        dispatch: Dispatch,
    ) -> Self {
        Extracts {
            ledger,
            files,
            clock,
            dispatch,
            link_ttl: LINK_TTL,
        }
    }

    pub fn with_link_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.link_ttl = ttl;
        self
    }

    pub fn files(&self) -> &Arc<dyn ExtractFiles> {
        &self.files
    }

    /// An extract as it stands now (no download link).
    pub fn shown(&self, record: ExtractRecord) -> ExtractAnswer {
        ExtractAnswer {
            status: record.status_at(self.clock.now()),
            record,
            link: None,
        }
    }
}

#[cfg(test)]
mod tests;
