//! The soak harness: a live kernel producer (`benches/bpf/soak.bpf.c`) at
//! full speed against one read path at a time, every record checked byte for
//! byte. Shared by `benches/soak/main.rs` (the command) and `tests/soak.rs`
//! (a 1e6-record run in the test suite).

use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aya::programs::{TestRun, TestRunOptions, Xdp};
use aya::{Ebpf, EbpfLoader};
use ringview::{ReadError, Reader, Record, RingBuf, UnsafeReader};

/// The compiled producer.
pub const SOAK_OBJ: &[u8] = include_bytes!("../bpf/soak.bpf.o");

/// The streams the producer keeps apart (one per producer thread).
pub const MAX_PRODUCERS: u32 = 4;

/// Records per `BPF_PROG_TEST_RUN`.
const RUN: u32 = 4096;

/// How long a blocking read waits before the harness checks whether the
/// producers are done (records submitted with `BPF_RB_NO_WAKEUP` wake no
/// one, so the last of them are found by this timeout).
const POLL: Duration = Duration::from_millis(5);

/// A read path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `UnsafeReader::read`, one view at a time.
    Read,
    /// `UnsafeReader::batch`, committed per batch.
    Batch,
    /// `UnsafeReader::read_func`.
    ReadFunc,
    /// `Reader::read_into`, one reused buffer.
    ReadInto,
    /// `UnsafeReader::try_read` until `None`, then `poll(2)` on the reader.
    TryRead,
    /// `AsyncUnsafeReader::read().await` on a current-thread tokio runtime.
    #[cfg(feature = "tokio")]
    AsyncRead,
    /// `AsyncReader::read_into().await` on a current-thread tokio runtime.
    #[cfg(feature = "tokio")]
    AsyncReadInto,
}

impl Path {
    #[cfg(not(feature = "tokio"))]
    pub const ALL: [Path; 5] = [
        Path::Read,
        Path::Batch,
        Path::ReadFunc,
        Path::ReadInto,
        Path::TryRead,
    ];
    /// Every read path (the async ones with the `tokio` feature).
    #[cfg(feature = "tokio")]
    pub const ALL: [Path; 7] = [
        Path::Read,
        Path::Batch,
        Path::ReadFunc,
        Path::ReadInto,
        Path::TryRead,
        Path::AsyncRead,
        Path::AsyncReadInto,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Path::Read => "read",
            Path::Batch => "batch",
            Path::ReadFunc => "read_func",
            Path::ReadInto => "read_into",
            Path::TryRead => "try_read loop",
            #[cfg(feature = "tokio")]
            Path::AsyncRead => "async read",
            #[cfg(feature = "tokio")]
            Path::AsyncReadInto => "async read_into",
        }
    }

    pub fn parse(name: &str) -> Option<Path> {
        Path::ALL
            .into_iter()
            .find(|p| p.name() == name || (name == "try_read" && *p == Path::TryRead))
    }
}

/// One soak run's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Records the producers make in all (submitted and discarded).
    pub records: u64,
    /// Producer threads, each its own stream (1 to `MAX_PRODUCERS`).
    pub producers: u32,
    /// The ring's data size in bytes.
    pub ring_size: u32,
    /// When set, the consumer drops its reader and ring and reopens the
    /// ring from a pin after every `reopen.0 ..= reopen.1` records (chosen
    /// at random each time).
    pub reopen: Option<(u64, u64)>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            records: 1_000_000,
            producers: 2,
            ring_size: 4 << 20,
            reopen: None,
        }
    }
}

/// What one path's run found.
#[derive(Debug, Clone)]
pub struct Report {
    pub path: Path,
    /// Records the producers submitted, as they counted them.
    pub submitted: u64,
    /// Records the producers discarded.
    pub discarded: u64,
    /// Reservations that failed because the ring was full (each retried).
    pub failed_reserves: u64,
    /// Records the reader handed out.
    pub consumed: u64,
    /// Submitted records never handed out.
    pub lost: u64,
    /// Records handed out more than once.
    pub duplicated: u64,
    /// Records whose bytes differ from what the producer wrote.
    pub corrupt: u64,
    /// Submission-to-read delay, over the records that carry a timestamp.
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub records_per_s: f64,
    /// The consumer process's resident set, in KiB.
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    /// Times the ring was closed and reopened from its pin.
    pub reopens: u64,
    pub elapsed: Duration,
}

impl Report {
    /// No record lost, duplicated or corrupt, and every one counted.
    pub fn is_clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.corrupt == 0
            && self.consumed == self.submitted
    }

    pub const HEADER: &'static str = "| path | records | lost | duplicated | byte-exact | \
        p50 delay | p99 delay | max delay | records/s | RSS start | RSS end |\n\
        |---|---|---|---|---|---|---|---|---|---|---|";

    /// One Markdown table row.
    pub fn row(&self) -> String {
        format!(
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {:.2} M | {} MiB | {} MiB |",
            self.path.name(),
            if self.reopens > 0 {
                format!(" ({} reopens)", self.reopens)
            } else {
                String::new()
            },
            self.consumed,
            self.lost,
            self.duplicated,
            if self.corrupt == 0 {
                "yes".to_string()
            } else {
                format!("NO ({} corrupt)", self.corrupt)
            },
            fmt_delay(self.p50),
            fmt_delay(self.p99),
            fmt_delay(self.max),
            self.records_per_s / 1e6,
            self.rss_start_kib / 1024,
            self.rss_end_kib / 1024,
        )
    }
}

fn fmt_delay(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 10_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 10_000_000 {
        format!("{} µs", ns / 1000)
    } else {
        format!("{} ms", ns / 1_000_000)
    }
}

// ---------------------------------------------------------------------------
// The record format (see soak.bpf.c).

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

fn hash(stream: u32, seq: u64) -> u64 {
    mix(seq.wrapping_mul(4).wrapping_add(u64::from(stream)))
}

fn size_of_record(h: u64) -> usize {
    if h & 7 != 0 {
        1 + ((h >> 8) % 64) as usize
    } else {
        1 + ((h >> 8) % 4096) as usize
    }
}

fn is_discarded(h: u64) -> bool {
    (h >> 24) & 15 == 0
}

fn pattern() -> Vec<u8> {
    (0..8192u32)
        .map(|k| ((k * 7 + 1) ^ (k >> 8)) as u8)
        .collect()
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock of `bpf_ktime_get_ns`.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The resident set of this process, in KiB.
pub fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: `sysconf` has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page.max(1) as u64 / 1024
}

/// A log-linear histogram of delays in nanoseconds (16 buckets per power of
/// two: within 7% of the true value).
struct Histogram {
    counts: Vec<u64>,
    max: u64,
    total: u64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; 64 * 16],
            max: 0,
            total: 0,
        }
    }

    fn bucket(v: u64) -> usize {
        if v < 16 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros() as usize;
        e * 16 + ((v >> (e - 4)) & 15) as usize
    }

    /// The largest value in bucket `b`.
    fn upper(b: usize) -> u64 {
        if b < 16 {
            return b as u64;
        }
        let (e, m) = (b / 16, (b % 16) as u64);
        ((16 + m + 1) << (e - 4)) - 1
    }

    fn add(&mut self, v: u64) {
        self.counts[Self::bucket(v)] += 1;
        self.max = self.max.max(v);
        self.total += 1;
    }

    fn quantile(&self, q: f64) -> Duration {
        let want = ((self.total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Duration::from_nanos(Self::upper(b).min(self.max));
            }
        }
        Duration::from_nanos(self.max)
    }
}

/// Checks every record against what the producer must have written.
struct Verifier {
    pattern: Vec<u8>,
    /// Per stream: the next sequence number expected (never a discarded one).
    next: [u64; MAX_PRODUCERS as usize],
    consumed: u64,
    lost: u64,
    duplicated: u64,
    corrupt: u64,
    delays: Histogram,
    first_error: Option<String>,
}

impl Verifier {
    fn new() -> Self {
        let mut v = Self {
            pattern: pattern(),
            next: [0; MAX_PRODUCERS as usize],
            consumed: 0,
            lost: 0,
            duplicated: 0,
            corrupt: 0,
            delays: Histogram::new(),
            first_error: None,
        };
        for s in 0..MAX_PRODUCERS {
            v.next[s as usize] = v.kept_from(s, 0);
        }
        v
    }

    /// The first sequence number from `seq` on that is not discarded.
    fn kept_from(&self, stream: u32, mut seq: u64) -> u64 {
        while is_discarded(hash(stream, seq)) {
            seq += 1;
        }
        seq
    }

    /// Non-discarded records of `stream` in `from..to`.
    fn kept_between(&self, stream: u32, from: u64, to: u64) -> u64 {
        (from..to)
            .filter(|&s| !is_discarded(hash(stream, s)))
            .count() as u64
    }

    fn fail(&mut self, what: String) {
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    #[inline]
    fn check(&mut self, rec: &[u8]) {
        self.consumed += 1;
        let len = rec.len();
        if len == 0 {
            self.corrupt += 1;
            self.fail("empty record".into());
            return;
        }
        let stream = u32::from(rec[0] & 3);
        let expected = self.next[stream as usize];
        let seq = if len >= 8 {
            let seq = u64::from_le_bytes(rec[..8].try_into().unwrap()) >> 2;
            if seq < expected {
                self.duplicated += 1;
                self.fail(format!(
                    "stream {stream}: seq {seq} again (expected {expected})"
                ));
                return;
            }
            if seq > expected {
                // Bounded: a corrupt sequence number is not worth a long walk.
                let lost = if seq - expected < 1 << 20 {
                    self.kept_between(stream, expected, seq)
                } else {
                    seq - expected
                };
                self.lost += lost;
                self.fail(format!(
                    "stream {stream}: seq {seq} after {expected}: {lost} lost"
                ));
            }
            seq
        } else {
            expected
        };
        let h = hash(stream, seq);
        let tag = (seq << 2 | u64::from(stream)).to_le_bytes();
        let head = len.min(8);
        let mut ok = size_of_record(h) == len && !is_discarded(h) && rec[..head] == tag[..head];
        if ok && len >= 24 {
            let body = &rec[24..];
            let off = (seq & 4095) as usize;
            let sum = body.iter().fold(0u32, |a, &b| a.wrapping_add(u32::from(b)));
            ok = u32::from_le_bytes(rec[16..20].try_into().unwrap()) == sum
                && u32::from_le_bytes(rec[20..24].try_into().unwrap()) as usize == len
                && body == &self.pattern[off..off + body.len()];
            let stamp = u64::from_le_bytes(rec[8..16].try_into().unwrap());
            self.delays.add(now_ns().saturating_sub(stamp));
        } else if ok && len > 8 {
            ok = rec[8..] == self.pattern[..len - 8];
        }
        if !ok {
            self.corrupt += 1;
            self.fail(format!(
                "stream {stream}: record {seq} of {len} bytes differs: {:?}",
                &rec[..len.min(32)]
            ));
        }
        self.next[stream as usize] = self.kept_from(stream, seq + 1);
    }

    /// Counts as lost the records of each stream after the last one seen.
    fn finish(&mut self, final_seq: &[u64]) {
        for (s, &end) in final_seq.iter().enumerate() {
            let next = self.next[s];
            if end > next {
                self.lost += self.kept_between(s as u32, next, end);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The producer.

/// One loaded copy of the soak producer, with its own ring.
pub struct Producer {
    ebpf: Ebpf,
}

/// A stream's running totals, as the producer counts them.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    next_seq: u64,
    submitted: u64,
    discarded: u64,
    failed: u64,
}

impl Producer {
    pub fn new(ring_size: u32) -> Self {
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("rb", ring_size)
            .load(SOAK_OBJ)
            .expect("load soak.bpf.o (as root)");
        for name in ["init", "produce"] {
            let prog: &mut Xdp = ebpf.program_mut(name).unwrap().try_into().unwrap();
            prog.load().expect("load soak program");
        }
        let producer = Self { ebpf };
        producer.run("init", &[0u8; 64]);
        producer
    }

    fn run(&self, name: &str, packet: &[u8; 64]) -> [u8; 64] {
        let mut out = [0u8; 64];
        let prog: &Xdp = self.ebpf.program(name).unwrap().try_into().unwrap();
        let result = prog
            .test_run(TestRunOptions {
                data_in: Some(packet),
                data_out: Some(&mut out),
                ..TestRunOptions::new()
            })
            .expect("BPF_PROG_TEST_RUN");
        assert_eq!(result.return_value, 2, "{name} returned XDP_PASS");
        out
    }

    /// One run of stream `stream`: up to `RUN` records below `limit`.
    fn produce(&self, stream: u32, limit: u64) -> Totals {
        let mut packet = [0u8; 64];
        packet[0..4].copy_from_slice(&stream.to_ne_bytes());
        packet[4..8].copy_from_slice(&RUN.to_ne_bytes());
        packet[8..16].copy_from_slice(&limit.to_ne_bytes());
        let out = self.run("produce", &packet);
        let word = |i: usize| u64::from_ne_bytes(out[i..i + 8].try_into().unwrap());
        Totals {
            next_seq: word(16),
            submitted: word(24),
            discarded: word(32),
            failed: word(40),
        }
    }

    /// A `RingBuf` of the producer's ring.
    pub fn ring(&self) -> RingBuf {
        RingBuf::new(self.ring_fd()).expect("map ring")
    }

    fn ring_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self.ebpf.map("rb").expect("map rb") {
            aya::maps::Map::RingBuf(data) => data.fd().as_fd(),
            other => panic!("rb is not a ring: {other:?}"),
        }
    }

    /// Pins the ring at `path` (a BPF filesystem must be mounted there).
    pub fn pin(&self, path: &std::path::Path) {
        let _ = std::fs::remove_file(path);
        match self.ebpf.map("rb").expect("map rb") {
            aya::maps::Map::RingBuf(data) => data.pin(path).expect("pin ring"),
            other => panic!("rb is not a ring: {other:?}"),
        }
    }
}

/// Shared between the producer threads and the consumer.
struct Progress {
    /// Producer threads still running.
    running: AtomicU64,
    /// Per stream, the final `next_seq`, submitted and discarded counts.
    final_seq: [AtomicU64; MAX_PRODUCERS as usize],
    submitted: AtomicU64,
    discarded: AtomicU64,
    failed: AtomicU64,
    stop: AtomicBool,
}

fn produce_stream(producer: &Producer, stream: u32, limit: u64, progress: &Progress) {
    let mut totals = Totals::default();
    while totals.next_seq < limit && !progress.stop.load(Ordering::Relaxed) {
        let before = totals.next_seq;
        totals = producer.produce(stream, limit);
        if totals.next_seq == before {
            // The ring is full: let the consumer run.
            std::thread::sleep(Duration::from_micros(20));
        }
    }
    // Relaxed: the consumer reads these after `running` drops to zero,
    // which is a SeqCst RMW below.
    progress.final_seq[stream as usize].store(totals.next_seq, Ordering::Relaxed);
    progress
        .submitted
        .fetch_add(totals.submitted, Ordering::Relaxed);
    progress
        .discarded
        .fetch_add(totals.discarded, Ordering::Relaxed);
    progress.failed.fetch_add(totals.failed, Ordering::Relaxed);
    progress.running.fetch_sub(1, Ordering::SeqCst);
}

// ---------------------------------------------------------------------------
// The consumer.

/// Where the consumer's ring comes from.
enum Source<'a> {
    Producer(&'a Producer),
    Pinned(PathBuf),
}

impl Source<'_> {
    fn open(&self) -> RingBuf {
        match self {
            Source::Producer(p) => p.ring(),
            Source::Pinned(path) => RingBuf::from_pinned(path).expect("reopen pinned ring"),
        }
    }
}

/// A small xorshift generator for the reopen points.
struct Rng(u64);

impl Rng {
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

/// Reads with `path` until the producers are done and `want` (once known)
/// records were read, or `budget` records were read (then the caller
/// reopens). Returns whether the run is over.
fn consume(ring: RingBuf, path: Path, v: &mut Verifier, progress: &Progress, budget: u64) -> bool {
    let start = v.consumed;
    let over = |v: &Verifier| {
        if progress.running.load(Ordering::SeqCst) != 0 {
            return false;
        }
        v.consumed >= progress.submitted.load(Ordering::Relaxed)
    };
    // After the producers stop, a ring that stays empty this long is done
    // (whatever was not read by then is lost, and counted so).
    let mut idle_since: Option<Instant> = None;
    let mut idle = |got: bool, v: &Verifier| -> bool {
        if got || progress.running.load(Ordering::SeqCst) != 0 {
            idle_since = None;
            return false;
        }
        let since = *idle_since.get_or_insert_with(Instant::now);
        over(v) || since.elapsed() > Duration::from_secs(2)
    };
    let done = |v: &Verifier| v.consumed - start >= budget;
    // Records left before the next reopen, for the paths that take many at once.
    let left = |v: &Verifier| usize::try_from(budget - (v.consumed - start)).unwrap_or(usize::MAX);
    match path {
        #[cfg(feature = "tokio")]
        Path::AsyncRead | Path::AsyncReadInto => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            let _entered = runtime.enter();
            // A read that finds nothing within `POLL` is dropped (the
            // readers' futures are cancel-safe) so the run can end.
            if path == Path::AsyncReadInto {
                let mut reader = ringview::AsyncReader::new(Reader::new(ring).expect("reader"))
                    .expect("async reader");
                let mut record = Record::default();
                loop {
                    let read = tokio::time::timeout(POLL, reader.read_into(&mut record));
                    let got = match runtime.block_on(read) {
                        Ok(Ok(())) => true,
                        Ok(Err(e)) => panic!("async read_into: {e}"),
                        Err(_elapsed) => false,
                    };
                    if got {
                        v.check(&record.sample);
                        idle(true, v);
                    } else if idle(false, v) {
                        return true;
                    }
                    if over(v) {
                        return true;
                    }
                    if done(v) {
                        return false;
                    }
                }
            }
            // SAFETY: this process is the ring's only consumer.
            let reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.expect("reader");
            let mut reader = ringview::AsyncUnsafeReader::new(reader).expect("async reader");
            loop {
                let got = match runtime.block_on(tokio::time::timeout(POLL, reader.read::<[u8]>()))
                {
                    Ok(Ok(rec)) => {
                        v.check(rec);
                        true
                    }
                    Ok(Err(e)) => panic!("async read: {e}"),
                    Err(_elapsed) => false,
                };
                if got {
                    idle(true, v);
                } else if idle(false, v) {
                    reader.commit();
                    return true;
                }
                if over(v) {
                    reader.commit();
                    return true;
                }
                if done(v) {
                    // Release the last view, so the next reader starts after it.
                    reader.commit();
                    return false;
                }
            }
        }
        Path::ReadInto => {
            let mut reader = Reader::new(ring).expect("reader");
            let mut record = Record::default();
            loop {
                reader.set_deadline(Some(Instant::now() + POLL));
                match reader.read_into(&mut record) {
                    Ok(()) => v.check(&record.sample),
                    Err(ReadError::DeadlineExceeded) => {
                        if idle(false, v) {
                            return true;
                        }
                        continue;
                    }
                    Err(e) => panic!("read_into: {e}"),
                }
                if over(v) {
                    return true;
                }
                if done(v) {
                    return false;
                }
            }
        }
        _ => {
            // SAFETY: this process is the ring's only consumer.
            let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.expect("reader");
            loop {
                let got = match path {
                    Path::Read => {
                        reader.set_deadline(Some(Instant::now() + POLL));
                        match reader.read::<[u8]>() {
                            Ok(rec) => {
                                v.check(rec);
                                true
                            }
                            Err(ReadError::DeadlineExceeded) => false,
                            Err(e) => panic!("read: {e}"),
                        }
                    }
                    Path::Batch => {
                        reader.set_deadline(Some(Instant::now() + POLL));
                        match reader.batch_n(left(v)) {
                            Ok(batch) => {
                                while let Some(rec) = batch.next::<[u8]>().expect("batch next") {
                                    v.check(rec);
                                }
                                batch.commit();
                                true
                            }
                            Err(ReadError::DeadlineExceeded) => false,
                            Err(e) => panic!("batch: {e}"),
                        }
                    }
                    Path::ReadFunc => {
                        reader.set_deadline(Some(Instant::now() + POLL));
                        let max = left(v);
                        match reader.read_func_n(max, |rec: &[u8], _| v.check(rec)) {
                            Ok(_) => true,
                            Err(ReadError::DeadlineExceeded) => false,
                            Err(e) => panic!("read_func: {e}"),
                        }
                    }
                    Path::TryRead => {
                        let mut got = false;
                        while let Some(rec) = reader.try_read::<[u8]>().expect("try_read") {
                            v.check(rec);
                            got = true;
                            if done(v) {
                                break;
                            }
                        }
                        if !got {
                            let mut pfd = libc::pollfd {
                                fd: reader.as_fd().as_raw_fd(),
                                events: libc::POLLIN,
                                revents: 0,
                            };
                            // SAFETY: one valid `pollfd`, for the call's duration.
                            unsafe { libc::poll(&mut pfd, 1, POLL.as_millis() as i32) };
                        }
                        got
                    }
                    _ => unreachable!("handled above"),
                };
                if !got && idle(false, v) {
                    reader.commit();
                    return true;
                }
                if got {
                    idle(true, v);
                }
                if over(v) {
                    reader.commit();
                    return true;
                }
                if done(v) {
                    // Release the last view, so the next reader starts after it.
                    reader.commit();
                    return false;
                }
            }
        }
    }
}

/// Runs the producers against `path` and checks every record.
pub fn run(config: &Config, path: Path) -> Report {
    assert!((1..=MAX_PRODUCERS).contains(&config.producers));
    let rss_start_kib = rss_kib();
    let producer = Producer::new(config.ring_size);
    let pin = config.reopen.map(|_| {
        let path = PathBuf::from(format!(
            "/sys/fs/bpf/ringview_soak_{}_{}",
            std::process::id(),
            path.name().replace(' ', "_")
        ));
        producer.pin(&path);
        path
    });
    let source = match &pin {
        Some(p) => Source::Pinned(p.clone()),
        None => Source::Producer(&producer),
    };
    let progress = Progress {
        running: AtomicU64::new(u64::from(config.producers)),
        final_seq: Default::default(),
        submitted: AtomicU64::new(0),
        discarded: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    };
    let per_stream = config.records.div_ceil(u64::from(config.producers));
    let mut v = Verifier::new();
    let mut reopens = 0;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ config.records);
    let start = Instant::now();
    std::thread::scope(|s| {
        for stream in 0..config.producers {
            let (producer, progress) = (&producer, &progress);
            let limit = per_stream.min(config.records - u64::from(stream) * per_stream);
            s.spawn(move || produce_stream(producer, stream, limit, progress));
        }
        // Stops the producers if the consumer panics, so the scope ends.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&progress.stop);
        loop {
            let budget = match config.reopen {
                Some((lo, hi)) => rng.between(lo, hi),
                None => u64::MAX,
            };
            if consume(source.open(), path, &mut v, &progress, budget) {
                break;
            }
            reopens += 1;
        }
    });
    let elapsed = start.elapsed();
    let final_seq: Vec<u64> = progress
        .final_seq
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .collect();
    v.finish(&final_seq);
    if let Some(p) = &pin {
        let _ = std::fs::remove_file(p);
    }
    if let Some(e) = &v.first_error {
        eprintln!("{}: first problem: {e}", path.name());
    }
    Report {
        path,
        submitted: progress.submitted.load(Ordering::Relaxed),
        discarded: progress.discarded.load(Ordering::Relaxed),
        failed_reserves: progress.failed.load(Ordering::Relaxed),
        consumed: v.consumed,
        lost: v.lost,
        duplicated: v.duplicated,
        corrupt: v.corrupt,
        p50: v.delays.quantile(0.50),
        p99: v.delays.quantile(0.99),
        max: Duration::from_nanos(v.delays.max),
        records_per_s: v.consumed as f64 / elapsed.as_secs_f64(),
        rss_start_kib,
        rss_end_kib: rss_kib(),
        reopens,
        elapsed,
    }
}

/// The bytes the producer writes for record `seq` of `stream` (the
/// timestamp left zero), to test the checks themselves.
#[cfg(test)]
fn encode(stream: u32, seq: u64) -> Vec<u8> {
    let len = size_of_record(hash(stream, seq));
    let pattern = pattern();
    let mut rec = vec![0u8; len];
    let tag = (seq << 2 | u64::from(stream)).to_le_bytes();
    rec[..len.min(8)].copy_from_slice(&tag[..len.min(8)]);
    if len >= 24 {
        let off = (seq & 4095) as usize;
        rec[24..].copy_from_slice(&pattern[off..off + len - 24]);
        let sum = rec[24..]
            .iter()
            .fold(0u32, |a, &b| a.wrapping_add(u32::from(b)));
        rec[16..20].copy_from_slice(&sum.to_le_bytes());
        rec[20..24].copy_from_slice(&(len as u32).to_le_bytes());
    } else if len > 8 {
        rec[8..].copy_from_slice(&pattern[..len - 8]);
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept records of stream 0 from `from`, as many as asked.
    fn kept(from: u64, n: usize) -> Vec<u64> {
        (from..)
            .filter(|&s| !is_discarded(hash(0, s)))
            .take(n)
            .collect()
    }

    #[test]
    fn the_checks_see_loss_duplication_and_corruption() {
        let seqs = kept(0, 400);
        let mut v = Verifier::new();
        for &s in &seqs[..100] {
            v.check(&encode(0, s));
        }
        assert_eq!((v.lost, v.duplicated, v.corrupt), (0, 0, 0));
        // A long record (>= 8 bytes) seen again.
        let long = *seqs[..100]
            .iter()
            .rev()
            .find(|&&s| encode(0, s).len() >= 8)
            .unwrap();
        v.check(&encode(0, long));
        assert_eq!(v.duplicated, 1);
        // Skip three long records: three lost.
        let mut next = 100;
        while encode(0, seqs[next + 3]).len() < 8 {
            v.check(&encode(0, seqs[next]));
            next += 1;
        }
        v.check(&encode(0, seqs[next + 3]));
        assert_eq!(v.lost, 3);
        // One flipped byte in a long record.
        let i = (next + 4..400)
            .find(|&i| encode(0, seqs[i]).len() >= 24)
            .unwrap();
        for &s in &seqs[next + 4..i] {
            v.check(&encode(0, s));
        }
        let mut bad = encode(0, seqs[i]);
        *bad.last_mut().unwrap() ^= 1;
        v.check(&bad);
        assert_eq!(v.corrupt, 1);
        // Records never read at the end count as lost.
        v.finish(&[seqs[i + 10], 0, 0, 0]);
        assert_eq!(v.lost, 3 + 9);
    }
}
