//! An idle reader uses no CPU: each reader kind waits 2 s on an empty ring
//! while the process's CPU time is measured. One test in its own binary, so
//! the process's CPU time is this test's alone.
//!
//! Prints each figure (`cargo test --all-features --test idle_cpu --
//! --nocapture`).

#![cfg(feature = "tokio")]

mod common;

use std::time::Duration;

use common::Producer;
use ringview::{
    AsyncReader, AsyncRingSet, AsyncUnsafeReader, ReadError, Reader, RingBuf, UnsafeReader,
};

const IDLE: Duration = Duration::from_secs(2);
/// Near zero: a reader that spun even 2.5% of the time would exceed it.
const BOUND: Duration = Duration::from_millis(50);

/// The CPU time of the whole process so far.
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut now) };
    assert_eq!(ret, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Runs `idle` (which must wait `IDLE` on an empty ring) and returns the
/// process CPU time it cost, after a short settling period.
fn measure(name: &str, idle: impl FnOnce()) -> Duration {
    let before = process_cpu_time();
    idle();
    let used = process_cpu_time() - before;
    eprintln!("idle CPU over {IDLE:?}: {name}: {used:?}");
    used
}

#[test]
fn idle_readers_use_no_cpu() {
    require_kernel!();
    let producer = Producer::new(4096);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut results = Vec::new();

    let reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    let reader = rt.block_on(async {
        let mut reader = AsyncReader::new(reader).unwrap();
        // Warm up the runtime's threads and timers outside the measurement.
        let _ = tokio::time::timeout(Duration::from_millis(50), reader.read()).await;
        let used = measure("AsyncReader", || {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let timeout = tokio::time::timeout(IDLE, reader.read()).await;
                    assert!(timeout.is_err(), "no record was written");
                });
            });
        });
        results.push(("AsyncReader", used));
        reader.into_inner()
    });
    drop(reader);

    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    let reader = rt.block_on(async {
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        let used = measure("AsyncUnsafeReader", || {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let timeout = tokio::time::timeout(IDLE, reader.read::<[u8]>()).await;
                    assert!(timeout.is_err(), "no record was written");
                });
            });
        });
        results.push(("AsyncUnsafeReader", used));
        reader.into_inner()
    });
    drop(reader);

    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the ring.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
    rt.block_on(async {
        let mut set = AsyncRingSet::new().unwrap();
        set.add(reader, |_: &[u8]| ()).unwrap();
        let used = measure("AsyncRingSet", || {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(async {
                    let timeout = tokio::time::timeout(IDLE, set.poll()).await;
                    assert!(timeout.is_err(), "no record was written");
                });
            });
        });
        results.push(("AsyncRingSet", used));
    });

    let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    let used = measure("Reader (blocking, default policy)", || {
        reader.set_deadline(Some(std::time::Instant::now() + IDLE));
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
    });
    results.push(("Reader", used));

    for (name, used) in results {
        assert!(
            used < BOUND,
            "{name} used {used:?} of CPU idle for {IDLE:?}"
        );
    }
}
