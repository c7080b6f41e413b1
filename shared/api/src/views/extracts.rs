//! Extracts (spec §8) and the employees' own data.

use serde::Serialize;
use stamp_domain::extracts::{Actor, ExtractFormat, ExtractKind, ExtractStatus};
use utoipa::ToSchema;

use super::reads::Registrations;

/// The order as validated.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractRequestView {
    pub kind: ExtractKind,
    pub format: ExtractFormat,
    pub person_ref: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub site_id: Option<String>,
}

/// An extract: pending, ready (with `sha256` and, on `GET`, a short-lived
/// `download_url`) or failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractView {
    pub id: String,
    pub kind: ExtractKind,
    pub format: ExtractFormat,
    pub status: ExtractStatus,
    pub request: ExtractRequestView,
    pub ordered_by: Actor,
    /// Each download link handed out.
    pub downloads: Vec<Actor>,
    pub company_orgnr: Option<String>,
    pub sha256: Option<String>,
    pub bytes: Option<u64>,
    pub content_type: Option<String>,
    pub file_name: Option<String>,
    pub rendered_at: Option<String>,
    pub error: Option<String>,
    pub finished_at: Option<String>,
    /// When ready: valid a few minutes.
    pub download_url: Option<String>,
    pub download_expires_at: Option<String>,
}

/// One company's registrations of the employee.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnCompany {
    #[serde(flatten)]
    pub registrations: Registrations,
    pub company_orgnr: String,
    pub company_name: Option<String>,
    pub company_active: bool,
    pub person_ref: String,
    pub person_name: String,
}

impl From<&stamp_domain::extracts::OwnCompany> for OwnCompany {
    fn from(c: &stamp_domain::extracts::OwnCompany) -> Self {
        OwnCompany {
            registrations: Registrations::from(&c.registrations),
            company_orgnr: c.company_orgnr.to_string(),
            company_name: c.company_name.clone(),
            company_active: c.company_active,
            person_ref: c.person_ref.clone(),
            person_name: c.person_name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnRegistrations {
    pub companies: Vec<OwnCompany>,
}
