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
        "map type BPF_MAP_TYPE_ARRAY (2) is not BPF_MAP_TYPE_RINGBUF (27): pass the ring buffer map"
    );
}

#[test]
fn refuses_a_descriptor_that_is_not_a_map() {
    let file = std::fs::File::open("/proc/self/status").unwrap();
    let err = RingBuf::new(&file).expect_err("a file is not a map");
    // The error names the caller's descriptor, not the library's duplicate.
    let fd = file.as_raw_fd();
    assert!(
        matches!(&err, RingBufError::NotAMap { fd: f, target } if *f == fd && target.contains("status")),
        "{err:?}"
    );
    let RingBufError::NotAMap { target, .. } = &err else {
        unreachable!()
    };
    assert_eq!(
        err.to_string(),
        format!(
            "fd {fd} is not a BPF map but `{target}`: pass the descriptor of a \
             BPF_MAP_TYPE_RINGBUF map"
        )
    );
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
    assert_eq!(
        err.to_string(),
        "fcntl(F_DUPFD_CLOEXEC) failed: Bad file descriptor (os error 9): the descriptor \
         passed is not open (was the map or its owner dropped?)"
    );
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
}

#[test]
fn pinned_errors_name_the_path_and_the_likely_cause() {
    require_kernel!();
    let bpffs = common::bpffs();
    let missing = bpffs.join("ringview_no_such_pin");
    let err = RingBuf::from_pinned(&missing).expect_err("no pin");
    assert!(
        matches!(&err, RingBufError::Pinned { path, error } if *path == missing && error.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "cannot open pinned map /sys/fs/bpf/ringview_no_such_pin: No such file or directory \
         (os error 2) (nothing at that path: is a BPF filesystem mounted there (`mount -t bpf \
         bpf /sys/fs/bpf`) and the map pinned at that path?)"
    );

    // A file that exists but is not on a BPF filesystem.
    let err = RingBuf::from_pinned("/proc/self/status").expect_err("not a BPF object");
    assert_eq!(
        err.to_string(),
        "cannot open pinned map /proc/self/status: Permission denied (os error 13) (the file \
         is not a pinned BPF object (not on a BPF filesystem), or this user lacks read-write \
         permission on it)"
    );

    // A pinned program is a BPF object, but not a map.
    let mut ebpf = aya::EbpfLoader::new()
        .load(common::PRODUCER_OBJ)
        .expect("load producer");
    common::load_xdp(&mut ebpf, &["produce"]);
    let path = bpffs.join(format!("ringview_prog_{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let prog: &mut aya::programs::Xdp = ebpf.program_mut("produce").unwrap().try_into().unwrap();
    prog.pin(&path).expect("pin program");
    let err = RingBuf::from_pinned(&path).expect_err("a program is not a map");
    std::fs::remove_file(&path).expect("unpin");
    assert_eq!(
        err.to_string(),
        format!(
            "{} is a pinned `anon_inode:bpf-prog`, not a map: pin the BPF_MAP_TYPE_RINGBUF map \
             itself",
            path.display()
        )
    );
}

#[test]
fn a_missing_map_id_is_named() {
    require_kernel!();
    let err = RingBuf::from_map_id(u32::MAX - 1).expect_err("no such map");
    assert_eq!(
        err.to_string(),
        "cannot open map id 4294967294: No such file or directory (os error 2) (no map has \
         this id now: `bpftool map list` shows the live ones)"
    );
}

/// A map descriptor opened read-only (`BPF_F_RDONLY`), by id.
fn read_only_fd(id: u32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    const BPF_MAP_GET_FD_BY_ID: libc::c_long = 14;
    const BPF_F_RDONLY: u32 = 1 << 3;
    // `bpf_attr` for BPF_MAP_GET_FD_BY_ID: map_id, next_id, open_flags.
    let attr: [u32; 4] = [id, 0, BPF_F_RDONLY, 0];
    // SAFETY: the attribute is 16 readable bytes that carry no pointers.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_MAP_GET_FD_BY_ID,
            attr.as_ptr(),
            std::mem::size_of_val(&attr) as libc::c_uint,
        )
    };
    assert!(fd >= 0, "{}", std::io::Error::last_os_error());
    // SAFETY: `bpf(2)` returned a new descriptor that nothing else owns.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }
}

#[test]
fn a_read_only_descriptor_says_so() {
    require_kernel!();
    let producer = Producer::new(8 * 1024);
    let aya::maps::Map::RingBuf(data) = producer.map("rb") else {
        panic!("rb is a ring");
    };
    let id = data.info().expect("map info").id();
    let err = RingBuf::new(read_only_fd(id)).expect_err("the consumer page needs write access");
    assert!(
        matches!(
            &err,
            RingBufError::Syscall(SyscallError {
                call: "mmap(consumer page)",
                ..
            })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "mmap(consumer page) failed: Permission denied (os error 13): the consumer page is \
         mapped read-write, and this descriptor is read-only (opened with BPF_F_RDONLY, or from \
         a pin without write permission); open the map read-write"
    );
}
