//! Reading cost by struct size, for every consumer, in two regimes and with
//! two kinds of work per record. Run as root: `cargo bench -p ringview-benches --bench
//! by_struct_size` (filter with e.g. `-- cold_fields/zero_copy`).
//!
//! - cold: the ring (128 MiB, 4x the last-level cache) is prefilled by the
//!   BPF producer, untimed, then drained;
//! - hot: a producer thread keeps a 1 MiB ring (one core's L2) busy with
//!   default wakeups while the consumer drains it.
//!
//! Work: `fields` reads three words (first, middle, last), `payload` folds
//! every word into a checksum. Every consumer validates every record's
//! sequence number; a mismatch aborts the bench. `cargo bench -p ringview-benches --bench
//! bench_report` prints the same comparison as a table.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringview::RingEvent;

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use support::{
    BenchProducer, Cold, Consumer, Feed, State, Words, Work, COLD_RING, HOT_RING, SIZES,
};

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(1));
}

fn cold_size<E: RingEvent + Words>(c: &mut Criterion, work: Work, size: usize) {
    let mut group = c.benchmark_group(format!("cold_{}", work.name()));
    configure(&mut group);
    for consumer in Consumer::ALL {
        // Set up on first use, so a filtered run loads only what it measures.
        let mut setup: Option<Cold<E>> = None;
        group.bench_function(BenchmarkId::new(consumer.name(), size), |b| {
            let cold = setup.get_or_insert_with(|| Cold::new(COLD_RING, consumer));
            b.iter_custom(|iters| cold.drain(work, iters))
        });
    }
    group.finish();
}

fn hot_size<E: RingEvent + Words>(c: &mut Criterion, work: Work, size: usize) {
    let mut group = c.benchmark_group(format!("hot_{}", work.name()));
    configure(&mut group);
    for consumer in Consumer::ALL {
        let mut producer = BenchProducer::new(HOT_RING, size as u32);
        let mut state = State::<E>::new(consumer, &mut producer);
        support::while_producing(&producer, 64, Feed::default(), || {
            let mut seq = 0;
            group.bench_function(BenchmarkId::new(consumer.name(), size), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    let before = seq;
                    state.drain(consumer, work, iters, &mut seq);
                    // read_func may read past `iters`: time per record read.
                    start
                        .elapsed()
                        .mul_f64(iters as f64 / (seq - before) as f64)
                })
            });
        });
    }
    group.finish();
}

fn by_struct_size(c: &mut Criterion) {
    if !common::kernel_available() {
        return;
    }
    for work in Work::ALL {
        for size in SIZES {
            with_event!(size, E => cold_size::<E>(c, work, size));
        }
    }
    for work in Work::ALL {
        for size in SIZES {
            with_event!(size, E => hot_size::<E>(c, work, size));
        }
    }
}

criterion_group!(benches, by_struct_size);
criterion_main!(benches);
