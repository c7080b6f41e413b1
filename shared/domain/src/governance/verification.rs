//! The latest archive verification (spec §12) as a company's admin sees it.
//!
//! A verification run ([`crate::governance::verify::Verifier::run`]) writes one report for the whole
//! run to the archive: every company's receipts, or one company's. Its mismatches name
//! archive keys, not companies. After each run [`record`] splits the report by company —
//! a mismatch belongs to every company whose events the named object holds (from the
//! retention index, the same entries the run walked) — and stores each company's part
//! under `CO#{ck}#VERIFICATION` / `LATEST`, so `GET /v1/companies/{orgnr}/verification`
//! is one read and never shows another company's objects.

use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::governance::verify::{Mismatch, VerificationReport};
use crate::identity::pseudonym::CompanyKey;
use crate::identity::Orgnr;
use crate::ports::WriteOp;
use crate::table::{from_item, item_of, Ledger};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The stored part of the latest run, per company.
pub fn partition(ck: &CompanyKey) -> String {
    format!("CO#{ck}#VERIFICATION")
}
pub const LATEST: &str = "LATEST";

/// What the run covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationScope {
    /// This company alone (`verify-archive --company`).
    Company,
    /// Every company (the weekly run).
    All,
}

/// `GET /v1/companies/{orgnr}/verification`: this company's part of the latest archive
/// verification that covered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompanyVerification {
    pub run_at: DateTime<Utc>,
    pub scope: VerificationScope,
    /// How long the whole run took.
    pub seconds: f64,
    /// Where the run's full report is kept in the archive (under object lock).
    pub report_key: Option<String>,
    /// Receipts of deliveries holding this company's events that the run checked.
    pub receipts: usize,
    /// This company's indexed events and the distinct deliveries they came in; known
    /// when the run verified this company alone (a run over every company counts them
    /// all together).
    pub events: Option<usize>,
    pub event_deliveries: Option<usize>,
    /// No mismatch concerns this company.
    pub ok: bool,
    /// The mismatches whose object holds this company's events.
    pub mismatches: Vec<Mismatch>,
}

/// Splits `report` by company and stores each covered company's part (`company`, the
/// run's one company, or every company the ledger knows). A mismatch whose key the retention index
/// no longer names is given to the run's company when the run had one; in a run over
/// every company it stays in the archived report only.
pub async fn record(
    ledger: &Ledger,
    report: &VerificationReport,
    company: Option<&Orgnr>,
) -> Result<(), DomainError> {
    let companies = ledger.companies().await?;
    let only_ck = company.map(|o| ledger.company_key(o));
    let year = report.run_at.year();
    let entries = ledger.archived_entries(2000..=year + 30).await?;
    // Every archived key → the companies whose events it holds.
    let mut owners: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut receipts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &entries {
        let set = owners.entry(e.key.as_str()).or_default();
        for (ck, _, _) in &e.companies {
            set.insert(ck.as_str());
        }
        if e.key.starts_with(crate::intake::RECEIPTS_PREFIX) {
            for ck in e
                .companies
                .iter()
                .map(|(c, _, _)| c.as_str())
                .collect::<BTreeSet<_>>()
            {
                *receipts.entry(ck).or_default() += 1;
            }
        }
    }
    let mut parts: Vec<(CompanyKey, CompanyVerification)> = Vec::new();
    for (ck, _, _) in &companies {
        if only_ck.as_ref().is_some_and(|o| o != ck) {
            continue;
        }
        let mine: Vec<Mismatch> = report
            .mismatches
            .iter()
            .filter(|m| match owners.get(m.key.as_str()) {
                Some(set) if !set.is_empty() => set.contains(ck.as_str()),
                _ => only_ck.is_some(),
            })
            .cloned()
            .collect();
        let alone = only_ck.is_some();
        parts.push((
            ck.clone(),
            CompanyVerification {
                run_at: report.run_at,
                scope: if alone {
                    VerificationScope::Company
                } else {
                    VerificationScope::All
                },
                seconds: report.seconds,
                report_key: report.report_key.clone(),
                receipts: receipts.get(ck.as_str()).copied().unwrap_or(0),
                events: alone.then_some(report.events),
                event_deliveries: alone.then_some(report.event_deliveries),
                ok: mine.is_empty(),
                mismatches: mine,
            },
        ));
    }
    for (ck, part) in parts {
        let item = item_of(partition(&ck), LATEST.into(), &part)?;
        ledger.store().transact(vec![WriteOp::put(item)]).await?;
    }
    Ok(())
}

/// `GET /v1/companies/{orgnr}/verification` (company_admin): 404 until a run covered
/// the company.
pub async fn latest(
    ledger: &Ledger,
    claims: &Claims,
    orgnr: &Orgnr,
) -> Result<CompanyVerification, DomainError> {
    require_company(ledger, claims, orgnr, CompanyAccess::Admin).await?;
    let ck = ledger.company_key(orgnr);
    match ledger.store().get(&partition(&ck), LATEST).await? {
        Some(item) => from_item(&item),
        None => Err(DomainError::NotFound(
            "no archive verification has covered this company yet".into(),
        )),
    }
}
