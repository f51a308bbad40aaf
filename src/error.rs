//! Error types, one enum per subsystem.
//!
//! Each message says what happened, with the values involved, and what to
//! do about it; `src/errors.md` (the crate's `errors` page) lists them all.

use std::io;
use std::path::PathBuf;

use crate::uapi::{BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF};

/// A failed system call, with the call's name.
///
/// The message includes the OS error and, for the errors a user can cause
/// (a read-only descriptor, a missing capability, too many open files), what
/// to do. The OS error is in [`io_error`](Self::io_error) and not repeated as
/// the error's `source()`, so a report that prints the chain shows it once.
///
/// # Examples
///
/// ```
/// use ringview::{RingBufError, SyscallError};
///
/// fn kernel_said(err: &RingBufError) -> Option<std::io::ErrorKind> {
///     match err {
///         RingBufError::Syscall(SyscallError { io_error, .. }) => Some(io_error.kind()),
///         _ => None,
///     }
/// }
///
/// let err = SyscallError { call: "mmap", io_error: std::io::Error::from_raw_os_error(12) };
/// assert!(err.to_string().starts_with("mmap failed: "));
/// assert_eq!(kernel_said(&err.into()), Some(std::io::ErrorKind::OutOfMemory));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{call} failed: {io_error}{}", syscall_hint(call, io_error))]
pub struct SyscallError {
    /// The name of the call (`"bpf(BPF_OBJ_GET_INFO_BY_FD)"`, `"mmap"`, ...).
    pub call: &'static str,
    /// What the kernel answered.
    pub io_error: io::Error,
}

impl SyscallError {
    /// Captures `errno` for `call`.
    pub(crate) fn last(call: &'static str) -> Self {
        Self {
            call,
            io_error: io::Error::last_os_error(),
        }
    }
}

/// Errors from opening and mapping a ring ([`RingBuf`](crate::RingBuf)).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::RingBufError;
///
/// // Ring sizes are powers of two.
/// let err = MemoryRing::new(100).unwrap_err();
/// assert!(matches!(err, RingBufError::BadSize { size: 100, .. }));
/// assert!(err.to_string().contains("such as 128"), "{err}");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RingBufError {
    /// The file descriptor does not refer to a BPF map.
    #[error(
        "fd {fd} is not a BPF map but `{target}`: pass the descriptor of a \
         BPF_MAP_TYPE_RINGBUF map"
    )]
    NotAMap {
        /// The descriptor the caller passed.
        fd: i32,
        /// What `/proc/self/fd` says the descriptor is.
        target: String,
    },
    /// The pinned object at a path is not a BPF map (a pinned program or
    /// link).
    #[error(
        "{} is a pinned `{target}`, not a map: pin the BPF_MAP_TYPE_RINGBUF map itself",
        path.display()
    )]
    PinnedNotAMap {
        /// The path the caller passed.
        path: PathBuf,
        /// What the pinned object's descriptor is (`anon_inode:bpf-prog`).
        target: String,
    },
    /// `BPF_OBJ_GET` on a path failed: nothing pinned there, not a BPF
    /// filesystem, or no permission.
    #[error(
        "cannot open pinned map {}: {error}{}",
        path.display(),
        pinned_hint(error)
    )]
    Pinned {
        /// The path the caller passed.
        path: PathBuf,
        /// What `bpf(BPF_OBJ_GET)` answered.
        error: io::Error,
    },
    /// `BPF_MAP_GET_FD_BY_ID` failed: no map with this id, or no privilege.
    #[error("cannot open map id {id}: {error}{}", map_id_hint(error))]
    MapId {
        /// The id the caller passed.
        id: u32,
        /// What `bpf(BPF_MAP_GET_FD_BY_ID)` answered.
        error: io::Error,
    },
    /// The map exists but is not a `BPF_MAP_TYPE_RINGBUF`.
    #[error(
        "map type {} ({found}) is not {} ({expected}){}",
        map_type_name(*found),
        map_type_name(*expected),
        if *found == BPF_MAP_TYPE_USER_RINGBUF {
            ": a user ring buffer is written with `UserRingBuf`, not read"
        } else {
            ": pass the ring buffer map"
        }
    )]
    WrongMapType {
        /// The map's type as the kernel reports it.
        found: u32,
        /// `BPF_MAP_TYPE_RINGBUF`.
        expected: u32,
    },
    /// This is a 32-bit process on a 64-bit kernel: the kernel's ring
    /// positions are 64-bit words, which this process cannot load or store
    /// as one, so it would stall the ring after 4 GiB.
    #[error(
        "this {bits}-bit process cannot use the 64-bit ring positions of the {machine} kernel: \
         build it for the kernel's architecture"
    )]
    PositionsTooWide {
        /// This process's pointer width.
        bits: u32,
        /// The kernel's machine, as `uname -m` says.
        machine: String,
    },
    /// The data size is not a power of two multiple of the page size. The
    /// kernel creates no such ring; an in-memory ring (page size 16) can be
    /// asked for one.
    #[error(
        "ring size {size} is not a power of two multiple of the page size {page_size}: \
         use a power of two of at least {page_size} bytes, such as {}",
        suggested_size(*size, *page_size)
    )]
    BadSize {
        /// `max_entries` as the kernel reports it (or as asked for).
        size: u64,
        /// The system page size (16 for in-memory rings).
        page_size: usize,
    },
    /// A system call failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// Errors from reading records.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// use ringview::testing::MemoryRing;
/// use ringview::{ReadError, Reader};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = Reader::new(ring.ring_buf())?;
/// reader.set_deadline(Some(Instant::now() + Duration::from_millis(10)));
/// // Nothing was written: the read gives up at the deadline.
/// assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
///
/// // A record shorter than the type asked for names both sizes.
/// ring.output(&[1, 2, 3], 0)?;
/// match reader.read_as::<u64>() {
///     Err(ReadError::RecordTooShort { len, expected, .. }) => assert_eq!((len, expected), (3, 8)),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(reader.rejected(), &[1, 2, 3]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The deadline set with `set_deadline` passed and the ring is empty.
    #[error(
        "deadline exceeded with the ring empty: read again to wait on, or clear the deadline \
         with `set_deadline(None)`"
    )]
    DeadlineExceeded,
    /// A [`ReaderHandle::flush`](crate::ReaderHandle::flush) woke the reader
    /// and the ring is empty.
    #[error(
        "reader flushed with the ring empty: every record so far is read; read again to wait on"
    )]
    Flushed,
    /// [`ReaderHandle::close`](crate::ReaderHandle::close) was called.
    #[error("reader closed by its `ReaderHandle`: open a new reader to read on")]
    Closed,
    /// A record is shorter than the type it is read as. The reader has moved
    /// past it; its bytes are still reachable through the reader's
    /// `rejected()` until the next read.
    #[error(
        "record of {len} bytes is shorter than the {expected} bytes of `{type_name}`: the \
         producer's struct differs from this type (`#[ring_event(btf = ...)]` checks both at \
         build time); the reader skipped it, `rejected()` has its bytes"
    )]
    RecordTooShort {
        /// The record's payload length.
        len: usize,
        /// The size the record was read as.
        expected: usize,
        /// The type the record was read as.
        type_name: &'static str,
    },
    /// A tagged record's tag names no variant of the enum it is read as. The
    /// reader has moved past it; its bytes are still reachable through the
    /// reader's `rejected()` until the next read.
    #[error(
        "record of {len} bytes has tag {tag}, which no variant of `{type_name}` names: add a \
         variant for it, or read such records untyped; the reader skipped it, `rejected()` has \
         its bytes"
    )]
    UnknownTag {
        /// The tag's value.
        tag: u64,
        /// The record's payload length.
        len: usize,
        /// The enum the record was read as.
        type_name: &'static str,
    },
    /// A record's payload is not aligned enough for the type it is read as.
    /// Ring payloads are 8-byte aligned, so this means a type aligned to
    /// more than 8 bytes.
    #[error(
        "record payload is not aligned to the {align} bytes of `{type_name}`: ring payloads are \
         8-byte aligned, so read it as a type aligned to 8 or less (`[u64; 2]` for a `u128`)"
    )]
    Misaligned {
        /// The alignment the type needs.
        align: usize,
        /// The type the record was read as.
        type_name: &'static str,
    },
    /// A record header claims more bytes than the producer has published.
    /// Only another consumer moving the consumer position, or memory that is
    /// not a ring, can cause this. The reader skips to the producer position.
    #[error(
        "corrupt record header at position {pos}: length {len} but only {available} bytes \
         published; another consumer moved the consumer position, or this memory is not a ring: \
         make this process the ring's only consumer"
    )]
    CorruptHeader {
        /// The record's position.
        pos: u64,
        /// The length the header claims (payload bytes).
        len: u32,
        /// The bytes the producer had published from `pos`.
        available: u64,
    },
    /// The ring's consumer position is not where this reader last put it:
    /// another consumer (another process, or a consumer outside this
    /// library) moved it. Records after `published` may have been
    /// overwritten, so the reader hands out nothing more and never stores
    /// its position over the other consumer's. Make this process the ring's
    /// only consumer, then open a new reader.
    #[error(
        "another consumer moved the ring's consumer position from {published} to {live}: \
         a ring has one consumer at a time; stop the other consumer, then open a new reader"
    )]
    ConsumerMoved {
        /// The position this reader last published.
        published: u64,
        /// The position found in the ring.
        live: u64,
    },
    /// The producer is more than a ring ahead of this reader's position,
    /// which only another consumer moving the consumer position allows:
    /// the records at `pos` were overwritten.
    #[error(
        "the producer position {producer} lapped the reader at {pos}: \
         another consumer moved the ring's consumer position; stop the other consumer, then \
         open a new reader"
    )]
    Lapped {
        /// This reader's position.
        pos: u64,
        /// The producer position.
        producer: u64,
    },
    /// A system call failed while waiting.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
    /// A record the reader had found ready was gone when it went to view
    /// it. Only another consumer moving the ring's consumer position (a
    /// broken promise of [`UnsafeReader::new`](crate::UnsafeReader::new))
    /// can cause this; the async readers report it rather than look again.
    #[error(
        "a record found ready was gone when viewed: another consumer moved the ring's \
         consumer position"
    )]
    ReadyRecordGone,
}

/// Errors from creating a reader.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{Reader, ReaderError};
///
/// let ring = MemoryRing::new(4096)?;
/// let first = Reader::new(ring.ring_buf())?;
/// // A ring has one consumer at a time in a process.
/// let second = Reader::new(ring.ring_buf());
/// assert!(matches!(second, Err(ReaderError::AlreadyConsumed { .. })));
/// drop(first);
/// assert!(Reader::new(ring.ring_buf()).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReaderError {
    /// The map was created with `BPF_F_RB_OVERWRITE`: producers may
    /// overwrite records while a view of them is alive.
    #[error(
        "map flags {flags:#x} include BPF_F_RB_OVERWRITE: zero-copy views would be \
         overwritten; create the map without that flag to read it"
    )]
    Overwrite {
        /// The map's flags.
        flags: u32,
    },
    /// Another reader in this process already consumes this ring. Two
    /// consumers of one ring would each move its consumer position, and the
    /// one that lags would read space the producer is reusing. Drop the
    /// other reader first (its `ring()` gives the same map).
    #[error("{ring} already has a reader in this process: a ring has one consumer at a time")]
    AlreadyConsumed {
        /// The ring, as [`RingBuf::id`](crate::RingBuf::id) names it.
        ring: crate::ring_id::RingId,
    },
    /// The ring's consumer position is not 8-byte aligned, which no
    /// consumer stores: something else wrote the consumer page.
    #[error(
        "the ring's consumer position {pos} is not 8-byte aligned: something other than a \
         ring consumer wrote the consumer page; recreate the map"
    )]
    MisalignedPosition {
        /// The position found.
        pos: usize,
    },
    /// An async reader was made outside a tokio runtime.
    #[error("{NO_RUNTIME}")]
    NoRuntime,
    /// The reader's type is larger than any record the ring can hold, so
    /// every record would fail with [`ReadError::RecordTooShort`].
    #[error(
        "`{type_name}` is {size} bytes, but a ring of {buffer_size} bytes holds records of at \
         most {max_record_len} bytes: make the ring larger (max_entries) or the type smaller"
    )]
    TypeTooLarge {
        /// The reader's type.
        type_name: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The largest record the ring can hold
        /// ([`RingBuf::max_record_len`](crate::RingBuf::max_record_len)).
        max_record_len: usize,
        /// The ring's data size ([`RingBuf::buffer_size`](crate::RingBuf::buffer_size)).
        buffer_size: usize,
    },
    /// Setting up epoll or the wakeup eventfd failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// Errors from opening a user ring buffer
/// ([`UserRingBuf`](crate::UserRingBuf)).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryUserRing;
/// use ringview::UserRingBufError;
///
/// let ring = MemoryUserRing::new(4096)?;
/// let producer = ring.user_ring_buf()?;
/// // A map has one producer at a time in a process.
/// let err = ring.user_ring_buf().unwrap_err();
/// assert!(matches!(err, UserRingBufError::AlreadyProduced { .. }));
/// drop(producer);
/// assert!(ring.user_ring_buf().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserRingBufError {
    /// The file descriptor does not refer to a BPF map.
    #[error(
        "fd {fd} is not a BPF map but `{target}`: pass the descriptor of a \
         BPF_MAP_TYPE_USER_RINGBUF map"
    )]
    NotAMap {
        /// The descriptor the caller passed.
        fd: i32,
        /// What `/proc/self/fd` says the descriptor is.
        target: String,
    },
    /// The pinned object at a path is not a BPF map (a pinned program or
    /// link).
    #[error(
        "{} is a pinned `{target}`, not a map: pin the BPF_MAP_TYPE_USER_RINGBUF map itself",
        path.display()
    )]
    PinnedNotAMap {
        /// The path the caller passed.
        path: PathBuf,
        /// What the pinned object's descriptor is (`anon_inode:bpf-prog`).
        target: String,
    },
    /// `BPF_OBJ_GET` on a path failed: nothing pinned there, not a BPF
    /// filesystem, or no permission.
    #[error(
        "cannot open pinned map {}: {error}{}",
        path.display(),
        pinned_hint(error)
    )]
    Pinned {
        /// The path the caller passed.
        path: PathBuf,
        /// What `bpf(BPF_OBJ_GET)` answered.
        error: io::Error,
    },
    /// `BPF_MAP_GET_FD_BY_ID` failed: no map with this id, or no privilege.
    #[error("cannot open map id {id}: {error}{}", map_id_hint(error))]
    MapId {
        /// The id the caller passed.
        id: u32,
        /// What `bpf(BPF_MAP_GET_FD_BY_ID)` answered.
        error: io::Error,
    },
    /// The map exists but is not a `BPF_MAP_TYPE_USER_RINGBUF`.
    #[error(
        "map type {} ({found}) is not {} ({expected}){}",
        map_type_name(*found),
        map_type_name(*expected),
        if *found == BPF_MAP_TYPE_RINGBUF {
            ": a kernel-to-user ring buffer is read with `RingBuf` and a reader, not written"
        } else {
            ": pass the user ring buffer map"
        }
    )]
    WrongMapType {
        /// The map's type as the kernel reports it.
        found: u32,
        /// `BPF_MAP_TYPE_USER_RINGBUF`.
        expected: u32,
    },
    /// This is a 32-bit process on a 64-bit kernel: the kernel's ring
    /// positions are 64-bit words, which this process cannot load or store
    /// as one, so it would stall the ring after 4 GiB.
    #[error(
        "this {bits}-bit process cannot use the 64-bit ring positions of the {machine} kernel: \
         build it for the kernel's architecture"
    )]
    PositionsTooWide {
        /// This process's pointer width.
        bits: u32,
        /// The kernel's machine, as `uname -m` says.
        machine: String,
    },
    /// The data size is not a power of two multiple of the page size. The
    /// kernel creates no such ring; an in-memory ring (page size 16) can be
    /// asked for one.
    #[error(
        "ring size {size} is not a power of two multiple of the page size {page_size}: \
         use a power of two of at least {page_size} bytes, such as {}",
        suggested_size(*size, *page_size)
    )]
    BadSize {
        /// `max_entries` as the kernel reports it (or as asked for).
        size: u64,
        /// The system page size (16 for in-memory rings).
        page_size: usize,
    },
    /// The ring's positions cannot come from a well-behaved producer: the
    /// producer position is not 8-byte aligned, or it is more than the ring's
    /// size ahead of the consumer position. Every drain of such a ring fails
    /// in the kernel.
    #[error(
        "user ring positions are inconsistent: producer {producer}, consumer {consumer}, \
         size {size}; a faulty producer wrote them, and the kernel fails every drain: recreate \
         the map"
    )]
    BadPositions {
        /// `producer_pos` as found.
        producer: u64,
        /// `consumer_pos` as found.
        consumer: u64,
        /// The ring's data size.
        size: u64,
    },
    /// Another [`UserRingBuf`](crate::UserRingBuf) in this process already
    /// produces into this ring. Two producers would reserve the same space.
    #[error(
        "{ring} already has a producer in this process: a user ring has one producer at a \
         time; drop the other `UserRingBuf` first"
    )]
    AlreadyProduced {
        /// The ring.
        ring: crate::ring_id::RingId,
    },
    /// [`testing::MemoryUserRing::push_raw`](crate::testing::MemoryUserRing::push_raw)
    /// ran while a drain of the ring ran (from the drain's callback, or on
    /// another thread): it would write bytes the callback may be reading.
    #[error(
        "{ring} is being drained: `push_raw` cannot run during a drain; call it before or \
         after the drain"
    )]
    Draining {
        /// The ring.
        ring: crate::ring_id::RingId,
    },
    /// [`testing::MemoryUserRing::push_raw`](crate::testing::MemoryUserRing::push_raw)
    /// was asked to move the producer position back, over records a drain
    /// or a later producer would then share.
    #[error(
        "`push_raw` advance {advance} would move the producer position back (more than \
         isize::MAX): it only moves forward"
    )]
    Backwards {
        /// The advance asked for.
        advance: usize,
    },
    /// An `AsyncUserRingBuf` was made outside a tokio runtime.
    #[error("{NO_RUNTIME}")]
    NoRuntime,
    /// A system call failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// The advice for a full user ring: `otherwise`, unless a reservation is
/// still outstanding where the drain stopped.
fn full_hint(reserved_at: Option<u64>, otherwise: &str) -> String {
    match reserved_at {
        Some(pos) => format!(
            "the record at position {pos} is still reserved and the BPF side cannot drain past \
             it: submit or drop its `Reserved` (one leaked with `mem::forget` stays reserved \
             until the next `UserRingBuf` of the map discards it)"
        ),
        None => otherwise.to_owned(),
    }
}

/// Errors from reserving a record in a user ring buffer.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryUserRing;
/// use ringview::ReserveError;
///
/// let ring = MemoryUserRing::new(4096)?;
/// let mut producer = ring.user_ring_buf()?;
/// // No record of a 4 KiB ring can be 5000 bytes long.
/// let err = producer.reserve_bytes(5000).unwrap_err();
/// assert!(matches!(err, ReserveError::TooLarge { len: 5000, .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReserveError {
    /// The ring has no room for the record now; it will once the BPF side
    /// drains. [`UserRingBuf::reserve_blocking`](crate::UserRingBuf::reserve_blocking)
    /// waits for that.
    #[error(
        "no room for a record of {len} bytes ({needed} with header and padding): {free} bytes \
         free; {}",
        full_hint(*reserved_at, "retry once the BPF side drains, or use `reserve_blocking`")
    )]
    Full {
        /// The payload length asked for.
        len: usize,
        /// The ring space the record takes: `round_up(len + 8, 8)`.
        needed: usize,
        /// The ring space free now.
        free: usize,
        /// The position of a record at the consumer position that is still
        /// reserved (BUSY): the kernel's drain stops there, so nothing
        /// frees room until it is submitted. A [`Reserved`] leaked with
        /// `std::mem::forget` leaves one (see
        /// [`UserRingBuf::recovered`](crate::UserRingBuf::recovered)).
        ///
        /// [`Reserved`]: crate::Reserved
        reserved_at: Option<u64>,
    },
    /// The record can never fit: it is longer than the largest sample the
    /// kernel accepts from this ring (the ring's size less the 8-byte
    /// header, and at most 16 MiB - 1, the kernel's `DYNPTR_MAX_SIZE`).
    #[error(
        "record of {len} bytes is larger than the {max} bytes this ring can ever hold: create \
         the map with a larger size, or split the record"
    )]
    TooLarge {
        /// The payload length asked for.
        len: usize,
        /// The largest payload the ring accepts.
        max: usize,
    },
    /// The record type is aligned to more than the 8 bytes ring payloads
    /// are aligned to (only a hand-written `RingEvent` can be; the derive
    /// refuses such types).
    #[error(
        "`{type_name}` needs {align}-byte alignment; ring payloads are 8-byte aligned: write a \
         type aligned to 8 or less (`[u64; 2]` for a `u128`)"
    )]
    Misaligned {
        /// The type's alignment.
        align: usize,
        /// The type.
        type_name: &'static str,
    },
    /// The deadline passed with the ring still too full.
    #[error(
        "deadline exceeded with no room for a record of {len} bytes: {}",
        full_hint(
            *reserved_at,
            "the BPF side is not draining fast enough; retry, or give it more time"
        )
    )]
    DeadlineExceeded {
        /// The payload length asked for.
        len: usize,
        /// As for [`ReserveError::Full`]: a reservation still outstanding
        /// where the drain stopped.
        reserved_at: Option<u64>,
    },
    /// The consumer position moved somewhere a kernel consumer never moves
    /// it: more than the ring's size behind this producer, or ahead of it.
    /// Only another producer on the same map can cause this.
    #[error(
        "consumer position {consumer} is inconsistent with producer position {producer}: \
         another producer wrote this user ring; stop it, then recreate the map"
    )]
    PositionsInconsistent {
        /// This producer's position.
        producer: u64,
        /// `consumer_pos` as loaded.
        consumer: u64,
    },
    /// A system call failed while waiting.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// Errors of the kernel-like drain of an in-memory user ring
/// ([`testing::MemoryUserRing::drain`](crate::testing::MemoryUserRing::drain)),
/// one per error `bpf_user_ringbuf_drain` returns.
///
/// # Examples
///
/// ```
/// use std::ops::ControlFlow;
///
/// use ringview::testing::MemoryUserRing;
/// use ringview::DrainError;
///
/// let ring = MemoryUserRing::new(4096)?;
/// // As the kernel, the drain refuses flags it does not know.
/// let err = ring.drain(4, |_| ControlFlow::Continue(())).unwrap_err();
/// assert_eq!(err, DrainError::InvalidFlags { flags: 4 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DrainError {
    /// `-EINVAL`: flags other than `BPF_RB_NO_WAKEUP` or
    /// `BPF_RB_FORCE_WAKEUP`.
    #[error("invalid drain flags {flags:#x}")]
    InvalidFlags {
        /// The flags passed.
        flags: u64,
    },
    /// `-EBUSY`: another drain of the same ring is running.
    #[error("another drain of this ring is running")]
    Busy,
    /// `-EINVAL`: the producer position is not 8-byte aligned.
    #[error("producer position {producer} is not 8-byte aligned")]
    MisalignedProducer {
        /// `producer_pos`.
        producer: u64,
    },
    /// `-EINVAL`: the sample at the consumer position claims more bytes than
    /// the producer has published.
    #[error("sample at {pos} takes {total} bytes but only {available} are published")]
    BeyondProducer {
        /// The sample's position.
        pos: u64,
        /// `round_up(len + 8, 8)`.
        total: u64,
        /// `producer_pos - consumer_pos`.
        available: u64,
    },
    /// `-E2BIG`: the sample is larger than the ring or than a dynptr can be.
    #[error("sample at {pos} of {len} bytes is too large")]
    TooLarge {
        /// The sample's position.
        pos: u64,
        /// The sample's length.
        len: u64,
    },
}

/// The uapi name of a map type (`enum bpf_map_type`, Linux v6.18).
pub(crate) fn map_type_name(map_type: u32) -> &'static str {
    const NAMES: [&str; 34] = [
        "BPF_MAP_TYPE_UNSPEC",
        "BPF_MAP_TYPE_HASH",
        "BPF_MAP_TYPE_ARRAY",
        "BPF_MAP_TYPE_PROG_ARRAY",
        "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
        "BPF_MAP_TYPE_PERCPU_HASH",
        "BPF_MAP_TYPE_PERCPU_ARRAY",
        "BPF_MAP_TYPE_STACK_TRACE",
        "BPF_MAP_TYPE_CGROUP_ARRAY",
        "BPF_MAP_TYPE_LRU_HASH",
        "BPF_MAP_TYPE_LRU_PERCPU_HASH",
        "BPF_MAP_TYPE_LPM_TRIE",
        "BPF_MAP_TYPE_ARRAY_OF_MAPS",
        "BPF_MAP_TYPE_HASH_OF_MAPS",
        "BPF_MAP_TYPE_DEVMAP",
        "BPF_MAP_TYPE_SOCKMAP",
        "BPF_MAP_TYPE_CPUMAP",
        "BPF_MAP_TYPE_XSKMAP",
        "BPF_MAP_TYPE_SOCKHASH",
        "BPF_MAP_TYPE_CGROUP_STORAGE",
        "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
        "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
        "BPF_MAP_TYPE_QUEUE",
        "BPF_MAP_TYPE_STACK",
        "BPF_MAP_TYPE_SK_STORAGE",
        "BPF_MAP_TYPE_DEVMAP_HASH",
        "BPF_MAP_TYPE_STRUCT_OPS",
        "BPF_MAP_TYPE_RINGBUF",
        "BPF_MAP_TYPE_INODE_STORAGE",
        "BPF_MAP_TYPE_TASK_STORAGE",
        "BPF_MAP_TYPE_BLOOM_FILTER",
        "BPF_MAP_TYPE_USER_RINGBUF",
        "BPF_MAP_TYPE_CGRP_STORAGE",
        "BPF_MAP_TYPE_ARENA",
    ];
    NAMES
        .get(map_type as usize)
        .copied()
        .unwrap_or("an unknown map type")
}

/// A power of two of at least `page_size` near `size`, for `BadSize`.
fn suggested_size(size: u64, page_size: usize) -> u64 {
    size.max(page_size as u64)
        .checked_next_power_of_two()
        .unwrap_or(page_size as u64)
}

/// What to do about a failed system call, for the errors a user can cause.
fn syscall_hint(call: &str, error: &io::Error) -> &'static str {
    match (call, error.raw_os_error()) {
        ("fcntl(F_DUPFD_CLOEXEC)", Some(libc::EBADF)) => {
            ": the descriptor passed is not open (was the map or its owner dropped?)"
        }
        (_, Some(libc::EMFILE | libc::ENFILE)) => {
            ": too many open files; close some, or raise the limit (`ulimit -n`)"
        }
        (call, Some(libc::EACCES | libc::EPERM)) if call.starts_with("mmap(consumer") => {
            ": the consumer page is mapped read-write, and this descriptor is read-only \
             (opened with BPF_F_RDONLY, or from a pin without write permission); open the \
             map read-write"
        }
        (call, Some(libc::EACCES | libc::EPERM)) if call.starts_with("mmap(user ring producer") => {
            ": the producer pages are mapped read-write, and this descriptor is read-only \
             (opened with BPF_F_RDONLY, or from a pin without write permission); open the \
             map read-write"
        }
        (call, Some(libc::EPERM)) if call.starts_with("bpf(") && call.ends_with("_ID)") => {
            ": walking or opening BPF objects by id needs CAP_SYS_ADMIN; run as root"
        }
        (call, Some(libc::EPERM)) if call.starts_with("bpf(") => {
            ": this process lacks the privilege; run as root, or with CAP_BPF"
        }
        _ => "",
    }
}

/// What to do about a failed `BPF_OBJ_GET`.
fn pinned_hint(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::ENOENT) => {
            " (nothing at that path: is a BPF filesystem mounted there \
             (`mount -t bpf bpf /sys/fs/bpf`) and the map pinned at that path?)"
        }
        Some(libc::EACCES) => {
            " (the file is not a pinned BPF object (not on a BPF filesystem), or this user \
             lacks read-write permission on it)"
        }
        Some(libc::EPERM) => " (this process lacks the privilege: run as root, or with CAP_BPF)",
        Some(libc::ENOTDIR) => " (a component of the path is not a directory)",
        None if error.kind() == io::ErrorKind::InvalidInput => {
            " (a path passed to the kernel cannot contain a NUL byte)"
        }
        _ => "",
    }
}

/// What to do about a failed `BPF_MAP_GET_FD_BY_ID`.
fn map_id_hint(error: &io::Error) -> &'static str {
    match error.raw_os_error() {
        Some(libc::ENOENT) => " (no map has this id now: `bpftool map list` shows the live ones)",
        Some(libc::EPERM) => {
            " (opening a map by id needs CAP_SYS_ADMIN: run as root, or open the map by a \
             pinned path or a descriptor instead)"
        }
        _ => "",
    }
}

/// The errors of opening a map that [`RingBuf`](crate::RingBuf) and
/// [`UserRingBuf`](crate::UserRingBuf) share (`bpf::open_map`), converted
/// into each one's enum.
#[derive(Debug)]
pub(crate) enum OpenError {
    NotAMap { fd: i32, target: String },
    PinnedNotAMap { path: PathBuf, target: String },
    Pinned { path: PathBuf, error: io::Error },
    MapId { id: u32, error: io::Error },
    WrongMapType { found: u32, expected: u32 },
    Syscall(SyscallError),
}

impl From<SyscallError> for OpenError {
    fn from(error: SyscallError) -> Self {
        Self::Syscall(error)
    }
}

/// Why this process cannot map a ring map of a given size: the check that
/// [`RingBuf`](crate::RingBuf), [`UserRingBuf`](crate::UserRingBuf) and
/// [`Observer`](crate::Observer) share (`mmap::ring_size`), converted into
/// each one's enum.
#[derive(Debug)]
pub(crate) enum GeometryError {
    PositionsTooWide { machine: String },
    BadSize { size: u64, page_size: usize },
}

impl From<GeometryError> for RingBufError {
    fn from(error: GeometryError) -> Self {
        match error {
            GeometryError::PositionsTooWide { machine } => Self::PositionsTooWide {
                bits: usize::BITS,
                machine,
            },
            GeometryError::BadSize { size, page_size } => Self::BadSize { size, page_size },
        }
    }
}

impl From<GeometryError> for UserRingBufError {
    fn from(error: GeometryError) -> Self {
        match error {
            GeometryError::PositionsTooWide { machine } => Self::PositionsTooWide {
                bits: usize::BITS,
                machine,
            },
            GeometryError::BadSize { size, page_size } => Self::BadSize { size, page_size },
        }
    }
}

impl From<OpenError> for RingBufError {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::NotAMap { fd, target } => Self::NotAMap { fd, target },
            OpenError::PinnedNotAMap { path, target } => Self::PinnedNotAMap { path, target },
            OpenError::Pinned { path, error } => Self::Pinned { path, error },
            OpenError::MapId { id, error } => Self::MapId { id, error },
            OpenError::WrongMapType { found, expected } => Self::WrongMapType { found, expected },
            OpenError::Syscall(error) => Self::Syscall(error),
        }
    }
}

impl From<OpenError> for UserRingBufError {
    fn from(error: OpenError) -> Self {
        match error {
            OpenError::NotAMap { fd, target } => Self::NotAMap { fd, target },
            OpenError::PinnedNotAMap { path, target } => Self::PinnedNotAMap { path, target },
            OpenError::Pinned { path, error } => Self::Pinned { path, error },
            OpenError::MapId { id, error } => Self::MapId { id, error },
            OpenError::WrongMapType { found, expected } => Self::WrongMapType { found, expected },
            OpenError::Syscall(error) => Self::Syscall(error),
        }
    }
}

/// Errors from watching a ring without consuming it
/// ([`Observer::try_copy`](crate::Observer::try_copy)). A lap is not an
/// error: it is [`Observed::Lapped`](crate::Observed::Lapped).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{ObserveError, Observer};
///
/// // An in-memory ring's producer writes with plain stores, which an
/// // observer's loads would race: only kernel maps are observed.
/// let ring = MemoryRing::new(4096)?;
/// let err = Observer::from_ring_buf(ring.ring_buf()).unwrap_err();
/// assert!(matches!(err, ObserveError::InMemory { ring: id } if id == ring.ring_buf().id()));
/// assert!(err.to_string().contains("cannot be observed"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserveError {
    /// A record header claims more bytes than the producer has published,
    /// and the producer has not lapped the observer: the memory is not a
    /// ring, or a faulty producer wrote it.
    #[error(
        "corrupt record header at position {pos}: length {len} but only {available} bytes \
         published; the map's producer wrote a bad header: skip to the producer position"
    )]
    CorruptHeader {
        /// The record's position.
        pos: u64,
        /// The length the header claims (payload bytes).
        len: u32,
        /// The bytes the producer had published from `pos`.
        available: u64,
    },
    /// A position is not 8-byte aligned: something other than a ring's
    /// consumer or producer wrote the ring's positions.
    #[error(
        "the ring's position {pos} is not 8-byte aligned: something other than a ring \
         consumer or producer wrote the ring's positions; skip to the producer position"
    )]
    MisalignedPosition {
        /// The position found.
        pos: u64,
    },
    /// An in-memory ring cannot be observed: its producer writes records
    /// with plain stores, which an observer's loads would race.
    #[error(
        "{ring} cannot be observed: an in-memory ring's producer writes with plain stores; \
         observe a kernel map, or read the ring with a `Reader`"
    )]
    InMemory {
        /// The ring.
        ring: crate::ring_id::RingId,
    },
}

/// Errors from a [`RingSet`](crate::RingSet) or
/// `AsyncRingSet` (the `tokio` feature): each names the ring it came from.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingSet, RingSetError, UnsafeReader};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut set = RingSet::new()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let key = set.add(reader, |bytes: &[u8]| -> Result<(), std::fmt::Error> {
///     if bytes.is_empty() { Err(std::fmt::Error) } else { Ok(()) }
/// })?;
/// ring.output(&[], 0)?;
/// match set.consume() {
///     Err(RingSetError::Handler { key: failed, .. }) => assert_eq!(failed, key),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RingSetError {
    /// A handler returned an error. The set stopped at that record: the
    /// records before it (on that ring) are released, it and the ones after
    /// it are not, so the next poll hands it to the handler again
    /// ([`RingSet::skip`](crate::RingSet::skip) drops it).
    #[error("the handler of ring {key} ({ring}) failed")]
    Handler {
        /// The ring's key in the set.
        key: crate::ring_id::RingKey,
        /// The ring.
        ring: crate::ring_id::RingId,
        /// What the handler returned.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading a ring failed, as for the readers (a record too short for
    /// the handler's type, a corrupt header, a moved consumer position).
    #[error("reading ring {key} ({ring}) failed")]
    Read {
        /// The ring's key in the set.
        key: crate::ring_id::RingKey,
        /// The ring.
        ring: crate::ring_id::RingId,
        /// The reader's error.
        #[source]
        source: ReadError,
    },
    /// The set has no ring with this key (it was removed).
    #[error("the set has no ring {key}")]
    NoSuchRing {
        /// The key asked for.
        key: crate::ring_id::RingKey,
    },
    /// An async set was made outside a tokio runtime.
    #[error("{NO_RUNTIME}")]
    NoRuntime,
    /// Setting up or waiting on the set's epoll failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// The message of the `NoRuntime` errors.
const NO_RUNTIME: &str = "no tokio runtime is running here: make async readers and ring sets \
     inside one (in an async fn it runs, `#[tokio::main]`, or after `Runtime::enter`)";

#[cfg(test)]
mod tests {
    //! The text of every message, each built from the values a user would
    //! meet (the kernel tests in `tests/ringbuf.rs` see the ones that need a
    //! kernel come from real calls).

    use super::*;
    use crate::ring_id::RingId;

    fn os(errno: i32) -> io::Error {
        io::Error::from_raw_os_error(errno)
    }

    fn sys(call: &'static str, errno: i32) -> SyscallError {
        SyscallError {
            call,
            io_error: os(errno),
        }
    }

    /// Asserts `error`'s message. The expected texts spell OS errors as
    /// glibc's `strerror` does; where the platform spells them otherwise
    /// (Miri's shim), its own spelling is expected instead.
    #[track_caller]
    fn check(error: impl std::error::Error, expected: &str) {
        let mut expected = expected.to_string();
        for (errno, glibc) in [
            (libc::EPERM, "Operation not permitted (os error 1)"),
            (libc::ENOENT, "No such file or directory (os error 2)"),
            (libc::EINTR, "Interrupted system call (os error 4)"),
            (libc::EBADF, "Bad file descriptor (os error 9)"),
            (libc::EACCES, "Permission denied (os error 13)"),
            (libc::ENOTDIR, "Not a directory (os error 20)"),
            (libc::EINVAL, "Invalid argument (os error 22)"),
            (libc::EMFILE, "Too many open files (os error 24)"),
        ] {
            expected = expected.replace(glibc, &os(errno).to_string());
        }
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri\'s strerror text differs from the OS\'s")]
    fn syscall_errors_show_the_os_error_and_what_to_do() {
        check(
            sys("mmap(consumer page)", libc::EACCES),
            "mmap(consumer page) failed: Permission denied (os error 13): the consumer page is \
             mapped read-write, and this descriptor is read-only (opened with BPF_F_RDONLY, or \
             from a pin without write permission); open the map read-write",
        );
        check(
            sys("mmap(user ring producer and data pages)", libc::EPERM),
            "mmap(user ring producer and data pages) failed: Operation not permitted (os error \
             1): the producer pages are mapped read-write, and this descriptor is read-only \
             (opened with BPF_F_RDONLY, or from a pin without write permission); open the map \
             read-write",
        );
        check(
            sys("fcntl(F_DUPFD_CLOEXEC)", libc::EBADF),
            "fcntl(F_DUPFD_CLOEXEC) failed: Bad file descriptor (os error 9): the descriptor \
             passed is not open (was the map or its owner dropped?)",
        );
        check(
            sys("epoll_create1", libc::EMFILE),
            "epoll_create1 failed: Too many open files (os error 24): too many open files; \
             close some, or raise the limit (`ulimit -n`)",
        );
        check(
            sys("bpf(BPF_OBJ_GET_INFO_BY_FD)", libc::EPERM),
            "bpf(BPF_OBJ_GET_INFO_BY_FD) failed: Operation not permitted (os error 1): this \
             process lacks the privilege; run as root, or with CAP_BPF",
        );
        check(
            sys("bpf(BPF_MAP_GET_NEXT_ID)", libc::EPERM),
            "bpf(BPF_MAP_GET_NEXT_ID) failed: Operation not permitted (os error 1): walking or \
             opening BPF objects by id needs CAP_SYS_ADMIN; run as root",
        );
        check(
            ObserveError::CorruptHeader {
                pos: 64,
                len: 9000,
                available: 16,
            },
            "corrupt record header at position 64: length 9000 but only 16 bytes published; the \
             map's producer wrote a bad header: skip to the producer position",
        );
        // No hint where none applies; the OS error is still there.
        check(
            sys("epoll_wait", libc::EINVAL),
            "epoll_wait failed: Invalid argument (os error 22)",
        );
        // Shown once: the OS error is in the message, not also the source.
        assert!(std::error::Error::source(&sys("ppoll", libc::EINVAL)).is_none());
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri\'s strerror text differs from the OS\'s")]
    fn ring_buf_errors() {
        check(
            RingBufError::NotAMap {
                fd: 3,
                target: "/proc/1/status".into(),
            },
            "fd 3 is not a BPF map but `/proc/1/status`: pass the descriptor of a \
             BPF_MAP_TYPE_RINGBUF map",
        );
        check(
            RingBufError::PinnedNotAMap {
                path: "/sys/fs/bpf/prog".into(),
                target: "anon_inode:bpf-prog".into(),
            },
            "/sys/fs/bpf/prog is a pinned `anon_inode:bpf-prog`, not a map: pin the \
             BPF_MAP_TYPE_RINGBUF map itself",
        );
        let pinned = |errno| RingBufError::Pinned {
            path: "/sys/fs/bpf/events".into(),
            error: os(errno),
        };
        check(
            pinned(libc::ENOENT),
            "cannot open pinned map /sys/fs/bpf/events: No such file or directory (os error 2) \
             (nothing at that path: is a BPF filesystem mounted there (`mount -t bpf bpf \
             /sys/fs/bpf`) and the map pinned at that path?)",
        );
        check(
            pinned(libc::EACCES),
            "cannot open pinned map /sys/fs/bpf/events: Permission denied (os error 13) (the \
             file is not a pinned BPF object (not on a BPF filesystem), or this user lacks \
             read-write permission on it)",
        );
        check(
            pinned(libc::EPERM),
            "cannot open pinned map /sys/fs/bpf/events: Operation not permitted (os error 1) \
             (this process lacks the privilege: run as root, or with CAP_BPF)",
        );
        check(
            pinned(libc::ENOTDIR),
            "cannot open pinned map /sys/fs/bpf/events: Not a directory (os error 20) (a \
             component of the path is not a directory)",
        );
        check(
            RingBufError::Pinned {
                path: "/sys/fs/bpf/a\0b".into(),
                error: io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"),
            },
            "cannot open pinned map /sys/fs/bpf/a\0b: path contains a NUL byte (a path passed \
             to the kernel cannot contain a NUL byte)",
        );
        let by_id = |errno| RingBufError::MapId {
            id: 42,
            error: os(errno),
        };
        check(
            by_id(libc::ENOENT),
            "cannot open map id 42: No such file or directory (os error 2) (no map has this id \
             now: `bpftool map list` shows the live ones)",
        );
        check(
            by_id(libc::EPERM),
            "cannot open map id 42: Operation not permitted (os error 1) (opening a map by id \
             needs CAP_SYS_ADMIN: run as root, or open the map by a pinned path or a descriptor \
             instead)",
        );
        check(
            RingBufError::WrongMapType {
                found: 1,
                expected: 27,
            },
            "map type BPF_MAP_TYPE_HASH (1) is not BPF_MAP_TYPE_RINGBUF (27): pass the ring \
             buffer map",
        );
        check(
            RingBufError::WrongMapType {
                found: 31,
                expected: 27,
            },
            "map type BPF_MAP_TYPE_USER_RINGBUF (31) is not BPF_MAP_TYPE_RINGBUF (27): a user \
             ring buffer is written with `UserRingBuf`, not read",
        );
        check(
            RingBufError::PositionsTooWide {
                bits: 32,
                machine: "x86_64".into(),
            },
            "this 32-bit process cannot use the 64-bit ring positions of the x86_64 kernel: \
             build it for the kernel's architecture",
        );
        check(
            RingBufError::WrongMapType {
                found: 4000,
                expected: 27,
            },
            "map type an unknown map type (4000) is not BPF_MAP_TYPE_RINGBUF (27): pass the \
             ring buffer map",
        );
        check(
            RingBufError::BadSize {
                size: 1000,
                page_size: 16,
            },
            "ring size 1000 is not a power of two multiple of the page size 16: use a power of \
             two of at least 16 bytes, such as 1024",
        );
        check(
            RingBufError::BadSize {
                size: 0,
                page_size: 4096,
            },
            "ring size 0 is not a power of two multiple of the page size 4096: use a power of \
             two of at least 4096 bytes, such as 4096",
        );
        check(
            RingBufError::Syscall(sys("bpf(BPF_OBJ_GET_INFO_BY_FD)", libc::EBADF)),
            "bpf(BPF_OBJ_GET_INFO_BY_FD) failed: Bad file descriptor (os error 9)",
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri\'s strerror text differs from the OS\'s")]
    fn read_errors() {
        check(
            ReadError::DeadlineExceeded,
            "deadline exceeded with the ring empty: read again to wait on, or clear the \
             deadline with `set_deadline(None)`",
        );
        check(
            ReadError::Flushed,
            "reader flushed with the ring empty: every record so far is read; read again to \
             wait on",
        );
        check(
            ReadError::Closed,
            "reader closed by its `ReaderHandle`: open a new reader to read on",
        );
        check(
            ReadError::RecordTooShort {
                len: 4,
                expected: 24,
                type_name: "exec_event",
            },
            "record of 4 bytes is shorter than the 24 bytes of `exec_event`: the producer's \
             struct differs from this type (`#[ring_event(btf = ...)]` checks both at build \
             time); the reader skipped it, `rejected()` has its bytes",
        );
        check(
            ReadError::UnknownTag {
                tag: 9,
                len: 32,
                type_name: "Event",
            },
            "record of 32 bytes has tag 9, which no variant of `Event` names: add a variant for \
             it, or read such records untyped; the reader skipped it, `rejected()` has its bytes",
        );
        check(
            ReadError::Misaligned {
                align: 16,
                type_name: "Wide",
            },
            "record payload is not aligned to the 16 bytes of `Wide`: ring payloads are 8-byte \
             aligned, so read it as a type aligned to 8 or less (`[u64; 2]` for a `u128`)",
        );
        check(
            ReadError::CorruptHeader {
                pos: 64,
                len: 5000,
                available: 128,
            },
            "corrupt record header at position 64: length 5000 but only 128 bytes published; \
             another consumer moved the consumer position, or this memory is not a ring: make \
             this process the ring's only consumer",
        );
        check(
            ReadError::ConsumerMoved {
                published: 64,
                live: 128,
            },
            "another consumer moved the ring's consumer position from 64 to 128: a ring has one \
             consumer at a time; stop the other consumer, then open a new reader",
        );
        check(
            ReadError::Lapped {
                pos: 64,
                producer: 8256,
            },
            "the producer position 8256 lapped the reader at 64: another consumer moved the \
             ring's consumer position; stop the other consumer, then open a new reader",
        );
        check(
            ReadError::Syscall(sys("epoll_wait", libc::EBADF)),
            "epoll_wait failed: Bad file descriptor (os error 9)",
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri\'s strerror text differs from the OS\'s")]
    fn reader_errors() {
        check(
            ReaderError::Overwrite { flags: 0x80000 },
            "map flags 0x80000 include BPF_F_RB_OVERWRITE: zero-copy views would be \
             overwritten; create the map without that flag to read it",
        );
        check(
            ReaderError::AlreadyConsumed {
                ring: RingId::Map(7),
            },
            "map id 7 already has a reader in this process: a ring has one consumer at a time",
        );
        check(
            ReaderError::MisalignedPosition { pos: 13 },
            "the ring's consumer position 13 is not 8-byte aligned: something other than a ring \
             consumer wrote the consumer page; recreate the map",
        );
        check(
            ReaderError::Syscall(sys("eventfd", libc::EMFILE)),
            "eventfd failed: Too many open files (os error 24): too many open files; close \
             some, or raise the limit (`ulimit -n`)",
        );
        let no_runtime = "no tokio runtime is running here: make async readers and ring sets \
                          inside one (in an async fn it runs, `#[tokio::main]`, or after \
                          `Runtime::enter`)";
        check(ReaderError::NoRuntime, no_runtime);
        check(RingSetError::NoRuntime, no_runtime);
        check(UserRingBufError::NoRuntime, no_runtime);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri\'s strerror text differs from the OS\'s")]
    fn user_ring_buf_errors() {
        check(
            UserRingBufError::NotAMap {
                fd: 5,
                target: "socket:[123]".into(),
            },
            "fd 5 is not a BPF map but `socket:[123]`: pass the descriptor of a \
             BPF_MAP_TYPE_USER_RINGBUF map",
        );
        check(
            UserRingBufError::PinnedNotAMap {
                path: "/sys/fs/bpf/link".into(),
                target: "anon_inode:bpf_link".into(),
            },
            "/sys/fs/bpf/link is a pinned `anon_inode:bpf_link`, not a map: pin the \
             BPF_MAP_TYPE_USER_RINGBUF map itself",
        );
        check(
            UserRingBufError::Pinned {
                path: "/tmp/x".into(),
                error: os(libc::EACCES),
            },
            "cannot open pinned map /tmp/x: Permission denied (os error 13) (the file is not a \
             pinned BPF object (not on a BPF filesystem), or this user lacks read-write \
             permission on it)",
        );
        check(
            UserRingBufError::MapId {
                id: 3,
                error: os(libc::ENOENT),
            },
            "cannot open map id 3: No such file or directory (os error 2) (no map has this id \
             now: `bpftool map list` shows the live ones)",
        );
        check(
            UserRingBufError::WrongMapType {
                found: 27,
                expected: 31,
            },
            "map type BPF_MAP_TYPE_RINGBUF (27) is not BPF_MAP_TYPE_USER_RINGBUF (31): a \
             kernel-to-user ring buffer is read with `RingBuf` and a reader, not written",
        );
        check(
            UserRingBufError::WrongMapType {
                found: 2,
                expected: 31,
            },
            "map type BPF_MAP_TYPE_ARRAY (2) is not BPF_MAP_TYPE_USER_RINGBUF (31): pass the \
             user ring buffer map",
        );
        check(
            UserRingBufError::BadSize {
                size: 8,
                page_size: 16,
            },
            "ring size 8 is not a power of two multiple of the page size 16: use a power of two \
             of at least 16 bytes, such as 16",
        );
        check(
            UserRingBufError::BadPositions {
                producer: 12,
                consumer: 0,
                size: 4096,
            },
            "user ring positions are inconsistent: producer 12, consumer 0, size 4096; a faulty \
             producer wrote them, and the kernel fails every drain: recreate the map",
        );
        check(
            UserRingBufError::AlreadyProduced {
                ring: RingId::Memory(2),
            },
            "in-memory ring 2 already has a producer in this process: a user ring has one \
             producer at a time; drop the other `UserRingBuf` first",
        );
        check(
            UserRingBufError::Syscall(sys("bpf(BPF_OBJ_GET_INFO_BY_FD)", libc::EBADF)),
            "bpf(BPF_OBJ_GET_INFO_BY_FD) failed: Bad file descriptor (os error 9)",
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri\'s strerror text differs from the OS\'s")]
    fn reserve_and_drain_errors() {
        check(
            ReserveError::Full {
                len: 100,
                needed: 112,
                free: 64,
                reserved_at: None,
            },
            "no room for a record of 100 bytes (112 with header and padding): 64 bytes free; \
             retry once the BPF side drains, or use `reserve_blocking`",
        );
        check(
            ReserveError::Full {
                len: 100,
                needed: 112,
                free: 64,
                reserved_at: Some(4032),
            },
            "no room for a record of 100 bytes (112 with header and padding): 64 bytes free; \
             the record at position 4032 is still reserved and the BPF side cannot drain past \
             it: submit or drop its `Reserved` (one leaked with `mem::forget` stays reserved \
             until the next `UserRingBuf` of the map discards it)",
        );
        check(
            ReserveError::TooLarge {
                len: 9000,
                max: 4088,
            },
            "record of 9000 bytes is larger than the 4088 bytes this ring can ever hold: create \
             the map with a larger size, or split the record",
        );
        check(
            ReserveError::Misaligned {
                align: 16,
                type_name: "Wide",
            },
            "`Wide` needs 16-byte alignment; ring payloads are 8-byte aligned: write a type \
             aligned to 8 or less (`[u64; 2]` for a `u128`)",
        );
        check(
            ReserveError::DeadlineExceeded {
                len: 64,
                reserved_at: None,
            },
            "deadline exceeded with no room for a record of 64 bytes: the BPF side is not \
             draining fast enough; retry, or give it more time",
        );
        check(
            ReserveError::PositionsInconsistent {
                producer: 64,
                consumer: 8192,
            },
            "consumer position 8192 is inconsistent with producer position 64: another producer \
             wrote this user ring; stop it, then recreate the map",
        );
        check(
            ReserveError::Syscall(sys("epoll_wait", libc::EINTR)),
            "epoll_wait failed: Interrupted system call (os error 4)",
        );
        check(
            DrainError::InvalidFlags { flags: 4 },
            "invalid drain flags 0x4",
        );
        check(DrainError::Busy, "another drain of this ring is running");
        check(
            DrainError::MisalignedProducer { producer: 12 },
            "producer position 12 is not 8-byte aligned",
        );
        check(
            DrainError::BeyondProducer {
                pos: 0,
                total: 72,
                available: 64,
            },
            "sample at 0 takes 72 bytes but only 64 are published",
        );
        check(
            DrainError::TooLarge {
                pos: 0,
                len: 1 << 25,
            },
            "sample at 0 of 33554432 bytes is too large",
        );
    }
}
