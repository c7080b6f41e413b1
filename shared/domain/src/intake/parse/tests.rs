use super::*;

#[test]
fn json_envelope() {
    let d = parse_delivery(
        DeliveryFormat::Json,
        br#"{"batch_id":"b1","events":[{"a":1},2]}"#,
        None,
    )
    .unwrap();
    assert_eq!(d.batch_id, "b1");
    assert!(d.events[0].is_ok());
    assert!(d.events[1].as_ref().unwrap_err().contains("JSON object"));
    for bad in [
        &b"{"[..],
        b"[]",
        br#"{"events":[]}"#,
        br#"{"batch_id":1,"events":[]}"#,
        br#"{"batch_id":"x"}"#,
    ] {
        assert!(parse_delivery(DeliveryFormat::Json, bad, None).is_err());
    }
}

#[test]
fn json_errors_are_judged_in_a_fixed_order() {
    let err = |body: &str| parse_delivery(DeliveryFormat::Json, body.as_bytes(), None).unwrap_err();
    // batch_id before events, whatever order the keys come in.
    assert!(matches!(
        err(r#"{"events": 5}"#),
        EnvelopeError::Missing {
            field: "batch_id",
            ..
        }
    ));
    assert!(matches!(
        err(r#"{"events": 5, "batch_id": "b"}"#),
        EnvelopeError::Malformed {
            field: "events",
            ..
        }
    ));
    assert!(matches!(
        err(r#"{"events": {"a": [1]}, "batch_id": "b"}"#),
        EnvelopeError::Malformed {
            field: "events",
            ..
        }
    ));
    assert!(matches!(
        err(r#"{"events": null, "batch_id": "b"}"#),
        EnvelopeError::Missing {
            field: "events",
            ..
        }
    ));
    // A syntax error anywhere makes the whole body unreadable.
    assert!(matches!(
        err(r#"{"batch_id": 5, "events": [{}"#),
        EnvelopeError::Malformed { field: "body", .. }
    ));
    assert!(matches!(
        err(r#"{"batch_id": "b", "events": []} x"#),
        EnvelopeError::Malformed { field: "body", .. }
    ));
    assert!(matches!(
        err(r#"[1, 2]"#),
        EnvelopeError::Malformed { field: "body", .. }
    ));
    assert!(matches!(
        err(r#"{"batch_id": "b", "events": [], "events": []}"#),
        EnvelopeError::Malformed {
            field: "events",
            ..
        }
    ));
}

#[test]
fn a_declared_batch_id_may_be_repeated_but_not_contradicted() {
    let read = |body: &str| {
        stream_delivery(
            DeliveryFormat::Json,
            body.as_bytes(),
            BatchIdRule::Declared("up-1"),
            &mut |_, _| Ok(()),
        )
    };
    assert_eq!(read(r#"{"events": []}"#).unwrap().batch_id, "up-1");
    assert_eq!(
        read(r#"{"events": [], "batch_id": "up-1"}"#)
            .unwrap()
            .batch_id,
        "up-1"
    );
    assert!(matches!(
        read(r#"{"events": [], "batch_id": "up-2"}"#),
        Err(EnvelopeError::Malformed {
            field: "batch_id",
            ..
        })
    ));
}

#[test]
fn feed_pages() {
    let info =
        feed_page_envelope(br#"{"events": [{"a": 1}], "next_cursor": "c2", "has_more": true}"#)
            .unwrap();
    assert_eq!(
        (info.events, info.next_cursor.as_deref(), info.has_more),
        (1, Some("c2"), true)
    );
    let last =
        feed_page_envelope(br#"{"events": [], "next_cursor": null, "has_more": false}"#).unwrap();
    assert_eq!((last.next_cursor, last.has_more), (None, false));
    for bad in [
        &br#"{"events": [], "has_more": true}"#[..],
        br#"{"events": [], "next_cursor": "c"}"#,
        br#"{"events": [], "next_cursor": 5, "has_more": false}"#,
        br#"{"next_cursor": "c", "has_more": false}"#,
        br#"{"events": [{"a": 1}, "#,
    ] {
        assert!(
            feed_page_envelope(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let d = parse_delivery(
        DeliveryFormat::FeedPage,
        br#"{"events": [{"a": 1}], "next_cursor": "c2", "has_more": false}"#,
        Some("pull-1"),
    )
    .unwrap();
    assert_eq!((d.batch_id.as_str(), d.events.len()), ("pull-1", 1));
}

#[test]
fn a_consumer_can_stop_the_reader() {
    let body = br#"{"batch_id": "b", "events": [{}, {}, {}]}"#;
    let r = stream_delivery(
        DeliveryFormat::Json,
        &body[..],
        BatchIdRule::FromBody,
        &mut |i, _| {
            if i == 1 {
                Err("enough".into())
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(r, Err(EnvelopeError::Aborted("enough".into())));
}

#[test]
fn csv_rows_and_empty_cells() {
    let body = "event_id,direction,card_number\ne1,in,\n\"e,2\",out,123\ne3,in\n";
    let d = parse_delivery(DeliveryFormat::Csv, body.as_bytes(), Some("b")).unwrap();
    assert_eq!(d.events.len(), 3);
    let first = d.events[0].as_ref().unwrap();
    assert!(first.get("card_number").is_none());
    assert_eq!(d.events[1].as_ref().unwrap()["event_id"], "e,2");
    assert!(d.events[2].as_ref().unwrap_err().contains("2 cells"));
    assert!(parse_delivery(DeliveryFormat::Csv, body.as_bytes(), None).is_err());
    assert!(parse_delivery(DeliveryFormat::Csv, b"\xff\xfe", Some("b")).is_err());
    let bad_row = b"event_id,direction\ne1,in\ne\xff2,out\n";
    assert!(matches!(
        parse_delivery(DeliveryFormat::Csv, bad_row, Some("b")),
        Err(EnvelopeError::Malformed { field: "body", .. })
    ));
}

#[test]
fn csv_byte_order_mark() {
    let body = "\u{feff}event_id,direction\ne1,in\n";
    let d = parse_delivery(DeliveryFormat::Csv, body.as_bytes(), Some("b")).unwrap();
    assert_eq!(d.events[0].as_ref().unwrap()["event_id"], "e1");
    let tiny = parse_delivery(DeliveryFormat::Csv, b"a", Some("b")).unwrap();
    assert!(tiny.events.is_empty());
}

#[test]
fn too_many_events() {
    let events = vec!["{}"; MAX_BATCH_EVENTS + 1].join(",");
    let body = format!(r#"{{"batch_id":"b","events":[{events}]}}"#);
    assert_eq!(
        parse_delivery(DeliveryFormat::Json, body.as_bytes(), None).unwrap_err(),
        EnvelopeError::TooManyEvents(MAX_BATCH_EVENTS + 1)
    );
}
