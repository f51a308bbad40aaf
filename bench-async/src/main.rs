//! Section 5 of issue 10, in one run, as Markdown tables:
//!
//! 1. the ring set (blocking and tokio) against libbpf's C
//!    `ring_buffer__poll` on 4 rings with a live producer, in records/s and
//!    consumer CPU per record;
//! 2. the async readers against the blocking ones at 16 B and 1 KiB with a
//!    live producer;
//! 3. the idle CPU of each reader kind (process CPU time over an idle
//!    period);
//! 4. the user ring producers against a hand-written loop and libbpf's C
//!    (`user_ring.rs`; `--user-ring` runs only that table).
//!
//! Run as root: `cargo run --release --manifest-path bench-async/Cargo.toml`
//! (about two minutes; `--quick` for a few seconds). Live-producer figures on
//! these VMs swing by up to 3x between runs: compare within one run.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringview::{
    AsyncReader, AsyncRingSet, AsyncUnsafeReader, PublishPolicy, ReadError, Reader, RingEvent,
    RingSet, UnsafeReader,
};

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../benches/support/mod.rs"]
mod support;
mod user_ring;

use support::{median, BenchProducer, Feed, Words, HOT_RING};

extern "C" {
    /// `c/libbpf_poll.c`.
    fn libbpf_poll_rings(
        fds: *const i32,
        n: i32,
        stop: *const AtomicI32,
        records: *mut u64,
        out_of_order: *mut u64,
    ) -> i32;
}

/// Records per BPF_PROG_TEST_RUN of the producer.
const BATCH: u32 = 1024;
/// Record size of the ring-set comparison.
const SET_RECORD: u32 = 64;
const RINGS: usize = 4;

fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    let ret = unsafe { libc::clock_gettime(clock, &raw mut now) };
    assert_eq!(ret, 0, "clock_gettime");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn thread_cpu() -> Duration {
    cpu_time(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// One consumer's run.
#[derive(Default, Clone, Copy)]
struct Run {
    records: u64,
    elapsed: Duration,
    cpu: Duration,
}

impl Run {
    fn add(&mut self, other: Run) {
        self.records += other.records;
        self.elapsed += other.elapsed;
        self.cpu += other.cpu;
    }
    fn per_sec(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
    fn cpu_ns(&self) -> f64 {
        self.cpu.as_nanos() as f64 / self.records as f64
    }
}

/// Measures `f` (which returns how many records it read) on this thread.
fn measure(f: impl FnOnce() -> u64) -> Run {
    let (start, cpu) = (Instant::now(), thread_cpu());
    let records = f();
    Run {
        records,
        elapsed: start.elapsed(),
        cpu: thread_cpu() - cpu,
    }
}

/// Runs `f` while one thread keeps all `producers` busy, round robin.
fn while_producing_all<R>(producers: &[BenchProducer], f: impl FnOnce() -> R) -> R {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let mut failed = 0;
                for producer in producers {
                    failed += producer.fill(BATCH / RINGS as u32, Feed::default()).1;
                }
                if failed > 0 {
                    std::thread::yield_now();
                }
            }
        });
        let result = f();
        stop.store(true, Ordering::Relaxed);
        result
    })
}

/// Per-ring sequence checks, shared with a handler (`Send`): plain loads
/// and stores, as only the consumer thread touches them.
#[derive(Default)]
struct SeqCheck {
    next: AtomicU64,
    records: AtomicU64,
    out_of_order: AtomicU64,
}

impl SeqCheck {
    #[inline(always)]
    fn see(&self, seq: u64) {
        if seq != self.next.load(Ordering::Relaxed) {
            let bad = self.out_of_order.load(Ordering::Relaxed);
            self.out_of_order.store(bad + 1, Ordering::Relaxed);
        }
        self.next.store(seq + 1, Ordering::Relaxed);
        let records = self.records.load(Ordering::Relaxed);
        self.records.store(records + 1, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetKind {
    Libbpf,
    RingSet,
    AsyncRingSet,
}

impl SetKind {
    fn name(self) -> &'static str {
        match self {
            Self::Libbpf => "libbpf `ring_buffer__poll` (C)",
            Self::RingSet => "`RingSet::poll`",
            Self::AsyncRingSet => "`AsyncRingSet::poll().await` (current-thread runtime)",
        }
    }
}

fn one_set_run(kind: SetKind, run: Duration) -> Run {
    type E = support::E64;
    let producers: Vec<BenchProducer> = (0..RINGS)
        .map(|_| BenchProducer::new(HOT_RING, SET_RECORD))
        .collect();
    let checks: Vec<Arc<SeqCheck>> = (0..RINGS).map(|_| Arc::default()).collect();
    let result = while_producing_all(&producers, || match kind {
        SetKind::Libbpf => {
            let fds: Vec<i32> = producers.iter().map(|p| p.ring_fd().as_raw_fd()).collect();
            let stop = AtomicI32::new(0);
            let mut records = [0u64; RINGS];
            let mut bad = [0u64; RINGS];
            let run = std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(run);
                    stop.store(1, Ordering::Relaxed);
                });
                measure(|| {
                    // SAFETY: `fds` holds RINGS live ring descriptors;
                    // `stop` outlives the call and is only read atomically;
                    // `records` and `bad` are writable for RINGS entries.
                    let ret = unsafe {
                        libbpf_poll_rings(
                            fds.as_ptr(),
                            RINGS as i32,
                            &stop,
                            records.as_mut_ptr(),
                            bad.as_mut_ptr(),
                        )
                    };
                    assert_eq!(ret, 0, "libbpf_poll_rings");
                    records.iter().sum()
                })
            });
            assert_eq!(bad, [0; RINGS], "libbpf read records out of order");
            run
        }
        SetKind::RingSet | SetKind::AsyncRingSet => {
            let readers: Vec<UnsafeReader<E>> = producers
                .iter()
                // SAFETY: each ring's only consumer.
                .map(|p| unsafe { UnsafeReader::<E>::new(p.ring()) }.unwrap())
                .collect();
            if kind == SetKind::RingSet {
                let mut set = RingSet::new().unwrap();
                for (reader, check) in readers.into_iter().zip(&checks) {
                    let check = Arc::clone(check);
                    set.add(reader, move |e: &E| check.see(e.words()[0]))
                        .unwrap();
                }
                measure(|| {
                    let start = Instant::now();
                    let mut records = 0;
                    while start.elapsed() < run {
                        records += set.poll(Some(Duration::from_millis(100))).unwrap() as u64;
                    }
                    records
                })
            } else {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let mut set = AsyncRingSet::new().unwrap();
                    for (reader, check) in readers.into_iter().zip(&checks) {
                        let check = Arc::clone(check);
                        set.add(reader, move |e: &E| check.see(e.words()[0]))
                            .unwrap();
                    }
                    let (start, cpu) = (Instant::now(), thread_cpu());
                    let mut records = 0;
                    while start.elapsed() < run {
                        records += set.poll().await.unwrap() as u64;
                    }
                    Run {
                        records,
                        elapsed: start.elapsed(),
                        cpu: thread_cpu() - cpu,
                    }
                })
            }
        }
    });
    for check in &checks {
        assert_eq!(
            check.out_of_order.load(Ordering::Relaxed),
            0,
            "out of order"
        );
    }
    result
}

fn ring_set_vs_libbpf(run: Duration, rounds: u32) {
    let kinds = [SetKind::Libbpf, SetKind::RingSet, SetKind::AsyncRingSet];
    let mut sums = [Run::default(); 3];
    // Alternating rounds, so the machine's slow and fast phases hit all.
    for _ in 0..rounds {
        for (i, kind) in kinds.into_iter().enumerate() {
            sums[i].add(one_set_run(kind, run));
        }
    }
    println!("\n## 4 rings, {SET_RECORD} B records, one producer thread round-robin over them\n");
    println!("| consumer | records/s | consumer CPU ns/record | CPU vs libbpf |");
    println!("|---|---:|---:|---:|");
    let base = sums[0].cpu_ns();
    for (kind, sum) in kinds.into_iter().zip(sums) {
        println!(
            "| {} | {:.2} M | {:.1} | {:.2}x |",
            kind.name(),
            sum.per_sec() / 1e6,
            sum.cpu_ns(),
            sum.cpu_ns() / base
        );
    }
}

#[derive(Clone, Copy)]
enum ReadKind {
    BlockingRead,
    AsyncRead,
    BlockingFunc,
    AsyncFunc,
}

fn one_read_run<E: RingEvent + Words>(
    size: usize,
    kind: ReadKind,
    policy: PublishPolicy,
    run: Duration,
) -> Run {
    let producer = BenchProducer::new(HOT_RING, size as u32);
    // SAFETY: the ring's only consumer.
    let mut reader = unsafe { UnsafeReader::<E>::new(producer.ring()) }.unwrap();
    reader.set_publish_policy(policy);
    // The consumer on CPU 0 and the producer on CPU 1, for every kind: a
    // run where the scheduler put both threads on one CPU, or moved them,
    // was a different experiment (here, 2x the CPU per record at 1 KiB).
    let pinned = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    let feed = Feed {
        flags: 0,
        stamp: true,
        pace_ns: 0,
        cpu: pinned.then_some(1),
    };
    let affinity = support::affinity();
    if pinned {
        support::set_affinity(&support::cpu_set(0));
    }
    let run = one_pinned_run(&producer, reader, kind, feed, run);
    support::set_affinity(&affinity);
    run
}

/// [`one_read_run`] on the threads it pinned.
fn one_pinned_run<E: RingEvent + Words>(
    producer: &BenchProducer,
    mut reader: UnsafeReader<E>,
    kind: ReadKind,
    feed: Feed,
    run: Duration,
) -> Run {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (result, _) = support::while_producing(producer, BATCH, feed, || {
        let start = Instant::now();
        let cpu = thread_cpu();
        let mut seq = 0u64;
        match kind {
            ReadKind::BlockingRead => {
                reader.set_deadline(Some(start + run));
                while !seq.is_multiple_of(1024) || start.elapsed() < run {
                    match reader.read() {
                        Ok(event) => {
                            assert_eq!(event.words()[0], seq);
                            seq += 1;
                        }
                        Err(ReadError::DeadlineExceeded) => break,
                        Err(err) => panic!("{err}"),
                    }
                }
            }
            ReadKind::BlockingFunc => {
                reader.set_deadline(Some(start + run));
                while start.elapsed() < run {
                    match reader.read_func(|event, _| {
                        assert_eq!(event.words()[0], seq);
                        seq += 1;
                    }) {
                        Ok(_) => {}
                        Err(ReadError::DeadlineExceeded) => break,
                        Err(err) => panic!("{err}"),
                    }
                }
            }
            ReadKind::AsyncRead => rt.block_on(async {
                let mut reader = AsyncUnsafeReader::new(reader).unwrap();
                while !seq.is_multiple_of(1024) || start.elapsed() < run {
                    let event = reader.read().await.unwrap();
                    assert_eq!(event.words()[0], seq);
                    seq += 1;
                }
            }),
            ReadKind::AsyncFunc => rt.block_on(async {
                let mut reader = AsyncUnsafeReader::new(reader).unwrap();
                while start.elapsed() < run {
                    reader
                        .read_func(|event, _| {
                            assert_eq!(event.words()[0], seq);
                            seq += 1;
                        })
                        .await
                        .unwrap();
                }
            }),
        }
        Run {
            records: seq,
            elapsed: start.elapsed(),
            cpu: thread_cpu() - cpu,
        }
    });
    result
}

fn async_vs_blocking<E: RingEvent + Words>(
    size: usize,
    policy: PublishPolicy,
    policy_name: &str,
    run: Duration,
    rounds: u32,
) {
    use ReadKind::*;
    let kinds = [BlockingRead, AsyncRead, BlockingFunc, AsyncFunc];
    let mut sums = [Run::default(); 4];
    // Each round's async/blocking CPU ratio for `read` and `read_func`.
    let mut ratios = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut runs = [Run::default(); 4];
        // Odd rounds run the async form first.
        let order: [usize; 4] = if round % 2 == 0 {
            [0, 1, 2, 3]
        } else {
            [1, 0, 3, 2]
        };
        for i in order {
            runs[i] = one_read_run::<E>(size, kinds[i], policy, run);
            sums[i].add(runs[i]);
        }
        ratios[0].push(runs[1].cpu_ns() / runs[0].cpu_ns());
        ratios[1].push(runs[3].cpu_ns() / runs[2].cpu_ns());
    }
    let [read_ratios, func_ratios] = &mut ratios;
    for (name, blocking, sync, ratios) in [
        ("read", sums[0], sums[1], read_ratios),
        ("read_func", sums[2], sums[3], func_ratios),
    ] {
        println!(
            "| {size} B | {policy_name} | `{name}` | {:.2} M | {:.2} M | {:.1} | {:.1} | {:.2}x | {:.2}x |",
            blocking.per_sec() / 1e6,
            sync.per_sec() / 1e6,
            blocking.cpu_ns(),
            sync.cpu_ns(),
            sync.cpu_ns() / blocking.cpu_ns(),
            median(ratios),
        );
    }
}

/// Process CPU time over `idle` while `wait` waits on an empty ring.
fn idle_cpu(idle: Duration, wait: impl FnOnce(Duration)) -> Duration {
    let before = cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID);
    wait(idle);
    cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID) - before
}

fn idle_table(idle: Duration) {
    let producer = BenchProducer::new(HOT_RING, 64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut rows: Vec<(&str, Duration)> = Vec::new();
    {
        let mut reader = Reader::new(producer.ring()).unwrap();
        rows.push((
            "`Reader::read` (blocking, default policy)",
            idle_cpu(idle, |d| {
                reader.set_deadline(Some(Instant::now() + d));
                assert!(reader.read().is_err());
            }),
        ));
    }
    {
        // SAFETY: the ring's only consumer.
        let mut reader = unsafe { UnsafeReader::<[u8]>::new(producer.ring()) }.unwrap();
        rows.push((
            "`UnsafeReader::read` (blocking, default policy)",
            idle_cpu(idle, |d| {
                reader.set_deadline(Some(Instant::now() + d));
                assert!(reader.read::<[u8]>().is_err());
            }),
        ));
    }
    {
        // SAFETY: the ring's only consumer.
        let reader = unsafe { UnsafeReader::<[u8]>::new(producer.ring()) }.unwrap();
        let mut set = RingSet::new().unwrap();
        set.add(reader, |_: &[u8]| ()).unwrap();
        set.consume().unwrap();
        rows.push((
            "`RingSet::poll`",
            idle_cpu(idle, |d| {
                let end = Instant::now() + d;
                while Instant::now() < end {
                    set.poll(Some(end - Instant::now())).unwrap();
                }
            }),
        ));
    }
    let _guard = rt.enter();
    {
        let mut reader = AsyncReader::new(Reader::new(producer.ring()).unwrap()).unwrap();
        rows.push((
            "`AsyncReader::read().await`",
            idle_cpu(idle, |d| {
                rt.block_on(async {
                    assert!(tokio::time::timeout(d, reader.read()).await.is_err())
                })
            }),
        ));
    }
    {
        // SAFETY: the ring's only consumer.
        let reader = unsafe { UnsafeReader::<[u8]>::new(producer.ring()) }.unwrap();
        let mut reader = AsyncUnsafeReader::new(reader).unwrap();
        rows.push((
            "`AsyncUnsafeReader::read().await`",
            idle_cpu(idle, |d| {
                rt.block_on(async {
                    assert!(tokio::time::timeout(d, reader.read::<[u8]>())
                        .await
                        .is_err())
                })
            }),
        ));
    }
    {
        // SAFETY: the ring's only consumer.
        let reader = unsafe { UnsafeReader::<[u8]>::new(producer.ring()) }.unwrap();
        let mut set = AsyncRingSet::new().unwrap();
        set.add(reader, |_: &[u8]| ()).unwrap();
        rows.push((
            "`AsyncRingSet::poll().await`",
            idle_cpu(idle, |d| {
                rt.block_on(async { assert!(tokio::time::timeout(d, set.poll()).await.is_err()) })
            }),
        ));
    }
    println!("\n## Idle CPU: process CPU time over {idle:?} on an empty ring\n");
    println!("| reader | CPU time | share of one core |");
    println!("|---|---:|---:|");
    for (name, cpu) in rows {
        println!(
            "| {name} | {:.3} ms | {:.4}% |",
            cpu.as_secs_f64() * 1e3,
            100.0 * cpu.as_secs_f64() / idle.as_secs_f64()
        );
    }
    // Keep the ring descriptor in use until the end.
    let _ = producer.ring_fd().as_fd();
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--user-ring" || a == "--callgrind") {
        user_ring::main(quick);
        return;
    }
    let (run, rounds, idle) = if quick {
        (Duration::from_millis(200), 1, Duration::from_millis(500))
    } else {
        (Duration::from_secs(1), 7, Duration::from_secs(2))
    };
    println!("# ringview: ring set, async readers, idle CPU ({rounds} alternating rounds of {run:?} each)");
    if !std::env::args().any(|a| a == "--async-only") {
        ring_set_vs_libbpf(run, rounds);
    }

    // More, shorter rounds for the async table: how the two threads meet
    // changes a run's CPU per record by up to a third, and a median of
    // paired ratios needs many pairs to settle.
    let (async_run, async_rounds) = if quick {
        (run, rounds)
    } else {
        (Duration::from_millis(400), 25)
    };
    println!("\n## Async against blocking: one ring, live producer flat out, typed views ({async_rounds} rounds of {async_run:?})\n");
    println!("| size | policy | call | blocking records/s | async records/s | blocking CPU ns/record | async CPU ns/record | async/blocking CPU, all rounds | async/blocking CPU, median of rounds |");
    println!("|---:|---|---|---:|---:|---:|---:|---:|---:|");
    for (policy, name) in [
        (PublishPolicy::default(), "lazy (default)"),
        (PublishPolicy::EAGER, "eager"),
    ] {
        async_vs_blocking::<support::E16>(16, policy, name, async_run, async_rounds);
        async_vs_blocking::<support::E1024>(1024, policy, name, async_run, async_rounds);
    }

    idle_table(idle);
    user_ring::main(quick);
}
