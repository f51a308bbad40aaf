//! `RingSet` and `AsyncRingSet` against the kernel: fairness with one ring
//! flooded, an inner ring of a map-in-map, rings added and removed while a
//! producer runs.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aya::maps::{ArrayOfMaps, Map, MapData};
use aya::EbpfLoader;
use common::{load_xdp, run_xdp, seq_of, Producer};
use ringview::{RingBuf, RingEvent, RingSet, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

const QUOTA: usize = 64;

fn reader(producer: &Producer) -> UnsafeReader<[u8]> {
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: nothing outside this library consumes the test's rings.
    unsafe { UnsafeReader::new(ring) }.unwrap()
}

/// Emits 64-record bursts of 16 bytes into `producer` until `stop`.
fn flood(producer: &Producer, stop: &AtomicBool) {
    let mut seq = 0;
    while !stop.load(Ordering::Relaxed) {
        let emitted = producer.emit(64, 16, seq, 0);
        seq += u64::from(emitted.emitted);
        if emitted.failed > 0 {
            std::thread::yield_now();
        }
    }
}

#[test]
fn a_flooded_ring_does_not_delay_the_quiet_ones_past_the_bound() {
    require_kernel!();
    const ROUNDS: u64 = 100;
    let flooded = Producer::new(256 * 1024);
    let quiet: Vec<Producer> = (0..3).map(|_| Producer::new(4096)).collect();
    // Full before the set starts: the flooded ring always has more than a
    // round's worth.
    while flooded.emit(64, 16, 0, 0).failed == 0 {}

    let handled_flooded = Arc::new(AtomicU64::new(0));
    // (quiet ring, seq, flooded records handled when it was handled)
    let handled_quiet = Arc::new(Mutex::new(Vec::new()));
    let mut set = RingSet::new().unwrap();
    set.set_records_per_round(QUOTA);
    let count = Arc::clone(&handled_flooded);
    set.add(reader(&flooded), move |_: &[u8]| {
        count.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    for (index, producer) in quiet.iter().enumerate() {
        let log = Arc::clone(&handled_quiet);
        let count = Arc::clone(&handled_flooded);
        set.add(reader(producer), move |bytes: &[u8]| {
            let at = count.load(Ordering::Relaxed);
            log.lock().unwrap().push((index, seq_of(bytes), at));
        })
        .unwrap();
    }

    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| flood(&flooded, &stop));
        for round in 0..ROUNDS {
            let before = handled_flooded.load(Ordering::Relaxed);
            for producer in &quiet {
                assert_eq!(producer.emit(1, 16, round, 0).emitted, 1);
            }
            let give_up = Instant::now() + Duration::from_secs(10);
            loop {
                set.poll(Some(Duration::from_secs(1))).unwrap();
                let log = handled_quiet.lock().unwrap();
                if log.iter().filter(|&&(_, seq, _)| seq == round).count() == 3 {
                    for &(ring, _, at) in log.iter().filter(|&&(_, seq, _)| seq == round) {
                        // One round (`QUOTA` flooded records at most) per
                        // poll; the kernel's wakeup of a quiet ring is
                        // deferred (irq_work), so allow the poll before it
                        // lands too, and one more for slack.
                        assert!(
                            at - before <= 3 * QUOTA as u64,
                            "quiet ring {ring}'s record {round} waited for {} flooded records",
                            at - before
                        );
                    }
                    break;
                }
                assert!(Instant::now() < give_up, "quiet record {round} starved");
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    let log = handled_quiet.lock().unwrap();
    assert_eq!(log.len(), 3 * ROUNDS as usize, "no quiet record twice");
    assert!(
        handled_flooded.load(Ordering::Relaxed) > ROUNDS,
        "the flooded ring was read too"
    );
}

const MAP_IN_MAP_OBJ: &[u8] = include_bytes!("bpf/map_in_map.bpf.o");

/// `struct record` of `map_in_map.bpf.c`.
#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "tests/bpf/map_in_map.bpf.o", name = "record")]
#[repr(C)]
struct InnerRecord {
    seq: u64,
    slot: u64,
}

fn ring_data<'a>(ebpf: &'a aya::Ebpf, name: &str) -> &'a MapData {
    match ebpf.map(name).unwrap() {
        Map::RingBuf(data) => data,
        other => panic!("{name} is not a ring: {other:?}"),
    }
}

/// Runs `produce_inner`: `count` records from `seq` into the ring in `slot`.
fn produce_inner(ebpf: &aya::Ebpf, slot: u32, count: u32, seq: u64) -> u32 {
    let mut packet = [0u8; 64];
    packet[0..4].copy_from_slice(&count.to_ne_bytes());
    packet[4..8].copy_from_slice(&slot.to_ne_bytes());
    packet[8..16].copy_from_slice(&seq.to_ne_bytes());
    let out = run_xdp(ebpf, "produce_inner", &packet);
    u32::from_ne_bytes(out[16..20].try_into().unwrap())
}

#[test]
fn inner_rings_of_an_array_of_maps() {
    require_kernel!();
    let mut ebpf = EbpfLoader::new()
        .load(MAP_IN_MAP_OBJ)
        .expect("load map_in_map.bpf.o");
    load_xdp(&mut ebpf, &["produce_inner"]);
    let outer = ebpf.take_map("outer").expect("map outer");
    let mut outer: ArrayOfMaps<MapData, MapData> = outer.try_into().unwrap();
    outer.set(0, ring_data(&ebpf, "ring_a"), 0).unwrap();
    outer.set(1, ring_data(&ebpf, "ring_b"), 0).unwrap();

    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut set = RingSet::new().unwrap();
    // Slot 0 by the inner map's id, as user space reads it from the outer
    // map; slot 1 by a descriptor of the inner map.
    let inner_a: MapData = outer.get(&0, 0).unwrap();
    let id = inner_a.info().unwrap().id();
    let ring_a = RingBuf::from_map_id(id).unwrap();
    assert_eq!(ring_a.id(), ringview::RingId::Map(id));
    // SAFETY: nothing outside this library consumes the rings.
    let reader_a = unsafe { UnsafeReader::<InnerRecord>::new(ring_a) }.unwrap();
    let log = Arc::clone(&seen);
    let key_a = set
        .add(reader_a, move |r: &InnerRecord| {
            log.lock().unwrap().push((r.slot, r.seq))
        })
        .unwrap();

    assert_eq!(produce_inner(&ebpf, 0, 10, 0), 10);
    assert_eq!(set.poll(Some(Duration::from_secs(5))).unwrap(), 10);

    let inner_b: MapData = outer.get(&1, 0).unwrap();
    let ring_b = RingBuf::new(inner_b.fd()).unwrap();
    // SAFETY: as above.
    let reader_b = unsafe { UnsafeReader::<InnerRecord>::new(ring_b) }.unwrap();
    let log = Arc::clone(&seen);
    set.add(reader_b, move |r: &InnerRecord| {
        log.lock().unwrap().push((r.slot, r.seq))
    })
    .unwrap();
    assert_eq!(produce_inner(&ebpf, 1, 5, 100), 5);
    assert_eq!(produce_inner(&ebpf, 0, 5, 10), 5);
    assert!(set.remove(key_a).unwrap().is_some());
    // Ring a's new records stay in it; ring b's are read.
    assert_eq!(set.consume().unwrap(), 5);

    let seen = seen.lock().unwrap();
    let expected: Vec<(u64, u64)> = (0..10)
        .map(|seq| (0, seq))
        .chain((100..105).map(|seq| (1, seq)))
        .collect();
    assert_eq!(*seen, expected);
    // A fresh reader of slot 0 finds the 5 left behind.
    let ring_a = RingBuf::from_map_id(id).unwrap();
    // SAFETY: as above.
    let mut again = unsafe { UnsafeReader::<InnerRecord>::new(ring_a) }.unwrap();
    let mut left = Vec::new();
    while let Some(r) = again.try_read().unwrap() {
        left.push(r.seq);
    }
    assert_eq!(left, (10..15).collect::<Vec<_>>());
}

#[test]
fn rings_added_and_removed_while_a_producer_runs() {
    require_kernel!();
    const TOTAL: u64 = 20_000;
    let busy = Producer::new(16 * 4096);
    let other = Producer::new(4096);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut set = RingSet::new().unwrap();
    let other_seen = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&other_seen);
    set.add(reader(&other), move |_: &[u8]| {
        count.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut seq = 0;
            while seq < TOTAL {
                let emitted = busy.emit((TOTAL - seq).min(64) as u32, 16, seq, 0);
                seq += u64::from(emitted.emitted);
                if emitted.failed > 0 {
                    std::thread::yield_now();
                }
            }
            done.store(true, Ordering::Release);
        });
        let give_up = Instant::now() + Duration::from_secs(60);
        let mut cycles = 0;
        while seen.lock().unwrap().len() < TOTAL as usize {
            assert!(
                Instant::now() < give_up,
                "stuck at {}",
                seen.lock().unwrap().len()
            );
            let log = Arc::clone(&seen);
            let key = set
                .add(reader(&busy), move |bytes: &[u8]| {
                    log.lock().unwrap().push(seq_of(bytes))
                })
                .unwrap();
            for _ in 0..(1 + cycles % 5) {
                set.poll(Some(Duration::from_millis(10))).unwrap();
            }
            assert_eq!(other.emit(1, 16, cycles, 0).emitted, 1);
            set.poll(Some(Duration::from_millis(10))).unwrap();
            assert!(set.remove(key).unwrap().is_some());
            cycles += 1;
        }
        assert!(done.load(Ordering::Acquire));
        assert!(cycles > 2, "the ring was added and removed repeatedly");
        // The other ring's records are all read, once.
        set.consume().unwrap();
        assert_eq!(other_seen.load(Ordering::Relaxed), cycles);
    });
    let seen = seen.lock().unwrap();
    assert_eq!(
        *seen,
        (0..TOTAL).collect::<Vec<_>>(),
        "every record once, in order, across the readers"
    );
}

/// The tokio form: two rings of different types on one task, with writers.
#[cfg(feature = "tokio")]
#[test]
fn async_ring_set_reads_two_rings_of_different_types() {
    require_kernel!();
    const TOTAL: u64 = 20_000;
    #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
    #[repr(C)]
    struct Small {
        seq: u64,
        pattern: u64,
    }
    #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
    #[repr(C)]
    struct Large {
        seq: u64,
        pattern: [u8; 56],
    }
    let small = Producer::new(4096);
    let large = Producer::new(16 * 4096);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // SAFETY (both): nothing outside this library consumes these rings.
    let small_reader =
        unsafe { UnsafeReader::<Small>::new(RingBuf::new(small.ring_fd()).unwrap()) }.unwrap();
    let large_reader =
        unsafe { UnsafeReader::<Large>::new(RingBuf::new(large.ring_fd()).unwrap()) }.unwrap();
    let small_next = Arc::new(AtomicU64::new(0));
    let large_next = Arc::new(AtomicU64::new(0));
    std::thread::scope(|s| {
        for (producer, size) in [(&small, 16), (&large, 64)] {
            s.spawn(move || {
                let mut seq = 0;
                while seq < TOTAL {
                    let emitted = producer.emit((TOTAL - seq).min(64) as u32, size, seq, 0);
                    seq += u64::from(emitted.emitted);
                    if emitted.failed > 0 {
                        std::thread::yield_now();
                    }
                }
            });
        }
        let (small_next, large_next) = (Arc::clone(&small_next), Arc::clone(&large_next));
        rt.block_on(async move {
            let task = tokio::spawn(async move {
                let mut set = ringview::AsyncRingSet::new().unwrap();
                let next = Arc::clone(&small_next);
                set.add(small_reader, move |e: &Small| {
                    assert_eq!(e.seq, next.fetch_add(1, Ordering::Relaxed));
                    assert_eq!(e.pattern.to_le_bytes(), [57, 64, 71, 78, 85, 92, 99, 106]);
                })
                .unwrap();
                let next = Arc::clone(&large_next);
                set.add(large_reader, move |e: &Large| {
                    assert_eq!(e.seq, next.fetch_add(1, Ordering::Relaxed));
                    assert_eq!(e.pattern[0], 57);
                })
                .unwrap();
                while small_next.load(Ordering::Relaxed) < TOTAL
                    || large_next.load(Ordering::Relaxed) < TOTAL
                {
                    tokio::time::timeout(Duration::from_secs(10), set.poll())
                        .await
                        .expect("a missed wakeup")
                        .unwrap();
                }
            });
            task.await.unwrap();
        });
    });
    assert_eq!(small_next.load(Ordering::Relaxed), TOTAL);
    assert_eq!(large_next.load(Ordering::Relaxed), TOTAL);
}
