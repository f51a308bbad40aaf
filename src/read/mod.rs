//! Kernel to user: [`RingBuf`](crate::RingBuf), the cursor that every
//! atomic access of a kernel ring goes through, the consumer loop (waiting,
//! publish policy), and the readers built on it: `Reader`, `UnsafeReader`
//! (with `Batch`) and `RingSet`.
//!
//! A ring plugs into the readers through one seam, `ring_buf::RingBacking`:
//! a kernel map's mappings are one backing, an in-memory ring
//! ([`testing`](crate::testing)) another.

pub(crate) mod consumer;
pub(crate) mod copy;
pub(crate) mod cursor;
pub(crate) mod observer;
pub(crate) mod policy;
pub(crate) mod reader;
pub(crate) mod records;
pub(crate) mod ring_buf;
pub(crate) mod ring_set;
pub(crate) mod unsafe_reader;
pub(crate) mod wait;
