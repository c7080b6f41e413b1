//! Extracts (spec §8) and the employees' own data.

use super::*;

// --- extracts and own data ----------------------------------------------------------
pub(super) const OPS: &[Op] = &[
    Op {
        method: "post",
        path: "/v1/companies/{orgnr}/extracts",
        tag: EXTRACTS,
        summary: "Order an extract (spec §8); rendered in the background",
        auth: Auth::Jwt("company_user"),
        query: &[],
        body: Some(("OrderBody", true)),
        ok: &[(
            202,
            Some("ExtractView"),
            "the pending extract; `Location` names it",
        )],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/v1/companies/{orgnr}/extracts/{id}",
        tag: EXTRACTS,
        summary: "An extract's status; when ready a short-lived download URL",
        auth: Auth::Jwt("company_user"),
        query: &[],
        body: None,
        ok: &[(200, Some("ExtractView"), "the extract")],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/v1/me/registrations",
        tag: EMPLOYEE,
        summary: "The employee's own registrations in every company",
        auth: Auth::Jwt("employee"),
        query: &[
            ("from", "string", "RFC 3339"),
            ("to", "string", "RFC 3339"),
            (
                "history",
                "boolean",
                "adds corrections and withdrawn events",
            ),
            (
                "company",
                "string",
                "one company (to continue its `next_cursor`)",
            ),
            (
                "limit",
                "integer",
                "1–1000, default 100; a larger one is clamped",
            ),
            (
                "cursor",
                "string",
                "the `next_cursor` of the previous page, with `company`",
            ),
        ],
        body: None,
        ok: &[(200, Some("OwnRegistrations"), "per company")],
        problems: &[],
    },
    Op {
        method: "post",
        path: "/v1/me/extracts",
        tag: EMPLOYEE,
        summary: "Order the own register extract over every company (PDF by default)",
        auth: Auth::Jwt("employee"),
        query: &[],
        body: Some(("OrderBody", false)),
        ok: &[(202, Some("ExtractView"), "the pending extract")],
        problems: &[],
    },
    Op {
        method: "get",
        path: "/v1/me/extracts/{id}",
        tag: EMPLOYEE,
        summary: "The own extract's status and download URL",
        auth: Auth::Jwt("employee"),
        query: &[],
        body: None,
        ok: &[(200, Some("ExtractView"), "the extract")],
        problems: &[],
    },
];
