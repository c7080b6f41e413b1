mod analysis_api;
mod archive;
mod company_reads;
mod helpers;
mod partner_push;
mod routes;
mod server;
mod store_conformance;
