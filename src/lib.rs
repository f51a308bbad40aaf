//! Zero-copy, borrow-checked reading of BPF ring buffers
//! (`BPF_MAP_TYPE_RINGBUF`).
//!
//! A [`RingBuf`] maps a kernel ring: the consumer page read-write, the
//! producer page and the data pages (mapped twice, so a record that wraps
//! is contiguous) read-only. Two readers consume it:
//!
//! - [`Reader`] copies each record out ([`Reader::read_into`] reuses one
//!   buffer), and is entirely safe;
//! - [`UnsafeReader<T>`] casts each record in place to a view `&T` (through
//!   `zerocopy`), valid until it is committed; the borrow checker enforces
//!   that no view outlives its commit.
//!
//! # Example
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ringview::{RingBuf, RingEvent, UnsafeReader};
//! use zerocopy::{FromBytes, Immutable, KnownLayout};
//!
//! #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
//! #[repr(C)]
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
//! moves the consumer position past its record. Within this process the
//! borrow checker guarantees that: a view borrows the reader, and every
//! operation that publishes the position (`read`, `commit`, a batch's end,
//! drop) needs the reader mutably. What the compiler cannot see is another
//! consumer of the same map (another process, or another `RingBuf` on it),
//! which is the one promise [`UnsafeReader::new`] asks of its caller. Maps
//! created with `BPF_F_RB_OVERWRITE` let producers overwrite unconsumed
//! records and are refused.
//!
//! # Testing without a kernel
//!
//! [`testing::MemoryRing`] is an in-memory ring with the kernel's wire
//! format and producer; the readers work on it unchanged.
//!
//! # Cargo features
//!
//! - `derive` (default): `#[derive(RingEvent)]`, which proves at compile
//!   time that a Rust struct has the layout of the BPF C struct (against the
//!   compiled BPF object's BTF when given one).
//! - `bytemuck`: events may derive bytemuck's `AnyBitPattern`/`Pod` instead
//!   of zerocopy's traits.
//! - `tokio`: `AsyncReader` and `AsyncUnsafeReader` (`read().await`, over
//!   tokio's `AsyncFd`), and `AsyncRingSet`, many rings on one task.
//!
//! # Requirements
//!
//! Linux 5.8 or later (`BPF_MAP_TYPE_RINGBUF`); reading needs no privilege
//! beyond access to the map's descriptor. Minimum Rust: 1.88.

#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::missing_safety_doc
)]
#![warn(missing_docs, missing_debug_implementations)]

// Lets the derive's `::ringview::` paths resolve inside this crate too.
extern crate self as ringview;

#[cfg(feature = "tokio")]
mod async_reader;
#[cfg(feature = "tokio")]
mod async_ring_set;
mod claim;
mod consumer;
mod error;
mod event;
mod memory_ring;
mod memory_user_ring;
mod mmap;
mod policy;
mod reader;
mod ring;
mod ring_set;
mod ringbuf;
mod sys;
pub mod testing;
mod uapi;
mod unsafe_reader;
mod user_ring;
mod user_ringbuf;
mod user_wait;
mod wait;

pub use error::RingSetError;
pub use error::{DrainError, ReserveError, UserRingBufError};
pub use error::{ReadError, ReaderError, RingBufError, SyscallError};
pub use event::{RingEvent, TaggedEvent, View, ViewAs};

#[doc(hidden)]
pub use event::__private;

#[cfg(feature = "tokio")]
pub use async_reader::{AsyncReader, AsyncUnsafeReader};
#[cfg(feature = "tokio")]
pub use async_ring_set::AsyncRingSet;
pub use claim::RingId;
pub use consumer::Positions;
pub use policy::PublishPolicy;
pub use reader::{Reader, Record};
pub use ring_set::{HandlerError, HandlerOutput, RingKey, RingSet, DEFAULT_RECORDS_PER_ROUND};
pub use ringbuf::RingBuf;
/// Derives [`RingEvent`] for a `#[repr(C)]` struct, or [`TaggedEvent`] for
/// an enum of views; see the crate docs.
#[cfg(feature = "derive")]
pub use ringview_derive::RingEvent;
pub use uapi::{
    BPF_F_RB_OVERWRITE, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, BPF_RINGBUF_BUSY_BIT,
    BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ,
};
pub use unsafe_reader::{Batch, FuncFlow, UnsafeReader};
pub use user_ringbuf::{Reserved, UserRingBuf};
pub use wait::ReaderHandle;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
