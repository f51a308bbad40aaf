//! The async readers on async-io: [`AsyncReader`] and
//! [`AsyncUnsafeReader`], the generic readers of [`crate::reactor`] on
//! async-io's reactor, and their constructors.

use crate::error::ReaderError;
use crate::event::View;
use crate::reactor::{self, AsyncIo};
use crate::read::reader::Reader;
use crate::read::unsafe_reader::UnsafeReader;

/// The copying [`Reader`] on async-io (smol): `read().await` instead of a
/// blocking read. Every method but [`new`](Self::new) is
/// [`reactor::AsyncReader`]'s, which documents them.
///
/// # Examples
///
/// ```
/// use ringview::async_io::AsyncReader;
/// use ringview::testing::MemoryRing;
/// use ringview::Reader;
///
/// let ring = MemoryRing::new(4096)?;
/// // No runtime needed: async-io starts its reactor on first use.
/// let mut reader = AsyncReader::new(Reader::new(ring.ring_buf())?)?;
/// ring.output(b"hello", 0)?;
/// let record = smol::block_on(reader.read())?;
/// assert_eq!(record.sample, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type AsyncReader = reactor::AsyncReader<AsyncIo>;

/// The zero-copy [`UnsafeReader`] on async-io (smol): `read().await` hands
/// out a view `&U` borrowed exactly like the blocking one's. Every method
/// but [`new`](Self::new) is [`reactor::AsyncUnsafeReader`]'s, which
/// documents them (cancellation, publish policies).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::async_io::AsyncUnsafeReader;
/// use ringview::{RingBuf, RingEvent, UnsafeReader};
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
/// smol::block_on(async {
///     loop {
///         let event = reader.read().await?;
///         println!("{} {}", event.pid, String::from_utf8_lossy(&event.comm));
///     }
/// })
/// # }
/// ```
pub type AsyncUnsafeReader<T = [u8]> = reactor::AsyncUnsafeReader<AsyncIo, T>;

/// The future of [`AsyncUnsafeReader::read`] on async-io: a view of the
/// next record (see [`reactor::ReadFuture`]).
///
/// # Examples
///
/// ```
/// use ringview::async_io::{AsyncUnsafeReader, ReadFuture};
/// use ringview::testing::MemoryRing;
/// use ringview::UnsafeReader;
///
/// let ring = MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let mut reader = AsyncUnsafeReader::new(reader)?;
/// ring.output(b"view", 0)?;
/// // The reader's view type and the view handed out.
/// let read: ReadFuture<'_, [u8], [u8]> = reader.read();
/// assert_eq!(async_io::block_on(read)?, b"view");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type ReadFuture<'r, T, U> = reactor::ReadFuture<'r, AsyncIo, T, U>;

/// `futures_core::Stream` of owned `T`s from an [`AsyncReader`] on
/// async-io (see [`reactor::StreamAs`]).
///
/// # Examples
///
/// ```
/// use ringview::async_io::{AsyncReader, StreamAs};
/// use ringview::testing::MemoryRing;
/// use ringview::Reader;
/// use smol::stream::StreamExt;
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = AsyncReader::new(Reader::new(ring.ring_buf())?)?;
/// ring.output(&7u64.to_ne_bytes(), 0)?;
/// ring.output(&8u64.to_ne_bytes(), 0)?;
/// let mut values: StreamAs<'_, u64> = reader.stream_as();
/// smol::block_on(async {
///     assert_eq!(values.next().await.transpose()?, Some(7));
///     assert_eq!(values.next().await.transpose()?, Some(8));
///     Ok::<(), ringview::ReadError>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "stream")]
pub type StreamAs<'r, T> = reactor::StreamAs<'r, AsyncIo, T>;

impl AsyncReader {
    /// Registers `reader`'s ring with async-io's reactor (started on first
    /// use; no runtime needed).
    ///
    /// # Errors
    ///
    /// [`ReaderError::Syscall`] when the descriptors cannot be duplicated or
    /// registered.
    pub fn new(reader: Reader) -> Result<Self, ReaderError> {
        Self::register(reader)
    }
}

impl<T: ?Sized + View> AsyncUnsafeReader<T> {
    /// Registers `reader`'s ring with async-io's reactor (started on first
    /// use; no runtime needed). Safe: `reader`'s constructor already took
    /// the promise about other consumers.
    ///
    /// # Errors
    ///
    /// [`ReaderError::Syscall`] when the descriptors cannot be duplicated or
    /// registered.
    pub fn new(reader: UnsafeReader<T>) -> Result<Self, ReaderError> {
        Self::register(reader)
    }
}
