//! One module per Lambda function; each builds the router that function serves.
//! stamp-local merges them all, so the local server cannot drift from AWS.

pub mod administration;
pub mod company_query;
pub mod extracts;
pub mod inspection;
pub mod notifications;
pub mod partner_import;
