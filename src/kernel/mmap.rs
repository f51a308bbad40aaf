//! The mappings of a ring map: a consumer's (the consumer page read-write,
//! the producer and data pages read-only), a user ring producer's (the
//! reverse), and an observer's (all of it read-only).
//!
//! `memmap2::MmapRaw` owns each mapping (unmapped on drop) and hands out raw
//! pointers only, which is what memory that another agent writes needs: no
//! `&[u8]` ever covers the whole ring.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{GeometryError, SyscallError};

/// Where a ring's mappings put its parts: the page-aligned first words of
/// the consumer page and the producer page, and the data pages (`2 * size`
/// bytes, the second half mapping the same pages as the first). Valid while
/// the mapping that returned them lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingPointers {
    pub consumer_pos: NonNull<usize>,
    pub producer_pos: NonNull<usize>,
    pub data: NonNull<u8>,
}

/// The two mappings of one ring map: the consumer page, then the producer
/// page followed by the data pages mapped twice (the kernel's
/// `bpf_ringbuf_area_alloc` maps them back to back). Which of the two is
/// writable depends on the side this process writes: a kernel ring's
/// consumer page (`ringbuf_map_mmap_kern` allows exactly that writable
/// mapping, offset 0, one page), or a user ring's producer and data pages
/// (`ringbuf_map_mmap_user` refuses a writable mapping at offset 0; see
/// `write/protocol.rs`).
#[derive(Debug)]
pub(crate) struct Mapping {
    // Held for their `Drop` (munmap); the ring's `RawRing` or `RawUserRing`
    // points into them.
    _consumer: MmapRaw,
    _producer: MmapRaw,
}

impl Mapping {
    /// Maps the kernel ring behind `fd` as its consumer, whose data area is
    /// `size` bytes (`max_entries`, a power of two multiple of
    /// `page_size`). The consumer page is accessed only through atomics in
    /// `read/cursor.rs`, never through references.
    pub fn new(
        fd: BorrowedFd<'_>,
        size: usize,
        page_size: usize,
    ) -> Result<(Self, RingPointers), SyscallError> {
        Self::map(
            fd,
            size,
            page_size,
            false,
            ["mmap(consumer page)", "mmap(producer and data pages)"],
        )
    }

    /// Maps the user ring behind `fd` as its producer (`size` as for
    /// [`new`](Self::new)).
    pub fn new_user(
        fd: BorrowedFd<'_>,
        size: usize,
        page_size: usize,
    ) -> Result<(Self, RingPointers), SyscallError> {
        Self::map(
            fd,
            size,
            page_size,
            true,
            [
                "mmap(user ring consumer page)",
                "mmap(user ring producer and data pages)",
            ],
        )
    }

    /// Maps the consumer page (writable unless `producer_writes`) and the
    /// producer and data pages (writable if `producer_writes`); `calls`
    /// names the two in errors.
    fn map(
        fd: BorrowedFd<'_>,
        size: usize,
        page_size: usize,
        producer_writes: bool,
        calls: [&'static str; 2],
    ) -> Result<(Self, RingPointers), SyscallError> {
        let raw_fd = fd.as_raw_fd();
        let [consumer_call, producer_call] = calls;
        let producer_len = mapping_len(size, page_size, producer_call)?;
        let mut consumer_options = MmapOptions::new();
        consumer_options.len(page_size);
        let consumer = if producer_writes {
            consumer_options.map_raw_read_only(raw_fd)
        } else {
            consumer_options.map_raw(raw_fd)
        }
        .map_err(|io_error| SyscallError {
            call: consumer_call,
            io_error,
        })?;
        let mut producer_options = MmapOptions::new();
        producer_options.offset(page_size as u64).len(producer_len);
        let producer = if producer_writes {
            producer_options.map_raw(raw_fd)
        } else {
            producer_options.map_raw_read_only(raw_fd)
        }
        .map_err(|io_error| SyscallError {
            call: producer_call,
            io_error,
        })?;
        let consumer_pos = NonNull::new(consumer.as_mut_ptr().cast::<usize>())
            .ok_or_else(|| null_mapping(consumer_call))?;
        let producer_pos = NonNull::new(producer.as_mut_ptr().cast::<usize>())
            .ok_or_else(|| null_mapping(producer_call))?;
        // SAFETY: the data pages start `page_size` bytes into the producer
        // mapping, which is `page_size + 2 * size` bytes long.
        let data = unsafe { producer_pos.cast::<u8>().add(page_size) };
        let ring = RingPointers {
            consumer_pos,
            producer_pos,
            data,
        };
        Ok((
            Self {
                _consumer: consumer,
                _producer: producer,
            },
            ring,
        ))
    }
}

/// The length of a mapping of `header_len` bytes of header pages followed
/// by the data pages of a ring of `size` bytes, mapped twice: `header_len
/// + 2 * size`, checked (it overflows a 32-bit `usize` for a ring of
/// 2 GiB); `call` names the mapping in the error.
fn mapping_len(size: usize, header_len: usize, call: &'static str) -> Result<usize, SyscallError> {
    size.checked_mul(2)
        .and_then(|data| data.checked_add(header_len))
        .ok_or_else(|| SyscallError {
            call,
            io_error: std::io::Error::other(format!("a ring of {size} bytes is too large")),
        })
}

fn null_mapping(call: &'static str) -> SyscallError {
    SyscallError {
        call,
        io_error: std::io::Error::other("mmap returned a null mapping"),
    }
}

/// The data size of a ring map whose `max_entries` is `max_entries`, and
/// the page size, checked: the ring's positions fit this process's `usize`
/// ([`positions_fit`]), and the size is a power of two multiple of the page
/// size, as the kernel creates every ring (the mappings and the position
/// mask rest on it).
///
/// # Errors
///
/// The [`GeometryError`] for the first check that fails.
pub fn ring_size(max_entries: u32) -> Result<(usize, usize), GeometryError> {
    positions_fit().map_err(|machine| GeometryError::PositionsTooWide { machine })?;
    let page_size = page_size();
    let size = max_entries as usize;
    if !size.is_power_of_two() || !size.is_multiple_of(page_size) {
        return Err(GeometryError::BadSize {
            size: u64::from(max_entries),
            page_size,
        });
    }
    Ok((size, page_size))
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size).unwrap_or(4096)
}

/// Whether a ring's positions, `unsigned long` words of the kernel, fit a
/// `usize` of this process: `Err(machine)` for a 32-bit process on a 64-bit
/// kernel (`uname -m` names the kernel's machine).
pub fn positions_fit() -> Result<(), String> {
    if usize::BITS == 64 {
        return Ok(());
    }
    let machine = kernel_machine();
    if kernel_is_64_bit(&machine) {
        Err(machine)
    } else {
        Ok(())
    }
}

/// Whether `machine` (as `uname -m` prints it) is a 64-bit kernel.
fn kernel_is_64_bit(machine: &str) -> bool {
    machine.contains("64") || machine == "s390x"
}

/// `uname -m`: the kernel's machine (`x86_64`, `aarch64`, `i686`).
fn kernel_machine() -> String {
    // SAFETY: `utsname` is plain data; all zeroes is a valid value.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is a valid, writable `utsname` for the call.
    if unsafe { libc::uname(&mut name) } != 0 {
        return String::from("unknown");
    }
    let bytes: Vec<u8> = name
        .machine
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A read-only mapping of a whole ring map from offset 0: the consumer
/// page, the producer page and the data pages twice, all `PROT_READ`. The
/// kernel allows it for both ring types (`ringbuf_map_mmap_kern` and
/// `ringbuf_map_mmap_user` refuse only writable mappings beyond what their
/// side writes) and clears `VM_MAYWRITE`, so it can never be made
/// writable: whoever holds it cannot move either position.
#[derive(Debug)]
pub(crate) struct ReadOnlyMapping {
    // Held for its `Drop` (munmap); the observer points into it.
    _map: MmapRaw,
}

impl ReadOnlyMapping {
    /// Maps the ring behind `fd`, whose data area is `size` bytes
    /// (`max_entries`, a power of two multiple of `page_size`).
    pub fn new(
        fd: BorrowedFd<'_>,
        size: usize,
        page_size: usize,
    ) -> Result<(Self, RingPointers), SyscallError> {
        let call = "mmap(read-only ring)";
        let len = mapping_len(size, 2 * page_size, call)?;
        let map = MmapOptions::new()
            .len(len)
            .map_raw_read_only(fd.as_raw_fd())
            .map_err(|io_error| SyscallError { call, io_error })?;
        let consumer_pos =
            NonNull::new(map.as_mut_ptr().cast::<usize>()).ok_or_else(|| null_mapping(call))?;
        // SAFETY: the producer page starts `page_size` bytes into the
        // mapping, which is `2 * page_size + 2 * size` bytes long.
        let producer_pos = unsafe { consumer_pos.cast::<u8>().add(page_size) };
        // SAFETY: the data pages start `2 * page_size` bytes in, as above.
        let data = unsafe { consumer_pos.cast::<u8>().add(2 * page_size) };
        let ring = RingPointers {
            consumer_pos,
            producer_pos: producer_pos.cast(),
            data,
        };
        Ok((Self { _map: map }, ring))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "uname is a foreign function")]
    fn the_kernel_machine_is_named() {
        let machine = kernel_machine();
        assert!(!machine.is_empty() && machine != "unknown", "{machine}");
        // This process is 64-bit: its positions fit whatever the kernel.
        assert_eq!(positions_fit(), Ok(()));
    }

    #[test]
    fn sixty_four_bit_kernels_are_told_apart() {
        for machine in [
            "x86_64",
            "aarch64",
            "ppc64le",
            "s390x",
            "riscv64",
            "loongarch64",
        ] {
            assert!(kernel_is_64_bit(machine), "{machine}");
        }
        for machine in ["i686", "i386", "armv7l", "riscv32", "mips"] {
            assert!(!kernel_is_64_bit(machine), "{machine}");
        }
    }
}
