//! An in-memory ring with the kernel's wire format and producer, for unit
//! tests without privileges, Miri and fuzzing.
//!
//! [`MemoryRing`] reserves, submits and discards exactly as
//! `kernel/bpf/ringbuf.c` does, including the `pending_pos` space check, the
//! wakeup rule and wraparound; the data area is mirrored so wrapped records
//! are contiguous, as the kernel's double mapping makes them. The readers
//! work on it unchanged through [`MemoryRing::ring_buf`].
//!
//! # Examples
//!
//! ```
//! use ringview::testing::MemoryRing;
//! use ringview::Reader;
//!
//! let ring = MemoryRing::new(4096).unwrap();
//! let mut reader = Reader::new(ring.ring_buf()).unwrap();
//! ring.output(b"hello", 0).unwrap();
//! assert_eq!(reader.read().unwrap().sample, b"hello");
//! ```

mod memory;
mod ring;
mod user_ring;

pub use crate::uapi::{BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP};
pub use ring::{Full, MemoryRing, Reservation};
pub use user_ring::MemoryUserRing;
