//! The copying `Reader` against real kernel rings: order, sizes,
//! wraparound, discards, deadlines, flush and close, a live producer.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{expected_payload, seq_of, Producer, BPF_RB_NO_WAKEUP};
use ringview::{ReadError, Reader, Record, RingBuf};

fn reader(producer: &Producer) -> Reader {
    Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap()
}

#[test]
fn reads_one_record() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    assert_eq!(producer.emit(1, 24, 41, 0).emitted, 1);
    let record = reader.read().unwrap();
    assert_eq!(record.sample, expected_payload(41, 24));
    assert_eq!(record.remaining, 0);
}

#[test]
fn reads_thousands_in_order_with_nothing_lost() {
    require_kernel!();
    let producer = Producer::new(1 << 20);
    let mut reader = reader(&producer);
    reader.set_deadline(Some(Instant::now() + Duration::from_secs(30)));
    let mut record = Record::default();
    let mut next = 0u64;
    for batch in 0..10u64 {
        let emitted = producer.emit(1000, 48, batch * 1000, 0);
        assert_eq!(emitted.emitted, 1000);
        for _ in 0..1000 {
            reader.read_into(&mut record).unwrap();
            assert_eq!(seq_of(&record.sample), next);
            assert_eq!(record.sample, expected_payload(next, 48));
            next += 1;
        }
    }
    assert_eq!(next, 10_000);
    reader.set_deadline(Some(Instant::now()));
    assert!(
        matches!(reader.read(), Err(ReadError::DeadlineExceeded)),
        "no duplicates"
    );
}

#[test]
fn reads_every_size_from_1_to_300_and_large_ones() {
    require_kernel!();
    let ring_size = 1 << 20;
    let producer = Producer::new(ring_size);
    let mut reader = reader(&producer);
    let mut record = Record::default();
    let mut sizes: Vec<u32> = (1..=300).collect();
    sizes.extend([1024, 4095, 4096, 4097, 65_536 - 8, 65_536]);
    for (seq, &size) in sizes.iter().enumerate() {
        assert_eq!(
            producer.emit(1, size, seq as u64, 0).emitted,
            1,
            "size {size}"
        );
        reader.read_into(&mut record).unwrap();
        assert_eq!(
            record.sample.len(),
            size as usize,
            "length is exactly what was submitted"
        );
        assert_eq!(
            record.sample,
            expected_payload(seq as u64, size as usize),
            "size {size}"
        );
    }
}

#[test]
fn reads_records_up_to_a_quarter_of_the_ring() {
    require_kernel!();
    let ring_size = 256 * 1024;
    let producer = Producer::new(ring_size);
    let mut reader = reader(&producer);
    let quarter = ring_size / 4 - 8;
    for seq in 0..12u64 {
        assert_eq!(producer.emit(1, quarter, seq, 0).emitted, 1);
        let record = reader.read().unwrap();
        assert_eq!(record.sample, expected_payload(seq, quarter as usize));
    }
}

#[test]
fn reads_records_that_wrap_around_the_end() {
    require_kernel!();
    let ring_size = 8 * 1024;
    let producer = Producer::new(ring_size);
    let mut reader = reader(&producer);
    let mut record = Record::default();
    let size = 1000u32; // stride 1008: does not divide the ring
    let mut seq = 0u64;
    let mut wrapped = 0;
    for _ in 0..60 {
        assert_eq!(producer.emit(3, size, seq, 0).emitted, 3);
        for _ in 0..3 {
            let before = reader.unread_bytes();
            reader.read_into(&mut record).unwrap();
            assert_eq!(record.sample, expected_payload(seq, size as usize));
            assert!(before >= 1008);
            seq += 1;
        }
        if (seq * 1008) % u64::from(ring_size) < 1008 * 3 {
            wrapped += 1;
        }
    }
    assert!(wrapped > 5, "positions wrapped {wrapped} times");
}

#[test]
fn skips_discarded_records() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    let emitted = producer.emit_discarding(100, 40, 0, 0, 3);
    assert_eq!(emitted.emitted, 100);
    reader.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
    let expected: Vec<u64> = (0..100).filter(|s| s % 3 != 0).collect();
    for &seq in &expected {
        let record = reader.read().unwrap();
        assert_eq!(record.sample, expected_payload(seq, 40));
    }
    reader.set_deadline(Some(Instant::now()));
    assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
    assert_eq!(
        reader.ring().available_bytes(),
        0,
        "discarded records consumed too"
    );
}

#[test]
fn drains_no_wakeup_records_before_the_deadline_error() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    // Block first, so the reader has published and sleeps in epoll.
    reader.set_deadline(Some(Instant::now() + Duration::from_millis(50)));
    assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));

    producer.emit(25, 32, 100, BPF_RB_NO_WAKEUP);
    reader.set_deadline(Some(Instant::now() - Duration::from_secs(1)));
    for seq in 100..125 {
        let record = reader
            .read()
            .expect("records in the ring come before the deadline error");
        assert_eq!(seq_of(&record.sample), seq);
    }
    assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
}

#[test]
fn no_wakeup_records_arriving_during_a_wait_are_read_at_the_deadline() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            producer.emit(5, 32, 0, BPF_RB_NO_WAKEUP);
        });
        reader.set_deadline(Some(Instant::now() + Duration::from_millis(300)));
        for seq in 0..5 {
            assert_eq!(seq_of(&reader.read().unwrap().sample), seq);
        }
    });
}

#[test]
fn flush_wakes_a_blocked_read_after_the_ring_drains() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    let handle = reader.handle();
    producer.emit(2, 16, 0, BPF_RB_NO_WAKEUP);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            handle.flush();
        });
        let start = Instant::now();
        assert_eq!(seq_of(&reader.read().unwrap().sample), 0);
        assert_eq!(seq_of(&reader.read().unwrap().sample), 1);
        assert!(matches!(reader.read(), Err(ReadError::Flushed)));
        assert!(start.elapsed() < Duration::from_secs(10));
    });
    // A flush is reported once; the reader then blocks again.
    reader.set_deadline(Some(Instant::now() + Duration::from_millis(20)));
    assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
}

#[test]
fn close_wakes_a_blocked_read_and_fails_later_ones() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    let handle = reader.handle();
    let other = handle.clone();
    std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.close();
        });
        assert!(matches!(reader.read(), Err(ReadError::Closed)));
    });
    assert!(handle.is_closed());
    handle.close(); // idempotent
    producer.emit(1, 16, 0, 0);
    assert!(
        matches!(reader.read(), Err(ReadError::Closed)),
        "reads after close fail"
    );
    let mut record = Record::default();
    assert!(matches!(
        reader.read_into(&mut record),
        Err(ReadError::Closed)
    ));
}

#[test]
fn a_blocking_reader_keeps_up_with_a_live_producer() {
    require_kernel!();
    let producer = Producer::new(16 * 1024);
    let mut reader = reader(&producer);
    const TOTAL: u64 = 20_000;
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut seq = 0u64;
            let deadline = Instant::now() + Duration::from_secs(60);
            while seq < TOTAL && Instant::now() < deadline {
                let count = (1 + seq % 7).min(TOTAL - seq) as u32;
                let emitted = producer.emit(count, 64, seq, 0);
                seq += u64::from(emitted.emitted);
                if emitted.failed > 0 {
                    std::thread::yield_now(); // ring full: let the reader drain
                }
            }
            done.store(true, Ordering::Release);
        });
        // Generous bound: a lost wakeup shows as a deadline error, not a hang.
        reader.set_deadline(Some(Instant::now() + Duration::from_secs(60)));
        let mut record = Record::default();
        for expected in 0..TOTAL {
            reader.read_into(&mut record).unwrap_or_else(|e| {
                panic!(
                    "record {expected}: {e} (producer done: {})",
                    done.load(Ordering::Acquire)
                )
            });
            assert_eq!(seq_of(&record.sample), expected);
        }
    });
}

#[test]
fn read_as_copies_a_typed_value_and_rejects_short_records() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let mut reader = reader(&producer);
    producer.emit(1, 24, 5, 0);
    let value: [u64; 3] = reader.read_as().unwrap();
    assert_eq!(value[0], 5);

    producer.emit(1, 4, 9, 0);
    producer.emit(1, 24, 10, 0);
    let err = reader.read_as::<[u64; 3]>().unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::RecordTooShort {
                len: 4,
                expected: 24,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("4 bytes is shorter than the 24 bytes"),
        "{err}"
    );
    assert_eq!(
        reader.rejected(),
        &expected_payload(9, 4)[..],
        "bytes stay reachable"
    );
    let value: [u64; 3] = reader
        .read_as()
        .expect("the reader moved past the short record");
    assert_eq!(value[0], 10);
}
