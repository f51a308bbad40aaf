//! The async forms on tokio (the `tokio` feature): tokio's reactor for the
//! async readers ([`AsyncReader`], [`AsyncUnsafeReader`]), and
//! [`AsyncRingSet`] and [`AsyncUserRingBuf`], over the same consumer core
//! as the blocking readers.
//!
//! [`AsyncReader`]: crate::AsyncReader
//! [`AsyncUnsafeReader`]: crate::AsyncUnsafeReader
//! [`AsyncRingSet`]: crate::AsyncRingSet
//! [`AsyncUserRingBuf`]: crate::AsyncUserRingBuf

pub(crate) mod reactor;
pub(crate) mod reader;
pub(crate) mod ring_set;
pub(crate) mod user_ring;
