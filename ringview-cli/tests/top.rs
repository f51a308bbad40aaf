//! `ringview top --json --once`: the test producer's rings are listed with
//! their size and program, and the fill level rises while nobody consumes.

mod common;

use std::time::Duration;

use common::{Producer, Running, EVENT_STRIDE};
use serde_json::Value;

/// The row of map `id` in `top --json --once`'s array.
fn row(rows: &Value, id: u32) -> Value {
    let rows = rows.as_array().expect("top --json prints an array");
    rows.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("map id {id} not listed: {rows:?}"))
        .clone()
}

fn top_once(interval_ms: &str) -> Value {
    let out = common::run(&["top", "--json", "--once", "--interval", interval_ms]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("one JSON array")
}

#[test]
fn top_lists_the_ring_and_its_fill_rises_while_the_consumer_is_paused() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let id = producer.id("events");
    let first = row(&top_once("50"), id);
    assert_eq!(first["name"], "events");
    assert_eq!(first["type"], "ringbuf");
    assert_eq!(first["size"], 64 * 1024);
    assert_eq!(first["flags"], 0);
    let programs = first["programs"].as_array().unwrap();
    assert!(
        programs.iter().any(|p| p["name"] == "produce"),
        "{programs:?}"
    );
    assert_eq!(first["fill_bytes"], 0);
    assert_eq!(first["stalled_s"], Value::Null, "empty: not stalled");
    // Nobody consumes: the fill level rises with each batch.
    let mut fill = 0;
    for _ in 0..3 {
        assert_eq!(producer.emit(100, 0), 100);
        fill += 100 * EVENT_STRIDE;
        let now = row(&top_once("50"), id);
        assert_eq!(now["fill_bytes"], fill);
        assert_eq!(now["producer_pos"], fill);
        assert_eq!(now["consumer_pos"], 0);
        let percent = (fill * 1000 / (64 * 1024)) as f64 / 10.0;
        let found = now["fill_percent"].as_f64().unwrap();
        assert!((found - percent).abs() <= 0.1, "{found} vs {percent}");
        assert!(now["stalled_s"].as_f64().unwrap() > 0.0, "{now}");
    }
    // Records produced during the sample: counted in bytes and records
    // (50 records of 80 bytes in the same interval), none consumed.
    let mut top = Running::spawn(&["top", "--json", "--once", "--interval", "1500"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(producer.emit(50, 0), 50);
    let now = row(&serde_json::from_str(&top.line()).unwrap(), id);
    let (status, stderr) = top.finish();
    assert!(status.success(), "{stderr}");
    let bytes = now["producer_bytes_per_s"].as_f64().unwrap();
    let records = now["producer_records_per_s"].as_f64().unwrap();
    assert!(records > 0.0, "{now}");
    assert!(
        (bytes / records - EVENT_STRIDE as f64).abs() < 1e-6,
        "{now}"
    );
    assert_eq!(now["consumer_bytes_per_s"], 0.0);
    assert_eq!(now["consumer_records_per_s"], 0.0);
    assert_eq!(now["fill_bytes"], fill + 50 * EVENT_STRIDE);
}

#[test]
fn top_shows_a_table() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let id = producer.id("events").to_string();
    assert_eq!(producer.emit(10, 0), 10);
    let out = common::run(&["top", "--once", "--interval", "20"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(
        lines.next().unwrap().starts_with("ringview top: "),
        "{text}"
    );
    let header = lines.next().unwrap();
    assert!(header.starts_with("ID "), "{text}");
    let line = lines
        .find(|l| l.split_whitespace().next() == Some(id.as_str()))
        .unwrap_or_else(|| panic!("map id {id} not in\n{text}"));
    for cell in [
        "events",
        "ringbuf",
        "64 KiB",
        "800 B 1.2%",
        "stalled",
        "produce(",
    ] {
        assert!(line.contains(cell), "{cell:?} not in {line:?}");
    }
}
