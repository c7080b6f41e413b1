//! Spec §10 over HTTP on both storage stacks: who is on site (checked against an
//! independent computation over a generated site), inspection links (made, listed,
//! used, audited, revoked, expired), and a link that opens its own site and nothing else.

use crate::on_every_store;
use crate::server::*;

/// A valid personnummer born 1985, distinct for each `n` below 900.
fn personnummer(n: u32) -> String {
    let born = NaiveDate::from_ymd_opt(1985, 1 + n % 9, 1 + n % 28).expect("a date");
    stamp_testdata::personnummer(born, 100 + n)
}
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};
use chrono_tz::Europe::Stockholm;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const P: &str = "insp-ledger";
const P2: &str = "insp-other";
/// Employers (valid organisationsnummer) other than the company.
const EMPLOYERS: [&str; 3] = ["5560360793", "5566778899", "5565594230"];

fn local(day: NaiveDate, h: u32, m: u32) -> DateTime<FixedOffset> {
    Stockholm
        .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .earliest()
        .unwrap()
        .fixed_offset()
}

fn rfc(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339()
}

fn enc(t: &str) -> String {
    t.replace('+', "%2B")
}

async fn second_partner(s: &TestServer, t: &Setup) -> String {
    s.post_json(
        "/v1/partners",
        &t.operator,
        &json!({"partner_id": P2, "name": "Other Ledger AB"}),
    )
    .await;
    s.token(partner_claims(P2))
}

async fn push(s: &TestServer, token: &str, id: &str, events: Vec<Value>) {
    for (i, chunk) in events.chunks(5000).enumerate() {
        let a = s
            .post_json(
                "/partner/v1/batches",
                token,
                &batch(&format!("{id}-{i}"), chunk.to_vec()),
            )
            .await
            .expect(200);
        assert_eq!(a["rejected"], json!([]), "{a}");
    }
}

fn with_employer(mut e: Value, employer: Option<&str>) -> Value {
    if let Some(o) = employer {
        e["employer_orgnr"] = json!(o);
    }
    e
}

async fn present_shows_open_check_ins_with_employer(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    push(
        s,
        &t.partner,
        "present",
        vec![
            with_employer(
                event(
                    "a-in",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Anna Ek",
                    "in",
                    &rfc(local(day, 7, 0)),
                ),
                Some(EMPLOYERS[0]),
            ),
            event(
                "b-in",
                ORG_A,
                SITE_1,
                BO,
                "Bo Al",
                "in",
                &rfc(local(day, 7, 30)),
            ),
            event(
                "b-out",
                ORG_A,
                SITE_2,
                BO,
                "Bo Al",
                "out",
                &rfc(local(day, 9, 0)),
            ),
        ],
    )
    .await;
    let path = |at: DateTime<FixedOffset>| {
        format!(
            "/v1/companies/{ORG_A}/sites/{SITE_1}/present?at={}",
            enc(&rfc(at))
        )
    };
    let v = s.get(&path(local(day, 8, 0)), &t.user).await.expect(200);
    assert_eq!(v["site_id"], SITE_1);
    let people = v["people"].as_array().unwrap();
    assert_eq!(people.len(), 2, "{v}");
    assert_eq!(people[0]["person_name"], "Anna Ek", "ordered by name");
    assert_eq!(people[0]["employer_orgnr"], EMPLOYERS[0]);
    assert_eq!(people[0]["partner_id"], P);
    assert_eq!(people[0]["person_id_masked"], "19811218-XXXX");
    assert_eq!(
        people[0]["checked_in_at"].as_str().unwrap(),
        rfc(local(day, 7, 0))
    );
    assert!(people[0]["person_ref"].is_string());
    assert_eq!(people[1]["person_name"], "Bo Al");
    assert!(people[1]["employer_orgnr"].is_null());
    assert!(!v.to_string().contains(ANNA), "no personnummer in the list");

    // Bo checked out at another site: not present at either.
    let v = s.get(&path(local(day, 10, 0)), &t.user).await.expect(200);
    let names: Vec<&str> = v["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["person_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Ek"]);
    let v = s
        .get(
            &format!(
                "/v1/companies/{ORG_A}/sites/{SITE_2}/present?at={}",
                enc(&rfc(local(day, 10, 0)))
            ),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(v["people"], json!([]));
    // employer= filter.
    let v = s
        .get(
            &format!("{}&employer={}", path(local(day, 8, 0)), EMPLOYERS[1]),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(v["people"], json!([]));
    // The employer is carried into registrations too, and filters them.
    let regs = s
        .get(
            &format!(
                "/v1/companies/{ORG_A}/sites/{SITE_1}/registrations?employer={}",
                EMPLOYERS[0]
            ),
            &t.user,
        )
        .await
        .expect(200);
    let unpaired = regs["unpaired"].as_array().unwrap();
    assert_eq!(unpaired.len(), 1, "{regs}");
    assert_eq!(unpaired[0]["employer_orgnr"], EMPLOYERS[0]);
    assert_eq!(regs["sessions"], json!([]));

    // people and statistics take employer= too (statistics from the same aggregation).
    let people = s
        .get(
            &format!("/v1/companies/{ORG_A}/people?employer={}", EMPLOYERS[0]),
            &t.user,
        )
        .await
        .expect(200);
    let names: Vec<&str> = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["person_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Ek"]);
    let all = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    assert_eq!(all["people"].as_array().unwrap().len(), 2);
    let total = |v: &Value| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["site_id"].is_null())
            .cloned()
            .unwrap()
    };
    let everyone = stats(s, &t.user, String::new()).await;
    assert_eq!(total(&everyone)["persons"], 2);
    assert_eq!(total(&everyone)["check_ins"], 2);
    let theirs = stats(s, &t.user, format!("&employer={}", EMPLOYERS[0])).await;
    assert_eq!(theirs["employer"], EMPLOYERS[0]);
    assert_eq!(total(&theirs)["persons"], 1);
    assert_eq!(total(&theirs)["check_ins"], 1);
    assert_eq!(total(&theirs)["check_outs"], 0);
    let site_rows: Vec<&Value> = theirs["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["site_id"].is_null())
        .collect();
    assert_eq!(site_rows.len(), 1);
    assert_eq!(site_rows[0]["site_id"], SITE_1);
    let none = stats(s, &t.user, format!("&employer={}", EMPLOYERS[1])).await;
    assert_eq!(none["rows"], json!([]));

    // Refusals.
    s.get(
        &format!("/v1/companies/{ORG_A}/sites/{SITE_1}/present?at=yesterday"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");
    let bad = s
        .get(&format!("{}&employer=123", path(local(day, 8, 0))), &t.user)
        .await
        .problem(400, "invalid_field");
    assert_eq!(bad["field"], "employer");
    s.get(
        &format!("/v1/companies/{ORG_A}/sites/ZZZ2026999999/present"),
        &t.user,
    )
    .await
    .problem(404, "not_found");
    let stranger = s.token(claims("stranger", &["company_user"], &[ORG_A]));
    s.get(&path(local(day, 8, 0)), &stranger)
        .await
        .problem(403, "forbidden");
    s.call(Method::GET, &path(local(day, 8, 0)), None, None)
        .await
        .problem(401, "unauthenticated");
    // Without at=: now (the clock is real here, and these check-ins are long past).
    let now = s
        .get(
            &format!("/v1/companies/{ORG_A}/sites/{SITE_1}/present"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(now["people"], json!([]));
}

async fn stats(s: &TestServer, token: &str, q: String) -> Value {
    s.get(
        &format!("/v1/companies/{ORG_A}/statistics?from=2026-03-02&to=2026-03-03{q}"),
        token,
    )
    .await
    .expect(200)
}

/// One generated event: who, where, which way, when, and through which partner.
#[derive(Clone, Debug)]
struct Gen {
    id: String,
    person: u32,
    site: &'static str,
    dir: &'static str,
    at: DateTime<FixedOffset>,
    partner: &'static str,
}

/// The independent reading of spec §10/§6 the test holds the service to: per person,
/// events up to `at` in (time, out before in, partner, id) order; a repeat of the same
/// site and direction within 120 s of the last kept one is dropped; every `in` opens,
/// every kept `out` closes whatever is open. Present: the open `in` is at this site and
/// at most 16 h old.
fn expected_present(events: &[Gen], site: &str, at: DateTime<FixedOffset>) -> Vec<u32> {
    let mut by_person: BTreeMap<u32, Vec<&Gen>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.at <= at) {
        by_person.entry(e.person).or_default().push(e);
    }
    let mut out = Vec::new();
    for (p, mut evs) in by_person {
        evs.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then((a.dir == "in").cmp(&(b.dir == "in")))
                .then(a.partner.cmp(b.partner))
                .then(a.id.cmp(&b.id))
        });
        let mut last_kept: BTreeMap<(&str, &str), DateTime<FixedOffset>> = BTreeMap::new();
        let mut open: Option<&Gen> = None;
        for e in evs {
            if let Some(k) = last_kept.get(&(e.site, e.dir)) {
                if e.at - *k <= Duration::seconds(120) {
                    continue;
                }
            }
            last_kept.insert((e.site, e.dir), e.at);
            open = (e.dir == "in").then_some(e);
        }
        if let Some(o) = open {
            if o.site == site && at - o.at <= Duration::hours(16) {
                out.push(p);
            }
        }
    }
    out
}

/// A generated site: 60 people of the company and three employers, through two partners,
/// over three days — day shifts, night shifts over midnight, repeats within 120 s, moves
/// to the other site, check-ins left open (some 15 h and some 17 h before an instant
/// asked about).
fn generated_site() -> Vec<Gen> {
    let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let mut events = Vec::new();
    let mut rng: u64 = 0x5eed;
    let mut next = |n: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % n
    };
    for p in 0..60u32 {
        let partner = if p % 2 == 0 { P } else { P2 };
        let mut push = |id: String, site, dir, at| {
            events.push(Gen {
                id,
                person: p,
                site,
                dir,
                at,
                partner,
            })
        };
        for d in 0..3u32 {
            let date = day + chrono::Days::new(d.into());
            let id = |s: &str| format!("g{p}d{d}{s}");
            let m = next(50) as u32;
            match (p + d) % 8 {
                // Day shift.
                0 | 1 => {
                    push(id("i"), SITE_1, "in", local(date, 6, m));
                    push(id("o"), SITE_1, "out", local(date, 15, m));
                }
                // Night shift over midnight.
                2 => {
                    push(id("i"), SITE_1, "in", local(date, 21, m));
                    push(
                        id("o"),
                        SITE_1,
                        "out",
                        local(date + chrono::Days::new(1), 5, m),
                    );
                }
                // A repeated check-in, then out.
                3 => {
                    push(id("i"), SITE_1, "in", local(date, 7, m));
                    push(id("r"), SITE_1, "in", local(date, 7, m + 1));
                    push(id("o"), SITE_1, "out", local(date, 16, m));
                }
                // Checked in here, out at the other site.
                4 => {
                    push(id("i"), SITE_1, "in", local(date, 7, m));
                    push(id("o"), SITE_2, "out", local(date, 12, m));
                }
                // Moved: in here, then in at the other site.
                5 => {
                    push(id("i"), SITE_1, "in", local(date, 6, m));
                    push(id("j"), SITE_2, "in", local(date, 11, m));
                    push(id("o"), SITE_2, "out", local(date, 17, m));
                }
                // Left open (no check-out).
                6 => push(id("i"), SITE_1, "in", local(date, 8, m)),
                // The other site only.
                _ => {
                    push(id("i"), SITE_2, "in", local(date, 7, m));
                    push(id("o"), SITE_2, "out", local(date, 15, m));
                }
            }
        }
    }
    // Exactly 15 h and 17 h before the instant 2026-03-11 12:00 local.
    let at = local(NaiveDate::from_ymd_opt(2026, 3, 11).unwrap(), 12, 0);
    for (p, hours) in [(100u32, 15i64), (101, 17)] {
        events.push(Gen {
            id: format!("old{p}"),
            person: p,
            site: SITE_1,
            dir: "in",
            at: at - Duration::hours(hours),
            partner: P,
        });
    }
    events
}

fn employer_of(p: u32) -> Option<&'static str> {
    match p % 4 {
        0 => None,
        n => Some(EMPLOYERS[n as usize - 1]),
    }
}

fn name_of(p: u32) -> String {
    format!("Person {p:03}")
}

async fn present_equals_an_independent_computation(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    let p2 = second_partner(s, &t).await;
    let events = generated_site();
    for (partner, token) in [(P, &t.partner), (P2, &p2)] {
        let wire: Vec<Value> = events
            .iter()
            .filter(|e| e.partner == partner)
            .map(|e| {
                with_employer(
                    event(
                        &e.id,
                        ORG_A,
                        e.site,
                        &personnummer(e.person),
                        &name_of(e.person),
                        e.dir,
                        &rfc(e.at),
                    ),
                    employer_of(e.person),
                )
            })
            .collect();
        push(s, token, &format!("gen-{partner}"), wire).await;
    }
    let d = |day: u32, h: u32, m: u32| local(NaiveDate::from_ymd_opt(2026, 3, day).unwrap(), h, m);
    let instants = [
        d(9, 12, 0),
        d(10, 2, 0),  // night shifts over midnight
        d(10, 7, 30), // check-ins and their repeats
        d(10, 23, 59),
        d(11, 3, 0),
        d(11, 12, 0), // the 15 h old check-in counts, the 17 h old one not
        d(12, 6, 0),
    ];
    let mut seen_some = 0;
    for at in instants {
        for site in [SITE_1, SITE_2] {
            let want = expected_present(&events, site, at);
            let v = s
                .get(
                    &format!(
                        "/v1/companies/{ORG_A}/sites/{site}/present?at={}",
                        enc(&rfc(at))
                    ),
                    &t.user,
                )
                .await
                .expect(200);
            let got: Vec<(String, Value, String)> = v["people"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["person_name"].as_str().unwrap().to_string(),
                        p["employer_orgnr"].clone(),
                        p["partner_id"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let mut want_rows: Vec<(String, Value, String)> = want
                .iter()
                .map(|&p| {
                    (
                        name_of(p),
                        employer_of(p).map(|o| json!(o)).unwrap_or(Value::Null),
                        if p % 2 == 0 || p >= 100 { P } else { P2 }.to_string(),
                    )
                })
                .collect();
            want_rows.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(got, want_rows, "present at {site} at {at}");
            seen_some += usize::from(!want.is_empty());
        }
        let at_11_noon = d(11, 12, 0);
        if at == at_11_noon {
            let want = expected_present(&events, SITE_1, at);
            assert!(want.contains(&100) && !want.contains(&101));
        }
    }
    assert!(seen_some >= 6, "the instants must find people present");
}

/// Makes a link for SITE_1 of company A (as its admin).
async fn make_link(s: &TestServer, t: &Setup, body: Value) -> Value {
    s.post_json(
        &format!("/v1/companies/{ORG_A}/inspections"),
        &t.admin,
        &body,
    )
    .await
    .expect(201)
}

fn secret_of(link: &Value) -> String {
    link["secret"].as_str().unwrap().to_string()
}

async fn audit_text(s: &TestServer, t: &Setup) -> (Vec<Value>, String) {
    let v = s
        .get(&format!("/v1/companies/{ORG_A}/audit?limit=1000"), &t.admin)
        .await
        .expect(200);
    let text = v.to_string();
    (v["entries"].as_array().unwrap().clone(), text)
}

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

async fn inspection_links_are_made_used_audited_and_revoked(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    let now = chrono::Utc::now().fixed_offset();
    push(
        s,
        &t.partner,
        "live",
        vec![
            with_employer(
                event(
                    "l1",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Anna Ek",
                    "in",
                    &rfc(now - Duration::hours(2)),
                ),
                Some(EMPLOYERS[2]),
            ),
            event(
                "l2",
                ORG_A,
                SITE_2,
                BO,
                "Bo Al",
                "in",
                &rfc(now - Duration::hours(1)),
            ),
        ],
    )
    .await;
    let link = make_link(s, &t, json!({"site_id": SITE_1, "note": "Kontrollbesök"})).await;
    let id = link["id"].as_str().unwrap().to_string();
    assert_eq!(link["site_id"], SITE_1);
    let secret = secret_of(&link);
    assert!(secret.len() >= 60, "{secret}");
    assert_eq!(
        link["link"].as_str().unwrap(),
        format!("{}/inspect/{secret}", s.state.public_url)
    );
    let expires: chrono::DateTime<chrono::Utc> =
        link["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = (expires - chrono::Utc::now()).num_minutes();
    assert!(
        (71 * 60..=72 * 60).contains(&hours),
        "default 72 h: {hours} min"
    );

    // The list never shows the secret or its hash.
    let list = s
        .get(&format!("/v1/companies/{ORG_A}/inspections"), &t.admin)
        .await
        .expect(200);
    let listed = list["inspections"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["status"], "active");
    assert_eq!(listed[0]["note"], "Kontrollbesök");
    let listed_text = list.to_string();
    assert!(!listed_text.contains(&secret));
    assert!(!listed_text.contains(secret.split_once('.').unwrap().1));
    assert!(!listed_text.contains("sha256"));

    // The inspector's routes.
    let site = s.get("/inspect/v1/site", &secret).await.expect(200);
    assert_eq!(site["company_orgnr"], ORG_A);
    assert_eq!(site["company_name"], "Bygg AB");
    assert_eq!(site["site_id"], SITE_1);
    assert_eq!(site["valid_until"], link["expires_at"]);
    let present = s.get("/inspect/v1/present", &secret).await.expect(200);
    assert_eq!(present["site_id"], SITE_1);
    let people = present["people"].as_array().unwrap();
    assert_eq!(people.len(), 1, "{present}");
    assert_eq!(people[0]["person_name"], "Anna Ek");
    assert_eq!(people[0]["employer_orgnr"], EMPLOYERS[2]);
    let regs = s
        .get("/inspect/v1/registrations", &secret)
        .await
        .expect(200);
    assert_eq!(regs["unpaired"].as_array().unwrap().len(), 1, "{regs}");
    let anomalies = s.get("/inspect/v1/anomalies", &secret).await.expect(200);
    assert!(anomalies["anomalies"].is_array());
    for body in [&present, &regs, &anomalies] {
        let text = body.to_string();
        assert!(!text.contains(ANNA), "personnummer only in the extract");
        assert!(!text.contains(SITE_2) && !text.contains("Bo Al"), "{text}");
    }

    // The authority extract, of this site only, with the personnummer in full.
    let order =
        json!({"kind": "authority", "format": "csv", "from": "2016-01-01", "to": "2030-01-01"});
    let pending = s
        .post_json("/inspect/v1/extracts", &secret, &order)
        .await
        .expect(202);
    let xid = pending["id"].as_str().unwrap().to_string();
    let v = ready(s, &format!("/inspect/v1/extracts/{xid}"), &secret).await;
    assert_eq!(v["ordered_by"]["sub"], format!("inspection:{id}"));
    assert_eq!(v["ordered_by"]["role"], "inspector");
    let bytes = reqwest::get(v["download_url"].as_str().unwrap())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_ref());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][2], SITE_1);
    assert_eq!(&rows[0][4], "19811218-9876");
    assert_eq!(&rows[0][14], EMPLOYERS[2]);
    // JSON too (any format).
    let pending = s
        .post_json(
            "/inspect/v1/extracts",
            &secret,
            &json!({"format": "json", "from": "2016-01-01", "to": "2030-01-01"}),
        )
        .await
        .expect(202);
    assert_eq!(pending["kind"], "authority");

    // Every use is audited as the link, and the secret is in no entry.
    let (entries, text) = audit_text(s, &t).await;
    assert!(!text.contains(&secret));
    assert!(!text.contains(secret.split_once('.').unwrap().1));
    let uses: Vec<&Value> = entries
        .iter()
        .filter(|e| e["actor"] == format!("inspection:{id}"))
        .collect();
    assert!(uses.len() >= 7, "{uses:#?}");
    for u in &uses {
        assert_eq!(u["role"], "inspector");
        assert!(u["action"].as_str().unwrap().contains("/inspect/v1/"));
        assert!(u["target"].as_str().unwrap().contains(SITE_1));
    }

    // Revoked: refused at the very next request, and the refusal is audited too.
    let revoked = s
        .call(
            Method::DELETE,
            &format!("/v1/companies/{ORG_A}/inspections/{id}"),
            Some(&t.admin),
            None,
        )
        .await
        .expect(200);
    assert_eq!(revoked["status"], "revoked");
    for route in [
        "/inspect/v1/site",
        "/inspect/v1/present",
        "/inspect/v1/registrations",
    ] {
        s.get(route, &secret).await.problem(401, "unauthenticated");
    }
    let (entries, _) = audit_text(s, &t).await;
    assert!(entries
        .iter()
        .any(|e| e["actor"] == format!("inspection:{id}")
            && e["outcome"] == "refused"
            && e["action"] == "GET /inspect/v1/site"));
    let list = s
        .get(&format!("/v1/companies/{ORG_A}/inspections"), &t.admin)
        .await
        .expect(200);
    assert_eq!(list["inspections"][0]["status"], "revoked");
    assert_eq!(
        list["inspections"][0]["revoked_by"],
        format!("admin-{ORG_A}")
    );
}

async fn inspection_link_refusals(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    push(
        s,
        &t.partner,
        "r",
        vec![event(
            "r1",
            ORG_A,
            SITE_1,
            ANNA,
            "Anna Ek",
            "in",
            "2026-03-02T07:00:00+01:00",
        )],
    )
    .await;
    let c = format!("/v1/companies/{ORG_A}/inspections");
    // Only a company_admin makes, lists and revokes links.
    s.post_json(&c, &t.user, &json!({"site_id": SITE_1}))
        .await
        .problem(403, "forbidden");
    s.get(&c, &t.user).await.problem(403, "forbidden");
    for (body, field) in [
        (json!({}), "site_id"),
        (json!({"site_id": "nope"}), "site_id"),
        (json!({"site_id": SITE_2}), "site_id"),
        (json!({"site_id": SITE_1, "valid_hours": 0}), "valid_hours"),
        (
            json!({"site_id": SITE_1, "valid_hours": 337}),
            "valid_hours",
        ),
        (
            json!({"site_id": SITE_1, "valid_hours": "5"}),
            "valid_hours",
        ),
        (json!({"site_id": SITE_1, "note": "x".repeat(501)}), "note"),
    ] {
        let p = s.post_json(&c, &t.admin, &body).await;
        assert_eq!(p.status.as_u16(), 400, "{body}: {}", p.body);
        assert_eq!(p.body["field"], field, "{body}: {}", p.body);
    }
    let short = make_link(s, &t, json!({"site_id": SITE_1, "valid_hours": 336})).await;
    s.get("/inspect/v1/site", &secret_of(&short))
        .await
        .expect(200);
    s.call(
        Method::DELETE,
        &format!("{c}/00000000000000000000000000000000"),
        Some(&t.admin),
        None,
    )
    .await
    .problem(404, "not_found");

    // Secrets that are not a link's: 401, whatever their shape.
    let id = short["id"].as_str().unwrap();
    for bad in [
        "".to_string(),
        "garbage".to_string(),
        format!("{id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!("{id}."),
        t.user.clone(),
        t.admin.clone(),
    ] {
        let a = s
            .call(Method::GET, "/inspect/v1/site", Some(&bad), None)
            .await;
        assert_eq!(a.status.as_u16(), 401, "{bad}: {}", a.body);
    }
    s.call(Method::GET, "/inspect/v1/present", None, None)
        .await
        .problem(401, "unauthenticated");

    // A deregistered company cannot make new links.
    s.call(
        Method::DELETE,
        &format!("/v1/companies/{ORG_A}/activation"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(200);
    // Deregistration is decided where every company request is authorized (spec §3):
    // the same 403 `company_not_activated` as every other closed door.
    s.post_json(&c, &t.admin, &json!({"site_id": SITE_1}))
        .await
        .problem(403, "company_not_activated");
}

async fn a_link_opens_its_site_and_nothing_else(s: &TestServer) {
    let a = setup(s, ORG_A, P).await;
    let b = setup(s, ORG_B, P).await;
    let day = "2026-03-02T07:00:00+01:00";
    push(
        s,
        &a.partner,
        "scope-a",
        vec![
            event("s1", ORG_A, SITE_1, ANNA, "Anna Ek", "in", day),
            event("s2", ORG_A, SITE_2, BO, "Bo Al", "in", day),
            event("s3", ORG_B, SITE_1, BO, "Bo Bee", "in", day),
        ],
    )
    .await;
    let link = make_link(s, &a, json!({"site_id": SITE_1})).await;
    let secret = secret_of(&link);
    // An extract of company A ordered by its user, and one of company B.
    let order =
        json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-04-01"});
    let a_extract = s
        .post_json(&format!("/v1/companies/{ORG_A}/extracts"), &a.user, &order)
        .await
        .expect(202);
    let b_extract = s
        .post_json(&format!("/v1/companies/{ORG_B}/extracts"), &b.user, &order)
        .await
        .expect(202);

    // Every route of routes.json that is not the inspector's, for both companies and
    // both sites: the secret opens none of them.
    let routes: Vec<Value> =
        serde_json::from_str(include_str!("../../../infra/aws/routes.json")).unwrap();
    let mut tried = 0;
    for r in &routes {
        let (method, path) = (r["method"].as_str().unwrap(), r["path"].as_str().unwrap());
        if path.starts_with("/inspect/") || r["auth"] == false {
            continue;
        }
        for org in [ORG_A, ORG_B] {
            for site in [SITE_1, SITE_2] {
                let concrete = path
                    .replace("{orgnr}", org)
                    .replace("{site_id}", site)
                    .replace("{person_ref}", "p0")
                    .replace("{sub}", "u1")
                    .replace("{id}", link["id"].as_str().unwrap())
                    .replace("{batch_id}", "b1")
                    .replace("{partner_id}", P);
                let m = Method::from_bytes(method.as_bytes()).unwrap();
                let body = (method != "GET" && method != "DELETE")
                    .then(|| ("application/json", b"{}".to_vec()));
                let answer = s.call(m, &concrete, Some(&secret), body).await;
                assert_eq!(
                    answer.status.as_u16(),
                    401,
                    "{method} {concrete} with an inspection secret: {}",
                    answer.body
                );
                tried += 1;
            }
        }
    }
    assert!(tried >= 80, "{tried}");

    // The inspector's own routes never reach another site or company.
    let anomalies_elsewhere = s
        .get(&format!("/inspect/v1/anomalies?site_id={SITE_2}"), &secret)
        .await;
    anomalies_elsewhere.problem(403, "forbidden");
    s.post_json(
        "/inspect/v1/extracts",
        &secret,
        &json!({"format": "csv", "from": "2026-03-01", "to": "2026-04-01", "site_id": SITE_2}),
    )
    .await
    .problem(403, "forbidden");
    s.post_json(
        "/inspect/v1/extracts",
        &secret,
        &json!({"kind": "register_extract", "format": "pdf", "person_ref": "p0"}),
    )
    .await
    .problem(400, "invalid_field");
    for other in [&a_extract, &b_extract] {
        s.get(
            &format!("/inspect/v1/extracts/{}", other["id"].as_str().unwrap()),
            &secret,
        )
        .await
        .problem(404, "not_found");
    }
    let at = enc(day);
    for path in [
        format!("/inspect/v1/present?at={at}&site_id={SITE_2}"),
        format!("/inspect/v1/registrations?site_id={SITE_2}&orgnr={ORG_B}"),
    ] {
        let v = s.get(&path, &secret).await.expect(200);
        let text = v.to_string();
        assert!(text.contains("Anna Ek"), "{text}");
        assert!(!text.contains("Bo "), "only SITE_1 of company A: {text}");
    }
    // Routes that do not exist under /inspect answer 404, not data.
    for path in [
        "/inspect/v1/people",
        "/inspect/v1/sites",
        "/inspect/v1/statistics",
    ] {
        let a = s.get(path, &secret).await;
        assert_eq!(a.status.as_u16(), 404, "{path}");
    }
}

async fn an_inspection_link_expires_by_the_clock(s: &TestServer) {
    let t = setup(s, ORG_A, P).await;
    push(
        s,
        &t.partner,
        "e",
        vec![event(
            "e1",
            ORG_A,
            SITE_1,
            ANNA,
            "Anna Ek",
            "in",
            "2026-03-02T07:00:00+01:00",
        )],
    )
    .await;
    s.clock.set("2026-03-02T08:00:00Z");
    let link = make_link(s, &t, json!({"site_id": SITE_1, "valid_hours": 1})).await;
    assert_eq!(link["expires_at"], "2026-03-02T09:00:00Z");
    let secret = secret_of(&link);
    let present = s.get("/inspect/v1/present", &secret).await.expect(200);
    assert_eq!(present["at"], "2026-03-02T08:00:00Z", "at defaults to now");
    assert_eq!(present["people"].as_array().unwrap().len(), 1);
    s.clock.advance(Duration::minutes(59));
    s.get("/inspect/v1/site", &secret).await.expect(200);
    s.clock.advance(Duration::minutes(1));
    s.get("/inspect/v1/site", &secret)
        .await
        .problem(401, "unauthenticated");
    let list = s
        .get(&format!("/v1/companies/{ORG_A}/inspections"), &t.admin)
        .await
        .expect(200);
    assert_eq!(list["inspections"][0]["status"], "expired");
}

on_every_store!(
    present_shows_open_check_ins_with_employer,
    present_equals_an_independent_computation,
    inspection_links_are_made_used_audited_and_revoked,
    inspection_link_refusals,
    a_link_opens_its_site_and_nothing_else,
    an_inspection_link_expires_by_the_clock,
);
