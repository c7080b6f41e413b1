//! The privacy notice served at `GET /v1/privacy`; the same text stands in the README
//! (a test checks they agree). Its source is docs/privacy-notice.md.

use serde::Serialize;

pub const PRIVACY_NOTICE_MARKDOWN: &str = include_str!("../../../../docs/privacy-notice.md");

/// The privacy notice (GDPR art. 13–14).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrivacyNotice {
    pub controller: &'static str,
    pub purposes: Vec<&'static str>,
    pub legal_basis: Vec<&'static str>,
    pub categories: Vec<&'static str>,
    pub recipients: Vec<&'static str>,
    pub processors: Vec<&'static str>,
    pub sources: Vec<&'static str>,
    pub retention: &'static str,
    pub rights: Vec<&'static str>,
    /// The notice in Markdown (docs/privacy-notice.md).
    pub text: &'static str,
}

pub fn privacy_notice() -> PrivacyNotice {
    PrivacyNotice {
        controller: "the construction company whose staff ledger it is; Stamp is its processor",
        purposes: vec![
            "keep the electronic staff ledger required at construction sites (SFL 39 kap. 11–12 §§)",
            "make it available at once to Skatteverket at an inspection",
            "let the company and its people see check-ins and check-outs",
            "find double registrations and faulty check-ins and check-outs",
        ],
        legal_basis: vec![
            "GDPR art. 6.1 c, legal obligation: SFL 39 kap. 11–12 §§, SFF 9 kap. 5 §, SKVFS 2015:6",
            "GDPR art. 6.1 f and 5.2 for the audit log (accountability)",
        ],
        categories: vec![
            "name", "personnummer, samordningsnummer or foreign id with country", "employer", "ID06 card number",
            "site ID", "check-in and check-out times", "who entered or corrected a registration and when", "audit log",
        ],
        recipients: vec!["Skatteverket, on inspection or request", "the employee, through a register extract"],
        processors: vec!["Amazon Web Services EMEA SARL (hosting in the EU, eu-north-1)"],
        sources: vec!["the ledger systems (partners) at the building sites"],
        retention: "until two years after the end of the calendar year in which the company's fiscal year ends (SFF 9 kap.), then erased unless a legal hold keeps it",
        rights: vec!["access (free register extract)", "rectification through corrections", "restriction and objection where the law allows", "complaint to Integritetsskyddsmyndigheten (IMY)"],
        text: PRIVACY_NOTICE_MARKDOWN,
    }
}
