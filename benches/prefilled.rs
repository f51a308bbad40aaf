//! Draining a 64 MiB ring prefilled by a BPF program: ns per record for the
//! copying `Reader::read_into` and the typed zero-copy `UnsafeReader::read`,
//! at 128 B and 2432 B records. The prefill is not timed.
//!
//! Run as root: `cargo bench --bench prefilled`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringview::{ReadError, Reader, Record, RingBuf, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[path = "../tests/common/mod.rs"]
mod common;
use common::Producer;

const RING: u32 = 64 << 20;

/// Records of a given size: sequence number first, as the producer writes it.
macro_rules! events {
    ($($name:ident: $rest:literal),*) => { $(
        #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
        #[repr(C)]
        struct $name {
            seq: u64,
            rest: [u8; $rest],
        }
    )* };
}
events!(Event128: 120, Event2432: 2424);

/// Splits `iters` records into ring-sized rounds: prefills each (untimed),
/// times `drain` over it, then lets `release` hand the space back (untimed).
fn timed_drains<R>(
    producer: &Producer,
    size: u32,
    iters: u64,
    seq: &mut u64,
    reader: &mut R,
    mut drain: impl FnMut(&mut R, u64, &mut u64),
    mut release: impl FnMut(&mut R),
) -> Duration {
    let capacity = u64::from((RING - 1) / ((size + 8 + 7) & !7));
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let want = left.min(capacity) as u32;
        let emitted = producer.emit(want, size, *seq, 0);
        assert_eq!(emitted.emitted, want, "prefill failed: {emitted:?}");
        let start = Instant::now();
        drain(reader, u64::from(want), seq);
        total += start.elapsed();
        release(reader);
        left -= u64::from(want);
    }
    total
}

fn bench_size<E: RingEvent>(c: &mut Criterion, producer: &Producer, seq_of: fn(&E) -> u64) {
    let size = E::SIZE as u32;
    let mut group = c.benchmark_group("prefilled_64MiB");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));

    let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    let mut record = Record::default();
    let mut seq = 0u64;
    group.bench_function(BenchmarkId::new("read_into", size), |b| {
        b.iter_custom(|iters| {
            timed_drains(
                producer,
                size,
                iters,
                &mut seq,
                &mut reader,
                |reader, n, seq| {
                    for _ in 0..n {
                        reader.read_into(&mut record).unwrap();
                        let got = u64::from_le_bytes(record.sample[..8].try_into().unwrap());
                        assert_eq!(got, *seq, "sequence");
                        *seq += 1;
                        black_box(&record);
                    }
                },
                |reader| {
                    // A read that would block publishes everything first.
                    reader.set_deadline(Some(Instant::now()));
                    assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
                },
            )
        })
    });
    drop(reader);

    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: the bench's only consumer of this ring.
    let mut reader = unsafe { UnsafeReader::<E>::new(ring) }.unwrap();
    group.bench_function(BenchmarkId::new("zero_copy_read", size), |b| {
        b.iter_custom(|iters| {
            timed_drains(
                producer,
                size,
                iters,
                &mut seq,
                &mut reader,
                |reader, n, seq| {
                    for _ in 0..n {
                        let event = reader.read().unwrap();
                        assert_eq!(seq_of(event), *seq, "sequence");
                        *seq += 1;
                        black_box(event);
                    }
                },
                UnsafeReader::commit,
            )
        })
    });
    group.finish();
}

fn prefilled(c: &mut Criterion) {
    if !common::kernel_available() {
        return;
    }
    let producer = Producer::new(RING);
    bench_size::<Event128>(c, &producer, |e| e.seq);
    bench_size::<Event2432>(c, &producer, |e| e.seq);
}

criterion_group!(benches, prefilled);
criterion_main!(benches);
