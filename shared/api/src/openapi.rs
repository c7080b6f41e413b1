//! The OpenAPI 3.1 document (spec §14), served at `GET /openapi.json` and written to
//! docs/openapi.json (`stamp-local openapi`). The schemas are generated from the Rust types
//! that serialize the answers (`crate::views`, and the domain's enums and answer types);
//! the operations come from the table below, one row per route of infra/aws/routes.json
//! (a test fails on a route missing here, and every HTTP scenario validates each answer it
//! receives against this document).

use serde_json::{json, Map, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::views::{admin, extracts, partner, reads, Health, Problem};

/// Who may call an operation.
#[derive(Clone, Copy)]
enum Auth {
    None,
    /// A JWT from the identity provider (API Gateway's JWT authorizer).
    Jwt(&'static str),
    /// The secret of an inspection link.
    Inspection,
}

/// A query parameter: name, JSON Schema type, description.
type Query = (&'static str, &'static str, &'static str);

struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    query: &'static [Query],
    /// The request body: schema name and whether it is required.
    body: Option<(&'static str, bool)>,
    /// Success answers: status, schema name (`None`: no body), description.
    ok: &'static [(u16, Option<&'static str>, &'static str)],
    /// Problem answers beyond those every operation of its kind can give.
    problems: &'static [u16],
}

const LIST: &[Query] = &[
    (
        "limit",
        "integer",
        "1–1000, default 100; a larger one is clamped",
    ),
    ("cursor", "string", "the `next_cursor` of the previous page"),
];
const REGISTRATIONS: &[Query] = &[
    (
        "from",
        "string",
        "RFC 3339; the range is half-open, [from, to)",
    ),
    ("to", "string", "RFC 3339"),
    (
        "history",
        "boolean",
        "adds each event's corrections and the withdrawn events",
    ),
    (
        "limit",
        "integer",
        "1–1000, default 100; a larger one is clamped",
    ),
    ("cursor", "string", "the `next_cursor` of the previous page"),
];

const PARTNER: &str = "partner";
const COMPANY: &str = "company";
const ADMIN: &str = "company-admin";
const OPERATOR: &str = "operator";
const EXTRACTS: &str = "extracts";
const EMPLOYEE: &str = "employee";
const SERVICE: &str = "service";
const INSPECTOR: &str = "inspector";

mod operations;
use operations::SECTIONS;

/// Adds `T`'s schema and those it refers to.
fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

fn schemas() -> Map<String, Value> {
    let mut s = Vec::new();
    add::<Problem>(&mut s);
    add::<Health>(&mut s);
    add::<partner::PushAnswer>(&mut s);
    add::<partner::Delivery>(&mut s);
    add::<stamp_domain::intake::NewUpload>(&mut s);
    add::<stamp_domain::intake::UploadTicket>(&mut s);
    add::<stamp_domain::intake::UploadProgress>(&mut s);
    add::<reads::SiteList>(&mut s);
    add::<reads::PeopleList>(&mut s);
    add::<reads::PersonView>(&mut s);
    add::<reads::PersonSearch>(&mut s);
    add::<reads::Registrations>(&mut s);
    add::<reads::AnomalyList>(&mut s);
    add::<reads::Statistics>(&mut s);
    add::<admin::PartnerList>(&mut s);
    add::<admin::PartnerView>(&mut s);
    add::<stamp_domain::governance::admin::NewPartner>(&mut s);
    add::<admin::PartnerChange>(&mut s);
    add::<admin::ActivationView>(&mut s);
    add::<stamp_domain::governance::admin::ActivationRequest>(&mut s);
    add::<admin::Deregistration>(&mut s);
    add::<admin::UserList>(&mut s);
    add::<admin::UserRoles>(&mut s);
    add::<admin::Roles>(&mut s);
    add::<admin::AuditList>(&mut s);
    add::<admin::HoldList>(&mut s);
    add::<admin::HoldView>(&mut s);
    add::<stamp_domain::governance::admin::HoldRequest>(&mut s);
    add::<admin::AnnouncementList>(&mut s);
    add::<admin::AnnouncementView>(&mut s);
    add::<stamp_domain::governance::admin::AnnouncementRequest>(&mut s);
    add::<stamp_domain::governance::notice::PrivacyNotice>(&mut s);
    add::<extracts::ExtractView>(&mut s);
    add::<stamp_domain::extracts::OrderBody>(&mut s);
    add::<extracts::OwnRegistrations>(&mut s);
    add::<stamp_domain::reads::present::Present>(&mut s);
    add::<stamp_domain::governance::inspection::NewLink>(&mut s);
    add::<stamp_domain::governance::inspection::CreatedLink>(&mut s);
    add::<stamp_domain::governance::inspection::LinkView>(&mut s);
    add::<stamp_domain::governance::inspection::InspectedSite>(&mut s);
    add::<crate::routes::inspection::Links>(&mut s);
    add::<stamp_domain::notify::SettingsRequest>(&mut s);
    add::<stamp_domain::notify::SettingsView>(&mut s);
    add::<crate::routes::notifications::DeliveryList>(&mut s);
    add::<stamp_domain::governance::verification::CompanyVerification>(&mut s);
    let mut out = Map::new();
    for (name, schema) in s {
        out.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    // The document itself is described only as an object.
    out.insert("OpenApiDocument".into(), json!({"type": "object"}));
    out
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// What each problem status means, with the codes it carries.
fn problem_response(status: u16) -> Value {
    let description = match status {
        400 => "bad input: `invalid_field` or `missing_field`, with `field` naming it",
        401 => "`unauthenticated`: no valid token",
        403 => "`forbidden`: the role or company may not do this",
        404 => "`not_found`",
        409 => "a conflict: `batch_conflict`, `event_conflict`, `last_company_admin`, `already_exists`, `no_notification_settings`, …",
        413 => "`payload_too_large`: over 10,000 events or 6 MB (use /partner/v1/uploads)",
        415 => "`unsupported_media_type`: not application/json or text/csv",
        429 => "`too_many_requests`: a request without a token over the server's anonymous budget (stamp-local), or over the API's throttling (AWS); retry after `Retry-After` seconds",
        503 => "`unavailable`: a storage service is unavailable; retry later",
        _ => "a problem",
    };
    let mut r = json!({
        "description": description,
        "content": { "application/problem+json": { "schema": schema_ref("Problem") } }
    });
    if status == 429 {
        r["headers"] = json!({ "Retry-After": {
            "description": "seconds to wait before retrying",
            "schema": { "type": "integer", "minimum": 1 }
        }});
    }
    r
}

const CSV_EXAMPLE: &str = "event_id,company_orgnr,company_name,site_id,person_id,person_name,direction,occurred_at\n\
ev-0001,5569999997,Demobygg Sverige AB,STH2026000001,19811218-9876,Åsa Öberg,in,2026-11-26T07:00:00+01:00\n";

fn request_body(op: &Op, name: &str, required: bool) -> Value {
    let mut content = json!({ "application/json": { "schema": schema_ref(name) } });
    if op.path == "/partner/v1/batches" {
        content["application/json"]["example"] = json!({
            "batch_id": "2026-11-26-0001",
            "events": [{
                "event_id": "ev-0001", "company_orgnr": "5569999997",
                "company_name": "Demobygg Sverige AB", "site_id": "STH2026000001",
                "person_id": "19811218-9876", "person_name": "Åsa Öberg",
                "direction": "in", "occurred_at": "2026-11-26T07:00:00+01:00"
            }]
        });
        content["text/csv"] = json!({
            "schema": { "type": "string" },
            "example": CSV_EXAMPLE,
        });
    }
    json!({ "required": required, "content": content })
}

fn operation(op: &Op) -> Value {
    let mut params: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let mut p = json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } });
            if let Some(example) = path_example(name) {
                p["example"] = json!(example);
            }
            p
        })
        .collect();
    params.extend(op.query.iter().map(|(name, ty, description)| {
        json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": ty } })
    }));
    let mut responses = Map::new();
    for (status, schema, description) in op.ok {
        let mut r = json!({ "description": description });
        if let Some(name) = schema {
            r["content"] = json!({ "application/json": { "schema": schema_ref(name) } });
        }
        responses.insert(status.to_string(), r);
    }
    let mut problems: Vec<u16> = op.problems.to_vec();
    match op.auth {
        Auth::None => {}
        Auth::Jwt(_) | Auth::Inspection => problems.extend([400, 401, 403, 404, 503]),
    }
    // Requests without a token are held to a budget (shared/api/src/budget.rs); an
    // inspection link proves a secret instead and is exempt.
    if !matches!(op.auth, Auth::Inspection) && !crate::audit::UNAUDITED.contains(&op.path) {
        problems.push(429);
    }
    if op.body.is_some() {
        // Bad input, and a body over the router's limit (`payload_too_large`).
        problems.extend([400, 413]);
    }
    problems.sort_unstable();
    problems.dedup();
    for status in problems {
        responses.insert(status.to_string(), problem_response(status));
    }
    let mut o = json!({
        "tags": [op.tag],
        "summary": op.summary,
        "operationId": operation_id(op),
        "responses": responses,
    });
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if let Some((name, required)) = op.body {
        o["requestBody"] = request_body(op, name, required);
    }
    match op.auth {
        Auth::None => o["security"] = json!([]),
        Auth::Jwt(role) => {
            o["security"] = json!([{ "jwt": [] }]);
            o["description"] = json!(format!("Role: `{role}`."));
        }
        Auth::Inspection => o["security"] = json!([{ "inspection": [] }]),
    }
    o
}

/// Path parameters as the demo data has them (`stamp-local serve --demo`).
fn path_example(name: &str) -> Option<&'static str> {
    match name {
        "orgnr" => Some("5569999997"),
        "site_id" => Some("STH2026000001"),
        "partner_id" => Some("demo-ledger"),
        "sub" => Some("local-company_user"),
        "batch_id" => Some("2026-11-26-0001"),
        _ => None,
    }
}

/// `get_v1_companies_orgnr_sites` and the like: stable, one per method and path.
fn operation_id(op: &Op) -> String {
    let path: String = op
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut id = format!("{}_{}", op.method, path.trim_matches('_'));
    while id.contains("__") {
        id = id.replace("__", "_");
    }
    id
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in SECTIONS.iter().flat_map(|s| s.iter()) {
        let item = paths.entry(op.path).or_insert_with(|| json!({}));
        item[op.method] = operation(op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Stamp",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The legally required copy of Swedish construction companies' staff ledgers (personalliggare). A ledger-system supplier needs only the operations tagged `partner`. Errors are application/problem+json (RFC 9457) with a stable `code`.",
        },
        "tags": [
            { "name": PARTNER, "description": "For ledger systems (partners): push deliveries, upload large ones, read a batch's answer. Usable on its own." },
            { "name": COMPANY, "description": "What a company reads (company_user)" },
            { "name": ADMIN, "description": "Activation, users, audit, legal holds (company_admin)" },
            { "name": EXTRACTS, "description": "Register and authority extracts (spec §8)" },
            { "name": EMPLOYEE, "description": "The employees' own data" },
            { "name": OPERATOR, "description": "Partners and announcements (operator)" },
            { "name": SERVICE, "description": "Health, this document, the privacy notice, announcements" },
        ],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "jwt": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "A JWT from the identity provider; its claims carry the roles (`operator`, `company_admin`, `company_user`, `employee`, `partner`), the companies, the partner_id or the person_id."
                },
                "inspection": {
                    "type": "http", "scheme": "bearer",
                    "description": "The secret of an inspection link (spec §10)."
                }
            }
        }
    })
}

/// The document as written to docs/openapi.json: pretty, with a final newline.
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}
