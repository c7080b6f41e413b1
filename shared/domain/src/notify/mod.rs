//! Spec §11: notification settings, the daily digest, partner-silence notices, and
//! their delivery by webhook (Standard Webhooks, retried for 24 h) and e-mail.
//!
//! Stored items (docs/data-model.md): the settings and sent-notice markers under
//! `CO#{ck}#NOTIFY`, each delivery with its attempts under `CO#{ck}#DELIVERIES`, and the
//! webhook queue `WEBHOOKQ` the retry job drains.

pub mod digest;
pub mod silence;
pub mod webhook;

use crate::ports::{Clock, Mailer, WebhookSender};
use crate::table::Ledger;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use webhook::{Attempt, DeliveryState};

mod outbox;
mod settings;

pub use outbox::{Channel, Delivery, DrainSummary};
use settings::check_target;
pub use settings::{
    address_allowed, validate_emails, validate_webhook_url, SettingsRequest, SettingsView,
    StoredSettings,
};

/// At most this many e-mail addresses per company (spec §11).
pub const MAX_EMAILS: usize = 10;

/// Which webhook targets a deployment accepts. In AWS only HTTPS to public addresses;
/// the local server also accepts loopback (and plain `http://` to loopback) so that tests
/// and a developer's receiver can listen on 127.0.0.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookPolicy {
    pub allow_loopback: bool,
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
}

#[cfg(test)]
mod tests;
