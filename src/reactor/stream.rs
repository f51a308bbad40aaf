//! `futures_core::Stream` for [`AsyncReader`] (the `stream` feature): the
//! records as owned [`Record`]s, or as owned `T: FromBytes` through
//! [`AsyncReader::stream_as`].

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::{FusedStream, Stream};
use zerocopy::FromBytes;

use crate::error::ReadError;
use crate::reactor::{AsyncReader, Reactor};
use crate::read::reader::Record;
use crate::read::records::after;

/// The records, owned, until the reader is closed or flushed. A read error
/// other than those is yielded; after it the stream ends, unless the reader
/// could move past it. Dropping a `next()` future before it completes takes
/// nothing (as for [`AsyncReader::read`]).
///
/// # Examples
///
/// ```no_run
/// # #[cfg(feature = "tokio")]
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use futures_core::Stream;
/// use ringview::{AsyncReader, Reader, RingBuf};
///
/// let ring = RingBuf::from_pinned("/sys/fs/bpf/events")?;
/// let mut reader = AsyncReader::new(Reader::new(ring)?)?;
/// // With `futures::StreamExt` or `tokio_stream::StreamExt`:
/// // while let Some(record) = reader.next().await { ... }
/// let _: &mut dyn Stream<Item = _> = &mut reader;
/// # Ok(())
/// # }
/// ```
impl<R: Reactor> Stream for AsyncReader<R> {
    type Item = Result<Record, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.stream_ended {
            return Poll::Ready(None);
        }
        let read = ready!(this.poll_read(cx));
        Poll::Ready(after(&mut this.stream_ended, read))
    }
}

impl<R: Reactor> FusedStream for AsyncReader<R> {
    fn is_terminated(&self) -> bool {
        self.stream_ended
    }
}

impl<R: Reactor> AsyncReader<R> {
    /// The records as a stream of owned `T`s, each copied from the start
    /// of its record as [`read_as`](Self::read_as) does (one buffer reused
    /// throughout). It ends as the reader's own stream does; a record
    /// shorter than `T` is yielded as [`ReadError::RecordTooShort`] and the
    /// stream goes on.
    pub fn stream_as<T: FromBytes>(&mut self) -> StreamAs<'_, R, T> {
        StreamAs {
            reader: self,
            record: Record::default(),
            _value: PhantomData,
        }
    }
}

/// The records of an [`AsyncReader`] as a stream of owned `T`s; see
/// [`AsyncReader::stream_as`].
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "async-io")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::async_io::AsyncReader;
/// use ringview::reactor::{AsyncIo, StreamAs};
/// use ringview::testing::MemoryRing;
/// use ringview::Reader;
/// use smol::stream::StreamExt;
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = AsyncReader::new(Reader::new(ring.ring_buf())?)?;
/// ring.output(&7u64.to_ne_bytes(), 0)?;
/// ring.output(&8u64.to_ne_bytes(), 0)?;
/// let values: StreamAs<'_, AsyncIo, u64> = reader.stream_as();
/// let values: Vec<u64> = smol::block_on(values.take(2).try_collect())?;
/// assert_eq!(values, [7, 8]);
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "async-io"))]
/// # fn main() {}
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct StreamAs<'r, R: Reactor, T> {
    reader: &'r mut AsyncReader<R>,
    record: Record,
    _value: PhantomData<fn() -> T>,
}

impl<R: Reactor, T> std::fmt::Debug for StreamAs<'_, R, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamAs")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

impl<R: Reactor, T: FromBytes> Stream for StreamAs<'_, R, T> {
    type Item = Result<T, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.reader.stream_ended {
            return Poll::Ready(None);
        }
        let read = ready!(this.reader.poll_read_into(cx, &mut this.record)).and_then(|()| {
            let sample = &this.record.sample;
            T::read_from_prefix(sample)
                .map(|(value, _)| value)
                .map_err(|_| ReadError::RecordTooShort {
                    len: sample.len(),
                    expected: size_of::<T>(),
                    type_name: std::any::type_name::<T>(),
                })
        });
        Poll::Ready(after(&mut this.reader.stream_ended, read))
    }
}

impl<R: Reactor, T: FromBytes> FusedStream for StreamAs<'_, R, T> {
    fn is_terminated(&self) -> bool {
        self.reader.stream_ended
    }
}
