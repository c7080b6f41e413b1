//! The store semantics live in the domain, beside the port they define.

pub(crate) use stamp_domain::store_rules::*;
