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

/// The mappings of one kernel ring.
#[derive(Debug)]
pub(crate) struct Mapping {
    // Held for their `Drop` (munmap); the ring's `RawRing` points into them.
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
    ) -> Result<(Self, RingPointers), SyscallError> {
        let raw_fd = fd.as_raw_fd();
        // The consumer page is accessed only through atomics in `read/cursor.rs`,
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

fn null_mapping(call: &'static str) -> SyscallError {
    SyscallError {
        call,
        io_error: std::io::Error::other("mmap returned a null mapping"),
    }
}

/// The mappings of one user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`): the
/// consumer page read-only, and the producer page followed by the data pages
/// mapped twice, read-write (the reverse of a kernel ring's; see
/// `write/protocol.rs`).
#[derive(Debug)]
pub(crate) struct UserMapping {
    // Held for their `Drop` (munmap); the ring's `RawUserRing` points into
    // them.
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
    ) -> Result<(Self, RingPointers), SyscallError> {
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
        let len = size
            .checked_mul(2)
            .and_then(|data| data.checked_add(2 * page_size))
            .ok_or_else(|| SyscallError {
                call,
                io_error: std::io::Error::other(format!("a ring of {size} bytes is too large")),
            })?;
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
