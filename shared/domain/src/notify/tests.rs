use super::*;
use crate::DomainError;
use std::net::IpAddr;

#[test]
fn refused_addresses() {
    let strict = WebhookPolicy::default();
    let local = WebhookPolicy {
        allow_loopback: true,
    };
    for a in [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::",
        "100.64.0.1",
        "fd00:ec2::254",
        "fe80::1",
        "224.0.0.1",
        "::ffff:10.0.0.1",
        "255.255.255.255",
    ] {
        let ip: IpAddr = a.parse().unwrap();
        assert!(address_allowed(ip, strict).is_err(), "{a}");
    }
    assert!(address_allowed("127.0.0.1".parse().unwrap(), local).is_ok());
    assert!(address_allowed("10.0.0.1".parse().unwrap(), local).is_err());
    assert!(address_allowed("93.184.215.14".parse().unwrap(), strict).is_ok());
    assert!(address_allowed("2a00:1450:4010::200e".parse().unwrap(), strict).is_ok());
}

#[tokio::test]
async fn webhook_urls() {
    let strict = WebhookPolicy::default();
    let local = WebhookPolicy {
        allow_loopback: true,
    };
    assert!(validate_webhook_url("https://93.184.215.14/hook", strict)
        .await
        .is_ok());
    for bad in [
        "http://93.184.215.14/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://user:pw@93.184.215.14/",
        "ftp://93.184.215.14/",
        "not a url",
        "https://does-not-exist.invalid/hook",
    ] {
        let e = validate_webhook_url(bad, strict).await.unwrap_err();
        assert!(
            matches!(e, DomainError::InvalidField { ref field, .. } if field == "webhook_url"),
            "{bad}: {e}"
        );
    }
    assert!(validate_webhook_url("http://127.0.0.1:9/hook", local)
        .await
        .is_ok());
    assert!(validate_webhook_url("https://localhost/hook", local)
        .await
        .is_ok());
    assert!(validate_webhook_url("http://10.0.0.1/hook", local)
        .await
        .is_err());
}

#[test]
fn emails_are_parsed_and_bounded() {
    let ok = validate_emails(&["a@example.se".into(), " b@example.se ".into()]).unwrap();
    assert_eq!(ok, vec!["a@example.se", "b@example.se"]);
    let e = validate_emails(&[
        "a@example.se".into(),
        "b@example.se".into(),
        "not-an-address".into(),
    ])
    .unwrap_err();
    assert!(
        matches!(e, DomainError::InvalidField { ref field, .. } if field == "emails[2]"),
        "{e}"
    );
    let many: Vec<String> = (0..11).map(|i| format!("u{i}@example.se")).collect();
    let e = validate_emails(&many).unwrap_err();
    assert!(matches!(e, DomainError::InvalidField { ref field, .. } if field == "emails"));
}
