//! The service's own routes (health, this document, the privacy notice, announcements)
//! and the operator's (partners, announcements).

use super::*;

// --- service -------------------------------------------------------------------------
pub(super) const SERVICE_OPS: &[Op] = &[
    Op {
        method: "get",
        path: "/health",
        tag: SERVICE,
        summary: "Liveness",
        auth: Auth::None,
        query: &[],
        body: None,
        ok: &[(200, Some("Health"), "up")],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/openapi.json",
        tag: SERVICE,
        summary: "This document",
        auth: Auth::None,
        query: &[],
        body: None,
        ok: &[(200, Some("OpenApiDocument"), "the OpenAPI 3.1 document")],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/v1/privacy",
        tag: SERVICE,
        summary: "The privacy notice",
        auth: Auth::None,
        query: &[],
        body: None,
        ok: &[(200, Some("PrivacyNotice"), "the notice")],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/v1/announcements",
        tag: SERVICE,
        summary: "Current and planned service announcements",
        auth: Auth::None,
        query: &[],
        body: None,
        ok: &[(200, Some("AnnouncementList"), "those not yet ended")],
        problems: &[],
    },
];

// --- operator ------------------------------------------------------------------------
pub(super) const OPERATOR_OPS: &[Op] = &[
    Op {
        method: "post",
        path: "/v1/announcements",
        tag: OPERATOR,
        summary: "Publish an announcement",
        auth: Auth::Jwt("operator"),
        query: &[],
        body: Some(("AnnouncementRequest", true)),
        ok: &[(201, Some("AnnouncementView"), "published")],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/v1/partners",
        tag: OPERATOR,
        summary: "Accredited partners",
        auth: Auth::Jwt("operator"),
        query: LIST,
        body: None,
        ok: &[(200, Some("PartnerList"), "a page of partners")],
        problems: &[],
    },
    Op {
        method: "post",
        path: "/v1/partners",
        tag: OPERATOR,
        summary: "Accredit a partner (`feed_url` for a pulling one)",
        auth: Auth::Jwt("operator"),
        query: &[],
        body: Some(("NewPartner", true)),
        ok: &[(201, Some("PartnerView"), "accredited")],
        problems: &[409],
    },
    Op {
        method: "patch",
        path: "/v1/partners/{partner_id}",
        tag: OPERATOR,
        summary: "Suspend or reinstate a partner",
        auth: Auth::Jwt("operator"),
        query: &[],
        body: Some(("PartnerChange", true)),
        ok: &[(200, Some("PartnerView"), "the partner")],
        problems: &[],
    },
];
