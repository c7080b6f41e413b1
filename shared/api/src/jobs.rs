//! Scheduled work shared by the Lambda functions and stamp-local's job runner.

use stamp_domain::governance::audit::{export_day, ChainReport, SealSummary, SETTLE};
use stamp_domain::DomainError;

use crate::state::AppState;

/// Exports yesterday's (Swedish local day) audit entries of every chain to the archive.
pub async fn export_audit_yesterday(state: &AppState) -> Result<usize, DomainError> {
    let today = state
        .clock
        .now()
        .with_timezone(&chrono_tz::Europe::Stockholm)
        .date_naive();
    let day = today.pred_opt().unwrap_or(today);
    let chains = state.audit.chains().await?;
    let n = export_day(state.audit.as_ref(), state.archive.as_ref(), &chains, day).await?;
    tracing::info!(day = %day, files = n, "audit log exported");
    Ok(n)
}

/// The `audit-seal` job: every chain's entries older than [`SETTLE`] into digests.
pub async fn seal_audit(state: &AppState) -> Result<SealSummary, DomainError> {
    let s = state.audit.seal(state.clock.now(), SETTLE).await?;
    tracing::info!(
        chains = s.chains,
        digests = s.digests,
        entries = s.entries,
        lost_races = s.lost_races,
        "audit log sealed"
    );
    Ok(s)
}

/// Every chain checked against its digests.
pub async fn verify_audit(state: &AppState) -> Result<Vec<ChainReport>, DomainError> {
    let mut reports = Vec::new();
    for chain in state.audit.chains().await? {
        reports.push(state.audit.verify(&chain).await?);
    }
    Ok(reports)
}

/// The daily digest and partner-silence notices (06:00 Europe/Stockholm), then a drain
/// of the webhook queue.
pub async fn daily_digest(
    state: &AppState,
) -> Result<stamp_domain::notify::digest::DigestSummary, DomainError> {
    state.notifications.run_daily().await
}

/// One round of webhook retries: every due message of every company.
pub async fn webhook_retry(
    state: &AppState,
) -> Result<stamp_domain::notify::DrainSummary, DomainError> {
    state.notifications.drain().await
}

/// Archive verification (spec §12), every company or one; the report goes to the
/// archive, and each covered company's part to the table.
pub async fn verify_archive(
    state: &AppState,
    company: Option<&stamp_domain::identity::Orgnr>,
) -> Result<stamp_domain::governance::verify::VerificationReport, DomainError> {
    let v = state.verifier().ok_or_else(|| {
        DomainError::Unavailable("no object-lock probe configured for verification".into())
    })?;
    let report = v.run(company).await?;
    // Each covered company's part, for its admins (GET …/verification).
    stamp_domain::governance::verification::record(&state.ledger, &report, company).await?;
    Ok(report)
}
