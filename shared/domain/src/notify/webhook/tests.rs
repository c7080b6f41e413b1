use super::*;

#[test]
fn signature_follows_standard_webhooks() {
    // The example of the Standard Webhooks specification's reference libraries.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let body = br#"{"test": 2432232314}"#;
    let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

#[test]
fn receivers_check_signature_and_timestamp() {
    let secret = new_secret();
    assert!(secret.starts_with(SECRET_PREFIX));
    let now: DateTime<Utc> = "2026-12-01T05:00:00Z".parse().unwrap();
    let h = headers(&secret, "msg_1", now, b"{}").unwrap();
    let sig = &h[3].1;
    let ts = now.timestamp().to_string();
    assert!(verify(&secret, "msg_1", &ts, sig, b"{}", now).is_ok());
    assert!(verify(&secret, "msg_1", &ts, sig, b"{ }", now).is_err());
    assert!(verify(&secret, "msg_2", &ts, sig, b"{}", now).is_err());
    assert!(verify(&new_secret(), "msg_1", &ts, sig, b"{}", now).is_err());
    let late = now + Duration::minutes(6);
    assert!(verify(&secret, "msg_1", &ts, sig, b"{}", late).is_err());
}

#[test]
fn retries_span_24_hours() {
    let t0: DateTime<Utc> = "2026-12-01T05:00:00Z".parse().unwrap();
    assert_eq!(next_due(t0, 0), Some(t0));
    assert_eq!(next_due(t0, 7), Some(t0 + Duration::hours(24)));
    assert_eq!(next_due(t0, 8), None);
    assert!(RETRY_OFFSETS.windows(2).all(|w| w[0] < w[1]));
}
