use super::*;
use crate::governance::admin::{ActivationRequest, Admin, NewPartner};
use crate::identity::pseudonym::sha256_hex;
use crate::identity::pseudonym::PseudonymKey;
use crate::intake::{DeliveryFormat, ImportService};
use crate::memory::{MemoryArchive, MemoryExtractFiles, MemoryItemStore};
use crate::ports::LinkError;
use crate::reads::queries::RegistrationQuery;
use serde_json::{json, Value};
use std::sync::Mutex;

struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, d: chrono::Duration) {
        *self.0.lock().unwrap() += d;
    }
}

const ORG_A: &str = "5569999997";
const ORG_B: &str = "5599000006";
const ANNA: &str = "198112189876";

struct World {
    ledger: Ledger,
    import: ImportService,
    extracts: Extracts,
    files: Arc<MemoryExtractFiles>,
    clock: Arc<TestClock>,
}

fn claims(sub: &str, roles: &[&str], companies: &[&str]) -> Claims {
    Claims {
        sub: sub.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        companies: companies.iter().map(|c| c.to_string()).collect(),
        partner_id: None,
        person_id: None,
    }
}

fn admin_of(org: &str) -> Claims {
    claims(
        &format!("admin-{org}"),
        &["company_admin", "company_user"],
        &[org],
    )
}

async fn world() -> World {
    let clock = Arc::new(TestClock(Mutex::new(
        "2026-03-20T12:00:00Z".parse().unwrap(),
    )));
    let ledger = Ledger::new(
        Arc::new(MemoryItemStore::new()),
        PseudonymKey::new(b"k".to_vec()),
    );
    let files = Arc::new(MemoryExtractFiles::new());
    let admin = Admin::new(ledger.clone(), clock.clone());
    admin
        .accredit_partner(
            &claims("op", &["operator"], &[]),
            NewPartner {
                partner_id: Some("p1".into()),
                name: Some("Liggare AB".into()),
                feed_url: None,
            },
        )
        .await
        .unwrap();
    for (org, name) in [(ORG_A, "Åbergs Bygg AB"), (ORG_B, "Bygg B AB")] {
        let req = ActivationRequest {
            terms_version: Some("1".into()),
            company_name: Some(name.into()),
            fiscal_year_end_month: Some(4),
        };
        admin
            .activate(&admin_of(org), &Orgnr::parse(org).unwrap(), req)
            .await
            .unwrap();
    }
    World {
        import: ImportService::new(
            ledger.clone(),
            Arc::new(MemoryArchive::new()),
            clock.clone(),
        ),
        extracts: Extracts::new(
            ledger.clone(),
            files.clone(),
            clock.clone(),
            Dispatch::Stream,
        ),
        ledger,
        files,
        clock,
    }
}

fn event(id: &str, org: &str, dir: &str, at: &str) -> Value {
    json!({
        "event_id": id, "company_orgnr": org, "company_name": "Åbergs Bygg AB", "site_id": "STH2026000001",
        "person_id": ANNA, "person_name": "Åsa Öberg", "direction": dir, "occurred_at": at, "recorded_at": at,
    })
}

async fn push(w: &World, batch: &str, events: Vec<Value>) {
    let partner = Claims {
        partner_id: Some("p1".into()),
        ..claims("p", &["partner"], &[])
    };
    let body = json!({ "batch_id": batch, "events": events }).to_string();
    let answer = w
        .import
        .push(&partner, DeliveryFormat::Json, body.as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(answer.rejected, vec![], "{answer:?}");
}

fn order(kind: &str, format: &str, extra: Value) -> OrderBody {
    let mut v = json!({ "kind": kind, "format": format });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    OrderBody {
        kind: s("kind"),
        format: s("format"),
        person_ref: s("person_ref"),
        from: s("from"),
        to: s("to"),
        site_id: s("site_id"),
        employer: s("employer"),
    }
}

#[tokio::test]
async fn an_authority_extract_is_ordered_rendered_and_downloaded_once_per_link() {
    let w = world().await;
    push(
        &w,
        "b1",
        vec![
            event("i1", ORG_A, "in", "2026-03-02T07:00:00+01:00"),
            event("o1", ORG_A, "out", "2026-03-02T16:00:00+01:00"),
        ],
    )
    .await;
    let user = admin_of(ORG_A);
    let a = Orgnr::parse(ORG_A).unwrap();
    let r = w
        .extracts
        .order(
            &user,
            &a,
            order(
                "authority",
                "csv",
                json!({"from": "2026-03-01", "to": "2026-04-01"}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(r.status, ExtractStatus::Pending);
    assert_eq!(r.ordered_by.role, "company_user");
    let pending = w.extracts.get(&user, &a, &r.id).await.unwrap();
    assert_eq!(pending.status, ExtractStatus::Pending);
    assert!(pending.link.is_none());

    let pk = w.ledger.company_extracts_pk(&a);
    let outcome = w.extracts.render(&pk, &r.id).await.unwrap();
    let RenderOutcome::Ready { sha256, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        w.extracts.render(&pk, &r.id).await.unwrap(),
        RenderOutcome::AlreadyDone
    );

    let ready = w.extracts.get(&user, &a, &r.id).await.unwrap();
    assert_eq!(ready.status, ExtractStatus::Ready);
    assert_eq!(ready.record.file.as_ref().unwrap().sha256, sha256);
    assert_eq!(ready.record.downloads.len(), 1);
    assert_eq!(ready.record.downloads[0].sub, user.sub);
    let url = ready.link.as_ref().unwrap().url.as_str();
    let file = w.extracts.open_link(url).await.unwrap();
    assert_eq!(sha256_hex(&file.bytes), sha256);
    let text = String::from_utf8(file.bytes).unwrap();
    assert!(
        text.starts_with(
            "company_orgnr,company_name,site_id,person_name,person_id,date,check_in,check_out"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "Åsa Öberg,19811218-9876,2026-03-02,07:00:00,16:00:00,540,card,p1,p1:i1 p1:o1,,"
        ),
        "{text}"
    );
    assert!(
        w.files.keys()[0].starts_with("extracts/c"),
        "{:?}",
        w.files.keys()
    );

    // The link lasts five minutes.
    w.clock.advance(chrono::Duration::minutes(6));
    assert!(matches!(
        w.extracts.open_link(url).await,
        Err(LinkError::Expired)
    ));
    let again = w.extracts.get(&user, &a, &r.id).await.unwrap();
    assert_eq!(again.record.downloads.len(), 2);
}

#[tokio::test]
async fn orders_are_checked_against_the_company() {
    let w = world().await;
    push(
        &w,
        "b1",
        vec![event("i1", ORG_A, "in", "2026-03-02T07:00:00+01:00")],
    )
    .await;
    let a = Orgnr::parse(ORG_A).unwrap();
    let b_user = admin_of(ORG_B);
    let err = w
        .extracts
        .order(
            &b_user,
            &a,
            order(
                "authority",
                "csv",
                json!({"from": "2026-03-01", "to": "2026-04-01"}),
            ),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Forbidden(_)), "{err}");
    let err = w
        .extracts
        .order(
            &admin_of(ORG_A),
            &a,
            order("register_extract", "pdf", json!({"person_ref": "pnobody"})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::InvalidField { ref field, .. } if field == "person_ref"),
        "{err}"
    );
    let r = w
        .extracts
        .order(
            &admin_of(ORG_A),
            &a,
            order(
                "authority",
                "json",
                json!({"from": "2026-03-01", "to": "2026-04-01"}),
            ),
        )
        .await
        .unwrap();
    // Another company's partition does not hold it; its token cannot open A's.
    let b = Orgnr::parse(ORG_B).unwrap();
    assert!(matches!(
        w.extracts.get(&b_user, &b, &r.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(matches!(
        w.extracts.get(&b_user, &a, &r.id).await,
        Err(DomainError::Forbidden(_))
    ));
}

#[tokio::test]
async fn an_employee_gets_every_company_that_holds_them() {
    let w = world().await;
    push(
        &w,
        "b1",
        vec![
            event("a-i", ORG_A, "in", "2026-03-02T07:00:00+01:00"),
            event("a-o", ORG_A, "out", "2026-03-02T15:00:00+01:00"),
        ],
    )
    .await;
    push(
        &w,
        "b2",
        vec![event("b-i", ORG_B, "in", "2026-03-03T07:00:00+01:00")],
    )
    .await;
    let employee = Claims {
        person_id: Some("19811218-9876".into()),
        ..claims("bankid-1", &["employee"], &[])
    };
    let r = w
        .extracts
        .order_own(&employee, order("register_extract", "json", json!({})))
        .await
        .unwrap();
    assert!(r.subject.is_some() && r.company_orgnr.is_none());
    let pk = w.ledger.own_extracts_pk(r.subject.as_ref().unwrap());
    assert!(pk.starts_with("ME#s") && !pk.contains("8112"), "{pk}");
    assert!(matches!(
        w.extracts.render(&pk, &r.id).await.unwrap(),
        RenderOutcome::Ready { .. }
    ));
    let v = w.extracts.get_own(&employee, &r.id).await.unwrap();
    let file = w
        .extracts
        .open_link(&v.link.as_ref().unwrap().url)
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&file.bytes).unwrap();
    assert_eq!(doc["subject"]["person_id"], "19811218-9876");
    let companies = doc["companies"].as_array().unwrap();
    assert_eq!(companies.len(), 2);
    let a = companies
        .iter()
        .find(|c| c["controller"]["company_orgnr"] == ORG_A)
        .unwrap();
    assert_eq!(a["totals"]["sessions"], 1);
    assert_eq!(a["totals"]["minutes"], 480);
    // Fiscal year ending in April: an event in March 2026 is kept to 2028-12-31.
    assert_eq!(a["events"][0]["retention_until"], "2028-12-31");
    assert_eq!(a["sources"][0]["name"], "Liggare AB");
    assert!(doc["information"]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("artikel 6.1 c"));
    let b = companies
        .iter()
        .find(|c| c["controller"]["company_orgnr"] == ORG_B)
        .unwrap();
    assert_eq!(b["rows"][0]["row_kind"], "missing_check_out");
    assert_eq!(b["anomalies"][0]["label"], "utpassering saknas");

    // Someone else's token, or no person_id, opens nothing.
    let other = Claims {
        person_id: Some("19900101-1239".into()),
        ..employee.clone()
    };
    assert!(matches!(
        w.extracts.get_own(&other, &r.id).await,
        Err(DomainError::NotFound(_))
    ));
    let bare = claims("bankid-2", &["employee"], &[]);
    assert!(matches!(
        w.extracts
            .order_own(&bare, order("register_extract", "pdf", json!({})))
            .await,
        Err(DomainError::Forbidden(_))
    ));
    let err = w
        .extracts
        .order_own(&employee, order("authority", "csv", json!({})))
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::InvalidField { ref field, .. } if field == "kind"));

    let regs = w
        .extracts
        .own_registrations(
            &employee,
            &RegistrationQuery {
                range: crate::reads::queries::Range::parse(None, None, chrono::Utc::now()).unwrap(),
                history: false,
                employer: None,
                cursor: None,
                limit: 100,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(regs.len(), 2);
}

#[tokio::test]
async fn a_register_extract_in_pdf_names_the_person_and_the_pages() {
    let w = world().await;
    push(
        &w,
        "b1",
        vec![
            event("i1", ORG_A, "in", "2026-03-02T07:00:00+01:00"),
            event("o1", ORG_A, "out", "2026-03-02T16:00:00+01:00"),
        ],
    )
    .await;
    let a = Orgnr::parse(ORG_A).unwrap();
    let person_ref = w
        .ledger
        .pseudonyms()
        .person_ref(&a, &PersonId::parse(ANNA, None, None).unwrap());
    let r = w
        .extracts
        .order(
            &admin_of(ORG_A),
            &a,
            order("register_extract", "pdf", json!({"person_ref": person_ref})),
        )
        .await
        .unwrap();
    let pk = w.ledger.company_extracts_pk(&a);
    assert!(matches!(
        w.extracts.render(&pk, &r.id).await.unwrap(),
        RenderOutcome::Ready { .. }
    ));
    let rec = w.ledger.extract(&pk, &r.id).await.unwrap().unwrap();
    let f = rec.file.unwrap();
    assert_eq!(f.content_type, "application/pdf");
    let bytes = w.files.get(&f.key).await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(sha256_hex(&bytes), f.sha256);
}
