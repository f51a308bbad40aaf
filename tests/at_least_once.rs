//! At-least-once delivery on a pinned ring: a record is released only when
//! the code is done with it, so whatever a dropped or panicking reader had
//! not finished is read again by a fresh reader of the pinned map, and
//! nothing before it is.

mod common;

use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{seq_of, Pin, Producer};
use ringview::{RingBuf, UnsafeReader};

/// A pinned ring holding records 0..10 (32 bytes each), and a zero-copy
/// reader of it opened through the pin.
fn ten(tag: &str) -> (Producer, Pin, UnsafeReader<[u8]>) {
    let producer = Producer::new(4096);
    let pin = producer.pin_ring(tag);
    assert_eq!(producer.emit(10, 32, 0, 0).emitted, 10);
    let reader = open(&pin);
    (producer, pin, reader)
}

fn open(pin: &Pin) -> UnsafeReader<[u8]> {
    let ring = RingBuf::from_pinned(&pin.path).expect("open the pinned ring");
    // SAFETY: nothing outside this library consumes the ring.
    unsafe { UnsafeReader::new(ring) }.expect("reader")
}

/// Drops `reader`, then reads everything left with a fresh reader of the
/// pinned map.
fn read_again(pin: &Pin, reader: UnsafeReader<[u8]>) -> Vec<u64> {
    drop(reader);
    let mut fresh = open(pin);
    let mut seqs = Vec::new();
    while let Some(bytes) = fresh.try_read::<[u8]>().unwrap() {
        seqs.push(seq_of(bytes));
    }
    fresh.commit();
    seqs
}

#[test]
fn drop_after_read_leaves_the_last_view() {
    require_kernel!();
    let (_producer, pin, mut reader) = ten("drop_after_read");
    for seq in 0..3 {
        assert_eq!(seq_of(reader.read::<[u8]>().unwrap()), seq);
    }
    assert_eq!(read_again(&pin, reader), (2..10).collect::<Vec<_>>());
}

#[test]
fn drop_mid_batch_leaves_the_whole_batch() {
    require_kernel!();
    let (_producer, pin, mut reader) = ten("drop_mid_batch");
    let batch = reader.batch().unwrap();
    assert_eq!(seq_of(batch.next::<[u8]>().unwrap().unwrap()), 0);
    batch.commit();
    let batch = reader.batch().unwrap();
    for seq in 1..4 {
        assert_eq!(seq_of(batch.next::<[u8]>().unwrap().unwrap()), seq);
    }
    drop(batch);
    assert_eq!(read_again(&pin, reader), (1..10).collect::<Vec<_>>());
}

#[test]
fn panic_mid_batch_leaves_the_whole_batch() {
    require_kernel!();
    let (_producer, pin, mut reader) = ten("panic_mid_batch");
    assert_eq!(seq_of(reader.read::<[u8]>().unwrap()), 0);
    reader.commit();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let batch = reader.batch().unwrap();
        for _ in 0..5 {
            let seq = seq_of(batch.next::<[u8]>().unwrap().unwrap());
            assert!(seq < 3, "cannot process record {seq}");
        }
    }));
    assert!(panicked.is_err());
    assert_eq!(read_again(&pin, reader), (1..10).collect::<Vec<_>>());
}

#[test]
fn panic_in_read_func_leaves_its_record_and_releases_the_ones_before() {
    require_kernel!();
    let (_producer, pin, mut reader) = ten("panic_in_read_func");
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        reader.read_func(|bytes, _| {
            let seq = seq_of(bytes);
            assert!(seq < 4, "cannot process record {seq}");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(read_again(&pin, reader), (4..10).collect::<Vec<_>>());
}

#[test]
fn break_from_read_func_leaves_the_record_it_stopped_on() {
    require_kernel!();
    let (_producer, pin, mut reader) = ten("break_read_func");
    let count = reader
        .read_func(|bytes, _| {
            if seq_of(bytes) == 6 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(count, 6);
    assert_eq!(read_again(&pin, reader), (6..10).collect::<Vec<_>>());
}
