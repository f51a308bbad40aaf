//! Opening and mapping kernel rings: by descriptor, pinned path and map id,
//! and the errors for descriptors that are not ring buffers.

mod common;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use common::Producer;
use ringview::{RingBuf, RingBufError, SyscallError};

#[test]
fn maps_a_ring_from_a_descriptor() {
    require_kernel!();
    let producer = Producer::new(64 * 1024);
    let ring = RingBuf::new(producer.ring_fd()).expect("map ring");
    assert_eq!(ring.buffer_size(), 64 * 1024);
    assert_eq!(ring.available_bytes(), 0);
    assert_ne!(
        ring.as_fd().as_raw_fd(),
        producer.ring_fd().as_raw_fd(),
        "descriptor is duplicated"
    );

    producer.emit(3, 20, 0, 0);
    // Each record: 8-byte header + 20 bytes, rounded up to 32.
    assert_eq!(ring.available_bytes(), 3 * 32);
}

#[test]
fn maps_a_ring_from_an_aya_map() {
    require_kernel!();
    let producer = Producer::new(16 * 1024);
    let aya::maps::Map::RingBuf(data) = producer.map("rb") else {
        panic!("rb is a ring");
    };
    let ring = RingBuf::new(data.fd()).expect("map ring from aya MapFd");
    assert_eq!(ring.buffer_size(), 16 * 1024);
}

#[test]
fn refuses_a_map_of_another_type() {
    require_kernel!();
    let producer = Producer::new(16 * 1024);
    let err = RingBuf::new(producer.array_fd()).expect_err("array map is not a ring");
    match &err {
        RingBufError::WrongMapType { found, expected } => {
            assert_eq!(*found, 2, "BPF_MAP_TYPE_ARRAY");
            assert_eq!(*expected, 27);
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "map type 2 is not BPF_MAP_TYPE_RINGBUF (27)"
    );
}

#[test]
fn refuses_a_descriptor_that_is_not_a_map() {
    let file = std::fs::File::open("/proc/self/status").unwrap();
    let err = RingBuf::new(&file).expect_err("a file is not a map");
    assert!(
        matches!(&err, RingBufError::NotAMap { target, .. } if target.contains("status")),
        "{err:?}"
    );
    assert!(err.to_string().contains("is not a BPF map"), "{err}");
}

#[test]
fn refuses_a_closed_descriptor() {
    // A descriptor number beyond any this process has open.
    let limit = 1 << 20;
    // SAFETY: nothing is read or written through this descriptor; `RingBuf`
    // only duplicates it, which fails with EBADF.
    let closed = unsafe { BorrowedFd::borrow_raw(limit - 1) };
    let err = RingBuf::new(closed).expect_err("closed descriptor");
    match &err {
        RingBufError::Syscall(SyscallError { call, io_error }) => {
            assert_eq!(*call, "fcntl(F_DUPFD_CLOEXEC)");
            assert_eq!(io_error.raw_os_error(), Some(libc::EBADF));
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn opens_a_pinned_ring_and_a_ring_by_id() {
    require_kernel!();
    let bpffs = common::bpffs();
    let path = bpffs.join(format!("ringview_test_{}", std::process::id()));
    let producer = Producer::new(8 * 1024);
    let aya::maps::Map::RingBuf(data) = producer.map("rb") else {
        panic!("rb is a ring");
    };
    data.pin(&path).expect("pin ring");
    let id = data.info().expect("map info").id();

    let pinned = RingBuf::from_pinned(&path);
    let by_id = RingBuf::from_map_id(id);
    std::fs::remove_file(&path).expect("unpin");
    let pinned = pinned.expect("open pinned ring");
    let by_id = by_id.expect("open ring by id");
    assert_eq!(pinned.buffer_size(), 8 * 1024);
    assert_eq!(by_id.buffer_size(), 8 * 1024);

    producer.emit(1, 16, 7, 0);
    let mut reader = ringview::Reader::new(pinned).unwrap();
    let record = reader.read().unwrap();
    assert_eq!(record.sample, common::expected_payload(7, 16));
    drop(reader);
    // The consumer position is shared: the ring opened by id sees it.
    assert_eq!(by_id.available_bytes(), 0);

    let err = RingBuf::from_pinned(bpffs.join("ringview_no_such_pin")).expect_err("no pin");
    assert!(
        matches!(&err, RingBufError::Syscall(SyscallError { call: "bpf(BPF_OBJ_GET)", io_error }) if io_error.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
}
