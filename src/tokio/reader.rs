//! The async readers on tokio: [`AsyncReader`] and [`AsyncUnsafeReader`],
//! the generic readers of [`crate::reactor`] on tokio's reactor, and their
//! constructors, which need a runtime.

use crate::error::ReaderError;
use crate::event::View;
use crate::reactor::{self, Tokio};
use crate::read::reader::Reader;
use crate::read::unsafe_reader::UnsafeReader;
use crate::tokio::in_runtime;

/// The copying [`Reader`] on tokio: `read().await` instead of a blocking
/// read, over tokio's `AsyncFd`. Every method but [`new`](Self::new) is
/// [`reactor::AsyncReader`]'s, which documents them.
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncReader, Reader, RingBuf};
///
/// let ring = RingBuf::from_pinned("/sys/fs/bpf/events")?;
/// let mut reader = AsyncReader::new(Reader::new(ring)?)?;
/// loop {
///     let record = reader.read().await?;
///     println!("{} bytes", record.sample.len());
/// }
/// # }
/// ```
pub type AsyncReader = reactor::AsyncReader<Tokio>;

/// The zero-copy [`UnsafeReader`] on tokio: `read().await` hands out a view
/// `&U` borrowed exactly like the blocking one's, over tokio's `AsyncFd`.
/// Every method but [`new`](Self::new) is [`reactor::AsyncUnsafeReader`]'s,
/// which documents them (cancellation, publish policies).
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncUnsafeReader, RingBuf, RingEvent, UnsafeReader};
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct ExecEvent {
///     pid: u32,
///     ppid: u32,
///     comm: [u8; 16],
/// }
///
/// let ring = RingBuf::from_pinned("/sys/fs/bpf/exec_events")?;
/// // SAFETY: this process is the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<ExecEvent>::new(ring)? };
/// let mut reader = AsyncUnsafeReader::new(reader)?;
/// loop {
///     let event = reader.read().await?;
///     println!("{} {}", event.pid, String::from_utf8_lossy(&event.comm));
/// }
/// # }
/// ```
pub type AsyncUnsafeReader<T = [u8]> = reactor::AsyncUnsafeReader<Tokio, T>;

/// The future of [`AsyncUnsafeReader::read`] on tokio: a view of the next
/// record (see [`reactor::ReadFuture`]).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{AsyncUnsafeReader, ReadFuture, UnsafeReader};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
/// let _entered = rt.enter(); // `new` registers with the current runtime
/// let ring = MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let mut reader = AsyncUnsafeReader::new(reader)?;
/// ring.output(b"view", 0)?;
/// // The reader's view type and the view handed out.
/// let read: ReadFuture<'_, [u8], [u8]> = reader.read();
/// assert_eq!(rt.block_on(read)?, b"view");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ReadFuture<'r, T, U> = reactor::ReadFuture<'r, Tokio, T, U>;

/// `futures_core::Stream` of owned `T`s from an [`AsyncReader`] on tokio
/// (see [`reactor::StreamAs`]).
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use std::pin::Pin;
///
/// use futures_core::Stream;
/// use ringview::testing::MemoryRing;
/// use ringview::{AsyncReader, Reader, StreamAs};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
/// let _entered = rt.enter(); // `new` registers with the current runtime
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = AsyncReader::new(Reader::new(ring.ring_buf())?)?;
/// ring.output(&7u64.to_ne_bytes(), 0)?;
/// let mut values: StreamAs<'_, u64> = reader.stream_as();
/// // `StreamExt::next` (futures, tokio-stream), written out:
/// let next = rt.block_on(poll_fn(|cx| Pin::new(&mut values).poll_next(cx)));
/// assert_eq!(next.transpose()?, Some(7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "stream")]
pub type StreamAs<'r, T> = reactor::StreamAs<'r, Tokio, T>;

/// Fails, rather than letting tokio panic, outside a runtime.
fn runtime() -> Result<(), ReaderError> {
    if in_runtime() {
        Ok(())
    } else {
        Err(ReaderError::NoRuntime)
    }
}

impl AsyncReader {
    /// Registers `reader`'s ring with the current tokio runtime's reactor.
    ///
    /// # Errors
    ///
    /// [`ReaderError::NoRuntime`] outside a tokio runtime;
    /// [`ReaderError::Syscall`] when the descriptors cannot be duplicated or
    /// registered.
    ///
    /// # Panics
    ///
    /// In a tokio runtime built without I/O (`enable_io`), as tokio's
    /// `AsyncFd` does: tokio offers no way to ask.
    pub fn new(reader: Reader) -> Result<Self, ReaderError> {
        runtime()?;
        Self::register(reader)
    }
}

impl<T: ?Sized + View> AsyncUnsafeReader<T> {
    /// Registers `reader`'s ring with the current tokio runtime's reactor.
    /// Safe: `reader`'s constructor already took the promise about other
    /// consumers.
    ///
    /// # Errors
    ///
    /// [`ReaderError::NoRuntime`] outside a tokio runtime;
    /// [`ReaderError::Syscall`] when the descriptors cannot be duplicated or
    /// registered.
    ///
    /// # Panics
    ///
    /// In a tokio runtime built without I/O (`enable_io`), as tokio's
    /// `AsyncFd` does: tokio offers no way to ask.
    pub fn new(reader: UnsafeReader<T>) -> Result<Self, ReaderError> {
        runtime()?;
        Self::register(reader)
    }
}
