//! [`AsyncRingSet`] on tokio: the generic set of [`crate::reactor`] on
//! tokio's reactor, and its constructors, which need a runtime.

use crate::error::RingSetError;
use crate::reactor::{self, Tokio};
use crate::read::ring_set::RingSet;
use crate::tokio::in_runtime;

/// A [`RingSet`] on tokio: `poll().await` instead of a blocking poll, over
/// tokio's `AsyncFd`. Every method but the constructors is
/// [`reactor::AsyncRingSet`]'s, which documents them.
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncRingSet, RingBuf, UnsafeReader};
///
/// let mut set = AsyncRingSet::new()?;
/// for path in ["/sys/fs/bpf/execs", "/sys/fs/bpf/exits"] {
///     // SAFETY: this process is each ring's only consumer.
///     let reader = unsafe { UnsafeReader::<[u8]>::new(RingBuf::from_pinned(path)?)? };
///     set.add(reader, move |bytes: &[u8]| println!("{path}: {} bytes", bytes.len()))?;
/// }
/// loop {
///     set.poll().await?;
/// }
/// # }
/// ```
pub type AsyncRingSet<'h> = reactor::AsyncRingSet<'h, Tokio>;

impl<'h> AsyncRingSet<'h> {
    /// An empty set, registered with the current tokio runtime's reactor.
    ///
    /// # Errors
    ///
    /// [`RingSetError::NoRuntime`] outside a tokio runtime;
    /// [`RingSetError::Syscall`] when the epoll cannot be created or
    /// registered.
    ///
    /// # Panics
    ///
    /// In a tokio runtime built without I/O (`enable_io`), as tokio's
    /// `AsyncFd` does: tokio offers no way to ask.
    pub fn new() -> Result<Self, RingSetError> {
        Self::from_set(RingSet::new()?)
    }

    /// Registers a blocking set with the current tokio runtime's reactor.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// # Panics
    ///
    /// As [`new`](Self::new).
    pub fn from_set(set: RingSet<'h>) -> Result<Self, RingSetError> {
        if !in_runtime() {
            return Err(RingSetError::NoRuntime);
        }
        Self::register(set)
    }
}
