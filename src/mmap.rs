//! The two mappings of a kernel ring: the consumer page read-write, and the
//! producer page followed by the data pages mapped twice, read-only.
//!
//! `memmap2::MmapRaw` owns each mapping (unmapped on drop) and hands out raw
//! pointers only, which is what memory that another agent writes needs: no
//! `&[u8]` ever covers the whole ring.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use memmap2::{MmapOptions, MmapRaw};

use crate::error::SyscallError;
use crate::ring::RawRing;

/// The mappings of one kernel ring.
#[derive(Debug)]
pub(crate) struct Mapping {
    // Held for their `Drop` (munmap); `RawRing` points into them.
    _consumer: MmapRaw,
    _producer: MmapRaw,
}

impl Mapping {
    /// Maps the ring behind `fd`, whose data area is `size` bytes
    /// (`max_entries`, a power of two multiple of `page_size`).
    pub fn new(
        fd: BorrowedFd<'_>,
        size: usize,
        page_size: usize,
    ) -> Result<(Self, RawRing), SyscallError> {
        let raw_fd = fd.as_raw_fd();
        // The consumer page is accessed only through atomics in `ring.rs`,
        // never through references. The kernel allows exactly this writable
        // mapping (offset 0, one page) in `ringbuf_map_mmap_kern`.
        let consumer = MmapOptions::new()
            .len(page_size)
            .map_raw(raw_fd)
            .map_err(|io_error| SyscallError {
                call: "mmap(consumer page)",
                io_error,
            })?;
        // The producer page, then the data pages twice (the kernel's
        // `bpf_ringbuf_area_alloc` maps them back to back).
        let producer = MmapOptions::new()
            .offset(page_size as u64)
            .len(page_size + 2 * size)
            .map_raw_read_only(raw_fd)
            .map_err(|io_error| SyscallError {
                call: "mmap(producer and data pages)",
                io_error,
            })?;
        let consumer_pos = NonNull::new(consumer.as_mut_ptr().cast::<usize>())
            .ok_or_else(|| null_mapping("mmap(consumer page)"))?;
        let producer_pos = NonNull::new(producer.as_mut_ptr().cast::<usize>())
            .ok_or_else(|| null_mapping("mmap(producer and data pages)"))?;
        // SAFETY: the data pages start `page_size` bytes into the producer
        // mapping, which is `page_size + 2 * size` bytes long.
        let data = unsafe { producer_pos.cast::<u8>().add(page_size) };
        // SAFETY: `consumer_pos` and `producer_pos` are page-aligned words of
        // live mappings of the consumer page (read-write) and producer page
        // (read-only); `data` is page-aligned and readable for `2 * size`
        // bytes, the second half mapping the same pages as the first; both
        // mappings are owned by the returned `Mapping`, which the
        // `RingBuf` keeps for as long as it uses the `RawRing`; `size` is a
        // power of two (checked by the caller against the map info).
        let ring = unsafe { RawRing::new(consumer_pos, producer_pos, data, size) };
        Ok((
            Self {
                _consumer: consumer,
                _producer: producer,
            },
            ring,
        ))
    }
}

fn null_mapping(call: &'static str) -> SyscallError {
    SyscallError {
        call,
        io_error: std::io::Error::other("mmap returned a null mapping"),
    }
}

/// The mappings of one user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`): the
/// consumer page read-only, and the producer page followed by the data pages
/// mapped twice, read-write (the reverse of a kernel ring's; see
/// `user_ring.rs`).
#[derive(Debug)]
pub(crate) struct UserMapping {
    // Held for their `Drop` (munmap); `RawUserRing` points into them.
    _consumer: MmapRaw,
    _producer: MmapRaw,
}

impl UserMapping {
    /// Maps the user ring behind `fd`, whose data area is `size` bytes
    /// (`max_entries`, a power of two multiple of `page_size`).
    pub fn new(
        fd: BorrowedFd<'_>,
        size: usize,
        page_size: usize,
    ) -> Result<(Self, crate::user_ring::RawUserRing), SyscallError> {
        let raw_fd = fd.as_raw_fd();
        // `ringbuf_map_mmap_user` refuses a writable mapping at offset 0.
        let consumer = MmapOptions::new()
            .len(page_size)
            .map_raw_read_only(raw_fd)
            .map_err(|io_error| SyscallError {
                call: "mmap(user ring consumer page)",
                io_error,
            })?;
        let producer = MmapOptions::new()
            .offset(page_size as u64)
            .len(page_size + 2 * size)
            .map_raw(raw_fd)
            .map_err(|io_error| SyscallError {
                call: "mmap(user ring producer and data pages)",
                io_error,
            })?;
        let consumer_pos = NonNull::new(consumer.as_mut_ptr().cast::<usize>())
            .ok_or_else(|| null_mapping("mmap(user ring consumer page)"))?;
        let producer_pos = NonNull::new(producer.as_mut_ptr().cast::<usize>())
            .ok_or_else(|| null_mapping("mmap(user ring producer and data pages)"))?;
        // SAFETY: the data pages start `page_size` bytes into the producer
        // mapping, which is `page_size + 2 * size` bytes long.
        let data = unsafe { producer_pos.cast::<u8>().add(page_size) };
        // SAFETY: `consumer_pos` is the page-aligned first word of a live
        // read-only mapping of the consumer page; `producer_pos` the
        // page-aligned first word of a live read-write mapping of the
        // producer page; `data` is page-aligned, readable and writable for
        // `2 * size` bytes (the kernel zeroes the pages at map creation, so
        // they are initialised); both mappings are owned by the returned
        // `UserMapping`, which the `UserRingBuf` keeps for as long as it uses
        // the `RawUserRing`; `size` is a power of two multiple of the page
        // size (checked by the caller against the map info), so at least 16.
        let ring =
            unsafe { crate::user_ring::RawUserRing::new(consumer_pos, producer_pos, data, size) };
        Ok((
            Self {
                _consumer: consumer,
                _producer: producer,
            },
            ring,
        ))
    }
}
