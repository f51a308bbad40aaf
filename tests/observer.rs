//! The `Observer` against real kernel rings: a read-only mapping of a map
//! opened by descriptor or id copies records beside their consumer,
//! without moving its position, and reports laps.

mod common;

use common::{expected_payload, seq_of, Producer};
use ringview::{inspect, Observed, Observer, Reader, RingBuf, RingBufError, RingId};
use std::os::fd::AsFd;

#[test]
fn copies_every_record_beside_the_consumer_without_moving_it() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    let RingId::Map(id) = ring.id() else {
        panic!("a kernel ring has a map id");
    };
    let mut owner = Reader::new(ring).unwrap();
    // By id, as the command opens it: a read-only mapping of the whole map.
    let mut tap = Observer::from_map_id(id).unwrap();
    assert_eq!(tap.buffer_size(), 64 * 1024);
    assert_eq!(producer.emit(200, 40, 0, 0).emitted, 200);
    let before = tap.positions();
    assert_eq!(before.consumer, 0);
    assert_eq!(before.pending(), 200 * 48);
    let mut copy = Vec::new();
    for seq in 0..200 {
        let found = tap.try_copy(&mut copy).unwrap();
        assert_eq!(found, Some(Observed::Record { pos: seq * 48 }));
        assert_eq!(seq_of(&copy), seq);
        assert_eq!(copy, expected_payload(seq, 40));
    }
    assert_eq!(tap.try_copy(&mut copy).unwrap(), None);
    assert_eq!(tap.positions(), before, "the tap moved a position");
    assert_eq!(tap.count_records(0, before.producer), Some(200));
    // The owner still receives every record.
    for seq in 0..200 {
        assert_eq!(seq_of(&owner.read().unwrap().sample), seq);
    }
    // An empty `try_read` publishes what the owner released.
    assert!(owner.try_read().unwrap().is_none());
    assert_eq!(tap.positions().consumer, before.producer);
}

#[test]
fn records_stay_readable_after_the_owner_consumes_them_until_a_lap() {
    require_kernel!();
    let producer = Producer::new(4096);
    let mut owner = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    let mut tap = Observer::new(producer.ring_fd()).unwrap();
    let mut copy = Vec::new();
    // Consumed by the owner, not yet overwritten: the tap still sees it.
    assert_eq!(producer.emit(10, 100, 0, 0).emitted, 10);
    for _ in 0..10 {
        owner.read().unwrap();
    }
    for seq in 0..10 {
        assert!(matches!(
            tap.try_copy(&mut copy),
            Ok(Some(Observed::Record { .. }))
        ));
        assert_eq!(copy, expected_payload(seq, 100));
    }
    // Three rings' worth, consumed as produced: the tap is lapped once,
    // then goes on from the owner's position.
    for batch in 0..12u64 {
        assert_eq!(producer.emit(10, 100, 10 + batch * 10, 0).emitted, 10);
        for _ in 0..10 {
            owner.read().unwrap();
        }
    }
    let found = tap.try_copy(&mut copy).unwrap();
    let Some(Observed::Lapped { from, to }) = found else {
        panic!("expected a lap, found {found:?}");
    };
    assert_eq!(from, 10 * 112);
    assert_eq!(to, tap.positions().consumer);
    assert_eq!(tap.missed(), 1);
    assert_eq!(producer.emit(1, 100, 500, 0).emitted, 1);
    assert!(matches!(
        tap.try_copy(&mut copy),
        Ok(Some(Observed::Record { .. }))
    ));
    assert_eq!(copy, expected_payload(500, 100));
}

#[test]
fn a_map_that_is_not_a_ring_is_refused() {
    require_kernel!();
    let producer = Producer::new(4096);
    let err = Observer::new(producer.array_fd()).unwrap_err();
    assert!(
        matches!(err, RingBufError::WrongMapType { found: 2, .. }),
        "{err}"
    );
    let info = inspect::map_info_of(producer.array_fd().as_fd()).unwrap();
    assert!(!info.is_ring());
    assert_eq!(info.type_name(), "BPF_MAP_TYPE_ARRAY");
}

#[test]
fn inspect_walks_maps_and_programs() {
    require_kernel!();
    let producer = Producer::new(8192);
    let info = inspect::map_info_of(producer.ring_fd()).unwrap();
    assert!(info.is_ring());
    assert_eq!(info.name, "rb");
    assert_eq!(info.max_entries, 8192);
    let ids: Vec<u32> = inspect::map_ids().map(Result::unwrap).collect();
    assert!(ids.contains(&info.id), "{ids:?} lacks {}", info.id);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
    assert_eq!(inspect::map_info(info.id).unwrap(), info);
    let users: Vec<inspect::ProgInfo> = inspect::prog_ids()
        .map(|id| inspect::prog_info(id.unwrap()))
        .filter_map(Result::ok)
        .filter(|prog| prog.map_ids.contains(&info.id))
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0].name, "produce");
    // The program's BTF is in the kernel, and parses.
    assert_ne!(users[0].btf_id, 0);
    let btf = inspect::btf(users[0].btf_id).unwrap();
    assert_eq!(&btf[..2], &[0x9f, 0xeb]);
    let err = inspect::map_info(u32::MAX).unwrap_err();
    assert_eq!(err.io_error.raw_os_error(), Some(libc::ENOENT), "{err}");
}

#[test]
fn user_rings_are_watched_too() {
    require_kernel!();
    use aya::maps::Map;
    use ringview::{UserRingBuf, BPF_MAP_TYPE_USER_RINGBUF};
    let ebpf = aya::EbpfLoader::new()
        .allow_unsupported_maps()
        .map_max_entries("user_rb", 4096)
        .load(include_bytes!("bpf/user_echo.bpf.o"))
        .expect("load user_echo.bpf.o");
    let Map::Unsupported(data) = ebpf.map("user_rb").expect("map user_rb") else {
        panic!("user_rb is a user ring");
    };
    let fd = data.fd().as_fd();
    let mut tap = Observer::new(fd).unwrap();
    assert_eq!(tap.map_type(), BPF_MAP_TYPE_USER_RINGBUF);
    // SAFETY: no other process knows this freshly created map.
    let mut producer = unsafe { UserRingBuf::new(fd) }.unwrap();
    producer.push_bytes(b"to the kernel").unwrap();
    assert_eq!(tap.positions().pending(), 24);
    let mut copy = Vec::new();
    assert_eq!(
        tap.try_copy(&mut copy).unwrap(),
        Some(Observed::Record { pos: 0 })
    );
    assert_eq!(copy, b"to the kernel");
}
