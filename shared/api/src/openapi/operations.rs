//! The operations of the document, one table per part of the API.

use super::*;

mod company;
mod extracts;
mod inspection;
mod operator;
mod partner;

/// Every operation, in the document's order: one row per route of infra/aws/routes.json.
pub(super) const SECTIONS: &[&[Op]] = &[
    partner::OPS,
    company::READS,
    operator::SERVICE_OPS,
    operator::OPERATOR_OPS,
    company::ADMIN_OPS,
    extracts::OPS,
    inspection::OPS,
    company::NOTIFICATIONS,
    company::VERIFICATION,
];
