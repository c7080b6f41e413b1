use super::*;
use crate::testing::pid;

#[test]
fn upload_keys() {
    let id = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        parse_upload_key(&upload_key(&pid("ledger-1"), id)),
        Some((pid("ledger-1"), id.into()))
    );
    for bad in [
        "uploads/ledger-1/x",
        "batches/ledger-1/0123456789abcdef0123456789abcdef",
        "uploads/a b/0123456789abcdef0123456789abcdef",
    ] {
        assert_eq!(parse_upload_key(bad), None, "{bad}");
    }
}
