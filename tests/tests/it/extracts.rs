//! Spec §8 over HTTP on both storage stacks: order an extract, let it render (in process,
//! as stamp-local does; in AWS the table's stream triggers the same render function),
//! download it through its link, and read every format back against the ledger pushed.

use crate::on_every_store;
use crate::server::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const P: &str = "ledger-1";
const ASA: &str = "Åsa Öberg";
const BO_NAME: &str = "Bo Ärlig";
/// A name a spreadsheet would run as a formula.
const FORMULA: &str = "=SUMMA(1;2)";
/// A personnummer with a wrong check digit: stored, and flagged.
const THIRD: &str = "198507142388";

fn ev(id: &str, person: &str, name: &str, site: &str, dir: &str, at: &str) -> Value {
    event(id, ORG_A, site, person, name, dir, at)
}

/// The ledger of the scenarios: sessions (one across midnight, one with a duplicate),
/// a lone check-in and check-out, a withdrawn event, a corrected check-in.
async fn push_ledger(s: &TestServer, t: &Setup) {
    let events = vec![
        ev(
            "a1-in",
            ANNA,
            ASA,
            SITE_1,
            "in",
            "2026-03-02T07:00:00+01:00",
        ),
        ev(
            "a1-dup",
            ANNA,
            ASA,
            SITE_1,
            "in",
            "2026-03-02T07:01:00+01:00",
        ),
        ev("v0", ANNA, ASA, SITE_1, "out", "2026-03-02T12:00:00+01:00"),
        ev(
            "a1-out",
            ANNA,
            ASA,
            SITE_1,
            "out",
            "2026-03-02T16:00:00+01:00",
        ),
        ev(
            "a2-in",
            ANNA,
            ASA,
            SITE_1,
            "in",
            "2026-03-03T22:00:00+01:00",
        ),
        ev(
            "a2-out",
            ANNA,
            ASA,
            SITE_1,
            "out",
            "2026-03-04T06:30:00+01:00",
        ),
        ev(
            "b1-in",
            BO,
            BO_NAME,
            SITE_2,
            "in",
            "2026-03-02T06:00:00+01:00",
        ),
        ev(
            "b1-out",
            BO,
            BO_NAME,
            SITE_2,
            "out",
            "2026-03-02T14:45:30+01:00",
        ),
        ev(
            "b2-out",
            BO,
            BO_NAME,
            SITE_2,
            "out",
            "2026-03-05T17:00:00+01:00",
        ),
        ev(
            "f1-in",
            THIRD,
            FORMULA,
            SITE_1,
            "in",
            "2026-03-02T08:00:00+01:00",
        ),
        // Outside the period: not in a March extract.
        ev(
            "a9-in",
            ANNA,
            ASA,
            SITE_1,
            "in",
            "2026-04-02T07:00:00+02:00",
        ),
    ];
    let a = s
        .post_json("/partner/v1/batches", &t.partner, &batch("x-1", events))
        .await
        .expect(200);
    assert_eq!(a["rejected"], json!([]), "{a}");
    let mut void = ev(
        "v0-void",
        ANNA,
        ASA,
        SITE_1,
        "out",
        "2026-03-02T12:00:00+01:00",
    );
    void["corrects"] = json!("v0");
    void["void"] = json!(true);
    void["source"] = json!("manual");
    void["recorded_by"] = json!("Kalle Åkesson");
    void["recorded_at"] = json!("2026-03-02T13:10:00+01:00");
    let mut fix = ev(
        "a2-fix",
        ANNA,
        ASA,
        SITE_1,
        "in",
        "2026-03-03T21:55:00+01:00",
    );
    fix["corrects"] = json!("a2-in");
    fix["source"] = json!("manual");
    fix["recorded_by"] = json!("Kalle Åkesson");
    fix["recorded_at"] = json!("2026-03-04T08:00:00+01:00");
    let a = s
        .post_json(
            "/partner/v1/batches",
            &t.partner,
            &batch("x-2", vec![void, fix]),
        )
        .await
        .expect(200);
    assert_eq!(a["rejected"], json!([]), "{a}");
}

/// Polls an extract until it is no longer pending; it must be ready.
async fn ready(s: &TestServer, path: &str, token: &str) -> Value {
    for _ in 0..300 {
        let v = s.get(path, token).await.expect(200);
        if v["status"] != "pending" {
            assert_eq!(v["status"], "ready", "{v}");
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("extract {path} still pending");
}

async fn download(url: &str) -> (u16, Vec<u8>) {
    let res = reqwest::get(url).await.expect("download");
    let status = res.status().as_u16();
    (status, res.bytes().await.expect("bytes").to_vec())
}

/// Orders an extract of company A and returns its ready view and the file's bytes.
async fn order_and_fetch(s: &TestServer, token: &str, order: Value) -> (Value, Vec<u8>) {
    let pending = s
        .post_json(&format!("/v1/companies/{ORG_A}/extracts"), token, &order)
        .await
        .expect(202);
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["kind"], order["kind"]);
    let id = pending["id"].as_str().unwrap().to_string();
    let v = ready(s, &format!("/v1/companies/{ORG_A}/extracts/{id}"), token).await;
    let (status, bytes) = download(v["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        v["sha256"].as_str().unwrap(),
        "the file is the one whose SHA-256 is recorded"
    );
    (v, bytes)
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; infra/scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The rows the March ledger must give, without the corrections column (checked apart):
/// sorted by date, person_name, person_id, then time.
fn expected_rows() -> Vec<[&'static str; 13]> {
    let r = |site, name, id, date, cin, cout, dur, src, ids, anomalies| {
        [
            "5569999997",
            "Bygg AB",
            site,
            name,
            id,
            date,
            cin,
            cout,
            dur,
            src,
            "ledger-1",
            ids,
            anomalies,
        ]
    };
    vec![
        r(
            SITE_1,
            "'=SUMMA(1;2)",
            "19850714-2388",
            "2026-03-02",
            "08:00:00",
            "",
            "",
            "card",
            "ledger-1:f1-in",
            "missing_check_out invalid_person_id",
        ),
        r(
            SITE_2,
            BO_NAME,
            "19900101-1239",
            "2026-03-02",
            "06:00:00",
            "14:45:30",
            "525",
            "card",
            "ledger-1:b1-in ledger-1:b1-out",
            "",
        ),
        r(
            SITE_1,
            ASA,
            "19811218-9876",
            "2026-03-02",
            "07:00:00",
            "16:00:00",
            "540",
            "card",
            "ledger-1:a1-in ledger-1:a1-out ledger-1:a1-dup",
            "duplicate",
        ),
        r(
            SITE_1,
            ASA,
            "19811218-9876",
            "2026-03-02",
            "",
            "12:00:00",
            "",
            "manual",
            "ledger-1:v0",
            "",
        ),
        r(
            SITE_1,
            ASA,
            "19811218-9876",
            "2026-03-03",
            "21:55:00",
            "2026-03-04 06:30:00",
            "515",
            "manual/card",
            "ledger-1:a2-in ledger-1:a2-out",
            "",
        ),
        r(
            SITE_2,
            BO_NAME,
            "19900101-1239",
            "2026-03-05",
            "",
            "17:00:00",
            "",
            "card",
            "ledger-1:b2-out",
            "missing_check_in",
        ),
    ]
}

async fn authority_extract_in_csv_json_and_pdf(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    push_ledger(s, &t).await;
    let order = |format: &str| json!({"kind": "authority", "format": format, "from": "2026-03-01", "to": "2026-04-01"});

    // CSV: RFC 4180, the columns of spec §8, formula cells escaped.
    let (v, bytes) = order_and_fetch(s, &t.user, order("csv")).await;
    assert_eq!(v["ordered_by"]["sub"], format!("user-{ORG_A}"));
    assert_eq!(v["ordered_by"]["role"], "company_user");
    assert_eq!(v["downloads"].as_array().unwrap().len(), 1);
    assert_eq!(v["content_type"], "text/csv; charset=utf-8");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        [
            "company_orgnr",
            "company_name",
            "site_id",
            "person_name",
            "person_id",
            "date",
            "check_in",
            "check_out",
            "duration_minutes",
            "source",
            "partner_id",
            "event_ids",
            "corrections",
            "anomalies",
            "employer_orgnr"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let expected = expected_rows();
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    for (got, want) in rows.iter().zip(&expected) {
        let without_corrections: Vec<&str> = got
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 12 && *i != 14)
            .map(|(_, c)| c.as_str())
            .collect();
        assert_eq!(without_corrections, want.to_vec());
        assert_eq!(got[14], "", "no employer was delivered");
    }
    // Corrections: what, who and when, in full.
    let withdrawn = &rows[3][12];
    assert!(withdrawn.starts_with("ledger-1:v0 återkallad 2026-03-02 13:10:00 av Kalle Åkesson genom ledger-1:v0-void, mottagen "), "{withdrawn}");
    let corrected = &rows[4][12];
    assert!(corrected.starts_with("ledger-1:a2-in rättad 2026-03-04 08:00:00 av Kalle Åkesson genom ledger-1:a2-fix, mottagen "), "{corrected}");
    assert!(corrected.ends_with(": occurred_at 2026-03-03 22:00:00 → 2026-03-03 21:55:00, recorded_by (tomt) → Kalle Åkesson, source card → manual"), "{corrected}");
    assert!(rows
        .iter()
        .enumerate()
        .all(|(i, r)| i == 3 || i == 4 || r[12].is_empty()));

    // JSON: the same rows, lists as lists.
    let (_, bytes) = order_and_fetch(s, &t.user, order("json")).await;
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["kind"], "authority");
    assert_eq!(doc["company"]["company_orgnr"], ORG_A);
    assert_eq!(
        doc["totals"],
        json!({"rows": 6, "sessions": 3, "minutes": 1580})
    );
    let json_rows = doc["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), rows.len());
    for (j, c) in json_rows.iter().zip(&rows) {
        let text = |v: &Value| match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let list = |v: &Value, sep: &str| {
            v.as_array()
                .unwrap()
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(sep)
        };
        let name = text(&j["person_name"]);
        assert_eq!(
            c[3],
            if name.starts_with('=') {
                format!("'{name}")
            } else {
                name
            }
        );
        for (i, col) in ["company_orgnr", "company_name", "site_id"]
            .iter()
            .enumerate()
        {
            assert_eq!(c[i], text(&j[col]));
        }
        for (i, col) in [
            (4, "person_id"),
            (5, "date"),
            (6, "check_in"),
            (7, "check_out"),
            (8, "duration_minutes"),
            (9, "source"),
            (10, "partner_id"),
        ] {
            assert_eq!(c[i], text(&j[col]), "{col}");
        }
        assert_eq!(c[11], list(&j["event_ids"], " "));
        assert_eq!(c[13], list(&j["anomalies"], " "));
        assert_eq!(
            c[12],
            j["corrections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| text(&x["text"]))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    assert_eq!(json_rows[3]["row_kind"], "withdrawn");
    assert_eq!(
        json_rows[3]["corrections"][0]["recorded_by"],
        "Kalle Åkesson"
    );

    // PDF: the names with å/ä/ö, times, totals and page numbers come back out as text.
    let (v, bytes) = order_and_fetch(s, &t.user, order("pdf")).await;
    let text = pdf_text(&bytes);
    let id = v["id"].as_str().unwrap();
    for want in [
        ASA,
        BO_NAME,
        "Bygg AB (5569999997)",
        "2026-03-01 – 2026-03-31",
        "Sida 1 av 1",
        "21:55:00",
        "14:45:30",
        "Kalle Åkesson",
        id,
    ] {
        assert!(text.contains(want), "{want:?} not in the PDF text:\n{text}");
    }
    assert!(
        text.contains("Summa: 6 rader, 3 arbetspass, 26 h 20 min (1580 minuter)."),
        "{text}"
    );

    // One site, one person.
    let (_, bytes) = order_and_fetch(s, &t.user, json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-04-01", "site_id": SITE_2})).await;
    let site_rows: Vec<csv::StringRecord> = csv::Reader::from_reader(bytes.as_slice())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(site_rows.len(), 2);
    assert!(site_rows
        .iter()
        .all(|r| &r[2] == SITE_2 && &r[3] == BO_NAME));
}

async fn register_extract_in_pdf_and_json(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    push_ledger(s, &t).await;
    let found = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/people/search"),
            &t.user,
            &json!({"person_id": ANNA}),
        )
        .await
        .expect(200);
    let person_ref = found["person_ref"].as_str().unwrap();

    let (_, bytes) = order_and_fetch(
        s,
        &t.user,
        json!({"kind": "register_extract", "format": "json", "person_ref": person_ref}),
    )
    .await;
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        doc["subject"],
        json!({"person_name": ASA, "person_id": "19811218-9876"})
    );
    for key in [
        "purposes",
        "legal_basis",
        "categories",
        "recipients",
        "storage_period",
        "sources",
        "rights",
    ] {
        assert!(
            doc["information"][key]
                .as_str()
                .is_some_and(|s| s.len() > 40),
            "{key}"
        );
    }
    assert!(doc["information"]["legal_basis"]
        .as_str()
        .unwrap()
        .contains("39 kap. 11–12 §§"));
    let c = &doc["companies"][0];
    assert_eq!(doc["companies"].as_array().unwrap().len(), 1);
    assert_eq!(c["controller"]["company_orgnr"], ORG_A);
    assert_eq!(
        c["sources"],
        json!([{"partner_id": P, "name": "Ledger AB"}])
    );
    // Everything on the person: April's session too, the duplicate, the withdrawn event.
    let ids: Vec<&str> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["a1-dup", "a1-in", "a1-out", "a2-in", "a2-out", "a9-in", "v0"]
    );
    let event = |id: &str| {
        c["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(event("v0")["withdrawn"], true);
    assert_eq!(event("v0")["corrections"][0]["action"], "withdrawal");
    assert_eq!(
        event("a2-in")["corrections"][0]["recorded_by"],
        "Kalle Åkesson"
    );
    assert_eq!(event("a1-dup")["anomalies"], json!(["duplicate"]));
    // Fiscal year = calendar year: events of 2026 are kept to the end of 2028.
    assert!(c["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["retention_until"] == "2028-12-31"));
    assert_eq!(c["totals"]["sessions"], 2);
    assert_eq!(c["totals"]["minutes"], 1055);
    assert_eq!(c["totals"]["corrections"], 2);

    let (v, bytes) = order_and_fetch(
        s,
        &t.user,
        json!({"kind": "register_extract", "format": "pdf", "person_ref": person_ref}),
    )
    .await;
    assert_eq!(v["content_type"], "application/pdf");
    let text = pdf_text(&bytes);
    for want in [
        "Registerutdrag enligt artikel 15",
        ASA,
        "19811218-9876",
        "Personuppgiftsansvarig: Bygg AB (5569999997)",
        "Rättslig grund",
        "Skatteverket",
        "2028-12-31",
        "Kalle Åkesson",
        "dubbelregistrering",
        "Summa: 2 arbetspass, 17 h 35 min (1055 minuter); 7 registreringar, 2 rättelser",
        "Sida 1 av ",
    ] {
        assert!(text.contains(want), "{want:?} not in the PDF text:\n{text}");
    }
    let pages = text.matches("Sida ").count();
    assert!(
        pages >= 1 && text.contains(&format!("Sida {pages} av {pages}")),
        "{text}"
    );
    assert!(!text.contains("19900101-1239"), "nothing of anyone else");
}

async fn extracts_stay_with_their_company_and_links_expire(s: &TestServer) {
    let a = setup(s, ORG_A, P).await;
    let b = setup(s, ORG_B, P).await;
    push_ledger(s, &a).await;
    let order =
        json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-04-01"});
    let (v, _) = order_and_fetch(s, &a.user, order.clone()).await;
    let id = v["id"].as_str().unwrap();
    // Company B's token opens neither A's extract nor, under B, an extract of A.
    s.get(&format!("/v1/companies/{ORG_A}/extracts/{id}"), &b.user)
        .await
        .problem(403, "forbidden");
    s.get(&format!("/v1/companies/{ORG_B}/extracts/{id}"), &b.user)
        .await
        .problem(404, "not_found");
    s.post_json(&format!("/v1/companies/{ORG_A}/extracts"), &b.user, &order)
        .await
        .problem(403, "forbidden");
    // Bad orders name the field.
    let bad = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/extracts"),
            &a.user,
            &json!({"format": "csv"}),
        )
        .await
        .problem(400, "missing_field");
    assert_eq!(bad["field"], "kind");
    let bad = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/extracts"),
            &a.user,
            &json!({"kind": "register_extract", "format": "pdf", "person_ref": "pnobody"}),
        )
        .await
        .problem(400, "invalid_field");
    assert_eq!(bad["field"], "person_ref");
    // An employee token is no company user.
    let employee = s.token(stamp_domain::auth::Claims {
        person_id: Some(ANNA.into()),
        ..claims("e-1", &["employee"], &[ORG_A])
    });
    s.get(&format!("/v1/companies/{ORG_A}/extracts/{id}"), &employee)
        .await
        .problem(403, "forbidden");

    let url = v["download_url"].as_str().unwrap().to_string();
    assert!(v["download_expires_at"].is_string());
    if url.contains("/local/downloads/") {
        // A tampered link is refused; a link past its five minutes is gone.
        // Change the last character of the signature (to one it is not).
        let flipped = if url.ends_with('0') { '1' } else { '0' };
        let tampered = format!("{}{flipped}", &url[..url.len() - 1]);
        let (status, body) = download(&tampered).await;
        assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
        s.clock.advance(chrono::Duration::minutes(6));
        let (status, body) = download(&url).await;
        assert_eq!(status, 410, "{}", String::from_utf8_lossy(&body));
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "link_expired");
        // Asking again gives a new link, and records it.
        let again = s
            .get(&format!("/v1/companies/{ORG_A}/extracts/{id}"), &a.user)
            .await
            .expect(200);
        assert_eq!(
            download(again["download_url"].as_str().unwrap()).await.0,
            200
        );
        assert_eq!(again["downloads"].as_array().unwrap().len(), 2);
    } else {
        // S3 enforces a presigned URL's expiry itself: five minutes.
        assert!(url.contains("X-Amz-Expires=300"), "{url}");
        assert!(url.contains("/extracts/"), "{url}");
    }
}

async fn employees_read_and_extract_their_own_across_companies(s: &TestServer) {
    let a = setup(s, ORG_A, P).await;
    let b = setup(s, ORG_B, P).await;
    push_ledger(s, &a).await;
    let in_b = event(
        "bb-in",
        ORG_B,
        SITE_2,
        ANNA,
        ASA,
        "in",
        "2026-03-10T07:00:00+01:00",
    );
    let out_b = event(
        "bb-out",
        ORG_B,
        SITE_2,
        ANNA,
        ASA,
        "out",
        "2026-03-10T15:00:00+01:00",
    );
    s.post_json(
        "/partner/v1/batches",
        &b.partner,
        &batch("b-1", vec![in_b, out_b]),
    )
    .await
    .expect(200);
    let me = s.token(stamp_domain::auth::Claims {
        person_id: Some("19811218-9876".into()),
        ..claims("bankid-asa", &["employee"], &[])
    });

    let regs = s
        .get(
            "/v1/me/registrations?from=2026-03-01T00:00:00%2B01:00&to=2026-04-01T00:00:00%2B02:00",
            &me,
        )
        .await
        .expect(200);
    let companies = regs["companies"].as_array().unwrap();
    assert_eq!(companies.len(), 2, "{regs}");
    let of = |org: &str| {
        companies
            .iter()
            .find(|c| c["company_orgnr"] == org)
            .unwrap()
            .clone()
    };
    assert_eq!(of(ORG_A)["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(of(ORG_A)["duplicates"].as_array().unwrap().len(), 1);
    assert_eq!(of(ORG_B)["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(of(ORG_B)["person_name"], ASA);
    let only_b = s
        .get(&format!("/v1/me/registrations?company={ORG_B}"), &me)
        .await
        .expect(200);
    assert_eq!(only_b["companies"].as_array().unwrap().len(), 1);

    let pending = s
        .post_json("/v1/me/extracts", &me, &json!({"format": "json"}))
        .await
        .expect(202);
    let id = pending["id"].as_str().unwrap();
    assert!(pending.get("company_orgnr").is_none());
    let v = ready(s, &format!("/v1/me/extracts/{id}"), &me).await;
    assert_eq!(v["ordered_by"]["role"], "employee");
    let (status, bytes) = download(v["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["companies"].as_array().unwrap().len(), 2);
    assert_eq!(doc["subject"]["person_id"], "19811218-9876");

    // The PDF by default.
    let pending = s
        .post_json("/v1/me/extracts", &me, &json!({}))
        .await
        .expect(202);
    assert_eq!(pending["format"], "pdf");
    let v = ready(
        s,
        &format!("/v1/me/extracts/{}", pending["id"].as_str().unwrap()),
        &me,
    )
    .await;
    let text = pdf_text(&download(v["download_url"].as_str().unwrap()).await.1);
    assert!(
        text.contains("Personuppgiftsansvarig: Bygg AB (5599000006)"),
        "{text}"
    );
    assert!(text.contains(ASA));

    // Someone else, a token without person_id, a company user: nothing.
    let other = s.token(stamp_domain::auth::Claims {
        person_id: Some(BO.into()),
        ..claims("bankid-bo", &["employee"], &[])
    });
    s.get(&format!("/v1/me/extracts/{id}"), &other)
        .await
        .problem(404, "not_found");
    let bare = s.token(claims("bankid-x", &["employee"], &[]));
    s.get("/v1/me/registrations", &bare)
        .await
        .problem(403, "forbidden");
    s.post_json("/v1/me/extracts", &a.user, &json!({}))
        .await
        .problem(403, "forbidden");
    s.post_json(
        "/v1/me/extracts",
        &me,
        &json!({"kind": "authority", "format": "csv"}),
    )
    .await
    .problem(400, "invalid_field");
}

on_every_store!(
    authority_extract_in_csv_json_and_pdf,
    register_extract_in_pdf_and_json,
    extracts_stay_with_their_company_and_links_expire,
    employees_read_and_extract_their_own_across_companies,
);
