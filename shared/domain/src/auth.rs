//! Who may do what (spec §3), decided here and not only in routing: the token's claims
//! *and* the grants Stamp records must both allow an action.

use crate::error::DomainError;
use crate::identity::{Orgnr, PartnerId};
use crate::table::Ledger;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    CompanyAdmin,
    CompanyUser,
    Partner,
    Employee,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "operator" => Some(Role::Operator),
            "company_admin" => Some(Role::CompanyAdmin),
            "company_user" => Some(Role::CompanyUser),
            "partner" => Some(Role::Partner),
            "employee" => Some(Role::Employee),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::CompanyAdmin => "company_admin",
            Role::CompanyUser => "company_user",
            Role::Partner => "partner",
            Role::Employee => "employee",
        }
    }
}

/// The verified claims of a request's bearer token (spec §3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub companies: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
}

impl Claims {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| Role::parse(r) == Some(role))
    }

    /// Whether the token names this company (in any accepted form of the number).
    pub fn names_company(&self, orgnr: &Orgnr) -> bool {
        self.companies
            .iter()
            .any(|c| Orgnr::parse(c).map(|o| &o == orgnr).unwrap_or(false))
    }

    /// The role the actor acts in, for the audit trail.
    pub fn primary_role(&self) -> &str {
        self.roles.first().map(String::as_str).unwrap_or("")
    }
}

/// What an action on a company's data needs. Deregistration (spec §3) is decided here,
/// in the one place that authorizes: after `DELETE …/activation` only what the legal
/// duties need stays open, and only to company_admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompanyAccess {
    /// Read the ledger: company_user (or company_admin, which includes it); an active
    /// company only.
    Read,
    /// Administer users and grants: company_admin; an active company only.
    Admin,
    /// What a company_admin keeps after deregistration: activation status and
    /// re-activation, the audit log, legal holds, removing users.
    Retained,
    /// Order and download extracts: company_user while active; after deregistration
    /// company_admin only.
    Extracts,
}

impl CompanyAccess {
    fn satisfied_by(self, role: Role, active: bool) -> bool {
        match (self, active) {
            (CompanyAccess::Read | CompanyAccess::Extracts, true) => {
                matches!(role, Role::CompanyUser | Role::CompanyAdmin)
            }
            (CompanyAccess::Read | CompanyAccess::Admin, false) => false,
            (CompanyAccess::Admin, true) | (CompanyAccess::Retained, _) => {
                role == Role::CompanyAdmin
            }
            (CompanyAccess::Extracts, false) => role == Role::CompanyAdmin,
        }
    }
}

pub fn require_operator(claims: &Claims) -> Result<(), DomainError> {
    if claims.has_role(Role::Operator) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "this needs the operator role".into(),
        ))
    }
}

/// The partner a partner token speaks for, parsed once here: a token without a
/// `partner_id`, or with one that is not a valid [`PartnerId`], is refused alike.
pub fn require_partner(claims: &Claims) -> Result<PartnerId, DomainError> {
    if !claims.has_role(Role::Partner) {
        return Err(DomainError::Forbidden("this needs the partner role".into()));
    }
    claims
        .partner_id
        .as_deref()
        .and_then(|p| PartnerId::parse(p).ok())
        .ok_or_else(|| {
            DomainError::Forbidden("a partner token must carry a valid partner_id".into())
        })
}

/// Checks the token *and* the grant Stamp records *and* the company's activation. The
/// token must hold a role that allows `access` and name the company; the company's
/// recorded grant for `sub` must hold such a role too, so removing a grant takes effect
/// at the very next request; a deregistered company keeps only [`CompanyAccess::Retained`]
/// and [`CompanyAccess::Extracts`] open, to company_admins.
pub async fn require_company(
    ledger: &Ledger,
    claims: &Claims,
    orgnr: &Orgnr,
    access: CompanyAccess,
) -> Result<(), DomainError> {
    require_company_and(ledger, claims, orgnr, access, async { Ok(()) }).await
}

/// [`require_company`] with a route's own read made beside the stored grant and
/// activation: one sequential round trip fewer on every page. The token is checked
/// first, so nothing is read for a token that does not name the company; what `read`
/// found is answered only if the grant and the activation allow it, and a refusal wins
/// over the read's own error (a 403, never a 404 telling whether something exists).
/// `read` must only read.
pub async fn require_company_and<T>(
    ledger: &Ledger,
    claims: &Claims,
    orgnr: &Orgnr,
    access: CompanyAccess,
    read: impl std::future::Future<Output = Result<T, DomainError>>,
) -> Result<T, DomainError> {
    token_allows(claims, orgnr, access)?;
    let (stored, read) = futures::join!(stored_allows(ledger, claims, orgnr, access), read);
    stored?;
    read
}

fn token_allows(claims: &Claims, orgnr: &Orgnr, access: CompanyAccess) -> Result<(), DomainError> {
    let token_allows = claims
        .roles
        .iter()
        .filter_map(|r| Role::parse(r))
        .any(|r| access.satisfied_by(r, true));
    if !token_allows {
        return Err(DomainError::Forbidden(match access {
            CompanyAccess::Read | CompanyAccess::Extracts => {
                "this needs the company_user or company_admin role".into()
            }
            CompanyAccess::Admin | CompanyAccess::Retained => {
                "this needs the company_admin role".into()
            }
        }));
    }
    if !claims.names_company(orgnr) {
        return Err(DomainError::Forbidden(
            "the token does not grant access to this company".into(),
        ));
    }
    Ok(())
}

async fn stored_allows(
    ledger: &Ledger,
    claims: &Claims,
    orgnr: &Orgnr,
    access: CompanyAccess,
) -> Result<(), DomainError> {
    // The grant and the activation at once: one round trip on every company request
    // (a refused one reads the activation for nothing, which costs less than a wait).
    let (granted, activation) =
        futures::try_join!(ledger.grant(orgnr, &claims.sub), ledger.activation(orgnr))?;
    let held: Vec<Role> = granted
        .map(|g| {
            g.roles
                .iter()
                .filter_map(|r| Role::parse(r))
                .filter(|r| claims.has_role(*r))
                .collect()
        })
        .unwrap_or_default();
    if !held.iter().any(|r| access.satisfied_by(*r, true)) {
        return Err(DomainError::Forbidden(
            "no grant in Stamp allows this user this access to the company".into(),
        ));
    }
    let active = activation.is_some_and(|a| a.is_active());
    if !active && !held.iter().any(|r| access.satisfied_by(*r, false)) {
        return Err(DomainError::NotActivated(
            "the company has deregistered from Stamp: only its company_admins keep the activation, audit log, legal holds and extracts".into(),
        ));
    }
    Ok(())
}
