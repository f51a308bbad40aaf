//! The async forms on tokio (the `tokio` feature): [`AsyncReader`],
//! [`AsyncUnsafeReader`] and [`AsyncRingSet`], over the same consumer core
//! as the blocking readers.
//!
//! [`AsyncReader`]: crate::AsyncReader
//! [`AsyncUnsafeReader`]: crate::AsyncUnsafeReader
//! [`AsyncRingSet`]: crate::AsyncRingSet

pub(crate) mod reader;
pub(crate) mod ring_set;
#[cfg(feature = "stream")]
pub(crate) mod stream;
pub(crate) mod user_ring;
