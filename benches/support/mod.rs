//! Shared by `benches/by_struct_size.rs` (criterion) and
//! `benches/bench_report.rs` (the table): the benchmark producer, the event
//! types by size, the per-record work, and every consumer, ringview's and
//! its peers', each validating sequence numbers.

#![allow(dead_code, reason = "the bench and the report use different parts")]

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aya::maps::MapData;
use aya::{Ebpf, EbpfLoader};
use ringview::{Reader, Record, RingBuf, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

use crate::common::{load_xdp, ring_fd, run_xdp};

pub const PRODUCER_OBJ: &[u8] = include_bytes!("../bpf/bench_producer.bpf.o");

/// Struct sizes: 16, 32, 64, then 128 to 2560 in steps of 128.
pub const SIZES: [usize; 23] = [
    16, 32, 64, 128, 256, 384, 512, 640, 768, 896, 1024, 1152, 1280, 1408, 1536, 1664, 1792, 1920,
    2048, 2176, 2304, 2432, 2560,
];

/// The cold regime's ring: larger than this machine's 32 MiB last-level cache.
pub const COLD_RING: u32 = 128 << 20;
/// The hot regime's ring: the size of one core's L2.
pub const HOT_RING: u32 = 1 << 20;

const BPF_LOOP_MAX: u64 = 1 << 23;

/// A loaded benchmark producer with its own ring.
pub struct BenchProducer {
    ebpf: Ebpf,
    pub ring_size: u32,
    pub record_size: u32,
}

impl BenchProducer {
    pub fn new(ring_size: u32, record_size: u32) -> Self {
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("rb", ring_size)
            .override_global("record_size", &record_size, true)
            .load(PRODUCER_OBJ)
            .expect("load bench_producer.bpf.o (as root)");
        load_xdp(&mut ebpf, &["fill"]);
        Self {
            ebpf,
            ring_size,
            record_size,
        }
    }

    pub fn ring_fd(&self) -> BorrowedFd<'_> {
        ring_fd(&self.ebpf, "rb")
    }

    pub fn ring(&self) -> RingBuf {
        RingBuf::new(self.ring_fd()).expect("map ring")
    }

    /// aya's reader of this ring, over a duplicate of its descriptor (so
    /// the ring can be read by another consumer once this one is gone).
    pub fn aya_ring(&mut self) -> aya::maps::RingBuf<MapData> {
        let fd = self.ring_fd().try_clone_to_owned().expect("dup map fd");
        let map = aya::maps::Map::RingBuf(MapData::from_fd(fd).expect("aya MapData"));
        aya::maps::RingBuf::try_from(map).expect("aya RingBuf")
    }

    /// Records the ring holds when full: `(size - 1) / stride`.
    pub fn capacity(&self) -> u64 {
        u64::from(self.ring_size - 1) / u64::from(self.record_size + 8)
    }

    /// One test run: up to `count` records; returns (emitted, failed).
    pub fn fill(&self, count: u32, feed: Feed) -> (u32, u32) {
        let mut packet = [0u8; 64];
        packet[0..4].copy_from_slice(&count.to_ne_bytes());
        packet[4..8].copy_from_slice(&u32::from(feed.stamp).to_ne_bytes());
        packet[8..16].copy_from_slice(&feed.flags.to_ne_bytes());
        packet[24..32].copy_from_slice(&feed.pace_ns.to_ne_bytes());
        let out = run_xdp(&self.ebpf, "fill", &packet);
        (
            u32::from_ne_bytes(out[16..20].try_into().unwrap()),
            u32::from_ne_bytes(out[20..24].try_into().unwrap()),
        )
    }

    /// Fills the (drained) ring with `count` records, in runs of at most
    /// `bpf_loop`'s limit.
    pub fn prefill(&self, count: u64) {
        let mut left = count;
        while left > 0 {
            let run = left.min(BPF_LOOP_MAX) as u32;
            let (emitted, failed) = self.fill(run, Feed::default());
            assert_eq!((emitted, failed), (run, 0), "prefill of {count} records");
            left -= u64::from(run);
        }
    }
}

/// How the producer writes records.
#[derive(Debug, Clone, Copy, Default)]
pub struct Feed {
    /// `bpf_ringbuf_submit` flags.
    pub flags: u64,
    /// Write only the sequence number, and a `bpf_ktime_get_ns()` stamp in
    /// the last word of every 16th record.
    pub stamp: bool,
    /// At least this many nanoseconds between records (0: flat out).
    pub pace_ns: u64,
    /// The CPU the producer thread runs on (`None`: wherever the scheduler
    /// puts it).
    pub cpu: Option<usize>,
}

/// Word access shared by the typed events of every size, each readable on
/// its own (`View`).
pub trait Words: ringview::View {
    fn words(&self) -> &[u64];
}

macro_rules! events {
    ($($name:ident = $size:literal),* $(,)?) => {
        $(
            /// A record of this many bytes: word `w` is `seq + w`.
            #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
            #[repr(C)]
            #[ring_event(size = $size)]
            pub struct $name {
                pub words: [u64; $size / 8],
            }

            impl Words for $name {
                #[inline(always)]
                fn words(&self) -> &[u64] {
                    &self.words
                }
            }
        )*

        /// Runs `$body` with `$E` bound to the event type of `$size`.
        #[macro_export]
        macro_rules! with_event {
            ($size_expr:expr, $E:ident => $body:expr) => {
                match $size_expr {
                    $($size => { type $E = $crate::support::$name; $body })*
                    other => panic!("no event type of {other} bytes"),
                }
            };
        }
    };
}

events!(
    E16 = 16,
    E32 = 32,
    E64 = 64,
    E128 = 128,
    E256 = 256,
    E384 = 384,
    E512 = 512,
    E640 = 640,
    E768 = 768,
    E896 = 896,
    E1024 = 1024,
    E1152 = 1152,
    E1280 = 1280,
    E1408 = 1408,
    E1536 = 1536,
    E1664 = 1664,
    E1792 = 1792,
    E1920 = 1920,
    E2048 = 2048,
    E2176 = 2176,
    E2304 = 2304,
    E2432 = 2432,
    E2560 = 2560,
);

/// What each consumer does with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Read three fields: the first 8 bytes, a word in the middle, the last
    /// 8 bytes.
    Fields,
    /// Fold every 8-byte word into a checksum.
    Payload,
}

impl Work {
    pub const ALL: [Work; 2] = [Work::Fields, Work::Payload];

    pub fn name(self) -> &'static str {
        match self {
            Work::Fields => "fields",
            Work::Payload => "payload",
        }
    }

    /// Does the work on typed words; panics (aborting the bench) when the
    /// record is not the one expected.
    #[inline(always)]
    pub fn on_words(self, words: &[u64], seq: u64) {
        let n = words.len();
        let ok = match self {
            Work::Fields => {
                words[0] == seq
                    && words[n / 2] == seq + (n / 2) as u64
                    && words[n - 1] == seq + (n - 1) as u64
            }
            Work::Payload => {
                let sum = words.iter().fold(0u64, |a, &w| a.wrapping_add(w));
                sum == payload_sum(seq, n)
            }
        };
        if !ok {
            mismatch(seq, words.first().copied());
        }
    }

    /// The same work on bytes (the copying consumers).
    #[inline(always)]
    pub fn on_bytes(self, bytes: &[u8], seq: u64) {
        let word = |i: usize| u64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        let n = bytes.len() / 8;
        let ok = match self {
            Work::Fields => {
                word(0) == seq
                    && word(n / 2) == seq + (n / 2) as u64
                    && word(n - 1) == seq + (n - 1) as u64
            }
            Work::Payload => {
                let sum = bytes.chunks_exact(8).fold(0u64, |a, c| {
                    a.wrapping_add(u64::from_ne_bytes(c.try_into().unwrap()))
                });
                sum == payload_sum(seq, n)
            }
        };
        if !ok {
            mismatch(seq, Some(word(0)));
        }
    }
}

fn payload_sum(seq: u64, n: usize) -> u64 {
    let n = n as u64;
    n.wrapping_mul(seq).wrapping_add(n * (n - 1) / 2)
}

#[cold]
#[inline(never)]
fn mismatch(expected: u64, found: Option<u64>) -> ! {
    panic!("sequence mismatch: expected record {expected}, first word {found:?}");
}

/// The consumers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumer {
    /// `Reader::read_into`.
    Copy,
    /// A hand-written loop copying each record with `copy_from_slice`.
    HandCopy,
    /// `UnsafeReader<T>::read`.
    ZeroCopy,
    /// `UnsafeReader::batch`.
    Batch,
    /// `UnsafeReader::read_func`.
    ReadFunc,
    /// aya's `RingBuf::next`.
    Aya,
    /// A minimal hand-written zero-copy loop: Acquire loads, one Release
    /// store at the end; each record's words are handed to the work with
    /// the struct's length, as a typed view would be.
    HandLoop,
}

impl Consumer {
    pub const ALL: [Consumer; 7] = [
        Consumer::Copy,
        Consumer::HandCopy,
        Consumer::ZeroCopy,
        Consumer::Batch,
        Consumer::ReadFunc,
        Consumer::Aya,
        Consumer::HandLoop,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Consumer::Copy => "read_into",
            Consumer::HandCopy => "hand_copy",
            Consumer::ZeroCopy => "zero_copy",
            Consumer::Batch => "batch",
            Consumer::ReadFunc => "read_func",
            Consumer::Aya => "aya",
            Consumer::HandLoop => "hand_loop",
        }
    }
}

/// One consumer's state over one producer's ring.
pub enum State<E: RingEvent + Words> {
    Copy(Reader, Record),
    HandCopy(HandRing, Vec<u8>),
    Zero(UnsafeReader<E>),
    Aya(aya::maps::RingBuf<MapData>),
    Hand(HandRing),
    /// No consumer: between two (`Cold::switch_to`).
    Idle,
}

impl<E: RingEvent + Words> State<E> {
    pub fn new(consumer: Consumer, producer: &mut BenchProducer) -> Self {
        match consumer {
            Consumer::Copy => State::Copy(Reader::new(producer.ring()).unwrap(), Record::default()),
            Consumer::HandCopy => State::HandCopy(HandRing::new(producer.ring_fd()), Vec::new()),
            Consumer::ZeroCopy | Consumer::Batch | Consumer::ReadFunc => {
                // SAFETY: each benchmark's ring has one consumer.
                State::Zero(unsafe { UnsafeReader::new(producer.ring()) }.unwrap())
            }
            Consumer::Aya => State::Aya(producer.aya_ring()),
            Consumer::HandLoop => State::Hand(HandRing::new(producer.ring_fd())),
        }
    }

    /// Consumes exactly `n` records, doing `work` on each; `seq` is the next
    /// expected sequence number. Blocking consumers block; the others poll.
    #[inline(never)]
    pub fn drain(&mut self, consumer: Consumer, work: Work, n: u64, seq: &mut u64) {
        // One loop per work for every consumer, so none tests the work per
        // record.
        match work {
            Work::Fields => self.drain_doing::<false>(consumer, n, seq),
            Work::Payload => self.drain_doing::<true>(consumer, n, seq),
        }
    }

    #[inline(always)]
    fn drain_doing<const PAYLOAD: bool>(&mut self, consumer: Consumer, n: u64, seq: &mut u64) {
        let work = if PAYLOAD { Work::Payload } else { Work::Fields };
        let end = *seq + n;
        match self {
            State::Copy(reader, record) => {
                while *seq < end {
                    reader.read_into(record).unwrap();
                    work.on_bytes(&record.sample, *seq);
                    *seq += 1;
                }
            }
            State::HandCopy(ring, buffer) => {
                while *seq < end {
                    ring.drain_copy(buffer, end - *seq, |bytes| {
                        work.on_bytes(bytes, *seq);
                        *seq += 1;
                    });
                }
            }
            State::Zero(reader) => match consumer {
                Consumer::ZeroCopy => {
                    while *seq < end {
                        let event = reader.read().unwrap();
                        work.on_words(event.words(), *seq);
                        *seq += 1;
                    }
                }
                Consumer::Batch => {
                    while *seq < end {
                        let batch = reader.batch().unwrap();
                        while *seq < end {
                            let Some(event) = batch.next().unwrap() else {
                                break;
                            };
                            work.on_words(event.words(), *seq);
                            *seq += 1;
                        }
                        batch.commit();
                    }
                }
                _ => {
                    while *seq < end {
                        // read_func drains all that is available, which may
                        // go past `end` when a producer keeps writing.
                        reader
                            .read_func(|event, _| {
                                work.on_words(event.words(), *seq);
                                *seq += 1;
                            })
                            .unwrap();
                    }
                }
            },
            State::Aya(ring) => {
                while *seq < end {
                    if let Some(item) = ring.next() {
                        work.on_bytes(&item, *seq);
                        *seq += 1;
                    } else {
                        std::hint::spin_loop();
                    }
                }
            }
            State::Hand(ring) => {
                while *seq < end {
                    ring.drain(end - *seq, |words| {
                        // What a hand-written typed consumer does: check the
                        // length, then view the struct's words, so the work
                        // reads at the same fixed offsets as through `&E`.
                        let Some(words) = words.get(..E::SIZE / 8) else {
                            mismatch(*seq, words.first().copied());
                        };
                        work.on_words(words, *seq);
                        *seq += 1;
                    });
                }
            }
            State::Idle => panic!("no consumer to drain with"),
        }
    }

    /// Hands all consumed space back to the producer (untimed, between
    /// rounds).
    pub fn release(&mut self) {
        match self {
            State::Copy(reader, _) => {
                reader.set_deadline(Some(Instant::now()));
                let _ = reader.read();
                reader.set_deadline(None);
            }
            State::Zero(reader) => reader.commit(),
            State::HandCopy(..) | State::Aya(_) | State::Hand(_) | State::Idle => {}
        }
    }
}

/// A minimal consumer written against the wire format directly: the
/// reference the typed zero-copy path is measured against.
pub struct HandRing {
    consumer: memmap2::MmapRaw,
    producer: memmap2::MmapRaw,
    mask: usize,
    page: usize,
}

impl HandRing {
    pub fn new(fd: BorrowedFd<'_>) -> Self {
        let page = 4096;
        let size = RingBuf::new(fd).unwrap().buffer_size();
        let consumer = memmap2::MmapOptions::new()
            .len(page)
            .map_raw(fd.as_raw_fd())
            .expect("mmap consumer page");
        let producer = memmap2::MmapOptions::new()
            .offset(page as u64)
            .len(page + 2 * size)
            .map_raw_read_only(fd.as_raw_fd())
            .expect("mmap producer and data pages");
        Self {
            consumer,
            producer,
            mask: size - 1,
            page,
        }
    }

    fn consumer_pos(&self) -> &AtomicUsize {
        // SAFETY: the consumer page is mapped, page-aligned, and lives as
        // long as `self`; it is accessed only atomically here.
        unsafe { AtomicUsize::from_ptr(self.consumer.as_mut_ptr().cast()) }
    }

    fn producer_pos(&self) -> &AtomicUsize {
        // SAFETY: as `consumer_pos`, for the (read-only) producer page;
        // atomic loads are allowed on read-only memory.
        unsafe { AtomicUsize::from_ptr(self.producer.as_mut_ptr().cast()) }
    }

    fn data(&self) -> NonNull<u8> {
        // SAFETY: the producer mapping is `page + 2 * size` bytes long; the
        // data pages start one page into it.
        NonNull::new(unsafe { self.producer.as_mut_ptr().add(self.page) }).unwrap()
    }

    /// Visits up to `max` submitted records as `&[u64]`, then publishes the
    /// consumer position once. Returns how many it visited.
    #[inline(always)]
    pub fn drain(&self, max: u64, mut f: impl FnMut(&[u64])) -> u64 {
        let data = self.data();
        // Acquire: pairs with an earlier consumer's Release store.
        let mut cons = self.consumer_pos().load(Ordering::Acquire);
        // Acquire: pairs with the kernel's `smp_store_release` of
        // `producer_pos` in `__bpf_ringbuf_reserve` (headers written first).
        let prod = self.producer_pos().load(Ordering::Acquire);
        let mut seen = 0;
        while cons != prod && seen < max {
            let offset = cons & self.mask;
            // SAFETY: `offset < size`, and the data mapping is `2 * size`
            // bytes long.
            let header = unsafe { data.as_ptr().add(offset) };
            // SAFETY: `header` is 8-aligned (`data` is page-aligned and
            // positions advance by multiples of 8), valid while `self`
            // lives, and only read atomically here; the kernel writes it
            // atomically too.
            let header = unsafe { AtomicU32::from_ptr(header.cast()) };
            // Acquire: pairs with the `xchg` in `bpf_ringbuf_commit`, so the
            // payload is visible once BUSY reads clear.
            let header = header.load(Ordering::Acquire);
            if header & (1 << 31) != 0 {
                break;
            }
            let len = (header & !(3 << 30)) as usize;
            if header & (1 << 30) == 0 {
                // SAFETY: `offset + 8 + len <= 2 * size`: the kernel commits
                // records shorter than the ring, and wrapped ones stay
                // contiguous in the second mapping.
                let payload = unsafe { data.as_ptr().add(offset + 8) };
                // SAFETY: `payload` is 8-aligned and starts `len` readable,
                // initialised bytes of a submitted record, which no producer
                // reuses before the Release store below.
                let words = unsafe { std::slice::from_raw_parts(payload.cast::<u64>(), len / 8) };
                f(words);
                seen += 1;
            }
            cons += (len + 8 + 7) & !7;
        }
        // Release: pairs with the kernel's `smp_load_acquire` of
        // `consumer_pos` in `__bpf_ringbuf_reserve`: the reads above happen
        // before the space is reused.
        self.consumer_pos().store(cons, Ordering::Release);
        seen
    }

    /// Releases everything submitted, unread: publishes the producer
    /// position as the consumer position.
    pub fn skip_all(&self) {
        // Acquire pairs with the kernel's `smp_store_release` of
        // `producer_pos`; Release with its `smp_load_acquire` of
        // `consumer_pos` in `__bpf_ringbuf_reserve`.
        let pos = self.producer_pos().load(Ordering::Acquire);
        self.consumer_pos().store(pos, Ordering::Release);
    }

    /// As `drain`, copying each record into `buffer` first.
    #[inline(always)]
    pub fn drain_copy(&self, buffer: &mut Vec<u8>, max: u64, mut f: impl FnMut(&[u8])) -> u64 {
        self.drain(max, |words| {
            let bytes: &[u8] = zerocopy::IntoBytes::as_bytes(words);
            buffer.clear();
            buffer.extend_from_slice(bytes);
            f(buffer);
        })
    }
}

/// The cold regime for one consumer: a ring of its own, filled in
/// ring-sized rounds (untimed), drained by the consumer (timed) and handed
/// back (untimed).
pub struct Cold<E: RingEvent + Words> {
    producer: BenchProducer,
    state: State<E>,
    consumer: Consumer,
    /// The next sequence number expected.
    seq: u64,
}

impl<E: RingEvent + Words> Cold<E> {
    pub fn new(ring_size: u32, consumer: Consumer) -> Self {
        let mut producer = BenchProducer::new(ring_size, E::SIZE as u32);
        let state = State::new(consumer, &mut producer);
        Self {
            producer,
            state,
            consumer,
            seq: 0,
        }
    }

    /// Records the ring holds when full.
    pub fn capacity(&self) -> u64 {
        self.producer.capacity()
    }

    /// Hands the ring to another consumer: the current one is dropped
    /// first (it released everything it read), so the new one starts where
    /// it stopped, on the same ring and the same memory.
    pub fn switch_to(&mut self, consumer: Consumer) {
        if consumer != self.consumer {
            self.state = State::Idle;
            self.state = State::new(consumer, &mut self.producer);
            self.consumer = consumer;
        }
    }

    /// Consumes `records`, doing `work` on each; returns the time spent
    /// draining.
    pub fn drain(&mut self, work: Work, records: u64) -> Duration {
        let capacity = self.capacity();
        let mut total = Duration::ZERO;
        let mut left = records;
        while left > 0 {
            let n = left.min(capacity);
            self.producer.prefill(n);
            let start = Instant::now();
            self.state.drain(self.consumer, work, n, &mut self.seq);
            total += start.elapsed();
            self.state.release();
            left -= n;
        }
        total
    }
}

/// Runs `f` while a producer thread keeps `producer` busy, in runs of
/// `batch` records written as `feed` says. Returns what `f` returned and
/// the producer's (emitted, failed reserves).
pub fn while_producing<R>(
    producer: &BenchProducer,
    batch: u32,
    feed: Feed,
    f: impl FnOnce() -> R,
) -> (R, (u64, u64)) {
    /// Stops the producer even when `f` panics (a sequence mismatch), so
    /// the scope's join does not wait forever.
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            // Relaxed: a stop flag, publishing no other data.
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let producer_thread = s.spawn(|| {
            if let Some(cpu) = feed.cpu {
                set_affinity(&cpu_set(cpu));
            }
            produce_until(producer, &stop, batch, feed)
        });
        let result = {
            let _stop = StopOnDrop(&stop);
            f()
        };
        (result, producer_thread.join().unwrap())
    })
}

/// The empty set of CPUs.
fn no_cpus() -> libc::cpu_set_t {
    // SAFETY: `cpu_set_t` is a bit mask, for which all zeroes is valid (the
    // empty set).
    unsafe { std::mem::zeroed() }
}

/// The set of one CPU.
pub fn cpu_set(cpu: usize) -> libc::cpu_set_t {
    let mut set = no_cpus();
    assert!(
        cpu < libc::CPU_SETSIZE as usize,
        "no CPU {cpu} in a cpu_set_t"
    );
    // SAFETY: `set` is a valid `cpu_set_t` and `cpu` is below
    // `CPU_SETSIZE`, so the bit it sets is inside it.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    set
}

/// The CPUs this thread may run on.
pub fn affinity() -> libc::cpu_set_t {
    let mut set = no_cpus();
    // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(
        rc,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    set
}

/// Lets this thread run only on the CPUs of `set`.
pub fn set_affinity(set: &libc::cpu_set_t) {
    // SAFETY: `set` is a valid `cpu_set_t` of the size passed.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(set), set) };
    assert_eq!(
        rc,
        0,
        "sched_setaffinity: {}",
        std::io::Error::last_os_error()
    );
}

/// Keeps producing until `stop`; returns (emitted, failed reserves).
fn produce_until(
    producer: &BenchProducer,
    stop: &AtomicBool,
    batch: u32,
    feed: Feed,
) -> (u64, u64) {
    let (mut emitted, mut failed) = (0u64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let (e, f) = producer.fill(batch, feed);
        emitted += u64::from(e);
        failed += u64::from(f);
        if f > 0 {
            std::thread::yield_now();
        }
    }
    (emitted, failed)
}

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// `ns` per record and GB/s for `n` records of `size` bytes in `elapsed`.
pub fn rates(elapsed: Duration, n: u64, size: usize) -> (f64, f64) {
    let ns = elapsed.as_nanos() as f64 / n as f64;
    (ns, size as f64 / ns)
}
