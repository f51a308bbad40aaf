//! Draining a 64 MiB ring prefilled by a BPF program: ns per record for the
//! copying `Reader::read_into` and the typed zero-copy `UnsafeReader::read`,
//! at 128 B and 2432 B records, reading three fields of each. The prefill is
//! not timed. `by_struct_size` covers every size and consumer; this is the
//! quick comparison.
//!
//! Run as root: `cargo bench -p ringview-benches --bench prefilled`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringview::RingEvent;

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use support::{Cold, Consumer, Words, Work};

const RING: u32 = 64 << 20;

fn bench_size<E: RingEvent + Words>(c: &mut Criterion) {
    let mut group = c.benchmark_group("prefilled_64MiB");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(4));
    for (name, consumer) in [
        ("read_into", Consumer::Copy),
        ("zero_copy_read", Consumer::ZeroCopy),
    ] {
        let mut cold = Cold::<E>::new(RING, consumer);
        group.bench_function(BenchmarkId::new(name, E::SIZE), |b| {
            b.iter_custom(|iters| cold.drain(Work::Fields, iters))
        });
    }
    group.finish();
}

fn prefilled(c: &mut Criterion) {
    if !common::kernel_available() {
        return;
    }
    bench_size::<support::E128>(c);
    bench_size::<support::E2432>(c);
}

criterion_group!(benches, prefilled);
criterion_main!(benches);
