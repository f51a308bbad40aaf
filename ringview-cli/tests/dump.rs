//! `ringview dump`: the ring's consumer, decoding a struct found only in
//! DWARF, with a union and a nested struct.

mod common;

use common::{expected_json, Producer, DWARF_EVENTS, EVENT_STRIDE, RECORDS_PATH};
use ringview::Observer;
use serde_json::Value;

#[test]
fn dump_decodes_a_struct_only_in_dwarf_and_consumes_it() {
    require_kernel!();
    let producer = Producer::new(16 * 1024);
    let id = producer.id("dwarf_events").to_string();
    let positions = Observer::new(producer.fd("dwarf_events")).unwrap();
    assert_eq!(producer.emit_into(DWARF_EVENTS, 150, 1000), 150);
    // `struct dwarf_event` is not in the object's BTF, nor the kernel's.
    let out = common::run(&["dump", &id, "--type", "dwarf_event", "--count", "1"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = common::run(&[
        "dump",
        &id,
        "--object",
        RECORDS_PATH,
        "--type",
        "dwarf_event",
        "--json",
        "--count",
        "150",
    ]);
    assert!(out.status.success(), "{out:?}");
    let records: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 150);
    for (seq, record) in (1000..).zip(&records) {
        assert_eq!(record, &expected_json(seq));
    }
    // The union's arms and the nested struct, by name.
    assert_eq!(records[1]["value"]["as_s32"], -16 - 1001);
    assert_eq!(records[1]["inner"]["port"], 1081);
    assert_eq!(records[1]["inner"]["delta"], -1);
    // Consumed: the consumer position caught up with the producer.
    let now = positions.positions();
    assert_eq!(now.producer, 150 * EVENT_STRIDE);
    assert_eq!(now.pending(), 0);
    // Nothing left: --duration ends an empty dump.
    let out = common::run(&["dump", &id, "--duration", "0.2"]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dumped 0 records"),
        "{out:?}"
    );
}
