//! Just enough administration to get data in: the operator accredits partners; a
//! company_admin activates Stamp for a company (becoming its first administrator),
//! deregisters it, and grants users their roles.

use crate::auth::{require_company, require_operator, Claims, CompanyAccess, Role};
use crate::error::DomainError;
use crate::governance::retention::FiscalYearEnd;
use crate::identity::Orgnr;
use crate::model::{Activation, Partner};
use crate::pagination::{Cursor, Page};
use crate::ports::Clock;
use crate::table::{Grant, Ledger, LegalHold};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPartner {
    pub partner_id: Option<String>,
    pub name: Option<String>,
    pub feed_url: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HoldRequest {
    pub site_id: Option<String>,
    pub person_ref: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
}

/// A service announcement (a notice or a planned outage), as kept and as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: String,
    /// `notice` or `planned_outage`.
    pub kind: String,
    pub title: String,
    pub message: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub published_by: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementRequest {
    pub title: Option<String>,
    pub message: Option<String>,
    /// `planned_outage` or `notice`.
    pub kind: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActivationRequest {
    pub terms_version: Option<String>,
    pub company_name: Option<String>,
    pub fiscal_year_end_month: Option<u32>,
}

#[derive(Clone)]
pub struct Admin {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
}

/// Partner ids appear in storage and archive keys, so they keep to a safe alphabet.
/// It begins with a letter or digit, so `.`, `..` and other path-like ids (which would
/// name a folder of the archive rather than a partner's own) are refused.
pub fn validate_partner_id(id: &str) -> Result<(), DomainError> {
    let ok = (1..=64).contains(&id.len())
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "partner_id",
            "must be 1–64 characters A–Z, a–z, 0–9, '-', '_' or '.', beginning with a letter or digit",
        ))
    }
}

fn required_text(field: &str, v: Option<String>, max: usize) -> Result<String, DomainError> {
    let v = v
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| DomainError::missing(field))?;
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            format!("must be 1–{max} printable characters"),
        ));
    }
    Ok(v)
}

impl Admin {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Admin { ledger, clock }
    }

    pub async fn accredit_partner(
        &self,
        claims: &Claims,
        req: NewPartner,
    ) -> Result<Partner, DomainError> {
        require_operator(claims)?;
        let partner_id = required_text("partner_id", req.partner_id, 64)?;
        validate_partner_id(&partner_id)?;
        let name = required_text("name", req.name, 200)?;
        let feed_url = req.feed_url.filter(|u| !u.is_empty());
        if let Some(u) = &feed_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2000 {
                return Err(DomainError::invalid("feed_url", "must be an http(s) URL"));
            }
        }
        let p = Partner {
            partner_id,
            name,
            feed_url,
            accredited_at: self.clock.now(),
            accredited_by: claims.sub.clone(),
            suspended: false,
        };
        if !self.ledger.create_partner(&p).await? {
            return Err(DomainError::Conflict {
                code: "partner_exists",
                detail: format!("partner_id {:?} is already accredited", p.partner_id),
            });
        }
        tracing::info!(partner_id = %p.partner_id, "partner accredited");
        Ok(p)
    }

    pub async fn partners(
        &self,
        claims: &Claims,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Partner>, DomainError> {
        require_operator(claims)?;
        self.ledger.partners(cursor, limit).await
    }

    /// Before a company's first activation nobody holds a grant; a company_admin whose
    /// token names the company may then activate it. Afterwards a recorded grant is needed.
    async fn require_admin_or_first(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Option<(Activation, Option<i64>)>, DomainError> {
        if !claims.has_role(Role::CompanyAdmin) {
            return Err(DomainError::Forbidden(
                "this needs the company_admin role".into(),
            ));
        }
        if !claims.names_company(orgnr) {
            return Err(DomainError::Forbidden(
                "the token does not grant access to this company".into(),
            ));
        }
        let existing = self.ledger.activation_versioned(orgnr).await?;
        if existing.is_some() {
            require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        }
        Ok(existing)
    }

    pub async fn activate(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        req: ActivationRequest,
    ) -> Result<Activation, DomainError> {
        let existing = match self.require_admin_or_first(claims, orgnr).await {
            // A company_admin named by the token but holding no grant lost the race to be
            // the first administrator (or came after it): the same 409 as a lost write.
            Err(DomainError::Forbidden(_))
                if claims.has_role(Role::CompanyAdmin)
                    && claims.names_company(orgnr)
                    && self.ledger.grant(orgnr, &claims.sub).await?.is_none() =>
            {
                return Err(activation_taken());
            }
            other => other?,
        };
        let terms_version = required_text("terms_version", req.terms_version, 64)?;
        let company_name = required_text("company_name", req.company_name, 200)?;
        let fy = FiscalYearEnd::new(req.fiscal_year_end_month.unwrap_or(12))
            .map_err(|e| DomainError::invalid("fiscal_year_end_month", e))?;
        let now = self.clock.now();
        let activation = Activation {
            company_orgnr: orgnr.clone(),
            company_name,
            fiscal_year_end_month: fy.month(),
            terms_version,
            activated_at: existing
                .as_ref()
                .map(|(a, _)| a)
                .filter(|a| a.is_active())
                .map(|a| a.activated_at)
                .unwrap_or(now),
            activated_by: claims.sub.clone(),
            terms_accepted_at: Some(now),
            deregistered_at: None,
        };
        let expected = existing.as_ref().map(|(_, v)| *v);
        let first_admin = match existing {
            Some(_) => None,
            None => Some(Grant {
                sub: claims.sub.clone(),
                roles: vec![
                    Role::CompanyAdmin.as_str().into(),
                    Role::CompanyUser.as_str().into(),
                ],
                granted_at: now,
                granted_by: claims.sub.clone(),
            }),
        };
        if !self
            .ledger
            .save_activation(&activation, first_admin.as_ref(), expected)
            .await?
        {
            return Err(match expected {
                None => activation_taken(),
                Some(_) => DomainError::Conflict {
                    code: "activation_conflict",
                    detail: "the company's activation changed at the same moment (another administrator re-activated or deregistered it); read it and retry".into(),
                },
            });
        }
        tracing::info!(terms_version = %activation.terms_version, "company activated");
        Ok(activation)
    }

    pub async fn activation(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Activation, DomainError> {
        self.require_admin_or_first(claims, orgnr)
            .await?
            .map(|(a, _)| a)
            .ok_or_else(|| DomainError::NotFound("the company has not activated Stamp".into()))
    }

    /// Deregisters: imports and access stop, the data stays until its retention ends.
    /// Answers the activation as it now stands (with `deregistered_at`).
    pub async fn deregister(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Activation, DomainError> {
        let Some((mut a, version)) = self.require_admin_or_first(claims, orgnr).await? else {
            return Err(DomainError::NotFound(
                "the company has not activated Stamp".into(),
            ));
        };
        let now = self.clock.now();
        if a.deregistered_at.is_none() {
            a.deregistered_at = Some(now);
            if !self.ledger.save_activation(&a, None, Some(version)).await? {
                return Err(DomainError::Conflict {
                    code: "activation_conflict",
                    detail:
                        "the company's activation changed at the same moment; read it and retry"
                            .into(),
                });
            }
        }
        Ok(a)
    }

    pub async fn users(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Grant>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        self.ledger.grants(orgnr, cursor, limit).await
    }

    pub async fn put_user(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        sub: &str,
        roles: Option<Vec<String>>,
    ) -> Result<Grant, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        if sub.is_empty() || sub.len() > 256 || sub.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "sub",
                "must be 1–256 printable characters",
            ));
        }
        let roles = roles.ok_or_else(|| DomainError::missing("roles"))?;
        let mut clean: Vec<String> = Vec::new();
        for r in roles {
            match Role::parse(&r) {
                Some(Role::CompanyAdmin | Role::CompanyUser) => {
                    if !clean.contains(&r) {
                        clean.push(r)
                    }
                }
                _ => {
                    return Err(DomainError::invalid(
                        "roles",
                        format!("{r:?} is not a company role (company_admin, company_user)"),
                    ))
                }
            }
        }
        if clean.is_empty() {
            return Err(DomainError::invalid(
                "roles",
                "must hold at least one role; DELETE removes a user",
            ));
        }
        let g = Grant {
            sub: sub.into(),
            roles: clean,
            granted_at: self.clock.now(),
            granted_by: claims.sub.clone(),
        };
        for _ in 0..CHANGE_ATTEMPTS {
            let witness = if g.roles.iter().any(|r| r == "company_admin") {
                None
            } else {
                self.keep_an_admin(orgnr, sub).await?
            };
            if self.ledger.put_grant(orgnr, &g, witness.as_ref()).await? {
                return Ok(g);
            }
        }
        Err(busy())
    }

    pub async fn delete_user(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        sub: &str,
    ) -> Result<(), DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        // A failed condition means the grant or the witness changed meanwhile: judge
        // again on what is stored now (the other admin may be gone: 409).
        for _ in 0..CHANGE_ATTEMPTS {
            let Some(target) = self.ledger.grant(orgnr, sub).await? else {
                return Err(DomainError::NotFound("no such user in this company".into()));
            };
            let witness = if target.roles.iter().any(|r| r == "company_admin") {
                self.keep_an_admin(orgnr, sub).await?
            } else {
                None
            };
            if self
                .ledger
                .delete_grant(orgnr, sub, witness.as_ref())
                .await?
            {
                return Ok(());
            }
        }
        Err(busy())
    }

    /// Places a legal hold by site, person and/or period, with a reason.
    pub async fn place_hold(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        req: HoldRequest,
    ) -> Result<LegalHold, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        let reason = required_text("reason", req.reason, 1000)?;
        let site_id = req
            .site_id
            .filter(|s| !s.is_empty())
            .map(|s| {
                crate::identity::SiteId::parse(&s)
                    .map(|s| s.to_string())
                    .map_err(|e| DomainError::invalid("site_id", e.to_string()))
            })
            .transpose()?;
        let time = |field: &str, v: Option<String>| {
            v.filter(|s| !s.is_empty())
                .map(|s| crate::time::parse_rfc3339(&s).map_err(|e| DomainError::invalid(field, e)))
                .transpose()
        };
        let (from, to) = (time("from", req.from)?, time("to", req.to)?);
        if let (Some(f), Some(t)) = (from, to) {
            if t <= f {
                return Err(DomainError::invalid("to", "must be after from"));
            }
        }
        let person_ref = req.person_ref.filter(|s| !s.is_empty());
        let ck = self.ledger.company_key(orgnr);
        if let Some(p) = &person_ref {
            if self.ledger.person(&ck, p).await?.is_none() {
                return Err(DomainError::invalid(
                    "person_ref",
                    "names no person in this company",
                ));
            }
        }
        if site_id.is_none() && person_ref.is_none() && from.is_none() && to.is_none() {
            return Err(DomainError::MissingField {
                field: "site_id".into(),
                reason: "a hold needs a site_id, a person_ref or a period (from/to)".into(),
            });
        }
        let h = LegalHold {
            id: format!("hold-{}", uuid::Uuid::new_v4().simple()),
            site_id,
            person_ref,
            from,
            to,
            reason,
            placed_by: claims.sub.clone(),
            placed_at: self.clock.now(),
            lifted_by: None,
            lifted_at: None,
        };
        self.ledger.save_hold(&ck, &h).await?;
        Ok(h)
    }

    pub async fn holds(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Vec<LegalHold>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        self.ledger.holds(&self.ledger.company_key(orgnr)).await
    }

    pub async fn hold(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        id: &str,
    ) -> Result<LegalHold, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Retained).await?;
        self.ledger
            .hold(&self.ledger.company_key(orgnr), id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such legal hold".into()))
    }

    /// Lifts a hold; it stays on record with who lifted it and when.
    pub async fn lift_hold(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        id: &str,
    ) -> Result<LegalHold, DomainError> {
        let mut h = self.hold(claims, orgnr, id).await?;
        if h.lifted_at.is_none() {
            h.lifted_at = Some(self.clock.now());
            h.lifted_by = Some(claims.sub.clone());
            self.ledger
                .save_hold(&self.ledger.company_key(orgnr), &h)
                .await?;
        }
        Ok(h)
    }

    /// Suspends or reinstates a partner; a suspended partner's deliveries are refused.
    pub async fn set_partner_suspended(
        &self,
        claims: &Claims,
        partner_id: &str,
        suspended: bool,
    ) -> Result<Partner, DomainError> {
        require_operator(claims)?;
        let mut p = self
            .ledger
            .partner(partner_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such partner".into()))?;
        p.suspended = suspended;
        if !self.ledger.update_partner(&p).await? {
            return Err(DomainError::NotFound("no such partner".into()));
        }
        Ok(p)
    }

    pub async fn announce(
        &self,
        claims: &Claims,
        req: AnnouncementRequest,
    ) -> Result<Announcement, DomainError> {
        require_operator(claims)?;
        let title = required_text("title", req.title, 200)?;
        let message = required_text("message", req.message, 4000)?;
        let kind = req.kind.unwrap_or_else(|| "notice".into());
        if kind != "notice" && kind != "planned_outage" {
            return Err(DomainError::invalid(
                "kind",
                "must be notice or planned_outage",
            ));
        }
        let time = |field: &str, v: Option<String>| {
            v.filter(|s| !s.is_empty())
                .map(|s| crate::time::parse_rfc3339(&s).map_err(|e| DomainError::invalid(field, e)))
                .transpose()
        };
        let now = self.clock.now();
        let starts_at =
            time("starts_at", req.starts_at)?.unwrap_or_else(|| crate::time::to_fixed(now));
        let ends_at = time("ends_at", req.ends_at)?;
        if ends_at.is_some_and(|e| e <= starts_at) {
            return Err(DomainError::invalid("ends_at", "must be after starts_at"));
        }
        let id = format!("ann-{}", uuid::Uuid::new_v4().simple());
        let a = Announcement {
            id: id.clone(),
            kind,
            title,
            message,
            starts_at: crate::time::format_rfc3339(&starts_at),
            ends_at: ends_at.as_ref().map(crate::time::format_rfc3339),
            published_at: now,
            published_by: claims.sub.clone(),
        };
        self.ledger
            .save_announcement(&a, format!("{}#{id}", crate::time::sortable(&starts_at)))
            .await?;
        Ok(a)
    }

    /// Current and planned announcements: those not yet ended.
    pub async fn announcements(&self) -> Result<Vec<Announcement>, DomainError> {
        let now = crate::time::to_fixed(self.clock.now());
        Ok(self
            .ledger
            .announcements()
            .await?
            .into_iter()
            .filter(|a| {
                a.ends_at
                    .as_deref()
                    .and_then(|e| crate::time::parse_rfc3339(e).ok())
                    .is_none_or(|e| e > now)
            })
            .collect())
    }

    /// Refuses a change that would leave the company without a company_admin; else
    /// answers another company_admin's grant, which the change re-asserts as it writes.
    async fn keep_an_admin(
        &self,
        orgnr: &Orgnr,
        losing: &str,
    ) -> Result<Option<Grant>, DomainError> {
        let other = self
            .ledger
            .all_grants(orgnr)
            .await?
            .into_iter()
            .find(|g| g.sub != losing && g.roles.iter().any(|r| r == "company_admin"));
        match other {
            Some(g) => Ok(Some(g)),
            None => Err(DomainError::Conflict {
                code: "last_company_admin",
                detail: "the company's last company_admin cannot be removed".into(),
            }),
        }
    }
}

fn activation_taken() -> DomainError {
    DomainError::Conflict {
        code: "activation_conflict",
        detail: "the company is already activated by another company_admin, its first administrator; ask them for a grant".into(),
    }
}

/// How often a grant change is judged again when a concurrent change got there first.
const CHANGE_ATTEMPTS: usize = 5;

fn busy() -> DomainError {
    DomainError::Unavailable("the company's grants are changing concurrently; retry".into())
}

#[cfg(test)]
mod tests;
