//! The privacy notice served at `GET /v1/privacy`; the same text stands in the README
//! (a test checks they agree). Its source is docs/privacy-notice.md.

use serde_json::{json, Value};

pub const PRIVACY_NOTICE_MARKDOWN: &str = include_str!("../../../docs/privacy-notice.md");

pub fn privacy_notice() -> Value {
    json!({
        "controller": "the construction company whose staff ledger it is; Stamp is its processor",
        "purposes": [
            "keep the electronic staff ledger required at construction sites (SFL 39 kap. 11–12 §§)",
            "make it available at once to Skatteverket at an inspection",
            "let the company and its people see check-ins and check-outs",
            "find double registrations and faulty check-ins and check-outs",
        ],
        "legal_basis": [
            "GDPR art. 6.1 c, legal obligation: SFL 39 kap. 11–12 §§, SFF 9 kap. 5 §, SKVFS 2015:6",
            "GDPR art. 6.1 f and 5.2 for the audit log (accountability)",
        ],
        "categories": [
            "name", "personnummer, samordningsnummer or foreign id with country", "employer", "ID06 card number",
            "site ID", "check-in and check-out times", "who entered or corrected a registration and when", "audit log",
        ],
        "recipients": ["Skatteverket, on inspection or request", "the employee, through a register extract"],
        "processors": ["Amazon Web Services EMEA SARL (hosting in the EU, eu-north-1)"],
        "sources": ["the ledger systems (partners) at the building sites"],
        "retention": "until two years after the end of the calendar year in which the company's fiscal year ends (SFF 9 kap.), then erased unless a legal hold keeps it",
        "rights": ["access (free register extract)", "rectification through corrections", "restriction and objection where the law allows", "complaint to Integritetsskyddsmyndigheten (IMY)"],
        "text": PRIVACY_NOTICE_MARKDOWN,
    })
}
