//! Zero-copy, borrow-checked reading of BPF ring buffers
//! (`BPF_MAP_TYPE_RINGBUF`).
//!
//! A [`RingBuf`] maps a kernel ring: the consumer page read-write, the
//! producer page and the data pages (mapped twice, so a record that wraps
//! is contiguous) read-only. Two readers consume it:
//!
//! - [`Reader`] copies each record out ([`Reader::read_into`] reuses one
//!   buffer), and is safe even beside another library's consumer of the
//!   same map (a copy it cannot prove intact is an error, never a record);
//! - [`UnsafeReader<T>`] casts each record in place to a view `&T` (through
//!   `zerocopy`), valid until it is committed; the borrow checker enforces
//!   that no view outlives its commit.
//!
//! # Example
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ringview::{RingBuf, UnsafeReader};
//!
//! // `#[repr(C)]`, the casting derives and `RingEvent`, checked against the
//! // compiled BPF object with `#[ringview::event(btf = "prog.bpf.o")]`.
//! #[ringview::event]
//! struct ExecEvent {
//!     pid: u32,
//!     ppid: u32,
//!     comm: [u8; 16],
//! }
//!
//! let ring = RingBuf::from_pinned("/sys/fs/bpf/exec_events")?;
//! // SAFETY: this process is the ring's only consumer.
//! let mut reader = unsafe { UnsafeReader::<ExecEvent>::new(ring)? };
//! loop {
//!     let event = reader.read()?;
//!     println!("{} {}", event.pid, String::from_utf8_lossy(&event.comm));
//! }
//! # }
//! ```
//!
//! # Safety model
//!
//! The kernel lets a producer reuse ring space as soon as the consumer
//! position passes it. A view `&T` is therefore sound only while nothing
//! moves the consumer position past its record.
//!
//! - **Within a reader**, the borrow checker guarantees it: a view borrows
//!   the reader, and everything that publishes the position (the next
//!   `read`, `commit`, a batch's end, `read_func`'s return, drop) needs the
//!   reader mutably (`derive/tests/ui/views/` holds the compile-fail
//!   proofs).
//! - **Within this process**, a ring has one reader at a time: each reader
//!   claims the map's id (`RingBuf::id`) while it lives, and a second
//!   reader of the same map, however it was opened (a descriptor, a pinned
//!   path, a map id, another reader's `ring()`), is refused with
//!   [`ReaderError::AlreadyConsumed`]. The claims live in a `static` of
//!   this crate, so a binary holds one copy of it: the package declares
//!   `links = "ringview"`, and cargo refuses a build with two (say 0.1 and
//!   0.2 through two dependencies). Two dynamic libraries that each link
//!   their own copy are outside what cargo sees, as another process is.
//! - **Outside the library's sight** is a consumer in another process, or
//!   one of another library in this process (aya's `RingBuf`, libbpf's
//!   `ring_buffer`): the one promise [`UnsafeReader::new`] asks of its
//!   caller. The readers still check, at every refill of the producer
//!   position, that the consumer position is where they left it and that
//!   the producer has not lapped them, and stop with
//!   [`ReadError::ConsumerMoved`] or [`ReadError::Lapped`] before handing
//!   out a byte of the refill; they publish with a compare-exchange, so
//!   they never move the position back over another consumer's progress.
//!   The check costs one load of `consumer_pos` (a cache line the reader
//!   itself writes) and two compares per refill, not per record. The
//!   copying [`Reader`] needs no promise at all: it copies each record with
//!   machine loads (never through a reference to the ring's bytes) and
//!   checks `consumer_pos` again after every copy, so a record that another
//!   consumer released (and a producer may have overwritten) during the
//!   copy is [`ReadError::ConsumerMoved`], never handed out.
//!
//! Maps created with `BPF_F_RB_OVERWRITE` let producers overwrite
//! unconsumed records and are refused. Kernel data never causes a panic or
//! a read outside the ring: a header that claims more than was published
//! is [`ReadError::CorruptHeader`], a record shorter than its type
//! [`ReadError::RecordTooShort`] (its bytes stay reachable through
//! `rejected()`).
//!
//! # Delivery: at least once
//!
//! A record is released to the producers (its space may be reused, and a
//! later reader will not see it) only when the code is done with it:
//!
//! | reader | released by | not released by |
//! |---|---|---|
//! | [`UnsafeReader`] | [`commit`](UnsafeReader::commit); the next read, which ends the previous view | dropping the reader with a view unreleased |
//! | [`Batch`] | [`Batch::commit`] | dropping the batch (an early `?`, a panic): the next read starts at its first record |
//! | `read_func` | the callback returning normally (or `ControlFlow::Continue`) | a panic in the callback, or `ControlFlow::Break`: that record and those after it stay |
//! | [`Reader`] | copying the record out | (a copy is never lost) |
//!
//! Whatever is not released is read again by the next read of the same
//! reader or by the next reader of the map (a pinned map read by a
//! restarted process), and nothing before it is. Released records are
//! *published* (the consumer position stored) per the [`PublishPolicy`]:
//! batched, and always before the reader sleeps.
//!
//! For comparison: libbpf's `ring_buffer__consume` stores the consumer
//! position after each callback, and when a callback returns an error it
//! stores it past the failing record too, so that record is consumed;
//! aya's `RingBuf` releases a record when its item is dropped, which a
//! panic unwinding through the item does as well. cilium/ebpf's copying
//! `Reader` releases on copy, like [`Reader`]; its zero-copy work releases
//! on an explicit `Commit` or when a callback returns, like
//! [`UnsafeReader`].
//!
//! # Event loops
//!
//! Both readers read without blocking ([`Reader::try_read`],
//! [`UnsafeReader::try_read`], `try_batch`, `try_read_func`) and implement
//! `AsFd` for readiness. Before returning `None` a `try_*` read publishes
//! everything released and looks once more, so the producer that commits
//! next sees the position caught up and notifies the descriptor: after
//! each readiness event (edge-triggered pollers included), call `try_*`
//! until it returns `None`, then wait again. On tokio, and on async-io
//! (smol), the async readers do this for you (`ringview::reactor`); their poll
//! forms (`poll_read`, `poll_ready`) take a `Context` for hand-written
//! futures.
//!
//! # Testing without a kernel
//!
//! [`testing::MemoryRing`] is an in-memory ring with the kernel's wire
//! format and producer; the readers work on it unchanged.
//!
//! # Watching a ring without consuming it
//!
//! An [`Observer`] maps a ring read-only and copies its records beside the
//! ring's consumer, which it never disturbs; a record the producer
//! overwrote before the copy was checked is reported as missed, never
//! handed out. [`inspect`] walks the host's maps and programs and reads
//! the BTF the kernel holds (the `ringview` command's `top` and `tap`).
//!
//! # Cargo features
//!
//! - `derive` (default): `#[ringview::event]` and `#[derive(RingEvent)]`,
//!   which prove at compile time that a Rust struct has the layout of the
//!   BPF C struct (against the compiled BPF object's BTF when given one).
//! - `bytemuck`: events may derive bytemuck's `AnyBitPattern`/`Pod` instead
//!   of zerocopy's traits.
//! - `tokio`: `AsyncReader` and `AsyncUnsafeReader` (`read().await`, over
//!   tokio's `AsyncFd`), and `AsyncRingSet`, many rings on one task.
//!   `AsyncUserRingBuf` waits for room in a user ring (`reserve().await`).
//! - `async-io`: the same readers and ring set on async-io's reactor (the
//!   one smol runs), under their own path:
//!   `ringview::async_io::{AsyncReader, AsyncUnsafeReader, AsyncRingSet}`.
//!   They need no runtime to be made. Both features may be on at once:
//!   `ringview::AsyncReader` is always tokio's. Each name is an alias of a
//!   generic type of `ringview::reactor` (`reactor::AsyncReader<R>`, with
//!   `R` the reactor), which documents the methods, the same on both.
//! - `stream` (with `tokio` or `async-io`): `futures_core::Stream` for
//!   `AsyncReader` (owned `Record`s) and `AsyncReader::stream_as::<T>()`
//!   (owned `T`s).
//!
//! # Requirements
//!
//! Linux 5.8 or later (`BPF_MAP_TYPE_RINGBUF`); reading needs no privilege
//! beyond access to the map's descriptor. A 32-bit process on a 64-bit
//! kernel is refused ([`RingBufError::PositionsTooWide`]): the ring's
//! positions are 64-bit words there. Minimum Rust: 1.88.

// docs.rs (`--cfg docsrs`, nightly) marks each feature's items with it.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::missing_safety_doc
)]
#![warn(missing_docs, missing_debug_implementations)]

// Lets the derive's `::ringview::` paths resolve inside this crate too.
extern crate self as ringview;

#[cfg(feature = "async-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-io")))]
pub mod async_io;
mod cstr;
mod error;
mod event;
mod kernel;
#[cfg(any(feature = "tokio", feature = "async-io"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tokio", feature = "async-io"))))]
pub mod reactor;
mod read;
mod ring_id;
pub mod testing;
#[cfg(feature = "tokio")]
mod tokio;
#[cfg(all(feature = "stream", not(any(feature = "tokio", feature = "async-io"))))]
compile_error!(
    "the `stream` feature streams the async readers: enable `tokio` or `async-io` with it"
);
mod uapi;
mod write;

#[doc = include_str!("errors.md")]
pub mod errors {}

pub use cstr::{cstr, CStrBytes};
pub use error::RingSetError;
pub use error::{DrainError, ReserveError, UserRingBufError};
pub use error::{ObserveError, ReadError, ReaderError, RingBufError, SyscallError};
pub use event::{RingEvent, TaggedEvent, View, ViewAs};

#[doc(hidden)]
pub use event::__private;

#[cfg(all(feature = "tokio", feature = "stream"))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "tokio", feature = "stream"))))]
pub use crate::tokio::reader::StreamAs;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use crate::tokio::reader::{AsyncReader, AsyncUnsafeReader, ReadFuture};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use crate::tokio::ring_set::AsyncRingSet;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use crate::tokio::user_ring::AsyncUserRingBuf;
pub use kernel::inspect;
pub use read::consumer::Positions;
pub use read::observer::{Observed, ObservedPositions, Observer};
pub use read::policy::PublishPolicy;
pub use read::reader::{Reader, Record};
pub use read::records::{Records, RecordsAs};
pub use read::ring_buf::RingBuf;
pub use read::ring_set::{
    HandlerError, HandlerOutput, Handlers, LocalHandlers, Removed, RingSet, Rings, SendHandlers,
    DEFAULT_RECORDS_PER_ROUND,
};
pub use read::unsafe_reader::{Batch, FuncFlow, UnsafeReader};
pub use read::wait::ReaderHandle;
pub use ring_id::{Handles, RingId, RingKey, Untyped};
/// Derives [`RingEvent`] for a `#[repr(C)]` struct, or [`TaggedEvent`] for
/// an enum of views, after proving its layout against the BPF side.
#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use ringview_derive::RingEvent;
#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use ringview_derive::{check_layout, event, ring_event};
pub use uapi::{
    BPF_F_RB_OVERWRITE, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, BPF_RINGBUF_BUSY_BIT,
    BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ,
};
pub use write::user_ring_buf::{Reserved, UserRingBuf};

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
