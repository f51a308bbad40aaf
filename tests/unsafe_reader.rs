//! The zero-copy `UnsafeReader` against real kernel rings: typed views,
//! batches, callbacks, untyped rings, short records, wraparound.

mod common;

use std::time::{Duration, Instant};

use common::{expected_payload, seq_of, Producer};
use ringview::{PublishPolicy, ReadError, RingBuf, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// The producer's 48-byte record: sequence number, then the pattern.
#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Sample {
    seq: u64,
    pattern: [u8; 40],
}

fn typed<T: ?Sized + ringview::View>(producer: &Producer) -> UnsafeReader<T> {
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: each test's ring has this reader as its only consumer.
    unsafe { UnsafeReader::new(ring) }.unwrap()
}

fn check(sample: &Sample, seq: u64) {
    assert_eq!(sample.seq, seq);
    assert_eq!(&sample.pattern[..], &expected_payload(seq, 48)[8..]);
}

#[test]
fn views_typed_records_in_place_in_order() {
    require_kernel!();
    let producer = Producer::new(1 << 20);
    let mut reader = typed::<Sample>(&producer);
    for batch in 0..5u64 {
        assert_eq!(producer.emit(1000, 48, batch * 1000, 0).emitted, 1000);
        for seq in batch * 1000..(batch + 1) * 1000 {
            let sample = reader.read().unwrap();
            check(sample, seq);
            let addr = sample as *const Sample as usize;
            assert_eq!(addr % 8, 0, "payloads are 8-byte aligned");
        }
    }
    reader.commit();
    assert_eq!(reader.ring().available_bytes(), 0);
}

#[test]
fn views_stay_in_the_ring_until_commit() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<Sample>(&producer);
    producer.emit(3, 48, 0, 0);
    let _ = reader.read().unwrap();
    let _ = reader.read().unwrap();
    assert_eq!(
        reader.ring().available_bytes(),
        3 * 56,
        "nothing released before commit"
    );
    reader.commit();
    assert_eq!(
        reader.ring().available_bytes(),
        56,
        "one store released both views"
    );
}

#[test]
fn batch_hands_out_many_views_and_commits_once() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<Sample>(&producer);
    producer.emit(100, 48, 0, 0);
    let batch = reader.batch().unwrap();
    let mut views = Vec::new();
    while let Some(sample) = batch.next().unwrap() {
        views.push(sample);
    }
    assert_eq!(views.len(), 100);
    for (seq, sample) in views.iter().enumerate() {
        check(sample, seq as u64);
    }
    assert_eq!(batch.remaining(), 0);
    batch.commit();
    assert_eq!(reader.ring().available_bytes(), 0);
}

#[test]
fn a_dropped_batch_keeps_its_unread_first_record() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<Sample>(&producer);
    producer.emit(2, 48, 0, 0);
    drop(reader.batch().unwrap());
    check(reader.read().unwrap(), 0);
    check(reader.read().unwrap(), 1);
}

#[test]
fn read_func_calls_back_for_each_available_record() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<Sample>(&producer);
    // Eager: published when the call ends (the lazy default waits for a
    // quarter of the ring, or for the reader to find it empty).
    reader.set_publish_policy(PublishPolicy::EAGER);
    producer.emit(50, 48, 0, 0);
    let mut seen = Vec::new();
    let count = reader
        .read_func(|sample, remaining| {
            seen.push((sample.seq, remaining));
        })
        .unwrap();
    assert_eq!(count, 50);
    for (i, &(seq, remaining)) in seen.iter().enumerate() {
        assert_eq!(seq, i as u64);
        assert_eq!(remaining, (49 - i) * 56);
    }
    assert_eq!(
        reader.ring().available_bytes(),
        0,
        "committed after the callbacks"
    );
}

#[test]
fn an_untyped_reader_views_several_types() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<[u8]>(&producer);
    producer.emit(1, 48, 1, 0);
    producer.emit(1, 13, 2, 0);
    check(reader.read::<Sample>().unwrap(), 1);
    let raw = reader.read::<[u8]>().unwrap();
    assert_eq!(raw, &expected_payload(2, 13)[..]);
}

#[test]
fn a_short_record_is_an_error_the_reader_moves_past() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<Sample>(&producer);
    producer.emit(1, 12, 7, 0);
    producer.emit(1, 48, 8, 0);
    let err = reader.read().unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::RecordTooShort {
                len: 12,
                expected: 48,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("12 bytes is shorter than the 48 bytes of"),
        "{err}"
    );
    assert_eq!(reader.rejected().unwrap(), &expected_payload(7, 12)[..]);
    check(reader.read().unwrap(), 8);
    assert!(reader.rejected().is_none());
}

#[test]
fn read_func_stops_at_a_short_record_and_keeps_its_bytes() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = typed::<Sample>(&producer);
    reader.set_publish_policy(PublishPolicy::EAGER);
    producer.emit(3, 48, 0, 0);
    producer.emit(1, 8, 3, 0);
    producer.emit(1, 48, 4, 0);
    let mut seen = 0;
    let err = reader.read_func(|_, _| seen += 1).unwrap_err();
    assert_eq!(seen, 3);
    assert!(matches!(err, ReadError::RecordTooShort { len: 8, .. }));
    assert_eq!(seq_of(reader.rejected().unwrap()), 3);
    // The three good records are released; the short one and the last are not.
    assert_eq!(reader.ring().available_bytes(), 16 + 56);
    check(reader.read().unwrap(), 4);
}

#[test]
fn views_of_records_that_wrap_are_contiguous() {
    require_kernel!();
    let producer = Producer::new(4096);
    let mut reader = typed::<[u8]>(&producer);
    reader.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
    let mut seq = 0;
    for _ in 0..40 {
        assert_eq!(producer.emit(2, 1500, seq, 0).emitted, 2);
        for _ in 0..2 {
            let view = reader.read::<[u8]>().unwrap();
            assert_eq!(view, &expected_payload(seq, 1500)[..]);
            seq += 1;
        }
        // Views hold their space until committed: without this the producer
        // would find the ring full.
        reader.commit();
    }
}

#[test]
fn a_blocking_zero_copy_reader_keeps_up_with_a_live_producer() {
    require_kernel!();
    let producer = Producer::new(16 * 1024);
    let mut reader = typed::<Sample>(&producer);
    const TOTAL: u64 = 20_000;
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut seq = 0u64;
            let deadline = Instant::now() + Duration::from_secs(60);
            while seq < TOTAL && Instant::now() < deadline {
                let count = (1 + seq % 5).min(TOTAL - seq) as u32;
                seq += u64::from(producer.emit(count, 48, seq, 0).emitted);
            }
        });
        reader.set_deadline(Some(Instant::now() + Duration::from_secs(60)));
        let mut expected = 0;
        while expected < TOTAL {
            let n = reader
                .read_func(|sample, _| {
                    check(sample, expected);
                    expected += 1;
                })
                .unwrap();
            assert!(n > 0);
        }
    });
}
