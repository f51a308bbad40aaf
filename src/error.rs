//! Error types, one enum per subsystem.

use std::io;

/// A failed system call, with the call's name.
#[derive(Debug, thiserror::Error)]
#[error("{call} failed")]
pub struct SyscallError {
    /// The name of the call (`"bpf(BPF_OBJ_GET_INFO_BY_FD)"`, `"mmap"`, ...).
    pub call: &'static str,
    /// What the kernel answered.
    #[source]
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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RingBufError {
    /// The file descriptor does not refer to a BPF map.
    #[error("fd {fd} is not a BPF map (it is `{target}`)")]
    NotAMap {
        /// The descriptor that was passed.
        fd: i32,
        /// What `/proc/self/fd` says the descriptor is.
        target: String,
    },
    /// The map exists but is not a `BPF_MAP_TYPE_RINGBUF`.
    #[error("map type {found} is not BPF_MAP_TYPE_RINGBUF ({expected})")]
    WrongMapType {
        /// The map's type as the kernel reports it.
        found: u32,
        /// `BPF_MAP_TYPE_RINGBUF`.
        expected: u32,
    },
    /// The map's data size is not a power of two multiple of the page size.
    #[error("ring size {size} is not a power of two multiple of the page size {page_size}")]
    BadSize {
        /// `max_entries` as the kernel reports it.
        size: u64,
        /// The system page size.
        page_size: usize,
    },
    /// A system call failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// Errors from reading records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The deadline set with `set_deadline` passed and the ring is empty.
    #[error("deadline exceeded with the ring empty")]
    DeadlineExceeded,
    /// A [`ReaderHandle::flush`](crate::ReaderHandle::flush) woke the reader
    /// and the ring is empty.
    #[error("reader flushed with the ring empty")]
    Flushed,
    /// [`ReaderHandle::close`](crate::ReaderHandle::close) was called.
    #[error("reader closed")]
    Closed,
    /// A record is shorter than the type it is read as. The reader has moved
    /// past it; its bytes are still reachable through the reader's
    /// `rejected()` until the next read.
    #[error("record of {len} bytes is shorter than the {expected} bytes of `{type_name}`")]
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
    #[error("record of {len} bytes has tag {tag}, which no variant of `{type_name}` names")]
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
    #[error("record payload is not aligned to the {align} bytes of `{type_name}`")]
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
        "corrupt record header at position {pos}: length {len} but only {available} bytes published"
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
         a ring has one consumer at a time"
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
         another consumer moved the ring's consumer position"
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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReaderError {
    /// The map was created with `BPF_F_RB_OVERWRITE`: producers may
    /// overwrite records while a view of them is alive.
    #[error(
        "map flags {flags:#x} include BPF_F_RB_OVERWRITE: zero-copy views would be overwritten"
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
        ring: crate::RingId,
    },
    /// The ring's consumer position is not 8-byte aligned, which no
    /// consumer stores: something else wrote the consumer page.
    #[error("the ring's consumer position {pos} is not 8-byte aligned")]
    MisalignedPosition {
        /// The position found.
        pos: usize,
    },
    /// Setting up epoll or the wakeup eventfd failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// Errors from opening a user ring buffer
/// ([`UserRingBuf`](crate::UserRingBuf)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserRingBufError {
    /// The file descriptor does not refer to a BPF map.
    #[error("fd {fd} is not a BPF map (it is `{target}`)")]
    NotAMap {
        /// The descriptor that was passed.
        fd: i32,
        /// What `/proc/self/fd` says the descriptor is.
        target: String,
    },
    /// The map exists but is not a `BPF_MAP_TYPE_USER_RINGBUF`.
    #[error("map type {found} is not BPF_MAP_TYPE_USER_RINGBUF ({expected})")]
    WrongMapType {
        /// The map's type as the kernel reports it.
        found: u32,
        /// `BPF_MAP_TYPE_USER_RINGBUF`.
        expected: u32,
    },
    /// The map's data size is not a power of two multiple of the page size.
    #[error("ring size {size} is not a power of two multiple of the page size {page_size}")]
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
        "user ring positions are inconsistent: producer {producer}, consumer {consumer}, size {size}"
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
        "{ring} already has a producer in this process: a user ring has one producer at a time"
    )]
    AlreadyProduced {
        /// The ring.
        ring: crate::RingId,
    },
    /// A system call failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}

/// Errors from reserving a record in a user ring buffer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReserveError {
    /// The ring has no room for the record now; it will once the BPF side
    /// drains. [`UserRingBuf::reserve_blocking`](crate::UserRingBuf::reserve_blocking)
    /// waits for that.
    #[error(
        "no room for a record of {len} bytes ({needed} with header and padding): {free} bytes free"
    )]
    Full {
        /// The payload length asked for.
        len: usize,
        /// The ring space the record takes: `round_up(len + 8, 8)`.
        needed: usize,
        /// The ring space free now.
        free: usize,
    },
    /// The record can never fit: it is longer than the largest sample the
    /// kernel accepts from this ring (the ring's size less the 8-byte
    /// header, and at most 16 MiB - 1, the kernel's `DYNPTR_MAX_SIZE`).
    #[error("record of {len} bytes is larger than the {max} bytes this ring can ever hold")]
    TooLarge {
        /// The payload length asked for.
        len: usize,
        /// The largest payload the ring accepts.
        max: usize,
    },
    /// The record type is aligned to more than the 8 bytes ring payloads
    /// are aligned to (only a hand-written `RingEvent` can be; the derive
    /// refuses such types).
    #[error("`{type_name}` needs {align}-byte alignment; ring payloads are 8-byte aligned")]
    Misaligned {
        /// The type's alignment.
        align: usize,
        /// The type.
        type_name: &'static str,
    },
    /// The deadline passed with the ring still too full.
    #[error("deadline exceeded with no room for a record of {len} bytes")]
    DeadlineExceeded {
        /// The payload length asked for.
        len: usize,
    },
    /// The consumer position moved somewhere a kernel consumer never moves
    /// it: more than the ring's size behind this producer, or ahead of it.
    /// Only another producer on the same map can cause this.
    #[error("consumer position {consumer} is inconsistent with producer position {producer}")]
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

/// Errors from a [`RingSet`](crate::RingSet) or
/// `AsyncRingSet` (the `tokio` feature): each names the ring it came from.
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
        key: crate::RingKey,
        /// The ring.
        ring: crate::RingId,
        /// What the handler returned.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading a ring failed, as for the readers (a record too short for
    /// the handler's type, a corrupt header, a moved consumer position).
    #[error("reading ring {key} ({ring}) failed")]
    Read {
        /// The ring's key in the set.
        key: crate::RingKey,
        /// The ring.
        ring: crate::RingId,
        /// The reader's error.
        #[source]
        source: ReadError,
    },
    /// The set has no ring with this key (it was removed).
    #[error("the set has no ring {key}")]
    NoSuchRing {
        /// The key asked for.
        key: crate::RingKey,
    },
    /// Setting up or waiting on the set's epoll failed.
    #[error(transparent)]
    Syscall(#[from] SyscallError),
}
