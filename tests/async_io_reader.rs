//! The async readers and the ring set on async-io (smol's reactor),
//! against the kernel: a writer thread and `read().await` loops under
//! `smol::block_on`, the poll forms, flush and close, cancellation, and a
//! ring set of two rings.

#![cfg(feature = "async-io")]

mod common;

use std::future::{poll_fn, Future};
use std::time::{Duration, Instant};

use common::{seq_of, Producer};
use ringview::async_io::{AsyncReader, AsyncRingSet, AsyncUnsafeReader};
use ringview::{PublishPolicy, ReadError, Reader, Record, RingBuf, UnsafeReader};
use smol::Timer;

const RECORDS: u64 = 20_000;
const RUNS: usize = 100;

/// The whole of one test has this long; a read still waiting then is a
/// missed wakeup (or a hang), and fails the test loudly instead of hanging
/// it. A bound on liveness, not on speed: every test here takes seconds.
const DEADLINE: Duration = Duration::from_secs(120);

/// `future`, or a panic naming `what` once `deadline` has passed.
async fn before<T>(deadline: Instant, what: &str, future: impl Future<Output = T>) -> T {
    smol::future::or(async { Some(future.await) }, async {
        Timer::at(deadline).await;
        None
    })
    .await
    .unwrap_or_else(|| panic!("{what}: still waiting at the test's deadline (a missed wakeup?)"))
}

/// Emits records `0..total` of `size` bytes, retrying while the ring is
/// full.
fn write_all(producer: &Producer, total: u64, size: u32) {
    let mut seq = 0;
    while seq < total {
        let count = (total - seq).min(64) as u32;
        let emitted = producer.emit(count, size, seq, 0);
        seq += u64::from(emitted.emitted);
        if emitted.failed > 0 {
            std::thread::yield_now();
        }
    }
}

fn policies() -> [PublishPolicy; 2] {
    [PublishPolicy::default(), PublishPolicy::EAGER]
}

/// 20,000 records from a writer thread through a 4 KiB ring (the writer
/// waits for the reader all the time), 100 runs, the two policies in turn:
/// every record arrives once and in order, through `read`, `read_func` and
/// `poll_read` in turn.
#[test]
fn zero_copy_reader_on_smol_with_a_writer_thread() {
    require_kernel!();
    let deadline = Instant::now() + DEADLINE;
    for run in 0..RUNS {
        let policy = policies()[run % 2];
        let producer = Producer::new(4096);
        let ring = RingBuf::new(producer.ring_fd()).unwrap();
        // SAFETY: nothing outside this library consumes the ring.
        let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
        reader.set_publish_policy(policy);
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| write_all(&producer, RECORDS, 16));
            smol::block_on(async {
                let mut expected = 0;
                while expected < RECORDS {
                    match expected % 3 {
                        0 => {
                            let view = before(deadline, "read", reader.read::<[u8]>()).await;
                            assert_eq!(seq_of(view.unwrap()), expected, "run {run}");
                            expected += 1;
                        }
                        1 => {
                            let read = reader.read_func(|view, _| {
                                assert_eq!(seq_of(view), expected, "run {run}: in order");
                                expected += 1;
                            });
                            let n = before(deadline, "read_func", read).await.unwrap();
                            assert!(n > 0);
                        }
                        _ => {
                            let poll = poll_fn(|cx| reader.poll_read::<[u8]>(cx).map_ok(seq_of));
                            let seq = before(deadline, "poll_read", poll).await.unwrap();
                            assert_eq!(seq, expected, "run {run}");
                            expected += 1;
                        }
                    }
                }
            });
        });
        assert_eq!(
            reader.try_read::<[u8]>().unwrap(),
            None,
            "run {run}: none twice"
        );
    }
}

/// The copying reader, likewise: `read_into`, `try_read_into` until
/// `None`, and `poll_read_into`.
#[test]
fn copying_reader_on_smol_with_a_writer_thread() {
    require_kernel!();
    let deadline = Instant::now() + DEADLINE;
    for run in 0..RUNS {
        let policy = policies()[run % 2];
        let producer = Producer::new(4096);
        let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
        reader.set_publish_policy(policy);
        let mut reader = AsyncReader::new(reader).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| write_all(&producer, RECORDS, 16));
            smol::block_on(async {
                let mut record = Record::default();
                let mut expected = 0;
                while expected < RECORDS {
                    if expected % 2 == 0 {
                        let read = reader.read_into(&mut record);
                        before(deadline, "read_into", read).await.unwrap();
                    } else {
                        let poll = poll_fn(|cx| reader.poll_read_into(cx, &mut record));
                        before(deadline, "poll_read_into", poll).await.unwrap();
                    }
                    assert_eq!(seq_of(&record.sample), expected, "run {run}");
                    expected += 1;
                    while reader.try_read_into(&mut record).unwrap() {
                        assert_eq!(seq_of(&record.sample), expected, "run {run}");
                        expected += 1;
                    }
                }
            });
        });
        assert!(
            reader.try_read().unwrap().is_none(),
            "run {run}: none twice"
        );
    }
}

/// `poll_ready` and `readable` wait without taking: the record is then
/// taken without waiting, and nothing is lost in between.
#[test]
fn poll_ready_then_take_without_waiting() {
    require_kernel!();
    let deadline = Instant::now() + DEADLINE;
    for run in 0..10 {
        let producer = Producer::new(4096);
        let ring = RingBuf::new(producer.ring_fd()).unwrap();
        // SAFETY: nothing outside this library consumes the ring.
        let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| write_all(&producer, RECORDS, 16));
            smol::block_on(async {
                let mut expected = 0;
                while expected < RECORDS {
                    if expected % 2 == 0 {
                        let ready = poll_fn(|cx| reader.poll_ready(cx));
                        before(deadline, "poll_ready", ready).await.unwrap();
                    } else {
                        before(deadline, "readable", reader.readable())
                            .await
                            .unwrap();
                    }
                    let taken = reader
                        .try_read_func(|view, _| {
                            assert_eq!(seq_of(view), expected, "run {run}");
                            expected += 1;
                        })
                        .unwrap();
                    assert!(taken > 0, "run {run}: ready, then nothing to take");
                }
            });
        });
    }
}

/// Flush and close reach a reader waiting on an empty ring, and a flush
/// ends a long nap of a lingering reader.
#[test]
fn handles_wake_a_waiting_reader_on_smol() {
    require_kernel!();
    let deadline = Instant::now() + DEADLINE;
    let producer = Producer::new(4096);
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    let handle = reader.handle();
    let mut reader = AsyncUnsafeReader::new(reader).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            handle.flush();
        });
        let err = smol::block_on(before(deadline, "flush", reader.read::<[u8]>())).unwrap_err();
        assert!(matches!(err, ReadError::Flushed), "{err:?}");
    });
    // The flush was reported once: the next read waits again, for a record.
    producer.emit(1, 16, 0, 0);
    let view = smol::block_on(before(deadline, "read", reader.read::<[u8]>())).unwrap();
    assert_eq!(seq_of(view), 0);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            handle.close();
        });
        let err = smol::block_on(before(deadline, "close", reader.read::<[u8]>())).unwrap_err();
        assert!(matches!(err, ReadError::Closed), "{err:?}");
    });

    // Naps of a minute, never blocking: only the flush can end the wait.
    let producer = Producer::new(4096);
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    reader.set_publish_policy(PublishPolicy::lazy(
        0.25,
        Duration::from_secs(60),
        Duration::MAX,
    ));
    let handle = reader.handle();
    let mut reader = AsyncUnsafeReader::new(reader).unwrap();
    producer.emit(1, 16, 0, 0);
    let view = smol::block_on(before(deadline, "read", reader.read::<[u8]>())).unwrap();
    assert_eq!(seq_of(view), 0);
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            handle.flush();
        });
        let err = smol::block_on(before(deadline, "nap", reader.read::<[u8]>())).unwrap_err();
        assert!(matches!(err, ReadError::Flushed), "{err:?}");
    });
}

/// A read dropped by `or` before it completes (its rival, a short timer,
/// won) takes nothing: every record is read once, in order, although most
/// reads were cancelled while waiting.
#[test]
fn cancelled_reads_lose_nothing_on_smol() {
    require_kernel!();
    const TOTAL: u64 = 2_000;
    let deadline = Instant::now() + DEADLINE;
    let producer = Producer::new(4096);
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    let mut reader = AsyncUnsafeReader::new(reader).unwrap();
    let mut cancelled = 0;
    std::thread::scope(|s| {
        s.spawn(|| {
            for seq in 0..TOTAL {
                // Retried while the ring is full: the producer loses nothing
                // either, so a gap can only be the reader's.
                while producer.emit(1, 16, seq, 0).emitted == 0 {
                    std::thread::yield_now();
                }
                if seq % 16 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        });
        smol::block_on(async {
            let mut expected = 0;
            while expected < TOTAL {
                assert!(Instant::now() < deadline, "still reading at the deadline");
                let read = async { Some(reader.read::<[u8]>().await.map(seq_of)) };
                let tick = async {
                    Timer::after(Duration::from_micros(50)).await;
                    None
                };
                match smol::future::or(read, tick).await {
                    Some(seq) => {
                        assert_eq!(seq.unwrap(), expected, "in order, none lost");
                        expected += 1;
                    }
                    None => cancelled += 1,
                }
            }
        });
    });
    assert!(
        cancelled > 0,
        "no read was cancelled: the test tested nothing"
    );
    assert_eq!(reader.try_read::<[u8]>().unwrap(), None);
}

/// The ring set on async-io: two rings with a writer thread each, 20,000
/// records each, every one handled once and in order.
#[test]
fn ring_set_on_smol_with_two_writers() {
    require_kernel!();
    let deadline = Instant::now() + DEADLINE;
    let first = Producer::new(4096);
    let second = Producer::new(16 * 4096);
    let mut seen = [Vec::new(), Vec::new()];
    {
        let [seen_first, seen_second] = &mut seen;
        let mut set = AsyncRingSet::new().unwrap();
        for (producer, seen) in [(&first, seen_first), (&second, seen_second)] {
            let ring = RingBuf::new(producer.ring_fd()).unwrap();
            // SAFETY: nothing outside this library consumes the ring.
            let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
            set.add(reader, move |bytes: &[u8]| seen.push(seq_of(bytes)))
                .unwrap();
        }
        std::thread::scope(|s| {
            s.spawn(|| write_all(&first, RECORDS, 16));
            s.spawn(|| write_all(&second, RECORDS, 64));
            smol::block_on(async {
                let mut handled = 0;
                while handled < 2 * RECORDS as usize {
                    handled += before(deadline, "poll", set.poll()).await.unwrap();
                }
            });
        });
    }
    for seen in &seen {
        assert_eq!(*seen, (0..RECORDS).collect::<Vec<_>>());
    }
}
