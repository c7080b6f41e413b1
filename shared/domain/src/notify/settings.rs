//! A company's notification settings (spec §11): the e-mail addresses and the webhook,
//! validated before they are kept (no address or URL that could reach inside).

use super::{webhook, Notifications, WebhookPolicy, MAX_EMAILS};
use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::Orgnr;
use crate::ports::WriteOp;
use crate::table::{from_item, item_of, keys};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// `PUT …/notifications`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub emails: Option<Vec<String>>,
    pub daily_digest: bool,
    pub partner_silence: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSettings {
    pub webhook_url: Option<String>,
    /// Kept to sign messages; shown once, when the URL is set or changed.
    pub webhook_secret: Option<String>,
    pub emails: Vec<String>,
    pub daily_digest: bool,
    pub partner_silence: bool,
    pub updated_at: DateTime<Utc>,
}

/// The settings as answered. `webhook_secret` only right after the URL was set or changed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    pub webhook_url: Option<String>,
    pub emails: Vec<String>,
    pub daily_digest: bool,
    pub partner_silence: bool,
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

impl SettingsView {
    fn of(s: &StoredSettings, secret: Option<String>) -> Self {
        SettingsView {
            webhook_url: s.webhook_url.clone(),
            emails: s.emails.clone(),
            daily_digest: s.daily_digest,
            partner_silence: s.partner_silence,
            updated_at: Some(s.updated_at),
            webhook_secret: secret,
        }
    }
}

/// Each address parsed by `lettre`'s RFC 5321/5322 address parser; the field names the
/// first bad one (`emails[2]`).
pub fn validate_emails(raw: &[String]) -> Result<Vec<String>, DomainError> {
    if raw.len() > MAX_EMAILS {
        return Err(DomainError::invalid(
            "emails",
            format!("at most {MAX_EMAILS} addresses, got {}", raw.len()),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, a) in raw.iter().enumerate() {
        let parsed: lettre::Address = a.trim().parse().map_err(|e| {
            DomainError::invalid(
                &format!("emails[{i}]"),
                format!("not an e-mail address: {e}"),
            )
        })?;
        let s = parsed.to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

/// Whether an address may receive webhooks: never loopback (unless the policy allows
/// it), private, link-local (which holds the cloud metadata service 169.254.169.254),
/// shared (CGNAT), unspecified, broadcast, multicast or documentation addresses.
pub fn address_allowed(ip: IpAddr, policy: WebhookPolicy) -> Result<(), &'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    if ip.is_loopback() {
        return if policy.allow_loopback {
            Ok(())
        } else {
            Err("a loopback address")
        };
    }
    if ip.is_unspecified() {
        return Err("the unspecified address");
    }
    if ip.is_multicast() {
        return Err("a multicast address");
    }
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_private() {
                return Err("a private address");
            }
            if v4.is_link_local() {
                return Err("a link-local or metadata address");
            }
            if v4.is_broadcast() || o[0] == 0 || o[0] >= 240 {
                return Err("a reserved address");
            }
            if o[0] == 100 && (o[1] & 0xc0) == 64 {
                return Err("a shared (carrier-grade NAT) address");
            }
            if v4.is_documentation() || (o[0] == 198 && (o[1] & 0xfe) == 18) {
                return Err("a documentation or benchmarking address");
            }
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if (s[0] & 0xfe00) == 0xfc00 {
                return Err(
                    "a unique-local (private) address, such as the metadata service fd00:ec2::254",
                );
            }
            if (s[0] & 0xffc0) == 0xfe80 {
                return Err("a link-local address");
            }
            if s[0] == 0x2001 && s[1] == 0x0db8 {
                return Err("a documentation address");
            }
        }
    }
    Ok(())
}

/// Parses and checks a webhook URL: HTTPS (or, where the policy allows loopback, plain
/// HTTP to a loopback address), a host that resolves, and only to allowed addresses.
pub async fn validate_webhook_url(raw: &str, policy: WebhookPolicy) -> Result<String, DomainError> {
    let field = "webhook_url";
    if raw.len() > 2048 {
        return Err(DomainError::invalid(field, "at most 2048 characters"));
    }
    check_target(raw, policy)
        .await
        .map_err(|e| DomainError::invalid(field, e))?;
    let url = url::Url::parse(raw).map_err(|e| DomainError::invalid(field, e.to_string()))?;
    Ok(url.to_string())
}

pub(super) async fn check_target(raw: &str, policy: WebhookPolicy) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let host = url.host().ok_or("has no host")?;
    let port = url.port_or_known_default().ok_or("has no port")?;
    let addrs: Vec<IpAddr> = match &host {
        url::Host::Ipv4(a) => vec![IpAddr::V4(*a)],
        url::Host::Ipv6(a) => vec![IpAddr::V6(*a)],
        url::Host::Domain(name) => tokio::net::lookup_host((*name, port))
            .await
            .map_err(|e| format!("host {name} does not resolve: {e}"))?
            .map(|sa| sa.ip())
            .collect(),
    };
    if addrs.is_empty() {
        return Err("the host resolves to no address".into());
    }
    for a in &addrs {
        address_allowed(*a, policy).map_err(|why| format!("the host resolves to {why} ({a})"))?;
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if policy.allow_loopback && addrs.iter().all(IpAddr::is_loopback) => Ok(()),
        "http" => Err("must use https".into()),
        other => Err(format!("must use https, not {other}")),
    }
}

impl Notifications {
    pub async fn stored(&self, ck: &CompanyKey) -> Result<Option<StoredSettings>, DomainError> {
        let item = self
            .ledger
            .store()
            .get(&keys::notifications(ck), keys::SETTINGS)
            .await?;
        item.as_ref().map(from_item).transpose()
    }

    /// `GET …/notifications` (company_admin). Never shows the secret.
    pub async fn settings(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<SettingsView, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let ck = self.ledger.company_key(orgnr);
        Ok(match self.stored(&ck).await? {
            Some(s) => SettingsView::of(&s, None),
            None => SettingsView {
                webhook_url: None,
                emails: Vec::new(),
                daily_digest: false,
                partner_silence: false,
                updated_at: None,
                webhook_secret: None,
            },
        })
    }

    /// `PUT …/notifications` (company_admin): replaces the settings. A new or changed
    /// webhook URL gets a new signing secret, answered this once.
    pub async fn put_settings(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        req: SettingsRequest,
    ) -> Result<SettingsView, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let emails = validate_emails(req.emails.as_deref().unwrap_or_default())?;
        let url = match req.webhook_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(validate_webhook_url(u, self.policy).await?),
        };
        let ck = self.ledger.company_key(orgnr);
        let previous = self.stored(&ck).await?;
        let (secret, shown) = match (&url, previous.as_ref()) {
            (None, _) => (None, None),
            (Some(u), Some(p)) if p.webhook_url.as_deref() == Some(u.as_str()) => {
                (p.webhook_secret.clone(), None)
            }
            (Some(_), _) => {
                let s = webhook::new_secret();
                (Some(s.clone()), Some(s))
            }
        };
        let stored = StoredSettings {
            webhook_url: url,
            webhook_secret: secret,
            emails,
            daily_digest: req.daily_digest,
            partner_silence: req.partner_silence,
            updated_at: self.clock.now(),
        };
        let item = item_of(keys::notifications(&ck), keys::SETTINGS.into(), &stored)?;
        self.ledger
            .store()
            .transact(vec![WriteOp::put(item)])
            .await?;
        tracing::info!(
            webhook = stored.webhook_url.is_some(),
            emails = stored.emails.len(),
            "notification settings saved"
        );
        Ok(SettingsView::of(&stored, shown))
    }
}
