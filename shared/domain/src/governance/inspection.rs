//! Inspection links (spec §10): a company_admin hands Skatteverket's inspector a link to
//! one site's ledger, valid for hours, revocable at once.
//!
//! The secret is `{id}.{verifier}`: the id (public, it names the link in lists and in
//! the audit trail) selects the stored link, the verifier is 256 bits from the OS's
//! random source. Stamp keeps only the SHA-256 of the whole secret and compares it in
//! constant time. Every check reads the stored link afresh, so an expiry or a
//! revocation is effective at the next request.

use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::{Orgnr, SiteId};
use crate::ports::Clock;
use crate::table::Ledger;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

pub const DEFAULT_VALID_HOURS: i64 = 72;
pub const MAX_VALID_HOURS: i64 = 336;
const MAX_NOTE_CHARS: usize = 500;
/// The role an inspection link's holder acts in (audit trail, extract records).
pub const INSPECTOR_ROLE: &str = "inspector";

/// A link as stored. `secret_sha256` is the only trace of the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionLink {
    pub id: String,
    pub company_orgnr: Orgnr,
    pub company_name: String,
    pub site_id: SiteId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    pub secret_sha256: String,
    pub version: i64,
}

impl InspectionLink {
    /// The actor its uses are audited as.
    pub fn actor(&self) -> String {
        format!("inspection:{}", self.id)
    }

    pub fn status_at(&self, now: DateTime<Utc>) -> LinkStatus {
        if self.revoked_at.is_some() {
            LinkStatus::Revoked
        } else if now >= self.expires_at {
            LinkStatus::Expired
        } else {
            LinkStatus::Active
        }
    }

    /// Claims standing for the link's holder inside the domain (extract records); they
    /// grant nothing through [`require_company`].
    pub fn claims(&self) -> Claims {
        Claims {
            sub: self.actor(),
            roles: vec![INSPECTOR_ROLE.into()],
            ..Claims::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Active,
    Expired,
    Revoked,
}

/// A link as `GET …/inspections` lists it: never the secret, nor its hash.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    pub id: String,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    pub note: Option<String>,
    pub status: LinkStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// The answer to `POST …/inspections`: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CreatedLink {
    pub id: String,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    pub expires_at: DateTime<Utc>,
    /// `{public_url}/inspect/{secret}`: the portal page that signs the holder in.
    pub link: String,
    /// The bearer secret for `/inspect/v1/…`, for API clients.
    pub secret: String,
    pub note: Option<String>,
}

/// `GET /inspect/v1/site`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct InspectedSite {
    #[schema(value_type = String)]
    pub company_orgnr: Orgnr,
    pub company_name: String,
    #[schema(value_type = String)]
    pub site_id: SiteId,
    pub valid_until: DateTime<Utc>,
}

/// The body of `POST …/inspections`; fields loose so a wrong one is named.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewLink {
    pub site_id: Option<String>,
    /// 1–336, default 72.
    #[schema(value_type = Option<i64>)]
    pub valid_hours: Option<serde_json::Value>,
    pub note: Option<String>,
}

/// Why a presented secret opens nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Not a secret Stamp gave out (or one whose link is gone).
    Unknown,
    /// A real link that has expired or been revoked: audited as that link.
    Ended(Box<InspectionLink>, LinkStatus),
}

impl Refusal {
    pub fn error(&self) -> DomainError {
        DomainError::Unauthenticated(match self {
            Refusal::Unknown => "the inspection link is not valid".into(),
            Refusal::Ended(_, LinkStatus::Revoked) => "the inspection link was revoked".into(),
            Refusal::Ended(..) => "the inspection link has expired".into(),
        })
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new secret and the id in it. 256 random bits from the OS (getrandom).
fn new_secret() -> Result<(String, String), DomainError> {
    let mut id = [0u8; 16];
    let mut verifier = [0u8; 32];
    getrandom::fill(&mut id)
        .and_then(|_| getrandom::fill(&mut verifier))
        .map_err(|e| DomainError::Unavailable(format!("no randomness from the OS: {e}")))?;
    let id = hex::encode(id);
    let secret = format!(
        "{id}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(verifier)
    );
    Ok((id, secret))
}

fn valid_hours(raw: Option<&serde_json::Value>) -> Result<i64, DomainError> {
    match raw {
        None | Some(serde_json::Value::Null) => Ok(DEFAULT_VALID_HOURS),
        Some(v) => v
            .as_i64()
            .filter(|h| (1..=MAX_VALID_HOURS).contains(h))
            .ok_or_else(|| {
                DomainError::invalid("valid_hours", "must be a whole number of hours, 1–336")
            }),
    }
}

#[derive(Clone)]
pub struct Inspections {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
}

impl Inspections {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Inspections { ledger, clock }
    }

    fn view(&self, l: &InspectionLink) -> LinkView {
        LinkView {
            id: l.id.clone(),
            site_id: l.site_id.clone(),
            note: l.note.clone(),
            status: l.status_at(self.clock.now()),
            created_by: l.created_by.clone(),
            created_at: l.created_at,
            expires_at: l.expires_at,
            revoked_at: l.revoked_at,
            revoked_by: l.revoked_by.clone(),
        }
    }

    /// `POST /v1/companies/{orgnr}/inspections` (company_admin of an active company).
    pub async fn create(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        body: NewLink,
        public_url: &str,
    ) -> Result<CreatedLink, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let site_raw = body
            .site_id
            .filter(|s| !s.is_empty())
            .ok_or_else(|| DomainError::missing("site_id"))?;
        let site =
            SiteId::parse(&site_raw).map_err(|e| DomainError::invalid("site_id", e.to_string()))?;
        let hours = valid_hours(body.valid_hours.as_ref())?;
        let note = body
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
        {
            return Err(DomainError::invalid(
                "note",
                "must be at most 500 characters",
            ));
        }
        let activation = self
            .ledger
            .activation(orgnr)
            .await?
            .filter(|a| a.is_active())
            .ok_or_else(|| DomainError::Conflict {
                code: "company_not_activated",
                detail: "a deregistered (or never activated) company cannot make inspection links"
                    .into(),
            })?;
        let ck = self.ledger.company_key(orgnr);
        if self.ledger.site(&ck, site.as_str()).await?.is_none() {
            return Err(DomainError::invalid(
                "site_id",
                "is no site in this company's ledger",
            ));
        }
        let (id, secret) = new_secret()?;
        let now = self.clock.now();
        let link = InspectionLink {
            id: id.clone(),
            company_orgnr: orgnr.clone(),
            company_name: activation.company_name,
            site_id: site.clone(),
            note: note.clone(),
            created_by: claims.sub.clone(),
            created_at: now,
            expires_at: now + Duration::hours(hours),
            revoked_at: None,
            revoked_by: None,
            secret_sha256: hash(&secret),
            version: 0,
        };
        if !self.ledger.save_inspection(&link, None).await? {
            return Err(DomainError::Unavailable(
                "an inspection link id was taken; retry".into(),
            ));
        }
        tracing::info!(inspection_id = %id, hours, "inspection link made");
        Ok(CreatedLink {
            id,
            site_id: site,
            expires_at: link.expires_at,
            link: format!("{}/inspect/{secret}", public_url.trim_end_matches('/')),
            secret,
            note,
        })
    }

    /// `GET /v1/companies/{orgnr}/inspections`, newest first.
    pub async fn list(&self, claims: &Claims, orgnr: &Orgnr) -> Result<Vec<LinkView>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let mut links = self
            .ledger
            .inspections(&self.ledger.company_key(orgnr))
            .await?;
        links.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        Ok(links.iter().map(|l| self.view(l)).collect())
    }

    /// `DELETE /v1/companies/{orgnr}/inspections/{id}`: revoked at once (kept on record).
    pub async fn revoke(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        id: &str,
    ) -> Result<LinkView, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        for _ in 0..10 {
            let link = self
                .ledger
                .inspection(id)
                .await?
                .filter(|l| &l.company_orgnr == orgnr)
                .ok_or_else(|| DomainError::NotFound("no such inspection link".into()))?;
            if link.revoked_at.is_some() {
                return Ok(self.view(&link));
            }
            let mut changed = link.clone();
            changed.revoked_at = Some(self.clock.now());
            changed.revoked_by = Some(claims.sub.clone());
            changed.version += 1;
            if self
                .ledger
                .save_inspection(&changed, Some(link.version))
                .await?
            {
                tracing::info!(inspection_id = %id, "inspection link revoked");
                return Ok(self.view(&changed));
            }
        }
        Err(DomainError::Unavailable(
            "the inspection link is busy; retry".into(),
        ))
    }

    /// The link a bearer secret opens, read afresh: active, or why not.
    pub async fn open(&self, secret: &str) -> Result<Result<InspectionLink, Refusal>, DomainError> {
        let Some((id, _)) = secret.split_once('.') else {
            return Ok(Err(Refusal::Unknown));
        };
        if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || secret.len() > 128 {
            return Ok(Err(Refusal::Unknown));
        }
        let Some(link) = self.ledger.inspection(id).await? else {
            return Ok(Err(Refusal::Unknown));
        };
        let presented = hash(secret);
        if !bool::from(presented.as_bytes().ct_eq(link.secret_sha256.as_bytes())) {
            return Ok(Err(Refusal::Unknown));
        }
        match link.status_at(self.clock.now()) {
            LinkStatus::Active => Ok(Ok(link)),
            status => Ok(Err(Refusal::Ended(Box::new(link), status))),
        }
    }

    /// The link a portal inspector session names (by id, after the secret was checked
    /// once by [`Self::open`]), read afresh: active, or why not — so an expiry or a
    /// revocation ends the session at its next request.
    pub async fn reopen(&self, id: &str) -> Result<Result<InspectionLink, Refusal>, DomainError> {
        let Some(link) = self.ledger.inspection(id).await? else {
            return Ok(Err(Refusal::Unknown));
        };
        match link.status_at(self.clock.now()) {
            LinkStatus::Active => Ok(Ok(link)),
            status => Ok(Err(Refusal::Ended(Box::new(link), status))),
        }
    }

    pub fn site(&self, link: &InspectionLink) -> InspectedSite {
        InspectedSite {
            company_orgnr: link.company_orgnr.clone(),
            company_name: link.company_name.clone(),
            site_id: link.site_id.clone(),
            valid_until: link.expires_at,
        }
    }
}

#[cfg(test)]
mod tests;
