//! Stamp's HTTP surface. Each Lambda function serves one of the routers below through
//! `lambda_http`; `stamp-local` serves all of them. The handlers are the same code in
//! both places, and read the caller's claims from the API Gateway request context.

pub mod audit;
pub mod budget;
pub mod claims;
pub mod jobs;
pub mod openapi;
pub mod params;
pub mod problem;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod views;

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
pub use state::AppState;

/// The routes of one Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    PartnerImport,
    CompanyQuery,
    Administration,
    /// Extracts (spec §8) and the employees' own data (`/v1/me/...`).
    Extracts,
    /// Inspection links and the inspector's `/inspect/v1/...` (spec §10).
    Inspection,
}

impl Function {
    pub const ALL: [Function; 5] = [
        Function::PartnerImport,
        Function::CompanyQuery,
        Function::Administration,
        Function::Extracts,
        Function::Inspection,
    ];

    fn routes(self) -> Router<AppState> {
        match self {
            Function::PartnerImport => routes::partner_import::router(),
            Function::CompanyQuery => routes::company_query::router(),
            Function::Administration => routes::administration::router(),
            Function::Extracts => routes::extracts::router(),
            Function::Inspection => routes::inspection::router(),
        }
    }
}

async fn not_found() -> Response {
    problem::problem(
        StatusCode::NOT_FOUND,
        "not_found",
        "Not found",
        "no such route",
        None,
    )
}

async fn method_not_allowed() -> Response {
    problem::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        "the route does not take this method",
        None,
    )
}

/// The router for a set of functions: all of them locally (and in the tests).
pub fn router(functions: &[Function], state: AppState) -> Router {
    let mut r = Router::new();
    for f in functions {
        r = r.merge(f.routes());
    }
    layered(r, state)
}

/// Routes with what every deployment puts around them: the audit log, request logging,
/// problem+json for every refusal and for routes or methods that do not exist.
pub fn layered(r: Router<AppState>, state: AppState) -> Router {
    // route_layer: the log middleware runs after routing and so sees the route template.
    r.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        audit::record,
    ))
    .route_layer(axum::middleware::from_fn(telemetry::log_request))
    .fallback(not_found)
    .method_not_allowed_fallback(method_not_allowed)
    .with_state(state)
    .layer(axum::middleware::from_fn(problem::refusals_as_problems))
}

/// Runs one function's routes (`routes::<function>::router()`) on the Lambda runtime.
/// It takes the routes, not a [`Function`]: a `match` on the function at run time would
/// keep every function's handlers, and what they call, in every bootstrap.
pub async fn run_lambda(
    routes: Router<AppState>,
    state: AppState,
) -> Result<(), lambda_http::Error> {
    lambda_http::run(layered(routes, state)).await
}
