//! `ringview tap` beside a ring's own consumer: every record decoded as
//! written, the consumer still receives every record, and the consumer
//! position never moves because of the tap.

mod common;

use common::{expected_json, record_bytes, Producer, Running, EVENT_STRIDE, RECORDS_PATH};
use ringview::{Observer, Reader, RingBuf};
use serde_json::Value;

#[test]
fn tap_decodes_every_record_while_the_owner_consumes_them_all() {
    require_kernel!();
    // 16 KiB: the 400 records (32000 bytes) wrap the ring twice.
    let producer = Producer::new(16 * 1024);
    let id = producer.id("events");
    let mut owner = Reader::new(RingBuf::new(producer.fd("events")).unwrap()).unwrap();
    // The test's own view of the positions.
    let positions = Observer::new(producer.fd("events")).unwrap();
    let id_arg = id.to_string();
    let mut tap = Running::spawn(&[
        "tap",
        &id_arg,
        "--object",
        RECORDS_PATH,
        "--type",
        "event",
        "--json",
        "--count",
        "400",
    ]);
    for batch in 0..4u32 {
        let before = positions.positions();
        assert_eq!(producer.emit(100, batch * 100), 100);
        // The tap prints each record, decoded as written ...
        for seq in batch * 100..(batch + 1) * 100 {
            let line = tap.line();
            let found: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(found, expected_json(seq), "record {seq}: {line}");
        }
        // ... without moving the consumer position ...
        let after = positions.positions();
        assert_eq!(
            after.consumer, before.consumer,
            "the tap moved consumer_pos"
        );
        assert_eq!(after.pending(), 100 * EVENT_STRIDE);
        // ... and the owner still receives every record (its reader checks
        // at each refill that nobody else moved the position).
        for seq in batch * 100..(batch + 1) * 100 {
            assert_eq!(owner.read().unwrap().sample, record_bytes(seq));
        }
        assert!(owner.try_read().unwrap().is_none(), "publishes");
        assert_eq!(positions.positions().pending(), 0);
    }
    let (status, stderr) = tap.finish();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.contains("tapped 400 records") && stderr.contains("missed records 0 times"),
        "{stderr}"
    );
}

#[test]
fn tap_uses_the_kernels_btf_without_an_object_and_text_by_default() {
    require_kernel!();
    let producer = Producer::new(16 * 1024);
    let id = producer.id("events").to_string();
    assert_eq!(producer.emit(3, 40), 3);
    // `struct event` is in the BTF the kernel holds for `produce`.
    let out = common::run(&["tap", &id, "--type", "event", "--json", "--count", "3"]);
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, (40..43).map(expected_json).collect::<Vec<_>>());
    // Aligned text: one `path  value` line per field, nested paths dotted.
    let out = common::run(&[
        "tap",
        &id,
        "--object",
        RECORDS_PATH,
        "--type",
        "event",
        "--count",
        "1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("--- #1: struct event, 72 bytes\n"),
        "{text}"
    );
    for line in [
        "  seq           40\n",
        "  neg           -41\n",
        "  comm          \"tap-0\"\n",
        "  kind          KIND_EXEC (1)\n",
        "  ok            true\n",
        "  inner.port    120\n",
        "  inner.delta   -40\n",
        "  value.as_s32  -56\n",
        "  counts        [40, 80, 120]\n",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
    // Without --type: hex.
    let out = common::run(&["tap", &id, "--count", "1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("--- #1: 72 bytes\n  0000  28 00 00 00 d7 ff ff ff"),
        "{text}"
    );
}
