//! Spec §11: notification settings, the daily digest, partner-silence notices, and
//! their delivery by webhook (Standard Webhooks, retried for 24 h) and e-mail.
//!
//! Stored items (docs/data-model.md): the settings and sent-notice markers under
//! `CO#{ck}#NOTIFY`, each delivery with its attempts under `CO#{ck}#DELIVERIES`, and the
//! webhook queue `WEBHOOKQ` the retry job drains.

pub mod digest;
pub mod silence;
pub mod webhook;

use crate::auth::{require_company, Claims, CompanyAccess};
use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::pagination::{Cursor, Page};
use crate::ports::{Clock, Condition, Item, Mailer, OutgoingMail, SkRange, WebhookSender, WriteOp};
use crate::table::{from_item, item_of, keys, Ledger};
use crate::time::sortable_utc;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::Arc;
use webhook::{Attempt, DeliveryState};

/// At most this many e-mail addresses per company (spec §11).
pub const MAX_EMAILS: usize = 10;

/// Which webhook targets a deployment accepts. In AWS only HTTPS to public addresses;
/// the local server also accepts loopback (and plain `http://` to loopback) so that tests
/// and a developer's receiver can listen on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookPolicy {
    pub allow_loopback: bool,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Webhook,
    Email,
}

/// One notification sent to a company, with every attempt (`GET …/notifications/deliveries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The `webhook-id` of a webhook message (`msg_…`), or Stamp's id of an e-mail.
    pub id: String,
    pub channel: Channel,
    /// `daily_digest`, `partner_silence` or `test`.
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub state: DeliveryState,
    pub attempts: Vec<Attempt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Webhook URL or e-mail addresses.
    pub target: String,
}

/// What a drain of the webhook queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DrainSummary {
    pub attempted: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Notifications {
    ledger: Ledger,
    clock: Arc<dyn Clock>,
    pub policy: WebhookPolicy,
    sender: Option<Arc<dyn WebhookSender>>,
    mailer: Option<Arc<dyn Mailer>>,
    pub mail_from: String,
    /// How long one webhook attempt may take before it counts as a timeout.
    pub timeout: std::time::Duration,
    /// Companies whose messages are posted at the same time in one drain.
    pub concurrency: usize,
}

fn delivery_sk(created_at: DateTime<Utc>, id: &str) -> String {
    // Inverted milliseconds: newest first in ascending key order.
    let inv = i64::MAX - created_at.timestamp_millis();
    format!("{inv:019}#{id}")
}

fn queue_sk(due: DateTime<Utc>, ck: &str, dsk: &str) -> String {
    format!("{}#{ck}#{dsk}", sortable_utc(&due))
}

impl Notifications {
    pub fn new(ledger: Ledger, clock: Arc<dyn Clock>) -> Self {
        Notifications {
            ledger,
            clock,
            policy: WebhookPolicy::default(),
            sender: None,
            mailer: None,
            mail_from: "Stamp <noreply@stamp.invalid>".into(),
            timeout: std::time::Duration::from_secs(10),
            concurrency: 16,
        }
    }

    pub fn with_sender(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.sender = Some(sender);
        self
    }

    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>, from: Option<String>) -> Self {
        self.mailer = Some(mailer);
        if let Some(f) = from {
            self.mail_from = f;
        }
        self
    }

    pub fn with_policy(mut self, policy: WebhookPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn stored(&self, ck: &str) -> Result<Option<StoredSettings>, DomainError> {
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

    /// `GET …/notifications/deliveries` (company_admin): newest first.
    pub async fn deliveries(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Delivery>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let ck = self.ledger.company_key(orgnr);
        let mut q = crate::ports::Query::new(keys::deliveries(&ck), SkRange::All);
        q.start_after = cursor.map(|c| c.key.clone());
        q.limit = limit + 1;
        let mut items = Vec::new();
        loop {
            let page = self.ledger.store().query(q.clone()).await?;
            items.extend(page.items);
            match page.last_sk {
                Some(sk) if items.len() <= limit => q.start_after = Some(sk),
                _ => break,
            }
        }
        let next = (items.len() > limit).then(|| Cursor::after(items[limit - 1].sk.clone()));
        items.truncate(limit);
        let list = items
            .iter()
            .map(delivery_of)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: list, next })
    }

    /// Sends a test message to the company's webhook and e-mail addresses now (the
    /// portal's "send a test message").
    pub async fn send_test(
        &self,
        claims: &Claims,
        orgnr: &Orgnr,
    ) -> Result<Vec<Delivery>, DomainError> {
        require_company(&self.ledger, claims, orgnr, CompanyAccess::Admin).await?;
        let ck = self.ledger.company_key(orgnr);
        let Some(settings) = self.stored(&ck).await? else {
            return Err(DomainError::Conflict {
                code: "no_notification_settings",
                detail: "set a webhook URL or e-mail addresses first".into(),
            });
        };
        let now = self.clock.now();
        let payload = digest::TestPayload {
            company_orgnr: orgnr.to_string(),
            sent_at: now,
        };
        let mut out = Vec::new();
        if settings.webhook_url.is_some() {
            let body = digest::envelope("test", now, &payload)?;
            out.push(self.enqueue_webhook(&ck, &settings, "test", body).await?);
        }
        if !settings.emails.is_empty() {
            let mail = digest::test_mail(&self.mail_from, &settings.emails, orgnr)?;
            out.push(self.send_mail(&ck, "test", mail).await?);
        }
        self.drain_company(&ck).await?;
        Ok(out)
    }

    async fn save_delivery(
        &self,
        ck: &str,
        d: &Delivery,
        extra: Vec<(&str, serde_json::Value)>,
        condition: Condition,
    ) -> Result<(), DomainError> {
        let mut item = item_of(keys::deliveries(ck), delivery_sk(d.created_at, &d.id), d)?;
        for (k, v) in extra {
            item.attrs.insert(k.into(), v);
        }
        self.ledger
            .store()
            .transact(vec![WriteOp::Put { item, condition }])
            .await?;
        Ok(())
    }

    /// Stores a webhook message and queues its first attempt (due at once).
    pub async fn enqueue_webhook(
        &self,
        ck: &str,
        settings: &StoredSettings,
        kind: &str,
        body: Vec<u8>,
    ) -> Result<Delivery, DomainError> {
        let Some(url) = settings.webhook_url.clone() else {
            return Err(DomainError::Internal("no webhook URL".into()));
        };
        let now = self.clock.now();
        let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
        let d = Delivery {
            id: id.clone(),
            channel: Channel::Webhook,
            kind: kind.into(),
            created_at: now,
            state: DeliveryState::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
            target: url,
        };
        let dsk = delivery_sk(now, &id);
        let body = String::from_utf8(body).map_err(|e| DomainError::Internal(e.to_string()))?;
        let mut item = item_of(keys::deliveries(ck), dsk.clone(), &d)?;
        item.attrs.insert("body".into(), body.into());
        let queued = Item::new(keys::WEBHOOK_QUEUE, queue_sk(now, ck, &dsk))
            .with("ck", ck)
            .with("dsk", dsk);
        self.ledger
            .store()
            .transact(vec![WriteOp::create(item), WriteOp::put(queued)])
            .await?;
        Ok(d)
    }

    /// Sends an e-mail now and records it (SES queues and retries on its side).
    pub async fn send_mail(
        &self,
        ck: &str,
        kind: &str,
        mail: OutgoingMail,
    ) -> Result<Delivery, DomainError> {
        let now = self.clock.now();
        let id = format!("mail_{}", uuid::Uuid::now_v7().simple());
        let (state, attempt) = match &self.mailer {
            None => (
                DeliveryState::Failed,
                Attempt {
                    at: now,
                    status: None,
                    error: Some("no mail service configured".into()),
                },
            ),
            Some(m) => match m.send(&mail).await {
                Ok(_) => (
                    DeliveryState::Delivered,
                    Attempt {
                        at: now,
                        status: Some(250),
                        error: None,
                    },
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "e-mail not sent");
                    (
                        DeliveryState::Failed,
                        Attempt {
                            at: now,
                            status: None,
                            error: Some(e),
                        },
                    )
                }
            },
        };
        let d = Delivery {
            id,
            channel: Channel::Email,
            kind: kind.into(),
            created_at: now,
            state,
            attempts: vec![attempt],
            next_attempt_at: None,
            target: mail.to.join(", "),
        };
        self.save_delivery(ck, &d, Vec::new(), Condition::None)
            .await?;
        Ok(d)
    }

    /// One round of the webhook-retry job: every due message of every company. Companies
    /// are worked on side by side (at most [`Notifications::concurrency`]), each attempt
    /// bounded by [`Notifications::timeout`], so a slow endpoint delays only its own
    /// company's messages.
    pub async fn drain(&self) -> Result<DrainSummary, DomainError> {
        let now = self.clock.now();
        let due = self
            .ledger
            .store()
            .query_all(
                keys::WEBHOOK_QUEUE,
                SkRange::Between("0".into(), format!("{}~", sortable_utc(&now))),
            )
            .await?;
        let mut by_company: std::collections::BTreeMap<String, Vec<Item>> = Default::default();
        for q in due {
            if let Some(ck) = q.str("ck") {
                by_company.entry(ck.to_string()).or_default().push(q);
            }
        }
        let results: Vec<Result<DrainSummary, DomainError>> = futures::stream::iter(by_company)
            .map(|(ck, items)| async move { self.drain_items(&ck, items).await })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let mut total = DrainSummary::default();
        for r in results {
            match r {
                Ok(s) => {
                    total.attempted += s.attempted;
                    total.delivered += s.delivered;
                    total.retrying += s.retrying;
                    total.failed += s.failed;
                }
                Err(e) => tracing::warn!(error = %e, "draining a company's webhooks failed"),
            }
        }
        if total.attempted > 0 {
            tracing::info!(
                attempted = total.attempted,
                delivered = total.delivered,
                retrying = total.retrying,
                failed = total.failed,
                "webhook queue drained"
            );
        }
        Ok(total)
    }

    /// The due messages of one company (right after they were queued).
    pub async fn drain_company(&self, ck: &str) -> Result<DrainSummary, DomainError> {
        let now = self.clock.now();
        let due: Vec<Item> = self
            .ledger
            .store()
            .query_all(
                keys::WEBHOOK_QUEUE,
                SkRange::Between("0".into(), format!("{}~", sortable_utc(&now))),
            )
            .await?
            .into_iter()
            .filter(|q| q.str("ck") == Some(ck))
            .collect();
        self.drain_items(ck, due).await
    }

    async fn drain_items(&self, ck: &str, queued: Vec<Item>) -> Result<DrainSummary, DomainError> {
        let mut s = DrainSummary::default();
        let settings = self.stored(ck).await?;
        for q in queued {
            let Some(dsk) = q.str("dsk") else { continue };
            let Some(item) = self.ledger.store().get(&keys::deliveries(ck), dsk).await? else {
                self.unqueue(&q).await?;
                continue;
            };
            let mut d = delivery_of(&item)?;
            let body = item.str("body").unwrap_or_default().as_bytes().to_vec();
            let now = self.clock.now();
            // The settings may have changed since: a removed or replaced URL ends the message.
            let secret = settings
                .as_ref()
                .filter(|st| st.webhook_url.as_deref() == Some(d.target.as_str()))
                .and_then(|st| st.webhook_secret.clone());
            let attempt = match secret {
                None => Attempt {
                    at: now,
                    status: None,
                    error: Some("webhook URL removed or changed".into()),
                },
                Some(secret) => self.attempt(&d.target, &secret, &d.id, &body, now).await,
            };
            s.attempted += 1;
            let ok = attempt.status.is_some_and(|c| (200..300).contains(&c));
            let gave_up_reason = attempt.error.as_deref() == Some("webhook URL removed or changed");
            d.attempts.push(attempt);
            let mut ops = vec![WriteOp::Delete {
                pk: q.pk.clone(),
                sk: q.sk.clone(),
                condition: Condition::None,
            }];
            if ok {
                d.state = DeliveryState::Delivered;
                d.next_attempt_at = None;
                s.delivered += 1;
            } else {
                match webhook::next_due(d.created_at, d.attempts.len()).filter(|_| !gave_up_reason)
                {
                    Some(due) => {
                        d.next_attempt_at = Some(due);
                        s.retrying += 1;
                        ops.push(WriteOp::put(
                            Item::new(keys::WEBHOOK_QUEUE, queue_sk(due, ck, dsk))
                                .with("ck", ck)
                                .with("dsk", dsk),
                        ));
                    }
                    None => {
                        d.state = DeliveryState::Failed;
                        d.next_attempt_at = None;
                        s.failed += 1;
                    }
                }
            }
            let mut updated = item_of(keys::deliveries(ck), dsk.to_string(), &d)?;
            updated.attrs.insert(
                "body".into(),
                item.attrs.get("body").cloned().unwrap_or_default(),
            );
            ops.push(WriteOp::put(updated));
            self.ledger.store().transact(ops).await?;
        }
        Ok(s)
    }

    async fn unqueue(&self, q: &Item) -> Result<(), DomainError> {
        Ok(self
            .ledger
            .store()
            .transact(vec![WriteOp::Delete {
                pk: q.pk.clone(),
                sk: q.sk.clone(),
                condition: Condition::None,
            }])
            .await?)
    }

    async fn attempt(
        &self,
        url: &str,
        secret: &str,
        id: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Attempt {
        let Some(sender) = &self.sender else {
            return Attempt {
                at: now,
                status: None,
                error: Some("no webhook sender configured".into()),
            };
        };
        // Resolved again at every attempt: the name may since point elsewhere.
        if let Err(e) = check_target(url, self.policy).await {
            return Attempt {
                at: now,
                status: None,
                error: Some(e),
            };
        }
        let headers = match webhook::headers(secret, id, now, body) {
            Ok(h) => h,
            Err(e) => {
                return Attempt {
                    at: now,
                    status: None,
                    error: Some(e),
                }
            }
        };
        match sender.post(url, &headers, body, self.timeout).await {
            Ok(status) => Attempt {
                at: now,
                status: Some(status),
                error: None,
            },
            Err(e) => Attempt {
                at: now,
                status: None,
                error: Some(e),
            },
        }
    }
}

fn delivery_of(item: &Item) -> Result<Delivery, DomainError> {
    let mut i = item.clone();
    i.attrs.remove("body");
    from_item(&i)
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

async fn check_target(raw: &str, policy: WebhookPolicy) -> Result<(), String> {
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

#[cfg(test)]
mod tests;
