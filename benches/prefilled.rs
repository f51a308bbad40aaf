//! Draining a 64 MiB ring prefilled by a BPF program: ns per record for the
//! copying `Reader::read_into` and the typed zero-copy `UnsafeReader::read`,
//! at 128 B and 2432 B records, reading three fields of each. The prefill is
//! not timed. `by_struct_size` covers every size and consumer; this is the
//! quick comparison.
//!
//! Run as root: `cargo bench --bench prefilled`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringview::RingEvent;

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use support::{BenchProducer, Consumer, State, Words, Work};

const RING: u32 = 64 << 20;

fn bench_size<E: RingEvent + Words>(c: &mut Criterion, size: usize) {
    let mut group = c.benchmark_group("prefilled_64MiB");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, consumer) in [
        ("read_into", Consumer::Copy),
        ("zero_copy_read", Consumer::ZeroCopy),
    ] {
        let mut producer = BenchProducer::new(RING, size as u32);
        let mut state = State::<E>::new(consumer, &mut producer);
        let mut seq = 0;
        group.bench_function(BenchmarkId::new(name, size), |b| {
            b.iter_custom(|iters| {
                support::drain_prefilled(
                    &producer,
                    &mut state,
                    consumer,
                    Work::Fields,
                    iters,
                    &mut seq,
                )
            })
        });
    }
    group.finish();
}

fn prefilled(c: &mut Criterion) {
    if !common::kernel_available() {
        return;
    }
    bench_size::<support::E128>(c, 128);
    bench_size::<support::E2432>(c, 2432);
}

criterion_group!(benches, prefilled);
criterion_main!(benches);
