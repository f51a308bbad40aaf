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

/// Whether the calling thread is in a tokio runtime: the constructors
/// fail with their `NoRuntime` error outside one, rather than let tokio
/// panic.
fn in_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}
