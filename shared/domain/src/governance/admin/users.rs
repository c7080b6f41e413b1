//! A company's users and their roles, and the rule that the last company_admin stays.

use super::{busy, Admin, CHANGE_ATTEMPTS};
use crate::auth::{require_company, Claims, CompanyAccess, Role};
use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::pagination::{Cursor, Page};
use crate::table::Grant;

impl Admin {
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

    /// Refuses a change that would leave the company without a company_admin; else
    /// answers another company_admin's grant, which the change re-asserts as it writes.
    pub(super) async fn keep_an_admin(
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
