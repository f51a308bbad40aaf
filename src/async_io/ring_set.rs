//! [`AsyncRingSet`] on async-io: the generic set of [`crate::reactor`] on
//! async-io's reactor, and its constructors.

use crate::error::RingSetError;
use crate::reactor::{self, AsyncIo};
use crate::read::ring_set::RingSet;

/// A [`RingSet`] on async-io (smol): `poll().await` instead of a blocking
/// poll. Every method but the constructors is [`reactor::AsyncRingSet`]'s,
/// which documents them.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::async_io::AsyncRingSet;
/// use ringview::{RingBuf, UnsafeReader};
///
/// let mut set = AsyncRingSet::new()?;
/// for path in ["/sys/fs/bpf/execs", "/sys/fs/bpf/exits"] {
///     // SAFETY: this process is each ring's only consumer.
///     let reader = unsafe { UnsafeReader::<[u8]>::new(RingBuf::from_pinned(path)?)? };
///     set.add(reader, move |bytes: &[u8]| println!("{path}: {} bytes", bytes.len()))?;
/// }
/// smol::block_on(async {
///     loop {
///         set.poll().await?;
///     }
/// })
/// # }
/// ```
pub type AsyncRingSet<'h> = reactor::AsyncRingSet<'h, AsyncIo>;

impl<'h> AsyncRingSet<'h> {
    /// An empty set, registered with async-io's reactor (started on first
    /// use; no runtime needed).
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when the epoll cannot be created or
    /// registered.
    pub fn new() -> Result<Self, RingSetError> {
        Self::from_set(RingSet::new()?)
    }

    /// Registers a blocking set with async-io's reactor.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn from_set(set: RingSet<'h>) -> Result<Self, RingSetError> {
        Self::register(set)
    }
}
