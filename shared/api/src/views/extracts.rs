//! Extracts (spec §8) and the employees' own data.

use chrono::{DateTime, Utc};
use serde::Serialize;
use stamp_domain::extracts::{
    Actor, ExtractAnswer, ExtractFormat, ExtractKind, ExtractRequest, ExtractStatus,
};
use stamp_domain::time::format_rfc3339;
use utoipa::ToSchema;

use super::reads::Registrations;

/// The order as validated.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractRequestView {
    pub kind: ExtractKind,
    pub format: ExtractFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    /// The `employer` filter (authority extract only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
}

impl From<&ExtractRequest> for ExtractRequestView {
    fn from(r: &ExtractRequest) -> Self {
        ExtractRequestView {
            kind: r.kind,
            format: r.format,
            person_ref: r.person_ref.as_ref().map(|p| p.to_string()),
            from: r.from.as_ref().map(format_rfc3339),
            to: r.to.as_ref().map(format_rfc3339),
            site_id: r.site_id.as_ref().map(|s| s.to_string()),
            employer: r.employer.as_ref().map(|o| o.to_string()),
        }
    }
}

/// An extract: pending, ready (with `sha256` and, on `GET`, a short-lived
/// `download_url`) or failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtractView {
    pub id: String,
    pub kind: ExtractKind,
    pub format: ExtractFormat,
    pub status: ExtractStatus,
    pub request: ExtractRequestView,
    pub ordered_by: Actor,
    /// Each download link handed out.
    pub downloads: Vec<Actor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_orgnr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// When ready (on `GET`): valid a few minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_expires_at: Option<DateTime<Utc>>,
}

impl ExtractView {
    /// The answer; a download link relative to this server is made absolute with the
    /// public base URL.
    pub fn of(a: &ExtractAnswer, public_url: &str) -> Self {
        let r = &a.record;
        let file = r.file.as_ref().filter(|_| a.status == ExtractStatus::Ready);
        ExtractView {
            id: r.id.clone(),
            kind: r.kind,
            format: r.format,
            status: a.status,
            request: ExtractRequestView::from(&r.request),
            ordered_by: r.ordered_by.clone(),
            downloads: r.downloads.clone(),
            company_orgnr: r.company_orgnr.as_ref().map(|o| o.to_string()),
            sha256: file.map(|f| f.sha256.clone()),
            bytes: file.map(|f| f.bytes),
            content_type: file.map(|f| f.content_type.clone()),
            file_name: file.map(|f| f.file_name.clone()),
            rendered_at: file.map(|f| f.rendered_at),
            error: (a.status == ExtractStatus::Failed).then(|| {
                r.error
                    .clone()
                    .unwrap_or_else(|| "the rendering did not finish in time".into())
            }),
            finished_at: r.finished_at,
            download_url: a.link.as_ref().map(|l| {
                if l.url.starts_with('/') {
                    format!("{public_url}{}", l.url)
                } else {
                    l.url.clone()
                }
            }),
            download_expires_at: a.link.as_ref().map(|l| l.expires_at),
        }
    }
}

/// One company's registrations of the employee.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnCompany {
    #[serde(flatten)]
    pub registrations: Registrations,
    pub company_orgnr: String,
    pub company_name: Option<String>,
    pub company_active: bool,
    pub person_ref: String,
    pub person_name: String,
}

impl From<&stamp_domain::extracts::OwnCompany> for OwnCompany {
    fn from(c: &stamp_domain::extracts::OwnCompany) -> Self {
        OwnCompany {
            registrations: Registrations::from(&c.registrations),
            company_orgnr: c.company_orgnr.to_string(),
            company_name: c.company_name.clone(),
            company_active: c.company_active,
            person_ref: c.person_ref.to_string(),
            person_name: c.person_name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnRegistrations {
    pub companies: Vec<OwnCompany>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use stamp_domain::extracts::{ExtractFile, ExtractRecord, ITEM_TYPE};

    #[test]
    fn a_file_shows_only_when_ready_and_a_failure_says_why() {
        let at = "2026-03-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let request = stamp_domain::extracts::OrderBody {
            kind: Some("authority".into()),
            format: Some("csv".into()),
            from: Some("2026-03-01".into()),
            to: Some("2026-03-02".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        let record = ExtractRecord {
            id: "x".into(),
            item_type: ITEM_TYPE.into(),
            kind: ExtractKind::Authority,
            format: ExtractFormat::Csv,
            status: ExtractStatus::Pending,
            request,
            company_orgnr: None,
            subject: None,
            ordered_by: Actor {
                sub: "u".into(),
                role: "company_user".into(),
                at,
            },
            file: Some(ExtractFile {
                key: "k".into(),
                sha256: "ab".into(),
                bytes: 2,
                content_type: "text/csv".into(),
                file_name: "x.csv".into(),
                rendered_at: at,
            }),
            error: None,
            finished_at: None,
            downloads: vec![],
            version: 0,
        };
        let failed = ExtractAnswer {
            record: record.clone(),
            status: ExtractStatus::Failed,
            link: None,
        };
        let v = serde_json::to_value(ExtractView::of(&failed, "http://x")).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["error"], "the rendering did not finish in time");
        assert!(v.get("sha256").is_none(), "{v}");
        let ready = ExtractAnswer {
            record,
            status: ExtractStatus::Ready,
            link: Some(stamp_domain::extracts::DownloadLink {
                url: "/local/extracts/t".into(),
                expires_at: at,
            }),
        };
        let v = serde_json::to_value(ExtractView::of(&ready, "http://x")).unwrap();
        assert_eq!(v["sha256"], "ab");
        assert_eq!(v["download_url"], "http://x/local/extracts/t");
        assert!(v.get("error").is_none(), "{v}");
        assert_eq!(v["request"]["from"], "2026-03-01T00:00:00+01:00");
    }
}
