mod archive;
mod helpers;
mod store_conformance;
mod company_reads;
mod partner_push;
mod server;
mod routes;
mod analysis_api;
