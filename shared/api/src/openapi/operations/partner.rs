//! The partner's operations (a ledger system's): pushes, uploads, a batch's answer —
//! the part of the document a ledger-system supplier needs on its own.

use super::*;

// --- partner (a ledger system) ---------------------------------------------------
pub(super) const OPS: &[Op] = &[
    Op {
        method: "post",
        path: "/partner/v1/batches",
        tag: PARTNER,
        summary: "Push a delivery (spec §5): JSON, or CSV with `?batch_id=`",
        auth: Auth::Jwt("partner"),
        query: &[("batch_id", "string", "the batch id of a CSV delivery")],
        body: Some(("Delivery", true)),
        ok: &[(
            200,
            Some("PushAnswer"),
            "the delivery was archived; each event accepted, a duplicate or rejected",
        )],
        problems: &[409, 413, 415],
    },
    Op {
        method: "get",
        path: "/partner/v1/batches/{batch_id}",
        tag: PARTNER,
        summary: "The answer a batch got (pushed, uploaded or pulled)",
        auth: Auth::Jwt("partner"),
        query: &[],
        body: None,
        ok: &[
            (200, Some("PushAnswer"), "the batch's answer"),
            (202, Some("UploadProgress"), "an upload not imported yet"),
        ],
        problems: &[409, 413],
    },
    Op {
        method: "post",
        path: "/partner/v1/uploads",
        tag: PARTNER,
        summary: "A presigned URL to PUT a large delivery to; it is imported like a push",
        auth: Auth::Jwt("partner"),
        query: &[
            ("batch_id", "string", "instead of the body's"),
            ("format", "string", "`json` (default) or `csv`"),
        ],
        body: Some(("NewUpload", false)),
        ok: &[(
            201,
            Some("UploadTicket"),
            "where and how to PUT the delivery",
        )],
        problems: &[409],
    },
];
