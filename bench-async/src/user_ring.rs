//! Writes into a user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`) by record
//! size, in one run, five producers:
//!
//! - ringview `reserve`: `UserRingBuf::reserve::<T>()` (zeroed), the whole
//!   record assigned through the guard (`*record = template`), its first
//!   word set to the sequence number, `submit()`: the README's form;
//! - ringview `reserve_unzeroed`: the same through
//!   `reserve_unzeroed::<T>()`, the write-once path (no zeroing);
//! - ringview `push`: the record built as a value (the template with its
//!   sequence number) and copied in by `push(&value)`;
//! - a hand-written producer loop over a raw mapping of the same kind of
//!   map: the same protocol (BUSY header, Release store of the producer
//!   position, copy, Release store of the header) with only the space
//!   check, and the ring's size read from the map as any producer must;
//! - libbpf's C `user_ring_buffer__reserve` / `user_ring_buffer__submit`
//!   (`c/libbpf_user_ring.c`, compiled against the system libbpf, one
//!   function per record size so its copy has a constant size too).
//!
//! Each record is the same bytes for all of them: a copy of a template of the
//! record's size with the sequence number in word 0.
//!
//! What the BPF side does: nothing while a producer is timed. Each producer
//! has its own 4 MiB user ring and fills it from empty until a reserve fails
//! for want of room, on this thread's CPU clock; then, untimed,
//! `benches/bpf/user_drain.bpf.c` (BPF_PROG_TEST_RUN of an XDP program)
//! empties it with `bpf_user_ringbuf_drain` (`BPF_RB_NO_WAKEUP`, so no
//! wakeup either) and the run checks that it drained every record written,
//! which it would not if one were malformed. So the time is the producer
//! path alone, under the same conditions for all of them: a ring with room,
//! the consumer position moving only between fills, no syscall.
//!
//! One turn of each producer (4 fills of its ring, or enough for 100,000
//! records), in a rotating order, makes a round; the table gives the median
//! over rounds of ns per record and of each round's ratios, so a slow phase
//! of the machine hits them all alike. The CPU clock (not the wall clock)
//! leaves out the time other work holds the core.
//!
//! `--callgrind PRODUCER SIZE` (PRODUCER: `ringview`, `unzeroed`, `push`,
//! `hand`, `libbpf`) fills one ring once and prints the records written,
//! for instruction counts: `valgrind --tool=callgrind --toggle-collect=PATTERN`,
//! with PATTERN `*fill_ringview*` (all three ringview producers),
//! `*fill_hand*` or `libbpf_user_ring_fill_*`
//! (the one function that runs per record, with what it calls).

use std::ffi::c_void;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use aya::maps::Map;
use aya::{Ebpf, EbpfLoader};
use ringview::{ReserveError, RingEvent, UserRingBuf};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::common::{load_xdp, run_xdp};
use crate::support::median;

const DRAIN_OBJ: &[u8] = include_bytes!("../../benches/bpf/user_drain.bpf.o");
/// `max_entries` of `user_rb` in `user_drain.bpf.c`.
const RING: usize = 4 << 20;
const BPF_RINGBUF_BUSY_BIT: u32 = 1 << 31;
/// Fills of its ring a producer makes in one turn of a round, at least.
const FILLS_PER_TURN: u64 = 4;
/// Records a producer writes in one turn of a round, at least (whole fills).
const RECORDS_PER_TURN: u64 = 100_000;

/// libbpf's `struct user_ring_buffer`, opaque.
#[repr(C)]
struct LibbpfUserRing {
    _opaque: [u8; 0],
}

type LibbpfFill =
    unsafe extern "C" fn(*mut LibbpfUserRing, *const c_void, u64, *mut libc::c_int) -> u64;

extern "C" {
    /// `c/libbpf_user_ring.c`: `user_ring_buffer__new(map_fd, NULL)`.
    fn libbpf_user_ring_new(map_fd: libc::c_int) -> *mut LibbpfUserRing;
    /// `user_ring_buffer__free`.
    fn libbpf_user_ring_free(rb: *mut LibbpfUserRing);
}

/// A record of one of the measured sizes.
trait Record: RingEvent + FromBytes + IntoBytes + Immutable + KnownLayout + Copy {
    /// libbpf's writer of records of this size.
    const LIBBPF_FILL: LibbpfFill;
    fn template() -> Self;
    fn set_seq(&mut self, seq: u64);
}

macro_rules! records {
    ($($name:ident = $size:literal, $fill:ident;)*) => {
        extern "C" {
            $(
                /// `c/libbpf_user_ring.c`: fills the ring with records of
                /// this size; returns how many, and the errno that stopped it.
                fn $fill(
                    rb: *mut LibbpfUserRing,
                    template: *const c_void,
                    seq: u64,
                    err: *mut libc::c_int,
                ) -> u64;
            )*
        }
        $(
            #[derive(Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
            #[repr(C)]
            struct $name {
                seq: u64,
                rest: [u64; $size / 8 - 1],
            }
            impl Record for $name {
                const LIBBPF_FILL: LibbpfFill = $fill;
                fn template() -> Self {
                    Self {
                        seq: 0,
                        rest: std::array::from_fn(|i| 0x0101_0101_0101_0101 * (i as u64 + 1)),
                    }
                }
                #[inline(always)]
                fn set_seq(&mut self, seq: u64) {
                    self.seq = seq;
                }
            }
        )*
    };
}

records! {
    R16 = 16, libbpf_user_ring_fill_16;
    R64 = 64, libbpf_user_ring_fill_64;
    R256 = 256, libbpf_user_ring_fill_256;
    R1024 = 1024, libbpf_user_ring_fill_1024;
    R2432 = 2432, libbpf_user_ring_fill_2432;
}

/// A loaded drain program and its user ring.
struct Drainer {
    ebpf: Ebpf,
}

impl Drainer {
    fn new() -> Self {
        let mut ebpf = EbpfLoader::new()
            .allow_unsupported_maps()
            .load(DRAIN_OBJ)
            .expect("load user_drain.bpf.o (run as root)");
        load_xdp(&mut ebpf, &["drain"]);
        Self { ebpf }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self.ebpf.map("user_rb").expect("map user_rb") {
            Map::Unsupported(data) => data.fd().as_fd(),
            other => panic!("user_rb: {other:?}"),
        }
    }

    /// The ring's size, from the kernel (`max_entries`).
    fn size(&self) -> usize {
        match self.ebpf.map("user_rb").expect("map user_rb") {
            Map::Unsupported(data) => data.info().expect("map info").max_entries() as usize,
            other => panic!("user_rb: {other:?}"),
        }
    }

    /// Empties the ring; returns how many records the kernel drained.
    fn drain(&self) -> u64 {
        let out = run_xdp(&self.ebpf, "drain", &[0; 64]);
        let drained = i64::from_ne_bytes(out[..8].try_into().unwrap());
        assert!(drained >= 0, "bpf_user_ringbuf_drain failed: {drained}");
        drained as u64
    }
}

/// The protocol by hand over a raw mapping: what a careful producer writes
/// without a library, with only the space check. Like any producer of a map
/// it learns the ring's size from the kernel when it maps it.
struct HandRing {
    consumer: NonNull<usize>,
    producer: NonNull<usize>,
    data: NonNull<u8>,
    size: usize,
    pos: usize,
    cached_consumer: usize,
    mappings: [(NonNull<c_void>, usize); 2],
}

impl HandRing {
    fn new(fd: BorrowedFd<'_>, size: usize) -> Self {
        assert!(size.is_power_of_two());
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let map = |len: usize, prot: i32, offset: usize| {
            // SAFETY: a new shared mapping of the map's pages at `offset`
            // with the permissions the kernel allows there (read-only for
            // the consumer page, read-write for the rest); checked below.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    prot,
                    libc::MAP_SHARED,
                    fd.as_raw_fd(),
                    offset as libc::off_t,
                )
            };
            assert_ne!(ptr, libc::MAP_FAILED, "mmap user ring");
            NonNull::new(ptr).unwrap()
        };
        let consumer = map(page, libc::PROT_READ, 0);
        let producer_len = page + 2 * size;
        let producer = map(producer_len, libc::PROT_READ | libc::PROT_WRITE, page);
        // SAFETY: the data pages start one page into the producer mapping,
        // which is `page + 2 * size` bytes long.
        let data = unsafe { producer.cast::<u8>().add(page) };
        let mut ring = Self {
            consumer: consumer.cast(),
            producer: producer.cast(),
            data,
            size,
            pos: 0,
            cached_consumer: 0,
            mappings: [(consumer, page), (producer, producer_len)],
        };
        // SAFETY: the producer word of the live mapping; nothing else
        // writes it.
        ring.pos = unsafe { AtomicUsize::from_ptr(ring.producer.as_ptr()) }.load(Ordering::Acquire);
        ring.cached_consumer = ring.load_consumer();
        ring
    }

    #[inline(always)]
    fn load_consumer(&self) -> usize {
        // SAFETY: the consumer word of the live mapping, aligned; the kernel
        // stores it atomically (`smp_store_release` in
        // `__bpf_user_ringbuf_sample_release`), and this Acquire load pairs
        // with it.
        unsafe { AtomicUsize::from_ptr(self.consumer.as_ptr()) }.load(Ordering::Acquire)
    }

    #[inline(always)]
    fn push<T: Record>(&mut self, template: &T, seq: u64) -> bool {
        let len = size_of::<T>();
        let stride = (len + 8 + 7) & !7;
        if self.pos + stride - self.cached_consumer > self.size {
            self.cached_consumer = self.load_consumer();
            if self.pos + stride - self.cached_consumer > self.size {
                return false;
            }
        }
        let offset = self.pos & (self.size - 1);
        // SAFETY: `offset < size`: inside the data area.
        let header = unsafe { self.data.add(offset) };
        // SAFETY: an 8-aligned header word of the live mapping, which the
        // kernel reads only atomically (`smp_load_acquire(hdr)`).
        let header = unsafe { AtomicU32::from_ptr(header.cast::<u32>().as_ptr()) };
        // Relaxed: published by the Release store of the producer position.
        header.store(len as u32 | BPF_RINGBUF_BUSY_BIT, Ordering::Relaxed);
        self.pos += stride;
        // SAFETY: the producer word of the live mapping. Release pairs with
        // `smp_load_acquire(&rb->producer_pos)` in `__bpf_user_ringbuf_peek`.
        unsafe { AtomicUsize::from_ptr(self.producer.as_ptr()) }.store(self.pos, Ordering::Release);
        // SAFETY: the payload follows the header inside the data area (mapped
        // twice, so a record that wraps is contiguous).
        let payload = unsafe { self.data.add(offset + 8) }.cast::<T>();
        // SAFETY: `payload` is 8-aligned, valid for a `T`, and the kernel
        // does not read it while the header is BUSY.
        unsafe { payload.write(*template) };
        // SAFETY: as above; `seq` is the first field.
        unsafe { payload.cast::<u64>().write(seq) };
        // Release: pairs with `smp_load_acquire(hdr)` in
        // `__bpf_user_ringbuf_peek`.
        header.store(len as u32, Ordering::Release);
        true
    }
}

impl Drop for HandRing {
    fn drop(&mut self) {
        for (ptr, len) in self.mappings {
            // SAFETY: each was mapped in `new` with this length, and nothing
            // points into it any more.
            unsafe { libc::munmap(ptr.as_ptr(), len) };
        }
    }
}

/// libbpf's producer of one ring.
struct LibbpfRing(NonNull<LibbpfUserRing>);

impl LibbpfRing {
    fn new(fd: BorrowedFd<'_>) -> Self {
        // SAFETY: `fd` is a live user ring map; libbpf maps it for itself.
        let rb = unsafe { libbpf_user_ring_new(fd.as_raw_fd()) };
        Self(NonNull::new(rb).expect("user_ring_buffer__new"))
    }
}

impl Drop for LibbpfRing {
    fn drop(&mut self) {
        // SAFETY: made by `user_ring_buffer__new`, freed once.
        unsafe { libbpf_user_ring_free(self.0.as_ptr()) };
    }
}

#[inline(never)]
fn fill_ringview<T: Record>(ring: &mut UserRingBuf, template: &T, seq: u64) -> u64 {
    let mut n = 0;
    loop {
        match ring.reserve::<T>() {
            Ok(mut record) => {
                *record = *template;
                record.set_seq(seq + n);
                record.submit();
                n += 1;
            }
            Err(ReserveError::Full { .. }) => return n,
            Err(err) => panic!("{err}"),
        }
    }
}

#[inline(never)]
fn fill_ringview_unzeroed<T: Record>(ring: &mut UserRingBuf, template: &T, seq: u64) -> u64 {
    let mut n = 0;
    loop {
        match ring.reserve_unzeroed::<T>() {
            Ok(mut record) => {
                *record = *template;
                record.set_seq(seq + n);
                record.submit();
                n += 1;
            }
            Err(ReserveError::Full { .. }) => return n,
            Err(err) => panic!("{err}"),
        }
    }
}

#[inline(never)]
fn fill_ringview_push<T: Record>(ring: &mut UserRingBuf, template: &T, seq: u64) -> u64 {
    let mut n = 0;
    loop {
        let mut value = *template;
        value.set_seq(seq + n);
        match ring.push(&value) {
            Ok(()) => n += 1,
            Err(ReserveError::Full { .. }) => return n,
            Err(err) => panic!("{err}"),
        }
    }
}

#[inline(never)]
fn fill_hand<T: Record>(ring: &mut HandRing, template: &T, seq: u64) -> u64 {
    let mut n = 0;
    while ring.push(template, seq + n) {
        n += 1;
    }
    n
}

fn fill_libbpf<T: Record>(ring: &LibbpfRing, template: &T, seq: u64) -> u64 {
    let mut err = 0;
    // SAFETY: a live libbpf user ring; `template` is valid for the record's
    // size, which is the size this function writes; `err` is writable.
    let n = unsafe {
        T::LIBBPF_FILL(
            ring.0.as_ptr(),
            (template as *const T).cast(),
            seq,
            &mut err,
        )
    };
    assert_eq!(err, libc::ENOSPC, "user_ring_buffer__reserve");
    n
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Producer {
    Ringview,
    Unzeroed,
    Push,
    Hand,
    Libbpf,
}

impl Producer {
    const ALL: [Producer; 5] = [
        Producer::Ringview,
        Producer::Unzeroed,
        Producer::Push,
        Producer::Hand,
        Producer::Libbpf,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Ringview => "ringview",
            Self::Unzeroed => "unzeroed",
            Self::Push => "push",
            Self::Hand => "hand",
            Self::Libbpf => "libbpf",
        }
    }
}

/// The producers of one record size, each on its own ring.
struct Producers<T: Record> {
    drainers: [Drainer; 5],
    ringview: UserRingBuf,
    unzeroed: UserRingBuf,
    push: UserRingBuf,
    hand: HandRing,
    libbpf: LibbpfRing,
    template: T,
    seq: u64,
}

impl<T: Record> Producers<T> {
    fn new() -> Self {
        let drainers = std::array::from_fn(|_| Drainer::new());
        // SAFETY: this is the map's only producer.
        let ringview = unsafe { UserRingBuf::new(drainers[0].fd()) }.expect("UserRingBuf");
        // SAFETY: this is the map's only producer.
        let unzeroed = unsafe { UserRingBuf::new(drainers[1].fd()) }.expect("UserRingBuf");
        // SAFETY: this is the map's only producer.
        let push = unsafe { UserRingBuf::new(drainers[2].fd()) }.expect("UserRingBuf");
        let hand = HandRing::new(drainers[3].fd(), drainers[3].size());
        let libbpf = LibbpfRing::new(drainers[4].fd());
        Self {
            drainers,
            ringview,
            unzeroed,
            push,
            hand,
            libbpf,
            template: T::template(),
            seq: 0,
        }
    }

    /// Fills `producer`'s ring from empty; returns the records written and
    /// the CPU time it took, then drains the ring (untimed).
    fn fill(&mut self, producer: Producer) -> (u64, Duration) {
        let start = thread_cpu();
        let n = match producer {
            Producer::Ringview => fill_ringview(&mut self.ringview, &self.template, self.seq),
            Producer::Unzeroed => {
                fill_ringview_unzeroed(&mut self.unzeroed, &self.template, self.seq)
            }
            Producer::Push => fill_ringview_push(&mut self.push, &self.template, self.seq),
            Producer::Hand => fill_hand(&mut self.hand, &self.template, self.seq),
            Producer::Libbpf => fill_libbpf(&self.libbpf, &self.template, self.seq),
        };
        let elapsed = thread_cpu() - start;
        self.seq += n;
        let drained = self.drainers[producer as usize].drain();
        assert_eq!(
            drained,
            n,
            "{}: the kernel drained what was written",
            producer.name()
        );
        (n, elapsed)
    }
}

fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut now) };
    assert_eq!(ret, 0, "clock_gettime");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// One table row: `rounds` alternating rounds of one fill per producer.
fn row<T: Record>(rounds: usize) {
    let mut producers = Producers::<T>::new();
    // Warm-up: every page of every ring faulted in, every code path run.
    for producer in Producer::ALL {
        producers.fill(producer);
    }
    // Each producer's turn in a round is `FILLS_PER_TURN` fills, or more for
    // at least `RECORDS_PER_TURN` records.
    let per_fill = (RING / (size_of::<T>() + 8)) as u64;
    let fills = RECORDS_PER_TURN.div_ceil(per_fill).max(FILLS_PER_TURN);
    let mut ns = [const { Vec::new() }; 5];
    let turns = Producer::ALL.len();
    for round in 0..rounds {
        for i in 0..turns {
            let producer = Producer::ALL[(round + i) % turns];
            let (mut records, mut elapsed) = (0, Duration::ZERO);
            for _ in 0..fills {
                let (n, time) = producers.fill(producer);
                records += n;
                elapsed += time;
            }
            ns[producer as usize].push(elapsed.as_nanos() as f64 / records as f64);
        }
    }
    // Each ratio is the median of the rounds' ratios.
    let ratio = |of: Producer, to: Producer| {
        let mut r: Vec<f64> = (0..rounds)
            .map(|r| ns[of as usize][r] / ns[to as usize][r])
            .collect();
        median(&mut r)
    };
    let vs_hand =
        [Producer::Ringview, Producer::Unzeroed, Producer::Push].map(|p| ratio(p, Producer::Hand));
    let vs_libbpf = ratio(Producer::Unzeroed, Producer::Libbpf);
    let [ringview, unzeroed, push, hand, libbpf] = ns.map(|mut v| median(&mut v));
    let cell = |ns: f64| format!("{ns:.2} ({:.0} M/s)", 1e3 / ns);
    println!(
        "| {} B | {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
        size_of::<T>(),
        cell(ringview),
        cell(unzeroed),
        cell(push),
        cell(hand),
        cell(libbpf),
        vs_hand[0],
        vs_hand[1],
        vs_hand[2],
        vs_libbpf,
    );
}

/// The user ring table, or with `--callgrind PRODUCER SIZE` one fill for
/// instruction counts.
pub fn main(quick: bool) {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--callgrind") {
        let usage = "--callgrind ringview|unzeroed|push|hand|libbpf SIZE";
        let producer = args.get(at + 1).expect(usage);
        let producer = Producer::ALL
            .into_iter()
            .find(|p| p.name() == producer)
            .expect(usage);
        let size: usize = args.get(at + 2).expect(usage).parse().expect(usage);
        let n = match size {
            16 => callgrind::<R16>(producer),
            64 => callgrind::<R64>(producer),
            256 => callgrind::<R256>(producer),
            1024 => callgrind::<R1024>(producer),
            2432 => callgrind::<R2432>(producer),
            _ => panic!("{usage}: SIZE is one of 16, 64, 256, 1024, 2432"),
        };
        println!("{} {size} B: {n} records", producer.name());
        return;
    }
    let rounds = if quick { 3 } else { 60 };
    println!(
        "\n## User ring writes: {RING} B ring filled from empty, drained untimed, median of {rounds} alternating rounds\n"
    );
    println!(
        "| record | `reserve` ns/record | `reserve_unzeroed` ns/record | `push` ns/record | hand-written loop ns/record | libbpf C ns/record | reserve/hand | unzeroed/hand | push/hand | unzeroed/libbpf |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    row::<R16>(rounds);
    row::<R64>(rounds);
    row::<R256>(rounds);
    row::<R1024>(rounds);
    row::<R2432>(rounds);
}

fn callgrind<T: Record>(producer: Producer) -> u64 {
    let mut producers = Producers::<T>::new();
    producers.fill(producer).0
}
