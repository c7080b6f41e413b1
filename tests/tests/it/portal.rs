//! Spec §13, the portal over HTTP on both storage stacks: local sign-in and the session
//! cookie, CSRF refusal, session expiry and the way back, sign-out, a company user of
//! company A getting no page of company B, page views audited as the API routes they
//! stand for, the last-admin rule on the users page, language switching.

use crate::on_every_store;
use crate::server::*;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::json;

/// The demo identities of `stamp-local`'s sign-in page, by their index there.
const ADMIN: usize = 0;
const USER: usize = 1;

struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: StatusCode,
    location: String,
    set_cookies: Vec<String>,
    body: String,
}

impl Browser {
    fn new(s: &TestServer) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: s.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let res = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookies {
            let first = c.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !c.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
        Page {
            status,
            location,
            set_cookies,
            body: res.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    async fn sign_in(&mut self, identity: usize, next: &str) -> Page {
        self.post(
            "/login",
            &[("identity", &identity.to_string()), ("next", next)],
        )
        .await
    }
}

/// The CSRF token of the first form on a page.
fn csrf(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    body[at..].split('"').next().unwrap().to_string()
}

/// The demo identities need grants in this store (stamp-local's demo records them).
async fn grant_demo_identities(s: &TestServer) -> Setup {
    let setup = setup(s, ORG_A, "ledger").await;
    for (sub, role) in [
        ("demo-admin", "company_admin"),
        ("demo-user", "company_user"),
    ] {
        s.put_json(
            &format!("/v1/companies/{ORG_A}/users/{sub}"),
            &setup.admin,
            &json!({ "roles": [role] }),
        )
        .await
        .expect(200);
    }
    s.post_json(
        "/partner/v1/batches",
        &setup.partner,
        &batch(
            "p1",
            vec![
                event(
                    "e1",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Anna Ek",
                    "in",
                    "2026-11-26T07:00:00+01:00",
                ),
                event(
                    "e2",
                    ORG_A,
                    SITE_1,
                    ANNA,
                    "Anna Ek",
                    "out",
                    "2026-11-26T16:00:00+01:00",
                ),
            ],
        ),
    )
    .await
    .expect(200);
    setup
}

async fn signing_in_sessions_and_the_way_back(s: &TestServer) {
    grant_demo_identities(s).await;
    let mut b = Browser::new(s);
    let wanted = format!("/companies/{ORG_A}/people");

    // No session: to sign-in, remembering the page.
    let p = b.get(&wanted).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.location,
        format!("/login?next=%2Fcompanies%2F{ORG_A}%2Fpeople")
    );
    let login = b.get(&p.location).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("Endast lokalt"), "marked local only");
    assert!(login.body.contains(&format!("value=\"{wanted}\"")));

    // One click signs in and goes back to the page wanted.
    let p = b.sign_in(USER, &wanted).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location, wanted);
    let cookie = p
        .set_cookies
        .iter()
        .find(|c| c.starts_with("stamp_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain-http localhost only");
    let page = b.get(&wanted).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"sv\""));
    assert!(page.body.contains("Anna Ek"));
    assert!(!page.body.contains(ANNA), "the personnummer is masked");

    // English is remembered once chosen.
    let en = b.get(&format!("{wanted}?lang=en")).await;
    assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Search by name"));
    let again = b.get(&wanted).await;
    assert!(again.body.contains("<html lang=\"en\""));
    b.get(&format!("{wanted}?lang=sv")).await;

    // A forged session (another user's sub in the same body, the old MAC) is no session.
    let (name, value) = b
        .cookies
        .iter()
        .find(|(k, _)| k == "stamp_session")
        .cloned()
        .unwrap();
    let mut forged = Browser::new(s);
    let (body, mac) = value.split_once('.').unwrap();
    forged
        .cookies
        .push((name.clone(), format!("{body}x.{mac}")));
    assert_eq!(forged.get(&wanted).await.status, StatusCode::SEE_OTHER);

    // An expired session returns the user to sign-in, then to the page wanted.
    s.clock.advance(chrono::Duration::hours(9));
    let p = b.get(&wanted).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert!(p.location.starts_with("/login?next="));
    let p = b.sign_in(USER, &wanted).await;
    assert_eq!(p.location, wanted);

    // Sign-out: refused without the CSRF token; with it the session cookie is removed.
    let page = b.get(&wanted).await;
    let token = csrf(&page.body);
    assert_eq!(b.post("/logout", &[]).await.status, StatusCode::FORBIDDEN);
    let out = b.post("/logout", &[("csrf", &token)]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out
        .set_cookies
        .iter()
        .any(|c| c.starts_with("stamp_session=;") && c.contains("Max-Age=0")));
    assert_eq!(b.get(&wanted).await.status, StatusCode::SEE_OTHER);
}

async fn pages_show_only_what_the_api_allows_and_are_audited(s: &TestServer) {
    let setup = grant_demo_identities(s).await;
    let mut b = Browser::new(s);
    b.sign_in(USER, "/").await;
    // The user's own company: pages answer; company B's: a 403 page, in Swedish.
    for path in [
        format!("/companies/{ORG_A}"),
        format!("/companies/{ORG_A}/anomalies"),
        format!("/companies/{ORG_A}/statistics"),
        format!("/companies/{ORG_A}/sites/{SITE_1}"),
    ] {
        let p = b.get(&path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
    }
    for path in [
        format!("/companies/{ORG_B}"),
        format!("/companies/{ORG_B}/people"),
        format!("/companies/{ORG_B}/statistics.csv"),
    ] {
        let p = b.get(&path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
        assert!(p.body.contains("Åtkomst nekad"), "{path}");
        assert!(!p.body.contains("company_user"), "no raw error text");
    }
    // The people page filters by employer as the API does; a bad one is named at its field.
    let mut sub = event(
        "emp-1",
        ORG_A,
        SITE_1,
        "19900101-0017",
        "Sven Underentreprenör",
        "in",
        "2026-11-26T07:30:00+01:00",
    );
    sub["employer_orgnr"] = json!("5560360793");
    s.post_json(
        "/partner/v1/batches",
        &setup.partner,
        &batch("emp", vec![sub]),
    )
    .await
    .expect(200);
    let all = b.get(&format!("/companies/{ORG_A}/people")).await;
    assert!(all.body.contains("Anna Ek") && all.body.contains("Sven Underentreprenör"));
    let hired = b
        .get(&format!("/companies/{ORG_A}/people?employer=5560360793"))
        .await;
    assert_eq!(hired.status, StatusCode::OK, "{}", hired.body);
    assert!(
        hired.body.contains("Sven Underentreprenör"),
        "{}",
        hired.body
    );
    assert!(
        !hired.body.contains("Anna Ek"),
        "only the employer's people"
    );
    let bad = b
        .get(&format!("/companies/{ORG_A}/people?employer=123"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"employer-error\""), "{}", bad.body);
    assert!(bad.body.contains("value=\"123\""), "what was typed is kept");

    // A company user gets no admin page of its own company either.
    let p = b.get(&format!("/companies/{ORG_A}/users")).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = b.get(&format!("/companies/{ORG_A}/people/nobody")).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.body.contains("Sidan finns inte"));

    // Each page view is in the company's audit trail as the API request it stands for.
    let trail = s.audit_trail(ORG_A, &setup.admin).await;
    let entries = trail["entries"].as_array().unwrap();
    let by_user = |action: &str, outcome: &str| {
        entries
            .iter()
            .any(|e| e["actor"] == "demo-user" && e["action"] == action && e["outcome"] == outcome)
    };
    assert!(by_user("GET /v1/companies/{orgnr}/statistics", "success"));
    assert!(by_user(
        "GET /v1/companies/{orgnr}/sites/{site_id}/registrations",
        "success"
    ));
    assert!(by_user("GET /v1/companies/{orgnr}/users", "refused"));
}

async fn forms_check_csrf_validate_and_grants_take_effect(s: &TestServer) {
    let setup = grant_demo_identities(s).await;
    let users = format!("/companies/{ORG_A}/users");
    let mut admin = Browser::new(s);
    admin.sign_in(ADMIN, "/").await;
    let page = admin.get(&users).await;
    assert_eq!(page.status, StatusCode::OK);
    let token = csrf(&page.body);

    // Without the token (or with another session's) the form is refused and changes nothing.
    let refused = admin
        .post(&users, &[("sub", "new-user"), ("company_user", "1")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let mut other = Browser::new(s);
    other.sign_in(ADMIN, "/").await;
    let other_token = csrf(&other.get(&users).await.body);
    assert_ne!(other_token, token);
    let refused = admin
        .post(
            &users,
            &[
                ("csrf", &other_token),
                ("sub", "new-user"),
                ("company_user", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let grants = s
        .get(&format!("/v1/companies/{ORG_A}/users"), &setup.admin)
        .await
        .expect(200);
    assert!(!grants.to_string().contains("new-user"));

    // Bad input: the domain's rule, shown next to its field, keeping what was typed.
    let bad = admin
        .post(&users, &[("csrf", &token), ("sub", "typed-sub")])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"roles-error\""), "{}", bad.body);
    assert!(bad.body.contains("value=\"typed-sub\""));

    // Removing the user's grant takes effect at once; granting again restores it.
    let mut user = Browser::new(s);
    user.sign_in(USER, "/").await;
    let overview = format!("/companies/{ORG_A}");
    assert_eq!(user.get(&overview).await.status, StatusCode::OK);
    let removed = admin
        .post(&format!("{users}/demo-user/remove"), &[("csrf", &token)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(user.get(&overview).await.status, StatusCode::FORBIDDEN);
    let granted = admin
        .post(
            &users,
            &[
                ("csrf", &token),
                ("sub", "demo-user"),
                ("company_user", "1"),
            ],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER);
    assert_eq!(user.get(&overview).await.status, StatusCode::OK);

    // The last admin cannot be removed: a clear message on the page.
    let first_admin = format!("admin-{ORG_A}");
    admin
        .post(
            &format!("{users}/{first_admin}/remove"),
            &[("csrf", &token)],
        )
        .await;
    let last = admin
        .post(&format!("{users}/demo-admin/remove"), &[("csrf", &token)])
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert!(
        last.body.contains("minst en företagsadministratör"),
        "{}",
        last.body
    );
}

/// The value of the read-only input that shows a new inspection link once.
fn made_link(body: &str) -> String {
    let at = body.find("id=\"made-link\"").expect("the new link shown");
    let rest = &body[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    rest[v..].split('"').next().unwrap().to_string()
}

async fn inspectors_open_one_site_through_a_link(s: &TestServer) {
    let setup = grant_demo_identities(s).await;
    // 10:00 on the day of the pushed events: Anna (in at 07:00 at SITE_1) is on site; Bo
    // checked in at SITE_2 only.
    s.clock.set("2026-11-26T09:00:00Z");
    s.post_json(
        "/partner/v1/batches",
        &setup.partner,
        &batch(
            "p2",
            vec![event(
                "e3",
                ORG_A,
                SITE_2,
                BO,
                "Bo Al",
                "in",
                "2026-11-26T08:00:00+01:00",
            )],
        ),
    )
    .await
    .expect(200);

    // The admin makes a link in the portal: a form with the company's sites, CSRF-checked.
    let list = format!("/companies/{ORG_A}/inspections");
    let mut admin = Browser::new(s);
    admin.sign_in(ADMIN, "/").await;
    let page = admin.get(&list).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"{list}\"")),
        "in the admin nav"
    );
    assert!(page.body.contains(&format!("<option value=\"{SITE_2}\"")));
    let token = csrf(&page.body);
    let form = [
        ("site_id", SITE_1),
        ("valid_hours", "2"),
        ("note", "Kontroll"),
    ];
    assert_eq!(admin.post(&list, &form).await.status, StatusCode::FORBIDDEN);
    let bad = admin
        .post(
            &list,
            &[
                ("csrf", &token),
                ("site_id", SITE_1),
                ("valid_hours", "999"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("id=\"valid_hours-error\""),
        "{}",
        bad.body
    );
    let mut with_token = vec![("csrf", token.as_str())];
    with_token.extend(form);
    let made = admin.post(&list, &with_token).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let link = made_link(&made.body);
    let at = link.find("/inspect/").expect("a portal link");
    let path = link[at..].to_string();
    let secret = path.trim_start_matches("/inspect/").to_string();
    let id = secret.split_once('.').unwrap().0.to_string();
    // Shown once: the list afterwards names the link, never its secret.
    let again = admin.get(&list).await;
    assert!(again.body.contains("Kontroll") && again.body.contains("Aktiv"));
    assert!(!again.body.contains(&secret));

    // A fresh browser opens the link: a cookie for the link, and the secret leaves the
    // address bar.
    let mut insp = Browser::new(s);
    let opened = insp.get(&path).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert_eq!(opened.location, "/inspect");
    let cookie = opened
        .set_cookies
        .iter()
        .find(|c| c.starts_with("stamp_inspect="))
        .expect("an inspector cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain-http localhost only");
    assert!(!cookie.contains(secret.split_once('.').unwrap().1));
    let view = insp.get("/inspect").await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    for shown in ["Bygg AB", ORG_A, SITE_1, "Anna Ek", "<html lang=\"sv\""] {
        assert!(view.body.contains(shown), "{shown}: {}", view.body);
    }
    assert!(!view.body.contains(ANNA), "the personnummer is masked");
    assert!(!view.body.contains("Bo Al"), "present at another site only");
    let en = insp.get("/inspect?lang=en").await;
    assert!(en.body.contains("Staff ledger inspection") && en.body.contains("Anna Ek"));

    // The session opens this site's page and nothing else.
    for other in [
        format!("/companies/{ORG_A}"),
        format!("/companies/{ORG_A}/sites/{SITE_1}"),
        format!("/companies/{ORG_A}/sites/{SITE_2}"),
        format!("/companies/{ORG_B}/people"),
        list.clone(),
    ] {
        let p = insp.get(&other).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{other}");
        assert!(p.location.starts_with("/login"), "{other}");
    }
    // Nor does its cookie pass as a user's session.
    let value = insp
        .cookies
        .iter()
        .find(|(k, _)| k == "stamp_inspect")
        .unwrap()
        .1
        .clone();
    let mut forged = Browser::new(s);
    forged.cookies.push(("stamp_session".into(), value));
    assert_eq!(
        forged.get(&format!("/companies/{ORG_A}")).await.status,
        StatusCode::SEE_OTHER
    );

    // Audited as the inspection API's actions, actor inspection:{id}, in A's chain.
    let trail = s.audit_trail(ORG_A, &setup.admin).await;
    let entries = trail["entries"].as_array().unwrap();
    let actor = format!("inspection:{id}");
    for action in ["GET /inspect/v1/site", "GET /inspect/v1/present"] {
        assert!(
            entries.iter().any(|e| e["actor"] == actor.as_str()
                && e["action"] == action
                && e["outcome"] == "success"),
            "{action}"
        );
    }
    assert!(!trail.to_string().contains(&secret));
    assert!(entries
        .iter()
        .any(|e| e["actor"] == "demo-admin"
            && e["action"] == "POST /v1/companies/{orgnr}/inspections"));

    // Revoked: the open session is refused at its next request, and so is the link.
    let revoke = format!("/companies/{ORG_A}/inspections/{id}/revoke");
    assert!(again.body.contains(&format!("action=\"{revoke}\"")));
    assert_eq!(admin.post(&revoke, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(insp.get("/inspect").await.status, StatusCode::OK);
    let done = admin.post(&revoke, &[("csrf", &token)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(admin.get(&list).await.body.contains("Återkallad"));
    let refused = insp.get("/inspect").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // In English: this browser chose it above.
    assert!(refused.body.contains("The link is not valid"));
    assert!(!refused.body.contains("Anna Ek"));
    let mut fresh = Browser::new(s);
    let p = fresh.get(&path).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("Länken gäller inte"));
    let unknown = fresh.get("/inspect/nonsense?lang=en").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.body.contains("The link is not valid"));
    assert_eq!(fresh.get("/inspect").await.status, StatusCode::UNAUTHORIZED);

    // Expiry takes effect at once too: a 1-hour link, two hours on.
    let page = admin.get(&list).await;
    let token = csrf(&page.body);
    let made = admin
        .post(
            &list,
            &[("csrf", &token), ("site_id", SITE_1), ("valid_hours", "1")],
        )
        .await;
    let link = made_link(&made.body);
    let path = link[link.find("/inspect/").unwrap()..].to_string();
    let mut insp = Browser::new(s);
    assert_eq!(insp.get(&path).await.status, StatusCode::SEE_OTHER);
    assert_eq!(insp.get("/inspect").await.status, StatusCode::OK);
    s.clock.advance(chrono::Duration::hours(2));
    assert_eq!(insp.get("/inspect").await.status, StatusCode::UNAUTHORIZED);
}

/// The admin's notifications page (spec §11) and archive-check page (spec §12): the
/// same authorization as the API (a company user gets neither), CSRF on both forms,
/// the domain's validation shown at the slot typed in with the text kept, the signing
/// secret shown once, the test message's 409 without settings said plainly and its
/// deliveries listed with every attempt, the verification's empty state and then its
/// report; each view and change audited as its API route.
async fn notifications_and_verification_pages(s: &TestServer) {
    let setup = grant_demo_identities(s).await;
    let page = format!("/companies/{ORG_A}/notifications");
    let test = format!("{page}/test");
    let check = format!("/companies/{ORG_A}/verification");
    let mut admin = Browser::new(s);
    admin.sign_in(ADMIN, "/").await;
    let first = admin.get(&page).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    for link in [&page, &check] {
        assert!(
            first.body.contains(&format!("href=\"{link}\"")),
            "{link} in the admin nav"
        );
    }
    let token = csrf(&first.body);

    // A test message before any settings: the domain's 409, said as what to do.
    let none = admin.post(&test, &[("csrf", &token)]).await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.body);
    assert!(
        none.body.contains("Spara en webhook-adress"),
        "{}",
        none.body
    );

    // Without the token nothing is saved.
    let refused = admin
        .post(&page, &[("email_0", "drift@bygg.example")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A bad address in the third slot (the second left empty): shown there, text kept.
    let bad = admin
        .post(
            &page,
            &[
                ("csrf", &token),
                ("email_0", "drift@bygg.example"),
                ("email_1", ""),
                ("email_2", "inte-en-adress"),
                ("daily_digest", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("id=\"email_2-error\""), "{}", bad.body);
    assert!(!bad.body.contains("id=\"email_0-error\""));
    assert!(bad.body.contains("Inte en giltig e-postadress"));
    assert!(bad.body.contains("value=\"inte-en-adress\""));
    assert!(bad.body.contains("value=\"drift@bygg.example\""));
    let stored = s
        .get(
            &format!("/v1/companies/{ORG_A}/notifications"),
            &setup.admin,
        )
        .await
        .expect(200);
    assert_eq!(stored["emails"], json!([]), "nothing saved");
    // A webhook that is no HTTPS URL is refused at its field too.
    let bad_url = admin
        .post(
            &page,
            &[("csrf", &token), ("webhook_url", "ftp://example.se/x")],
        )
        .await;
    assert_eq!(bad_url.status, StatusCode::BAD_REQUEST);
    assert!(bad_url.body.contains("id=\"webhook_url-error\""));
    assert!(bad_url.body.contains("ska börja med https://"));

    // Valid: saved, and the new webhook URL's signing secret shown this once. Nothing
    // listens on port 9, so the test message's attempt records no answer.
    let hook = "http://127.0.0.1:9/hook";
    let saved = admin
        .post(
            &page,
            &[
                ("csrf", &token),
                ("webhook_url", hook),
                ("email_0", "drift@bygg.example"),
                ("email_3", "chef@bygg.example"),
                ("daily_digest", "1"),
                ("partner_silence", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let at = saved
        .body
        .find("id=\"webhook-secret\"")
        .expect("the secret shown");
    assert!(saved.body[at..].contains("value=\"whsec_"));
    let stored = s
        .get(
            &format!("/v1/companies/{ORG_A}/notifications"),
            &setup.admin,
        )
        .await
        .expect(200);
    assert_eq!(
        stored["emails"],
        json!(["drift@bygg.example", "chef@bygg.example"])
    );
    assert_eq!(stored["webhook_url"], json!(hook));
    assert_eq!(
        (
            stored["daily_digest"].clone(),
            stored["partner_silence"].clone()
        ),
        (json!(true), json!(true))
    );
    let again = admin.get(&page).await;
    assert!(!again.body.contains("whsec_"), "shown once");
    assert!(again.body.contains("value=\"chef@bygg.example\""));

    // The test message: both targets, listed with their attempts.
    let sent = admin.post(&test, &[("csrf", &token)]).await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    assert!(sent.body.contains("id=\"test-sent\""));
    let listed = admin.get(&page).await;
    let api = s
        .get(
            &format!("/v1/companies/{ORG_A}/notifications/deliveries"),
            &setup.admin,
        )
        .await
        .expect(200);
    let deliveries = api["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{api}");
    for d in deliveries {
        assert!(!d["attempts"].as_array().unwrap().is_empty(), "{d}");
        assert!(listed.body.contains(d["target"].as_str().unwrap()), "{d}");
    }
    assert!(
        listed.body.contains("inget svar"),
        "the refused webhook attempt: {}",
        listed.body
    );
    assert!(listed.body.contains("Webhook") && listed.body.contains("E-post"));

    // The archive check: an empty state, then the company's part of the report.
    let empty = admin.get(&check).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("id=\"verify-none\""));
    let report = stamp_api::jobs::verify_archive(&s.state, None)
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
    let shown = admin.get(&check).await;
    assert!(shown.body.contains("id=\"verify-ok\""), "{}", shown.body);
    assert!(shown.body.contains(report.report_key.as_deref().unwrap()));
    let en = admin.get(&format!("{check}?lang=en")).await;
    assert!(en.body.contains("No mismatches"));

    // A company user of the same company gets neither page.
    let mut user = Browser::new(s);
    user.sign_in(USER, "/").await;
    for path in [&page, &check] {
        assert_eq!(user.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let form = [(
        "csrf",
        csrf(&user.get(&format!("/companies/{ORG_A}")).await.body),
    )];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(user.post(&test, &form).await.status, StatusCode::FORBIDDEN);

    // Audited as the API routes.
    let trail = s.audit_trail(ORG_A, &setup.admin).await;
    let entries = trail["entries"].as_array().unwrap();
    let by = |actor: &str, action: &str, status: u64| {
        entries
            .iter()
            .any(|e| e["actor"] == actor && e["action"] == action && e["status"] == status)
    };
    assert!(by(
        "demo-admin",
        "GET /v1/companies/{orgnr}/notifications/deliveries",
        200
    ));
    assert!(by(
        "demo-admin",
        "PUT /v1/companies/{orgnr}/notifications",
        400
    ));
    assert!(by(
        "demo-admin",
        "PUT /v1/companies/{orgnr}/notifications",
        200
    ));
    assert!(by(
        "demo-admin",
        "POST /v1/companies/{orgnr}/notifications/test",
        409
    ));
    assert!(by(
        "demo-admin",
        "POST /v1/companies/{orgnr}/notifications/test",
        202
    ));
    assert!(by(
        "demo-admin",
        "GET /v1/companies/{orgnr}/verification",
        200
    ));
    assert!(by(
        "demo-user",
        "GET /v1/companies/{orgnr}/verification",
        403
    ));
}

/// The overview's delivery health shows a silent partner (spec §11 `silent_since` of
/// the statistics' partners rows) as a warning, in the user's language.
async fn the_overview_shows_partner_silence(s: &TestServer) {
    // Monday to Wednesday the partner delivers (the first batch is the setup's).
    s.clock.set("2026-11-23T10:00:00Z");
    let setup = grant_demo_identities(s).await;
    for (i, day) in ["2026-11-24", "2026-11-25"].iter().enumerate() {
        s.clock.set(&format!("{day}T10:00:00Z"));
        s.post_json(
            "/partner/v1/batches",
            &setup.partner,
            &batch(
                &format!("w{i}"),
                vec![event(
                    &format!("w{i}"),
                    ORG_A,
                    SITE_1,
                    BO,
                    "Bo Al",
                    "in",
                    &format!("{day}T09:00:00+01:00"),
                )],
            ),
        )
        .await
        .expect(200);
    }
    let overview = format!("/companies/{ORG_A}");
    let mut b = Browser::new(s);
    s.clock.set("2026-11-26T20:00:00Z");
    b.sign_in(USER, "/").await;
    let thursday = b.get(&overview).await;
    assert_eq!(thursday.status, StatusCode::OK, "{}", thursday.body);
    assert!(
        thursday.body.contains("Levererar"),
        "Thursday has not ended"
    );
    assert!(!thursday.body.contains("Tyst sedan"));
    // Friday morning: silent since Wednesday's delivery, 11:00 Swedish time.
    s.clock.set("2026-11-27T05:00:00Z");
    b.sign_in(USER, "/").await;
    let friday = b.get(&overview).await;
    assert!(
        friday.body.contains("Tyst sedan 2026-11-25 11:00"),
        "{}",
        friday.body
    );
    let en = b.get(&format!("{overview}?lang=en")).await;
    assert!(
        en.body.contains("Silent since 25 Nov 2026, 11:00"),
        "{}",
        en.body
    );
}

on_every_store!(
    the_overview_shows_partner_silence,
    notifications_and_verification_pages,
    signing_in_sessions_and_the_way_back,
    pages_show_only_what_the_api_allows_and_are_audited,
    forms_check_csrf_validate_and_grants_take_effect,
    inspectors_open_one_site_through_a_link,
);
