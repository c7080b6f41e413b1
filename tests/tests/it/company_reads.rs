//! Spec §3–4 over HTTP: who may read what, and what the reads answer — sites, people,
//! search, registrations per person and per site, pagination — on both storage stacks.

use crate::on_every_store;
use crate::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// A week of work for two people, with a duplicate and a forgotten check-out.
async fn load_week(s: &TestServer, t: &Setup) {
    let mut events = Vec::new();
    for day in 2..=6 {
        for (who, pid, name, site) in [("a", ANNA, "Åsa Öberg", SITE_1), ("b", BO, "Bo Ek", SITE_2)]
        {
            events.push(event(
                &format!("{who}{day}i"),
                ORG_A,
                site,
                pid,
                name,
                "in",
                &format!("2026-03-0{day}T07:00:00+01:00"),
            ));
            if !(who == "b" && day == 4) {
                events.push(event(
                    &format!("{who}{day}o"),
                    ORG_A,
                    site,
                    pid,
                    name,
                    "out",
                    &format!("2026-03-0{day}T16:00:00+01:00"),
                ));
            }
        }
    }
    events.push(event(
        "a2i-again",
        ORG_A,
        SITE_1,
        ANNA,
        "Åsa Öberg",
        "in",
        "2026-03-02T07:01:30+01:00",
    ));
    let a = s
        .post_json("/partner/v1/batches", &t.partner, &batch("week", events))
        .await
        .expect(200);
    assert_eq!(a["accepted"], 20, "{a}");
}

async fn person_ref_of(s: &TestServer, t: &Setup, person_id: &str) -> String {
    let found = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/people/search"),
            &t.user,
            &json!({"person_id": person_id}),
        )
        .await
        .expect(200);
    found["person_ref"].as_str().unwrap().to_string()
}

async fn people_are_listed_masked_and_found_by_full_id(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    load_week(s, &t).await;
    let people = s
        .get(&format!("/v1/companies/{ORG_A}/people"), &t.user)
        .await
        .expect(200);
    let list = people["people"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let text = people.to_string();
    assert!(
        !text.contains(ANNA) && !text.contains(BO),
        "full ids must not be listed: {text}"
    );
    let masked: BTreeSet<_> = list
        .iter()
        .map(|p| p["person_id_masked"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        masked,
        BTreeSet::from(["19811218-XXXX".to_string(), "19900101-XXXX".to_string()])
    );
    let filtered = s
        .get(
            &format!("/v1/companies/{ORG_A}/people?q=%C3%B6berg"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(filtered["people"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["people"][0]["person_name"], "Åsa Öberg");

    let r = person_ref_of(s, &t, "19811218-9876").await;
    assert!(list.iter().any(|p| p["person_ref"] == r.as_str()));
    assert!(!r.contains("8112"));
    let p = s
        .post_json(
            &format!("/v1/companies/{ORG_A}/people/search"),
            &t.user,
            &json!({"person_id": "199001011247"}),
        )
        .await
        .problem(404, "not_found");
    assert!(p["detail"].is_string());
    s.post_json(
        &format!("/v1/companies/{ORG_A}/people/search"),
        &t.user,
        &json!({"person_id": "12345"}),
    )
    .await
    .problem(400, "invalid_field");
    s.post_json(
        &format!("/v1/companies/{ORG_A}/people/search"),
        &t.user,
        &json!({}),
    )
    .await
    .problem(400, "missing_field");
}

async fn sites_show_first_and_last_activity(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    load_week(s, &t).await;
    let sites = s
        .get(&format!("/v1/companies/{ORG_A}/sites"), &t.user)
        .await
        .expect(200);
    let s1 = sites["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["site_id"] == SITE_1)
        .unwrap()
        .clone();
    assert_eq!(s1["first_seen"], "2026-03-02T07:00:00+01:00");
    assert_eq!(s1["last_seen"], "2026-03-06T16:00:00+01:00");
}

fn event_ids(regs: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    for s in regs["sessions"].as_array().unwrap() {
        ids.push(s["check_in"]["event_id"].as_str().unwrap().to_string());
        ids.push(s["check_out"]["event_id"].as_str().unwrap().to_string());
    }
    for k in ["unpaired", "duplicates"] {
        for e in regs[k].as_array().unwrap() {
            ids.push(e["event_id"].as_str().unwrap().to_string());
        }
    }
    ids.sort();
    ids
}

async fn registrations_per_person_and_site(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    load_week(s, &t).await;
    let anna = person_ref_of(s, &t, ANNA).await;
    let all = s
        .get(
            &format!("/v1/companies/{ORG_A}/people/{anna}/registrations"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(all["sessions"].as_array().unwrap().len(), 5);
    assert_eq!(all["duplicates"].as_array().unwrap().len(), 1);
    assert_eq!(all["duplicates"][0]["event_id"], "a2i-again");
    assert_eq!(all["duplicates"][0]["duplicate_of"]["event_id"], "a2i");
    let session = &all["sessions"][0];
    assert_eq!(session["duration_minutes"], 540);
    assert_eq!(session["site_id"], SITE_1);
    for f in [
        "partner_id",
        "event_id",
        "site_id",
        "direction",
        "occurred_at",
        "source",
    ] {
        assert!(session["check_in"][f].is_string(), "{f}: {session}");
    }
    // [from, to) is half-open and a session belongs to the range of its check-in.
    let url = format!("/v1/companies/{ORG_A}/people/{anna}/registrations?from=2026-03-03T07:00:00%2B01:00&to=2026-03-04T07:00:00%2B01:00");
    let day = s.get(&url, &t.user).await.expect(200);
    assert_eq!(event_ids(&day), vec!["a3i", "a3o"]);
    let url = format!("/v1/companies/{ORG_A}/people/{anna}/registrations?from=2026-03-03T10:00:00Z&to=2026-03-03T16:00:00Z");
    assert_eq!(
        event_ids(&s.get(&url, &t.user).await.expect(200)),
        Vec::<String>::new()
    );

    let site = s
        .get(
            &format!("/v1/companies/{ORG_A}/sites/{SITE_2}/registrations"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(site["sessions"].as_array().unwrap().len(), 4);
    let unpaired = site["unpaired"].as_array().unwrap();
    assert_eq!(unpaired.len(), 1);
    assert_eq!(
        (
            unpaired[0]["event_id"].as_str(),
            unpaired[0]["reason"].as_str()
        ),
        (Some("b4i"), Some("missing_check_out"))
    );
    s.get(
        &format!("/v1/companies/{ORG_A}/sites/ZZZ2026000009/registrations"),
        &t.user,
    )
    .await
    .problem(404, "not_found");
    s.get(
        &format!("/v1/companies/{ORG_A}/sites/short/registrations"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");
    s.get(
        &format!("/v1/companies/{ORG_A}/people/nobody/registrations"),
        &t.user,
    )
    .await
    .problem(404, "not_found");
    s.get(
        &format!("/v1/companies/{ORG_A}/people/{anna}/registrations?from=yesterday"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");
}

async fn every_list_paginates_with_an_opaque_cursor(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    load_week(s, &t).await;
    let anna = person_ref_of(s, &t, ANNA).await;
    let whole = event_ids(
        &s.get(
            &format!("/v1/companies/{ORG_A}/people/{anna}/registrations"),
            &t.user,
        )
        .await
        .expect(200),
    );
    let mut seen = Vec::new();
    let mut url = format!("/v1/companies/{ORG_A}/people/{anna}/registrations?limit=2");
    let mut pages = 0;
    loop {
        let page = s.get(&url, &t.user).await.expect(200);
        pages += 1;
        seen.extend(event_ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => {
                url =
                    format!("/v1/companies/{ORG_A}/people/{anna}/registrations?limit=2&cursor={c}")
            }
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, whole);
    assert_eq!(pages, 3, "6 entries in pages of 2");

    let first = s
        .get(&format!("/v1/companies/{ORG_A}/people?limit=1"), &t.user)
        .await
        .expect(200);
    let c = first["next_cursor"].as_str().expect("a second page");
    let second = s
        .get(
            &format!("/v1/companies/{ORG_A}/people?limit=1&cursor={c}"),
            &t.user,
        )
        .await
        .expect(200);
    assert!(
        second.get("next_cursor").is_none(),
        "two people, two pages: {second}"
    );
    assert_ne!(
        first["people"][0]["person_ref"],
        second["people"][0]["person_ref"]
    );
    let both = s
        .get(&format!("/v1/companies/{ORG_A}/people?limit=5000"), &t.user)
        .await
        .expect(200);
    assert_eq!(both["people"].as_array().unwrap().len(), 2);
    s.get(&format!("/v1/companies/{ORG_A}/people?limit=0"), &t.user)
        .await
        .problem(400, "invalid_field");
    s.get(
        &format!("/v1/companies/{ORG_A}/people?cursor=garbage!"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");
}

async fn roles_and_companies_are_enforced(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let tb = setup(s, ORG_B, "ledger-1").await;
    let people_a = format!("/v1/companies/{ORG_A}/people");
    s.get(&people_a, &t.user).await.expect(200);
    s.get(&people_a, &t.admin).await.expect(200);
    // A token for company B, and a token naming A that Stamp never granted.
    s.get(&people_a, &tb.user).await.problem(403, "forbidden");
    let sneaky = s.token(claims(
        &format!("user-{ORG_B}"),
        &["company_user"],
        &[ORG_A, ORG_B],
    ));
    s.get(&people_a, &sneaky).await.problem(403, "forbidden");
    // The stored grant is read beside a page's own read: a refusal still wins over what
    // that read found (a 403, never a 404 telling whether a site or a person exists).
    for path in [
        "sites/XYZ2026999999/registrations",
        "sites/XYZ2026999999/present",
        "people/p0123456789abcdef01234567/registrations",
    ] {
        let path = format!("/v1/companies/{ORG_A}/{path}");
        s.get(&path, &t.user).await.problem(404, "not_found");
        s.get(&path, &sneaky).await.problem(403, "forbidden");
    }
    // Partners and operators read no ledgers; users accredit no partners.
    s.get(&people_a, &t.partner).await.problem(403, "forbidden");
    s.get(&people_a, &t.operator)
        .await
        .problem(403, "forbidden");
    s.post_json(
        "/v1/partners",
        &t.user,
        &json!({"partner_id": "x", "name": "X"}),
    )
    .await
    .problem(403, "forbidden");
    s.get("/v1/partners", &t.admin)
        .await
        .problem(403, "forbidden");
    let listed = s.get("/v1/partners", &t.operator).await.expect(200);
    assert_eq!(listed["partners"][0]["partner_id"], "ledger-1");
    // company_user cannot administer.
    s.get(&format!("/v1/companies/{ORG_A}/users"), &t.user)
        .await
        .problem(403, "forbidden");
    s.put_json(
        &format!("/v1/companies/{ORG_A}/activation"),
        &t.user,
        &json!({"terms_version": "1", "company_name": "X"}),
    )
    .await
    .problem(403, "forbidden");
    s.call(Method::GET, &people_a, None, None)
        .await
        .problem(401, "unauthenticated");
    s.call(Method::GET, &people_a, Some("not.a.token"), None)
        .await
        .problem(401, "unauthenticated");

    // Removing a grant takes effect at the very next request, with the same token.
    s.call(
        Method::DELETE,
        &format!("/v1/companies/{ORG_A}/users/user-{ORG_A}"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(204);
    s.get(&people_a, &t.user).await.problem(403, "forbidden");
    // The last company_admin cannot be removed.
    s.call(
        Method::DELETE,
        &format!("/v1/companies/{ORG_A}/users/admin-{ORG_A}"),
        Some(&t.admin),
        None,
    )
    .await
    .problem(409, "last_company_admin");
    let users = s
        .get(&format!("/v1/companies/{ORG_A}/users"), &t.admin)
        .await
        .expect(200);
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
}

async fn activation_is_recorded(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let a = s
        .get(&format!("/v1/companies/{ORG_A}/activation"), &t.admin)
        .await
        .expect(200);
    assert_eq!(a["terms_version"], "2026-01");
    assert_eq!(a["status"], "active");
    assert_eq!(a["fiscal_year_end_month"], 12);
    assert!(a["activated_at"].is_string());
    let other_admin = s.token(claims("admin-2", &["company_admin"], &[ORG_B]));
    s.get(&format!("/v1/companies/{ORG_B}/activation"), &other_admin)
        .await
        .problem(404, "not_found");
    s.put_json(
        &format!("/v1/companies/{ORG_B}/activation"),
        &other_admin,
        &json!({"terms_version": "1", "company_name": "B", "fiscal_year_end_month": 13}),
    )
    .await
    .problem(400, "invalid_field");
    s.put_json(
        &format!("/v1/companies/{ORG_B}/activation"),
        &other_admin,
        &json!({"company_name": "B"}),
    )
    .await
    .problem(400, "missing_field");
    s.put_json(
        "/v1/companies/5569999998/activation",
        &other_admin,
        &json!({"terms_version": "1", "company_name": "B"}),
    )
    .await
    .problem(400, "invalid_field");
}

on_every_store!(
    people_are_listed_masked_and_found_by_full_id,
    sites_show_first_and_last_activity,
    registrations_per_person_and_site,
    every_list_paginates_with_an_opaque_cursor,
    roles_and_companies_are_enforced,
    activation_is_recorded,
);
