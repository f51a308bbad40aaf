//! The async readers on tokio's multi-thread runtime, against the kernel: a
//! writer thread, `read().await` loops, cancellation by `tokio::select!`,
//! and two rings of different event types in two tasks.

#![cfg(feature = "tokio")]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{seq_of, Producer};
use ringview::{
    AsyncReader, AsyncUnsafeReader, PublishPolicy, Reader, RingBuf, RingEvent, UnsafeReader,
};
use zerocopy::{FromBytes, Immutable, KnownLayout};

const RECORDS: u64 = 20_000;
const RUNS: usize = 100;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Emits records `0..total` of `size` bytes, retrying while the ring is
/// full, unless `stop` is set.
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

/// A test fails instead of hanging: each awaited read has this long.
const STALL: Duration = Duration::from_secs(10);

#[test]
fn zero_copy_async_reader_with_a_writer_thread() {
    require_kernel!();
    let rt = runtime();
    for policy in policies() {
        for _ in 0..RUNS {
            let producer = Producer::new(4096);
            let ring = RingBuf::new(producer.ring_fd()).unwrap();
            // SAFETY: nothing outside this library consumes the ring.
            let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
            reader.set_publish_policy(policy);
            std::thread::scope(|s| {
                s.spawn(|| write_all(&producer, RECORDS, 16));
                rt.block_on(async {
                    let mut reader = AsyncUnsafeReader::new(reader).unwrap();
                    let mut expected = 0;
                    while expected < RECORDS {
                        // Alternate single reads and callbacks.
                        if expected % 3 == 0 {
                            let view = tokio::time::timeout(STALL, reader.read::<[u8]>())
                                .await
                                .expect("a missed wakeup")
                                .unwrap();
                            assert_eq!(seq_of(view), expected);
                            expected += 1;
                        } else {
                            tokio::time::timeout(
                                STALL,
                                reader.read_func(|view, _| {
                                    assert_eq!(seq_of(view), expected, "in order, none lost");
                                    expected += 1;
                                }),
                            )
                            .await
                            .expect("a missed wakeup")
                            .unwrap();
                        }
                    }
                    assert!(reader.get_mut().try_read::<[u8]>().unwrap().is_none());
                });
            });
        }
    }
}

#[test]
fn copying_async_reader_with_a_writer_thread() {
    require_kernel!();
    let rt = runtime();
    for policy in policies() {
        for _ in 0..RUNS {
            let producer = Producer::new(4096);
            let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
            reader.set_publish_policy(policy);
            std::thread::scope(|s| {
                s.spawn(|| write_all(&producer, RECORDS, 16));
                rt.block_on(async {
                    let mut reader = AsyncReader::new(reader).unwrap();
                    let mut record = ringview::Record::default();
                    for expected in 0..RECORDS {
                        tokio::time::timeout(STALL, reader.read_into(&mut record))
                            .await
                            .expect("a missed wakeup")
                            .unwrap();
                        assert_eq!(seq_of(&record.sample), expected);
                    }
                    assert!(reader.get_mut().try_read().unwrap().is_none());
                });
            });
        }
    }
}

/// A shutdown branch fires mid-stream while `read().await` is pending or
/// about to be; the records seen plus those a fresh reader reads afterwards
/// are every record produced, with at most the last one seen (its view was
/// never released) seen again.
#[test]
fn select_with_a_shutdown_branch_loses_nothing() {
    require_kernel!();
    const TOTAL: u64 = 2_000;
    let rt = runtime();
    for run in 0..RUNS {
        // Big enough for every record: the writer never waits on the reader.
        let producer = Producer::new(64 * 1024);
        let pin = producer.pin_ring(&format!("cancel{run}"));
        let stop_at = 1 + (run as u64 * 37) % (TOTAL - 1);
        let mut seen = Vec::new();
        std::thread::scope(|s| {
            let writer = s.spawn(|| write_all(&producer, TOTAL, 16));
            rt.block_on(async {
                let ring = RingBuf::from_pinned(&pin.path).unwrap();
                // SAFETY: nothing outside this library consumes the ring.
                let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
                let mut reader = AsyncUnsafeReader::new(reader).unwrap();
                let (shutdown_tx, mut shutdown) = tokio::sync::oneshot::channel::<()>();
                let mut shutdown_tx = Some(shutdown_tx);
                loop {
                    tokio::select! {
                        _ = &mut shutdown => break,
                        view = reader.read::<[u8]>() => {
                            let seq = seq_of(view.unwrap());
                            seen.push(seq);
                            if seq + 1 >= stop_at {
                                // Fire from another task, so the shutdown
                                // lands while the next read is in flight.
                                if let Some(tx) = shutdown_tx.take() {
                                    tokio::spawn(async move {
                                        tokio::task::yield_now().await;
                                        let _ = tx.send(());
                                    });
                                }
                            }
                        }
                    }
                }
                // Dropped with its last view unreleased.
            });
            writer.join().unwrap();
        });
        // What a fresh reader finds.
        let ring = RingBuf::from_pinned(&pin.path).unwrap();
        // SAFETY: nothing outside this library consumes the ring.
        let mut fresh = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
        let mut rest = Vec::new();
        while let Some(view) = fresh.try_read::<[u8]>().unwrap() {
            rest.push(seq_of(view));
        }
        let last = *seen.last().expect("the stream was read");
        assert_eq!(
            seen,
            (0..seen.len() as u64).collect::<Vec<_>>(),
            "run {run}: seen in order without gaps or duplicates"
        );
        // The last view is released only if a read started after it (and
        // was then cancelled): the fresh reader starts at it or after it.
        let from = rest.first().copied().unwrap_or(TOTAL);
        assert!(
            from == last || from == last + 1,
            "run {run}: the fresh reader starts at {from}, after the last seen {last}"
        );
        assert_eq!(
            rest,
            (from..TOTAL).collect::<Vec<_>>(),
            "run {run}: the fresh reader reads everything after it"
        );
    }
}

/// 16-byte records of the first ring.
#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Small {
    seq: u64,
    pattern: u64,
}

/// 64-byte records of the second ring.
#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Large {
    seq: u64,
    pattern: [u8; 56],
}

#[test]
fn two_rings_of_different_types_in_two_tasks() {
    require_kernel!();
    const TOTAL: u64 = 20_000;
    let rt = runtime();
    let small = Producer::new(4096);
    let large = Producer::new(16 * 4096);
    // SAFETY (both): nothing outside this library consumes these rings.
    let small_reader =
        unsafe { UnsafeReader::<Small>::new(RingBuf::new(small.ring_fd()).unwrap()) }.unwrap();
    let large_reader =
        unsafe { UnsafeReader::<Large>::new(RingBuf::new(large.ring_fd()).unwrap()) }.unwrap();
    let expected_large = common::expected_payload(0, 64);
    std::thread::scope(|s| {
        s.spawn(|| write_all(&small, TOTAL, 16));
        s.spawn(|| write_all(&large, TOTAL, 64));
        rt.block_on(async {
            let small_task = tokio::spawn(async move {
                let mut reader = AsyncUnsafeReader::new(small_reader).unwrap();
                for expected in 0..TOTAL {
                    let event = tokio::time::timeout(STALL, reader.read())
                        .await
                        .expect("a missed wakeup")
                        .unwrap();
                    assert_eq!(event.seq, expected);
                    assert_eq!(
                        event.pattern.to_le_bytes(),
                        [57, 64, 71, 78, 85, 92, 99, 106]
                    );
                }
            });
            let large_task = tokio::spawn(async move {
                let mut reader = AsyncUnsafeReader::new(large_reader).unwrap();
                let mut expected = 0;
                while expected < TOTAL {
                    tokio::time::timeout(
                        STALL,
                        reader.read_func(|event: &Large, _| {
                            assert_eq!(event.seq, expected);
                            assert_eq!(event.pattern[..], expected_large[8..]);
                            expected += 1;
                        }),
                    )
                    .await
                    .expect("a missed wakeup")
                    .unwrap();
                }
            });
            small_task.await.unwrap();
            large_task.await.unwrap();
        });
    });
}

/// Flush and close reach an async reader that is waiting.
#[test]
fn handles_wake_a_waiting_async_reader() {
    require_kernel!();
    let rt = runtime();
    let producer = Producer::new(4096);
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    let handle = reader.handle();
    let woken = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        let flusher = {
            let handle = handle.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                handle.flush();
            })
        };
        let err = tokio::time::timeout(STALL, reader.read::<[u8]>())
            .await
            .expect("the flush woke the reader")
            .unwrap_err();
        assert!(matches!(err, ringview::ReadError::Flushed), "{err:?}");
        flusher.await.unwrap();
        let woken2 = Arc::clone(&woken);
        let closer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            woken2.store(true, Ordering::SeqCst);
            handle.close();
        });
        let err = tokio::time::timeout(STALL, reader.read::<[u8]>())
            .await
            .expect("the close woke the reader")
            .unwrap_err();
        assert!(matches!(err, ringview::ReadError::Closed), "{err:?}");
        assert!(woken.load(Ordering::SeqCst));
        closer.await.unwrap();
    });
}

/// A reader of `producer`'s ring whose lazy policy naps for `latency` and
/// never blocks (`idle` = `Duration::MAX`).
fn never_blocking_reader(producer: &Producer, latency: Duration) -> UnsafeReader<[u8]> {
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    reader.set_publish_policy(PublishPolicy::lazy(0.25, latency, Duration::MAX));
    reader
}

/// With a lingering policy that never blocks (`idle` = `Duration::MAX`) and
/// records read but not yet published, a producer's commit notifies
/// nobody: the async reader sees the next record only by waking from its
/// own nap (a timerfd, 200 µs).
#[test]
fn a_lingering_async_reader_wakes_from_its_naps() {
    require_kernel!();
    let rt = runtime();
    let producer = Producer::new(4096);
    let reader = never_blocking_reader(&producer, Duration::from_micros(200));
    producer.emit(4, 16, 0, 0);
    rt.block_on(async {
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        for seq in 0..4 {
            let record = tokio::time::timeout(STALL, reader.read::<[u8]>())
                .await
                .expect("a submitted record is read")
                .unwrap();
            assert_eq!(seq_of(record), seq);
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                producer.emit(1, 16, 4, 0);
            });
        });
        let record = tokio::time::timeout(STALL, reader.read::<[u8]>())
            .await
            .expect("a nap ends and finds the record")
            .unwrap();
        assert_eq!(seq_of(record), 4);
    });
}

/// A flush cuts a long nap short: with naps of a minute, the reader
/// reports the flush long before its timer would fire.
#[test]
fn a_flush_ends_an_async_readers_nap() {
    require_kernel!();
    let rt = runtime();
    let producer = Producer::new(4096);
    let reader = never_blocking_reader(&producer, Duration::from_secs(60));
    let handle = reader.handle();
    producer.emit(1, 16, 0, 0);
    rt.block_on(async {
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        let record = reader.read::<[u8]>().await.unwrap();
        assert_eq!(seq_of(record), 0);
        let flusher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            handle.flush();
        });
        let err = tokio::time::timeout(STALL, reader.read::<[u8]>())
            .await
            .expect("the flush ended the nap")
            .unwrap_err();
        assert!(matches!(err, ringview::ReadError::Flushed), "{err:?}");
        flusher.await.unwrap();
    });
}

/// A ring that never runs dry does not keep the other tasks of the reader's
/// thread from running: the reader gives its thread back once it has kept
/// it for a slice (about 50 µs), long before it has read everything. So do
/// bounded `read_func_n` and `batch_n` calls.
#[test]
fn a_flooded_async_reader_lets_other_tasks_run() {
    require_kernel!();
    const FLOOD: u64 = 100_000;
    // Records a bounded call takes at most.
    const CALL: usize = 100;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for way in ["read", "read_func_n", "batch_n"] {
        // 100,000 records of 16 bytes take 2.4 MB of the 4 MiB ring.
        let producer = Producer::new(4 << 20);
        write_all(&producer, FLOOD, 16);
        let ring = RingBuf::new(producer.ring_fd()).unwrap();
        // SAFETY: nothing outside this library consumes the ring.
        let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
        rt.block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            // On a current-thread runtime this task runs only when the
            // reader yields.
            let other = tokio::spawn({
                let ran = ran.clone();
                async move { ran.store(true, Ordering::SeqCst) }
            });
            let mut reader = AsyncUnsafeReader::new(reader).unwrap();
            let mut ran_at = None;
            let mut seq = 0;
            while seq < FLOOD {
                match way {
                    "read" => {
                        let record = reader.read::<[u8]>().await.unwrap();
                        assert_eq!(seq_of(record), seq);
                        seq += 1;
                    }
                    "read_func_n" => {
                        let n = reader
                            .read_func_n(CALL, |record, _| {
                                assert_eq!(seq_of(record), seq);
                                seq += 1;
                            })
                            .await
                            .unwrap();
                        assert!((1..=CALL).contains(&n), "{n}");
                    }
                    _ => {
                        let batch = reader.batch_n(CALL).await.unwrap();
                        while let Some(record) = batch.next::<[u8]>().unwrap() {
                            assert_eq!(seq_of(record), seq);
                            seq += 1;
                        }
                        batch.commit();
                    }
                }
                if ran_at.is_none() && ran.load(Ordering::SeqCst) {
                    ran_at = Some(seq);
                }
            }
            assert_eq!(seq, FLOOD, "{way}");
            let ran_at = ran_at
                .unwrap_or_else(|| panic!("{way}: the other task never ran during the flood"));
            assert!(
                ran_at < FLOOD / 2,
                "{way}: the other task waited for {ran_at} records"
            );
            other.await.unwrap();
        });
    }
}

/// The async `read_func` publishes as the policy says: the eager policy at
/// once, the lazy one not while less than its fraction of the ring is
/// released, and everything before the reader awaits the ring's
/// descriptor (publish before sleep).
#[test]
fn an_async_read_func_publishes_as_the_policy_says() {
    require_kernel!();
    let rt = runtime();
    // 16-byte records take 24 bytes of the ring.
    const STRIDE: u64 = 24;
    for policy in policies() {
        let producer = Producer::new(1 << 16);
        let ring = RingBuf::new(producer.ring_fd()).unwrap();
        // SAFETY: nothing outside this library consumes the ring.
        let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
        reader.set_publish_policy(policy);
        producer.emit(4, 16, 0, 0);
        rt.block_on(async {
            let mut reader = AsyncUnsafeReader::new(reader).unwrap();
            let mut seen = Vec::new();
            let read = reader.read_func(|record: &[u8], _| seen.push(seq_of(record)));
            assert_eq!(tokio::time::timeout(STALL, read).await.unwrap().unwrap(), 4);
            let positions = reader.get_ref().positions();
            assert_eq!(positions.released, 4 * STRIDE);
            let published = if policy == PublishPolicy::EAGER {
                4 * STRIDE
            } else {
                0
            };
            assert_eq!(positions.published, published, "{policy:?}");
            // The next record comes long after the lazy policy's idle
            // period (1 ms): by then the reader published everything and
            // awaits the descriptor.
            let read = reader.read_func(|record: &[u8], _| seen.push(seq_of(record)));
            let late = async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let unpublished = RingBuf::new(producer.ring_fd()).unwrap().available_bytes();
                producer.emit(1, 16, 4, 0);
                unpublished
            };
            let (read, unpublished) = tokio::join!(tokio::time::timeout(STALL, read), late);
            assert_eq!(unpublished, 0, "{policy:?}: published before awaiting");
            assert_eq!(read.unwrap().unwrap(), 1);
            assert_eq!(seen, [0, 1, 2, 3, 4]);
        });
    }
}

/// Made outside a tokio runtime, the async types return an error that says
/// to enter one, instead of panicking; inside one they work.
#[test]
fn outside_a_runtime_the_async_types_say_to_enter_one() {
    use ringview::testing::MemoryRing;
    use ringview::{AsyncRingSet, ReaderError, RingSetError};

    let ring = MemoryRing::new(4096).unwrap();
    let err = AsyncReader::new(Reader::new(ring.ring_buf()).unwrap()).unwrap_err();
    assert!(matches!(err, ReaderError::NoRuntime), "{err:?}");
    assert!(err.to_string().contains("Runtime::enter"), "{err}");
    // SAFETY: nothing outside this library consumes the ring.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap();
    let err = AsyncUnsafeReader::new(reader).unwrap_err();
    assert!(matches!(err, ReaderError::NoRuntime), "{err:?}");
    let err = AsyncRingSet::new().unwrap_err();
    assert!(matches!(err, RingSetError::NoRuntime), "{err:?}");

    let rt = runtime();
    let _entered = rt.enter();
    let mut reader = AsyncReader::new(Reader::new(ring.ring_buf()).unwrap()).unwrap();
    AsyncRingSet::new().unwrap();
    ring.output(b"in", 0).unwrap();
    let record = rt.block_on(reader.read()).unwrap();
    assert_eq!(record.sample, b"in");
}

/// "Take what is ready": one await, then every ready record without one,
/// on both async readers, with a writer thread; and the poll forms
/// (`poll_read`, `poll_read_into`) driven by hand.
#[test]
fn take_what_is_ready_after_one_await() {
    require_kernel!();
    let rt = runtime();
    for policy in policies() {
        for _ in 0..10 {
            let producer = Producer::new(4096);
            let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
            reader.set_publish_policy(policy);
            let mut awaits = 0u64;
            std::thread::scope(|s| {
                s.spawn(|| write_all(&producer, RECORDS, 16));
                rt.block_on(async {
                    let mut reader = AsyncReader::new(reader).unwrap();
                    let mut expected = 0;
                    while expected < RECORDS {
                        let record = tokio::time::timeout(STALL, reader.read())
                            .await
                            .expect("a missed wakeup")
                            .unwrap();
                        awaits += 1;
                        assert_eq!(seq_of(&record.sample), expected);
                        expected += 1;
                        while let Some(record) = reader.try_read().unwrap() {
                            assert_eq!(seq_of(&record.sample), expected);
                            expected += 1;
                        }
                    }
                    assert!(reader.try_read().unwrap().is_none());
                });
            });
            assert!(awaits <= RECORDS);
        }
    }
    // The zero-copy reader: `readable`, then `try_read_func`; and the poll
    // forms through `poll_fn`.
    for _ in 0..10 {
        let producer = Producer::new(4096);
        let ring = RingBuf::new(producer.ring_fd()).unwrap();
        // SAFETY: nothing outside this library consumes the ring.
        let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
        std::thread::scope(|s| {
            s.spawn(|| write_all(&producer, RECORDS, 16));
            rt.block_on(async {
                let mut reader = AsyncUnsafeReader::new(reader).unwrap();
                let mut expected = 0;
                while expected < RECORDS / 2 {
                    tokio::time::timeout(STALL, reader.readable())
                        .await
                        .expect("a missed wakeup")
                        .unwrap();
                    let taken = reader
                        .try_read_func(|record, _| {
                            assert_eq!(seq_of(record), expected);
                            expected += 1;
                        })
                        .unwrap();
                    assert!(taken > 0, "readable, then nothing to take");
                }
                while expected < RECORDS {
                    let poll =
                        std::future::poll_fn(|cx| reader.poll_read::<[u8]>(cx).map_ok(seq_of));
                    let seq = tokio::time::timeout(STALL, poll)
                        .await
                        .expect("a missed wakeup")
                        .unwrap();
                    assert_eq!(seq, expected);
                    expected += 1;
                }
                assert!(reader.try_read::<[u8]>().unwrap().is_none());
            });
        });
    }
}

/// The copying reader as a `futures_core::Stream`: owned records, then
/// owned `u64`s (each record starts with its sequence number), ending when
/// the reader is closed.
#[cfg(feature = "stream")]
#[test]
fn the_copying_reader_is_a_stream_of_owned_records() {
    use std::pin::Pin;

    use futures_core::{FusedStream, Stream};

    require_kernel!();
    let rt = runtime();
    for policy in policies() {
        for _ in 0..10 {
            let producer = Producer::new(4096);
            let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
            reader.set_publish_policy(policy);
            let handle = reader.handle();
            std::thread::scope(|s| {
                s.spawn(|| write_all(&producer, RECORDS, 16));
                rt.block_on(async {
                    let mut reader = AsyncReader::new(reader).unwrap();
                    for expected in 0..RECORDS / 2 {
                        let next = std::future::poll_fn(|cx| Pin::new(&mut reader).poll_next(cx));
                        let record = tokio::time::timeout(STALL, next)
                            .await
                            .expect("a missed wakeup")
                            .expect("the stream ended early")
                            .unwrap();
                        assert_eq!(seq_of(&record.sample), expected);
                    }
                    let mut values = reader.stream_as::<u64>();
                    for expected in RECORDS / 2..RECORDS {
                        let next = std::future::poll_fn(|cx| Pin::new(&mut values).poll_next(cx));
                        let value = tokio::time::timeout(STALL, next)
                            .await
                            .expect("a missed wakeup")
                            .expect("the stream ended early")
                            .unwrap();
                        assert_eq!(value, expected);
                    }
                    handle.close();
                    let next = std::future::poll_fn(|cx| Pin::new(&mut values).poll_next(cx));
                    assert!(tokio::time::timeout(STALL, next).await.unwrap().is_none());
                    assert!(values.is_terminated());
                    assert!(reader.is_terminated());
                });
            });
        }
    }
}
