//! A Stamp HTTP server for one test: the app `stamp-local` serves, on either the
//! embedded store and an archive folder, or DynamoDB Local and moto's S3.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use stamp_api::AppState;
use stamp_domain::auth::Claims;
use stamp_domain::governance::audit::AuditEntry;
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::ports::{Archive, Clock, ItemStore, UploadUrls};
use std::sync::Arc;

/// The server's clock: real time, unless a test sets it or moves it on.
#[derive(Default)]
pub struct TestClock(std::sync::Mutex<(Option<chrono::DateTime<chrono::Utc>>, chrono::Duration)>);

impl TestClock {
    /// Stops the clock at a time.
    pub fn set(&self, at: &str) {
        self.0.lock().unwrap().0 = Some(at.parse().expect("an RFC 3339 time"));
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.0.lock().unwrap().1 += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let (fixed, offset) = *self.0.lock().unwrap();
        fixed.unwrap_or_else(chrono::Utc::now) + offset
    }
}

pub struct TestServer {
    pub base: String,
    /// The services the server runs on (for driving jobs and imports directly).
    pub state: AppState,
    pub clock: Arc<TestClock>,
    key: Arc<Vec<u8>>,
    pub archive: Arc<dyn Archive>,
    /// The store under the server (tests that tamper with it behind the server's back).
    pub store: Arc<dyn ItemStore>,
    lock: LockProbe,
    /// Where the embedded store and archive live (kept alive for the test); e-mail
    /// goes to its `outbox/`.
    pub _dir: tempfile::TempDir,
    http: reqwest::Client,
}

#[derive(Clone)]
enum LockProbe {
    Folder(stamp_adapters::FolderArchive),
    S3(stamp_adapters::S3Archive),
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: String,
}

impl Answer {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        self.body
    }

    /// A problem+json answer with this status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.body
        );
        assert_eq!(self.body["code"], code, "{}", self.body);
        assert_eq!(self.body["status"], status, "{}", self.body);
        for f in ["type", "title", "detail"] {
            assert!(self.body[f].is_string(), "problem lacks {f}: {}", self.body);
        }
        self.expect(status)
    }
}

impl TestServer {
    pub async fn embedded() -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn ItemStore> = Arc::new(
            stamp_adapters::EmbeddedItemStore::open_in_dir(dir.path()).expect("open redb"),
        );
        let folder = stamp_adapters::FolderArchive::new(dir.path().join("archive"));
        Self::start(
            store,
            Arc::new(folder.clone()),
            LockProbe::Folder(folder),
            dir,
        )
        .await
    }

    /// On DynamoDB Local + moto; `None` only when STAMP_SKIP_AWS=1.
    pub async fn aws(test: &str) -> Option<TestServer> {
        let store = crate::helpers::fresh_dynamo_store(test).await?;
        let archive = crate::helpers::fresh_s3_archive(test).await?;
        Some(Self::on_s3(store, archive).await)
    }

    async fn on_s3(
        store: stamp_adapters::DynamoItemStore,
        archive: stamp_adapters::S3Archive,
    ) -> TestServer {
        let probe = LockProbe::S3(archive.clone());
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start(Arc::new(store), Arc::new(archive), probe, dir).await
    }

    /// The `.eml` files the server's mailer wrote, oldest first.
    pub fn outbox(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(self._dir.path().join("outbox"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().to_string(),
                            std::fs::read(e.path()).expect("read eml"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The S3 archive when the server runs on moto.
    pub fn s3(&self) -> Option<&stamp_adapters::S3Archive> {
        match &self.lock {
            LockProbe::S3(a) => Some(a),
            LockProbe::Folder(_) => None,
        }
    }

    /// The folder archive when the server runs on the embedded stack.
    pub fn folder(&self) -> Option<&stamp_adapters::FolderArchive> {
        match &self.lock {
            LockProbe::Folder(f) => Some(f),
            LockProbe::S3(_) => None,
        }
    }

    /// Whether this server runs on DynamoDB Local and moto.
    pub fn on_aws(&self) -> bool {
        matches!(self.lock, LockProbe::S3(_))
    }

    /// How long an archived object is locked: the folder's sidecar, or S3's HeadObject
    /// (moto's GetObjectRetention is broken).
    pub async fn locked_until(&self, key: &str) -> chrono::NaiveDate {
        match &self.lock {
            LockProbe::Folder(f) => f.meta(key).await.expect("sidecar").retain_until,
            LockProbe::S3(a) => {
                let head = a
                    .client()
                    .head_object()
                    .bucket(a.bucket())
                    .key(key)
                    .send()
                    .await
                    .expect("head");
                assert_eq!(
                    head.object_lock_mode().map(|m| m.as_str()),
                    Some("COMPLIANCE")
                );
                let until = head.object_lock_retain_until_date().expect("retain-until");
                chrono::DateTime::from_timestamp(until.secs(), 0)
                    .expect("date")
                    .date_naive()
            }
        }
    }

    /// Removes an archived object whatever its lock, as only someone going around Stamp
    /// could: the folder's file, or an S3 delete marker over it.
    pub async fn tamper_remove_archived(&self, key: &str) {
        match &self.lock {
            LockProbe::Folder(f) => std::fs::remove_file(f.root().join(key)).expect("remove"),
            LockProbe::S3(a) => {
                a.client()
                    .delete_object()
                    .bucket(a.bucket())
                    .key(key)
                    .send()
                    .await
                    .expect("delete marker");
            }
        }
    }

    /// A server of the same kind on a new, empty store, sharing this one's archive.
    pub async fn with_fresh_store(&self) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let store: Arc<dyn ItemStore> = match &self.lock {
            LockProbe::Folder(_) => Arc::new(
                stamp_adapters::EmbeddedItemStore::open_in_dir(dir.path()).expect("open redb"),
            ),
            LockProbe::S3(_) => Arc::new(
                crate::helpers::fresh_dynamo_store("fresh-store")
                    .await
                    .expect("DynamoDB Local"),
            ),
        };
        Self::start(store, self.archive.clone(), self.lock.clone(), dir).await
    }

    /// Another server of the same kind, on its own store and archive.
    pub async fn sibling(&self) -> TestServer {
        match &self.lock {
            LockProbe::Folder(_) => Self::embedded().await,
            LockProbe::S3(_) => Self::aws("sibling").await.expect("DynamoDB Local and moto"),
        }
    }

    async fn start(
        store: Arc<dyn ItemStore>,
        archive: Arc<dyn Archive>,
        lock: LockProbe,
        dir: tempfile::TempDir,
    ) -> TestServer {
        let key = Arc::new(b"test-signing-key-0123456789abcdef".to_vec());
        let clock = Arc::new(TestClock::default());
        let (listener, base) = loopback().await;
        // Extracts go where the archive is (the folder, or the bucket's extracts/ prefix)
        // and render in this process, as stamp-local does.
        let extract_files: Arc<dyn stamp_domain::ports::ExtractFiles> = match &lock {
            LockProbe::Folder(f) => Arc::new(stamp_adapters::FolderExtractFiles::new(
                f.root(),
                key.clone(),
            )),
            LockProbe::S3(a) => Arc::new(stamp_adapters::S3ExtractFiles::new(
                a.client().clone(),
                a.bucket(),
            )),
        };
        let state = AppState::new(
            store.clone(),
            archive.clone(),
            PseudonymKey::new(b"test-pseudonym-key-0123456789abcdef".to_vec()),
            clock.clone(),
        )
        .with_extract_files(extract_files, stamp_domain::extracts::Dispatch::InProcess)
        .with_public_url(base.clone())
        .with_locks(match &lock {
            LockProbe::Folder(f) => Arc::new(f.clone()) as Arc<dyn stamp_domain::ports::LockProbe>,
            LockProbe::S3(a) => Arc::new(a.clone()),
        })
        .with_mailer(
            Arc::new(stamp_adapters::OutboxMailer::new(dir.path().join("outbox"))),
            None,
        );
        // Uploads as each stack takes them: stamp-local's own signed PUT route, or a
        // presigned PUT to (moto's) S3.
        let (local_uploads, urls): (_, Arc<dyn UploadUrls>) = match &lock {
            LockProbe::Folder(f) => {
                let u = Arc::new(stamp_local::uploads::LocalUploads::new(
                    base.clone(),
                    key.clone(),
                    f.clone(),
                ));
                (Some(u.clone()), u)
            }
            LockProbe::S3(a) => (None, Arc::new(a.clone())),
        };
        let state = stamp_local::with_local_services(state, Some(urls));
        let app = stamp_local::local_app(state.clone(), key.clone(), local_uploads);
        tokio::spawn(async move {
            let _ = axum::serve(stamp_local::edge::EdgeListener(listener), app).await;
        });
        TestServer {
            base,
            state,
            clock,
            key,
            archive,
            store,
            lock,
            _dir: dir,
            http: reqwest::Client::new(),
        }
    }

    /// PUTs a delivery to the URL `POST /partner/v1/uploads` answered, as a partner does.
    /// On S3 the test then plays the part of the S3 event: it calls what the
    /// upload-import function calls. Answers the batch's answer once it is imported.
    pub async fn complete_upload(
        &self,
        created: &Value,
        bytes: Vec<u8>,
        partner_token: &str,
    ) -> Answer {
        let url = created["upload_url"].as_str().expect("upload_url");
        let res = self
            .http
            .put(url)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("PUT upload");
        assert!(res.status().is_success(), "PUT upload: {}", res.status());
        if let LockProbe::S3(_) = self.lock {
            let partner = partner_of(created);
            self.state
                .import
                .import_upload(&partner, created["upload_id"].as_str().expect("upload_id"))
                .await
                .expect("import upload");
        }
        self.batch_answer(
            created["batch_id"].as_str().expect("batch_id"),
            partner_token,
        )
        .await
    }

    /// `GET /partner/v1/batches/{id}`, waiting while it answers 202.
    pub async fn batch_answer(&self, batch_id: &str, partner_token: &str) -> Answer {
        for _ in 0..300 {
            let a = self
                .get(&format!("/partner/v1/batches/{batch_id}"), partner_token)
                .await;
            if a.status != StatusCode::ACCEPTED {
                return a;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("batch {batch_id} was not imported within 30 s");
    }

    /// The local signing key (to serve another app over the same state).
    pub fn signing_key(&self) -> Arc<Vec<u8>> {
        self.key.clone()
    }

    /// Serves `state` (this server's, set up otherwise) as stamp-local's HTTP API with
    /// this server's signing key, on a port of its own; answers its base URL.
    pub async fn serve_state(&self, state: AppState) -> String {
        serve(stamp_local::http_app(state, self.signing_key())).await
    }

    /// Every entry of every audit chain, read from the trail itself, with its chain.
    pub async fn audit_entries(&self) -> Vec<(String, AuditEntry)> {
        let mut out = Vec::new();
        for chain in self.state.audit.chains().await.expect("chains") {
            let page = self
                .state
                .audit
                .entries(
                    &chain,
                    chrono::DateTime::UNIX_EPOCH,
                    chrono::Utc::now() + chrono::Duration::days(1),
                    None,
                    10_000,
                )
                .await
                .expect("entries");
            out.extend(page.items.into_iter().map(|e| (chain.clone(), e)));
        }
        out
    }

    /// A company's audit trail as `token` reads it over the API (`…/audit?limit=1000`).
    pub async fn audit_trail(&self, orgnr: &str, token: &str) -> Value {
        self.get(&format!("/v1/companies/{orgnr}/audit?limit=1000"), token)
            .await
            .expect(200)
    }

    pub fn token(&self, claims: Claims) -> String {
        stamp_local::token::mint(&self.key, &claims, chrono::Duration::hours(1)).expect("mint")
    }

    /// Sends a request; the answer is checked against the API document
    /// (`crate::contract::check`). The request is built at once, so the future borrows
    /// none of the arguments.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> impl std::future::Future<Output = Answer> + 'static {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some((ct, bytes)) = body {
            req = req.header("content-type", ct).body(bytes);
        }
        let path = path.to_string();
        async move { Self::answer(req, method, path).await }
    }

    async fn answer(req: reqwest::RequestBuilder, method: Method, path: String) -> Answer {
        let res = req.send().await.expect("request");
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.bytes().await.expect("body");
        crate::contract::check(&method, &path, status.as_u16(), &content_type, &bytes);
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Answer {
            status,
            body,
            content_type,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.call(
            Method::PUT,
            path,
            Some(token),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }
}

/// A loopback listener on a port of its own and its base URL (`http://127.0.0.1:…`),
/// for an app that must know its own address before it is built.
pub async fn loopback() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    (listener, base)
}

/// Serves `app` on `listener` for the rest of the test.
pub fn serve_on(listener: tokio::net::TcpListener, app: axum::Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

/// Serves `app` on a loopback port of its own; answers its base URL.
pub async fn serve(app: axum::Router) -> String {
    let (listener, base) = loopback().await;
    serve_on(listener, app);
    base
}

/// The partner an upload belongs to, from the upload URL's storage key (S3: the path).
fn partner_of(created: &Value) -> stamp_domain::identity::PartnerId {
    let url = created["upload_url"].as_str().unwrap_or("");
    let path = url.split('?').next().unwrap_or("");
    let at = path
        .find("/uploads/")
        .map(|i| i + "/uploads/".len())
        .unwrap_or(0);
    stamp_domain::testing::pid(path[at..].split('/').next().unwrap_or(""))
}

pub fn claims(sub: &str, roles: &[&str], companies: &[&str]) -> Claims {
    Claims {
        sub: sub.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        companies: companies.iter().map(|c| c.to_string()).collect(),
        partner_id: None,
        person_id: None,
    }
}

pub fn partner_claims(partner_id: &str) -> Claims {
    Claims {
        partner_id: Some(partner_id.into()),
        ..claims(&format!("partner-{partner_id}"), &["partner"], &[])
    }
}

pub const ORG_A: &str = "5569999997";
pub const ORG_B: &str = "5599000006";
pub const SITE_1: &str = "STH2026000001";
pub const SITE_2: &str = "GBG2026000002";
/// Valid personnummer (date and check digit).
pub const ANNA: &str = "198112189876";
pub const BO: &str = "199001011239";

/// A company with its admin and an accredited partner, ready for deliveries.
pub struct Setup {
    pub admin: String,
    pub user: String,
    pub partner: String,
    pub operator: String,
}

pub async fn setup(s: &TestServer, orgnr: &str, partner_id: &str) -> Setup {
    let operator = s.token(claims("op", &["operator"], &[]));
    let r = s
        .post_json(
            "/v1/partners",
            &operator,
            &json!({"partner_id": partner_id, "name": "Ledger AB"}),
        )
        .await;
    assert!(
        r.status == StatusCode::CREATED || r.status == StatusCode::CONFLICT,
        "{}",
        r.body
    );
    let admin = s.token(claims(
        &format!("admin-{orgnr}"),
        &["company_admin"],
        &[orgnr],
    ));
    s.put_json(
        &format!("/v1/companies/{orgnr}/activation"),
        &admin,
        &json!({"terms_version": "2026-01", "company_name": "Bygg AB", "fiscal_year_end_month": 12}),
    )
    .await
    .expect(200);
    let user_sub = format!("user-{orgnr}");
    s.put_json(
        &format!("/v1/companies/{orgnr}/users/{user_sub}"),
        &admin,
        &json!({"roles": ["company_user"]}),
    )
    .await
    .expect(200);
    Setup {
        admin,
        user: s.token(claims(&user_sub, &["company_user"], &[orgnr])),
        partner: s.token(partner_claims(partner_id)),
        operator,
    }
}

/// One event as a partner would send it.
pub fn event(
    id: &str,
    orgnr: &str,
    site: &str,
    person: &str,
    name: &str,
    direction: &str,
    at: &str,
) -> Value {
    json!({
        "event_id": id, "company_orgnr": orgnr, "company_name": "Bygg AB", "site_id": site,
        "person_id": person, "person_name": name, "direction": direction, "occurred_at": at, "recorded_at": at,
    })
}

pub fn batch(id: &str, events: Vec<Value>) -> Value {
    json!({ "batch_id": id, "events": events })
}

/// Every scenario runs against both storage stacks.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&$crate::server::TestServer::embedded().await).await
                }
            )*
        }
        mod dynamodb_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(s) = $crate::server::TestServer::aws(stringify!($name)).await {
                        super::$name(&s).await
                    }
                }
            )*
        }
    };
}

impl TestServer {
    /// On DynamoDB Local + moto reached through these clients (e.g. through a fault
    /// proxy); the table and bucket are created with the direct clients. `None` only
    /// when STAMP_SKIP_AWS=1.
    pub async fn aws_through(
        test: &str,
        dynamodb: aws_sdk_dynamodb::Client,
        s3: aws_sdk_s3::Client,
    ) -> Option<TestServer> {
        let direct_store = crate::helpers::fresh_dynamo_store(test).await?;
        let direct_archive = crate::helpers::fresh_s3_archive(test).await?;
        let store = stamp_adapters::DynamoItemStore::new(dynamodb, direct_store.table());
        let archive = stamp_adapters::S3Archive::new(s3, direct_archive.bucket());
        Some(Self::on_s3(store, archive).await)
    }

    /// A server of the same kind on this one's store and archive: the same deployment
    /// after a restart.
    pub async fn restarted(&self) -> TestServer {
        Self::start(
            self.store.clone(),
            self.archive.clone(),
            self.lock.clone(),
            tempfile::tempdir().expect("temp dir"),
        )
        .await
    }
}
