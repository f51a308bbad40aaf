//! The async readers, for any reactor (the `tokio` and `async-io`
//! features): [`AsyncReader<R>`], [`AsyncUnsafeReader<R, T>`] and
//! [`AsyncRingSet<'h, R>`], generic over the [`Reactor`] `R` that tells
//! them when a descriptor is readable.
//!
//! Use them through the names of your executor:
//!
//! | reactor | copying | zero-copy | many rings | feature |
//! |---|---|---|---|---|
//! | tokio's (`AsyncFd`) | [`ringview::AsyncReader`] | [`ringview::AsyncUnsafeReader`] | [`ringview::AsyncRingSet`] | `tokio` |
//! | async-io's (smol's; `Async`) | [`ringview::async_io::AsyncReader`] | [`ringview::async_io::AsyncUnsafeReader`] | [`ringview::async_io::AsyncRingSet`] | `async-io` |
//!
//! Each is an alias of the generic type here with the reactor filled in,
//! so every method below is theirs: `read().await`, `read_func`, `batch`,
//! the `try_*` calls that never wait, and the poll forms (`poll_read`,
//! `poll_read_into`, `poll_ready`, each taking a `Context`) for
//! hand-written futures and streams. Only the constructors differ (`new`,
//! on each alias's page). Both features may be on at once.
//!
//! Executor-neutral: everything but the wait for readiness (a record found
//! at once, the linger, publish before sleep, cancellation) is the same
//! code for every reactor, and every wait ends in one call of the reactor,
//! "has this descriptor had an edge since I last asked". The fast path (a
//! record below the cached producer position) touches no reactor.
//!
//! [`ringview::AsyncReader`]: crate::AsyncReader
//! [`ringview::AsyncUnsafeReader`]: crate::AsyncUnsafeReader
//! [`ringview::async_io::AsyncReader`]: crate::async_io::AsyncReader
//! [`ringview::async_io::AsyncUnsafeReader`]: crate::async_io::AsyncUnsafeReader
//! [`ringview::AsyncRingSet`]: crate::AsyncRingSet
//! [`ringview::async_io::AsyncRingSet`]: crate::async_io::AsyncRingSet

use std::fmt::Debug;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::task::{Context, Poll};

use crate::error::SyscallError;

pub(crate) mod coop;
#[cfg(test)]
pub(crate) mod manual;
pub(crate) mod reader;
pub(crate) mod ring_set;
#[cfg(feature = "stream")]
pub(crate) mod stream;
pub(crate) mod wait;

pub use reader::{AsyncReader, AsyncUnsafeReader, ReadFuture};
pub use ring_set::AsyncRingSet;
#[cfg(feature = "stream")]
#[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
pub use stream::StreamAs;

/// A reactor the async readers can wait on: [`Tokio`] (the `tokio`
/// feature) or [`AsyncIo`] (the `async-io` feature, smol's reactor).
///
/// Sealed: the readers' guarantees (no missed wakeup, no spinning) rest on
/// what each implementation promises about edges, so only this crate
/// implements it.
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "async-io")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::reactor::{AsyncReader, Reactor};
/// use ringview::testing::MemoryRing;
/// use ringview::{ReadError, Reader};
///
/// // Code for the readers of any reactor: tokio's and async-io's alike.
/// async fn total_len<R: Reactor>(
///     reader: &mut AsyncReader<R>,
///     n: usize,
/// ) -> Result<usize, ReadError> {
///     let mut total = 0;
///     for _ in 0..n {
///         total += reader.read().await?.sample.len();
///     }
///     Ok(total)
/// }
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = ringview::async_io::AsyncReader::new(Reader::new(ring.ring_buf())?)?;
/// ring.output(b"abc", 0)?;
/// ring.output(b"de", 0)?;
/// assert_eq!(smol::block_on(total_len(&mut reader, 2))?, 5);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "async-io"))]
/// # fn main() {}
/// ```
pub trait Reactor: sealed::Sealed {}

impl<R: sealed::Sealed> Reactor for R {}

/// tokio's reactor, through `tokio::io::unix::AsyncFd` (the `tokio`
/// feature). Its readers are [`crate::AsyncReader`] and
/// [`crate::AsyncUnsafeReader`].
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "tokio")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::reactor::{self, Tokio};
/// use ringview::testing::MemoryRing;
/// use ringview::{AsyncReader, Reader};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
/// let _entered = rt.enter(); // `new` registers with the current runtime
/// let ring = MemoryRing::new(4096)?;
/// // `ringview::AsyncReader` is the generic reader on tokio's reactor.
/// let reader = Reader::new(ring.ring_buf())?;
/// let mut reader: reactor::AsyncReader<Tokio> = AsyncReader::new(reader)?;
/// ring.output(b"hello", 0)?;
/// assert_eq!(rt.block_on(reader.read())?.sample, b"hello");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "tokio"))]
/// # fn main() {}
/// ```
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
#[derive(Debug)]
pub enum Tokio {}

/// async-io's reactor, the one smol runs, through `async_io::Async` (the
/// `async-io` feature). Its readers are [`crate::async_io::AsyncReader`]
/// and [`crate::async_io::AsyncUnsafeReader`].
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "async-io")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::async_io::AsyncReader;
/// use ringview::reactor::{self, AsyncIo};
/// use ringview::testing::MemoryRing;
/// use ringview::Reader;
///
/// let ring = MemoryRing::new(4096)?;
/// // `ringview::async_io::AsyncReader` is the generic reader on async-io's
/// // reactor; making one needs no runtime.
/// let reader = Reader::new(ring.ring_buf())?;
/// let mut reader: reactor::AsyncReader<AsyncIo> = AsyncReader::new(reader)?;
/// ring.output(b"hello", 0)?;
/// assert_eq!(smol::block_on(reader.read())?.sample, b"hello");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "async-io"))]
/// # fn main() {}
/// ```
#[cfg(feature = "async-io")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-io")))]
#[derive(Debug)]
pub enum AsyncIo {}

pub(crate) mod sealed {
    use super::{BorrowedFd, Context, Debug, OwnedFd, Poll, SyscallError};

    /// What a reactor does for the readers: hold a descriptor and report
    /// its edges.
    pub trait Sealed: 'static {
        /// A descriptor registered with the reactor, for reading.
        type Source: Debug + Send + Sync + Unpin;

        /// Registers `fd` (a descriptor the source then owns) for
        /// readability.
        fn register(fd: OwnedFd) -> Result<Self::Source, SyscallError>;

        /// `Ready` once `source` has had an edge (became readable, or was
        /// signalled again) since the last `Ready`, which it consumes;
        /// `Pending` registers `cx`'s waker, which the next edge wakes.
        /// An edge that comes while this runs is not lost: it is reported
        /// now or by the next poll. `Ready` may be spurious (the caller
        /// looks at what the descriptor stands for after every one), but
        /// never twice for one edge: a poll after `Ready` with nothing new
        /// is `Pending`, so a caller that finds nothing and polls again
        /// sleeps rather than spins.
        fn poll_edge(source: &Self::Source, cx: &mut Context<'_>)
            -> Poll<Result<(), SyscallError>>;

        /// The descriptor the source owns.
        fn fd(source: &Self::Source) -> BorrowedFd<'_>;
    }
}
