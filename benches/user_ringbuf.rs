//! Typed writes into a user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`) by
//! record size, run as root: `cargo bench -p ringview-benches --bench user_ringbuf`.
//!
//! Each writer fills its own 4 MiB kernel user ring; when the ring is
//! full the timer stops and a BPF program (`benches/bpf/user_drain.bpf.c`)
//! empties it with `bpf_user_ringbuf_drain`, untimed. Writers:
//!
//! - `push`: `UserRingBuf::push(&value)`, one copy of the whole value;
//! - `reserve`: `UserRingBuf::reserve::<T>()` (zeroed in place), then the
//!   whole value assigned through the guard, then `submit()`;
//! - `hand_loop`: the same protocol written by hand over a raw mapping of
//!   the same kind of map (BUSY header, Release producer position, copy,
//!   Release header), with no checks beyond the space check.
//!
//! The table in `benches/README.md`, with libbpf's C producer as well,
//! comes from `bench-async/` (`src/user_ring.rs`, `--user-ring`), which compiles C
//! against the system libbpf and so stays outside the workspace.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aya::maps::Map;
use aya::programs::{TestRun, TestRunOptions, Xdp};
use aya::{Ebpf, EbpfLoader};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringview::{ReserveError, RingEvent, UserRingBuf};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

const DRAIN_OBJ: &[u8] = include_bytes!("bpf/user_drain.bpf.o");
const RING: usize = 4 * 1024 * 1024;

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
        let prog: &mut Xdp = ebpf.program_mut("drain").unwrap().try_into().unwrap();
        prog.load().expect("load drain");
        Self { ebpf }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self.ebpf.map("user_rb").unwrap() {
            Map::Unsupported(data) => data.fd().as_fd(),
            other => panic!("{other:?}"),
        }
    }

    /// Empties the ring (untimed by the callers).
    fn drain(&self) {
        let prog: &Xdp = self.ebpf.program("drain").unwrap().try_into().unwrap();
        let mut out = [0u8; 64];
        prog.test_run(TestRunOptions {
            data_in: Some(&[0u8; 64]),
            data_out: Some(&mut out),
            ..TestRunOptions::new()
        })
        .expect("BPF_PROG_TEST_RUN");
        let drained = i64::from_ne_bytes(out[..8].try_into().unwrap());
        assert!(drained > 0, "the kernel drained {drained}");
    }
}

macro_rules! records {
    ($($name:ident = $size:literal),*) => { $(
        #[derive(Clone, Copy, FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
        #[repr(C)]
        struct $name {
            seq: u64,
            rest: [u64; $size / 8 - 1],
        }
        impl Record for $name {
            fn make(seq: u64) -> Self {
                Self { seq, rest: [seq; $size / 8 - 1] }
            }
        }
    )* };
}

trait Record: RingEvent + FromBytes + IntoBytes + Immutable + KnownLayout + Copy {
    fn make(seq: u64) -> Self;
}

records!(R16 = 16, R64 = 64, R256 = 256, R1024 = 1024, R2560 = 2560);

/// Writes `iters` records with `write`, draining (untimed) when it fails.
fn timed<T: Record>(iters: u64, drainer: &Drainer, mut write: impl FnMut(&T) -> bool) -> Duration {
    let mut total = Duration::ZERO;
    let mut seq = 0;
    while seq < iters {
        let start = Instant::now();
        while seq < iters {
            let value = T::make(seq);
            if !write(&value) {
                break;
            }
            seq += 1;
        }
        total += start.elapsed();
        if seq < iters {
            drainer.drain();
        }
    }
    total
}

/// The protocol by hand over a raw mapping: what `UserRingBuf` does,
/// without its checks or guard.
struct HandRing {
    consumer: NonNull<usize>,
    producer: NonNull<usize>,
    data: NonNull<u8>,
    base: [(*mut libc::c_void, usize); 2],
    pos: usize,
    cached_consumer: usize,
}

impl HandRing {
    fn new(fd: BorrowedFd<'_>) -> Self {
        let page = 4096;
        let map = |len: usize, prot: i32, offset: i64| {
            // SAFETY: maps `len` bytes of the user ring at `offset` with the
            // permissions the kernel allows there; the result is checked.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    prot,
                    libc::MAP_SHARED,
                    fd.as_raw_fd(),
                    offset,
                )
            };
            assert_ne!(ptr, libc::MAP_FAILED);
            ptr
        };
        let cons = map(page, libc::PROT_READ, 0);
        let prod_len = page + 2 * RING;
        let prod = map(prod_len, libc::PROT_READ | libc::PROT_WRITE, page as i64);
        let producer = NonNull::new(prod.cast::<usize>()).unwrap();
        // SAFETY: the data pages start one page into the producer mapping.
        let data = unsafe { producer.cast::<u8>().add(page) };
        Self {
            consumer: NonNull::new(cons.cast()).unwrap(),
            producer,
            data,
            base: [(cons, page), (prod, prod_len)],
            pos: 0,
            cached_consumer: 0,
        }
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) -> bool {
        let len = bytes.len();
        let stride = (len + 8 + 7) & !7;
        if self.pos + stride - self.cached_consumer > RING {
            // SAFETY: the consumer word of a live mapping; the kernel stores
            // it atomically. Acquire pairs with its Release store.
            self.cached_consumer =
                unsafe { AtomicUsize::from_ptr(self.consumer.as_ptr()) }.load(Ordering::Acquire);
            if self.pos + stride - self.cached_consumer > RING {
                return false;
            }
        }
        let offset = self.pos & (RING - 1);
        // SAFETY: inside the data area (offset < RING).
        let header = unsafe { self.data.add(offset) }.cast::<u32>();
        // SAFETY: 8-aligned header word of a live mapping.
        let header = unsafe { AtomicU32::from_ptr(header.as_ptr()) };
        // Relaxed, published by the Release store of the producer position.
        header.store(len as u32 | (1 << 31), Ordering::Relaxed);
        self.pos += stride;
        // SAFETY: the producer word of a live mapping. Release pairs with
        // the kernel's Acquire load in `__bpf_user_ringbuf_peek`.
        unsafe { AtomicUsize::from_ptr(self.producer.as_ptr()) }.store(self.pos, Ordering::Release);
        // SAFETY: the payload lies in the data area (mapped twice, so a
        // wrapped record is contiguous); the kernel does not read it while
        // the header is BUSY.
        let payload = unsafe { self.data.add(offset + 8) };
        // SAFETY: `bytes` and the ring do not overlap; `payload` is valid
        // for `len` bytes (above).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), payload.as_ptr(), len) };
        // Release pairs with the kernel's Acquire load of the header.
        header.store(len as u32, Ordering::Release);
        true
    }
}

impl Drop for HandRing {
    fn drop(&mut self) {
        for (ptr, len) in self.base {
            // SAFETY: each was mapped in `new` with this length.
            unsafe { libc::munmap(ptr, len) };
        }
    }
}

fn by_size<T: Record>(c: &mut Criterion, size: usize) {
    let mut group = c.benchmark_group("user_ring_write");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));

    let drainer = Drainer::new();
    // SAFETY: this bench is the map's only producer.
    let mut ring = unsafe { UserRingBuf::new(drainer.fd()) }.unwrap();
    group.bench_function(BenchmarkId::new("push", size), |b| {
        b.iter_custom(|iters| {
            timed::<T>(iters, &drainer, |v| match ring.push(v) {
                Ok(()) => true,
                Err(ReserveError::Full { .. }) => false,
                Err(err) => panic!("{err}"),
            })
        })
    });
    drop(ring);

    let drainer = Drainer::new();
    // SAFETY: as above.
    let mut ring = unsafe { UserRingBuf::new(drainer.fd()) }.unwrap();
    group.bench_function(BenchmarkId::new("reserve", size), |b| {
        b.iter_custom(|iters| {
            timed::<T>(iters, &drainer, |v| match ring.reserve::<T>() {
                Ok(mut record) => {
                    *record = *v;
                    record.submit();
                    true
                }
                Err(ReserveError::Full { .. }) => false,
                Err(err) => panic!("{err}"),
            })
        })
    });
    drop(ring);

    let drainer = Drainer::new();
    let mut hand = HandRing::new(drainer.fd());
    group.bench_function(BenchmarkId::new("hand_loop", size), |b| {
        b.iter_custom(|iters| timed::<T>(iters, &drainer, |v| hand.push(v.as_bytes())))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    by_size::<R16>(c, 16);
    by_size::<R64>(c, 64);
    by_size::<R256>(c, 256);
    by_size::<R1024>(c, 1024);
    by_size::<R2560>(c, 2560);
}

criterion_group!(user_ring, benches);
criterion_main!(user_ring);
