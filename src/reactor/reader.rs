//! [`AsyncReader`] and [`AsyncUnsafeReader`]: the readers on a reactor,
//! generic over it (see [the module](crate::reactor) for the names each
//! executor uses).
//!
//! They drive the same core as the blocking readers: each read asks the
//! core's non-blocking `try_ready` whether a record is ready (which, when
//! none is, publishes what is released and fences, as before any sleep),
//! awaits readiness of the ring's descriptor when not, then takes the
//! record with the core's `try_*` call. There is no second copy of the
//! ring logic, and none per reactor.

use std::future::Future;
use std::marker::PhantomData;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use zerocopy::FromBytes;

use crate::error::{ReadError, ReaderError};
use crate::event::{View, ViewAs};
use crate::reactor::wait::{Readiness, TryReady, Wait};
use crate::reactor::Reactor;
use crate::read::cursor::Ready;
use crate::read::reader::{Reader, Record};
use crate::read::unsafe_reader::{Batch, FuncFlow, UnsafeReader};

/// Bytes an async reader releases between two looks at the clock (the
/// core's checkpoints): a reader that has kept its thread for
/// [`COOP_SLICE`] then yields once. 64 KiB is about 2,700 records of 16
/// bytes (some 30 µs of reading here) or 60 of 1 KiB, so the clock is read
/// rarely enough to cost nothing and often enough for the executor.
const CHECKPOINT_BYTES: usize = 64 << 10;

/// The copying [`Reader`] on the reactor `R`: `read().await` instead of a
/// blocking read. Named [`ringview::AsyncReader`](crate::AsyncReader) on
/// tokio and [`ringview::async_io::AsyncReader`](crate::async_io::AsyncReader)
/// on async-io (smol); see [the module](crate::reactor).
///
/// # Cancellation
///
/// Every future of this type is cancel-safe (in tokio's sense): dropped
/// before it completes (a `tokio::select!` or `futures::select!` whose
/// other branch won, a timeout), it has taken nothing from the ring, so
/// the next read (of this reader or of the ring's next reader) returns the
/// same record. A record is copied out and released only in the poll that
/// completes the future.
///
/// # Examples
///
/// ```no_run
/// # #[cfg(feature = "tokio")]
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
#[derive(Debug)]
pub struct AsyncReader<R: Reactor> {
    readiness: Readiness<R>,
    reader: Reader,
    /// The reader's `Stream` ended (see `stream.rs`).
    #[cfg_attr(
        not(feature = "stream"),
        expect(dead_code, reason = "only the `Stream` impls read it")
    )]
    pub(crate) stream_ended: bool,
}

impl<R: Reactor> AsyncReader<R> {
    /// Registers `reader`'s ring, its handle's control eventfd and a new
    /// timerfd with the reactor (each reactor's `new` checks first what it
    /// needs).
    pub(crate) fn register(mut reader: Reader) -> Result<Self, ReaderError> {
        let readiness = Readiness::new(reader.as_fd(), reader.handle())?;
        reader.consumer_mut().set_checkpoint_every(CHECKPOINT_BYTES);
        Ok(Self {
            readiness,
            reader,
            stream_ended: false,
        })
    }

    /// Reads the next record into a new [`Record`], waiting until one is
    /// submitted. Cancel-safe (see the type's docs).
    ///
    /// # Errors
    ///
    /// As [`Reader::read_into`], without the deadline (use the executor's
    /// timeout: `tokio::time::timeout`, smol's `FutureExt::or` with a
    /// `Timer`).
    pub async fn read(&mut self) -> Result<Record, ReadError> {
        let mut record = Record::default();
        self.read_into(&mut record).await?;
        Ok(record)
    }

    /// Reads the next record into `record`, reusing its buffer. Cancel-safe:
    /// `record` is unchanged unless the future completes with `Ok`.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn read_into<'r>(
        &'r mut self,
        record: &'r mut Record,
    ) -> impl Future<Output = Result<(), ReadError>> + Send + 'r {
        // As `AsyncUnsafeReader::read`: a poll that inlines into the
        // caller's loop while records are ready.
        ReadInto {
            next: NextRecord::new(self),
            record,
        }
    }

    /// Reads the next record as an owned `T`; see [`Reader::read_as`].
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`Reader::read_as`], without the deadline.
    pub async fn read_as<T: FromBytes>(&mut self) -> Result<T, ReadError> {
        self.readiness.ready(&mut self.reader).await?;
        // A ready record stays ready: the copying reader is this ring's only
        // consumer in this process.
        let mut record = Record::default();
        if !self.reader.try_read_into(&mut record)? {
            return Err(ReadError::ReadyRecordGone);
        }
        T::read_from_prefix(&record.sample)
            .map(|(value, _)| value)
            .map_err(|_| ReadError::RecordTooShort {
                len: record.sample.len(),
                expected: size_of::<T>(),
                type_name: std::any::type_name::<T>(),
            })
    }

    /// Waits until a record is ready, without taking it. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn readable(&mut self) -> Result<(), ReadError> {
        self.readiness.ready(&mut self.reader).await
    }

    /// Polls for the next record, copied into `record`: the poll form of
    /// [`read_into`](Self::read_into), for hand-written futures and
    /// streams. `Pending` registers `cx`'s waker; the next poll goes on
    /// with the wait where this one left it. `record` is unchanged unless
    /// it returns `Ready` (as for [`Reader::read_into`], after
    /// `ConsumerMoved` its sample is empty).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    #[inline]
    pub fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        record: &mut Record,
    ) -> Poll<Result<(), ReadError>> {
        let ready = ready!(poll_next_ready(self, cx))?;
        Poll::Ready(self.reader.read_ready_into(ready, record))
    }

    /// Polls for the next record as a new [`Record`]: the poll form of
    /// [`read`](Self::read).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<Record, ReadError>> {
        let mut record = Record::default();
        ready!(self.poll_read_into(cx, &mut record))?;
        Poll::Ready(Ok(record))
    }

    /// Polls until a record is ready, without taking it: the poll form of
    /// [`readable`](Self::readable).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ReadError>> {
        ready!(poll_next_ready(self, cx))?;
        Poll::Ready(Ok(()))
    }

    /// Takes the next record if one is ready, without waiting: `Ok(None)`
    /// when none is (everything released is then published, as before a
    /// wait). After a `read` or `readable`, call it until `None` to take
    /// what is ready without an await per record.
    ///
    /// # Errors
    ///
    /// As [`Reader::try_read`].
    pub fn try_read(&mut self) -> Result<Option<Record>, ReadError> {
        self.readiness.wait = Wait::Start;
        self.reader.try_read()
    }

    /// [`try_read`](Self::try_read) into `record`, reusing its buffer;
    /// returns whether a record was read.
    ///
    /// # Errors
    ///
    /// As [`Reader::try_read_into`].
    pub fn try_read_into(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        self.readiness.wait = Wait::Start;
        self.reader.try_read_into(record)
    }

    /// The blocking reader inside, for its other methods (`try_read`,
    /// `set_publish_policy`, `handle`, `positions`).
    pub fn get_ref(&self) -> &Reader {
        &self.reader
    }

    /// The blocking reader inside, mutably.
    pub fn get_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }

    /// Deregisters from the reactor and returns the blocking reader.
    pub fn into_inner(mut self) -> Reader {
        self.reader.consumer_mut().set_checkpoint_every(0);
        self.reader
    }
}

/// The zero-copy [`UnsafeReader`] on the reactor `R`: `read().await` hands
/// out a view `&U` borrowed exactly like the blocking one's, released by
/// the next read or by [`commit`](Self::commit). Named
/// [`ringview::AsyncUnsafeReader`](crate::AsyncUnsafeReader) on tokio and
/// [`ringview::async_io::AsyncUnsafeReader`](crate::async_io::AsyncUnsafeReader)
/// on async-io (smol); see [the module](crate::reactor).
///
/// # Cancellation
///
/// A future of this type, dropped before it completes, has taken nothing
/// from the ring: every await happens before a record is taken, and a
/// record is taken only in the poll that completes the future. So
/// `tokio::select!` (or any `select`) may drop any of them, and the record
/// it would have returned is the next one read, by this reader or by the
/// ring's next reader. What starting a read does release is the previous
/// view, as the blocking [`UnsafeReader::read`] does: calling `read` says
/// you are done with it.
///
/// A `read_func` callback is synchronous (it runs inside one poll, between
/// awaits), so the at-least-once rules of [`UnsafeReader::read_func`] hold
/// unchanged: each record is released when its callback returns, `Break`
/// and panics leave theirs in the ring. A batch is used after the future
/// completes, under the rules of [`Batch`].
///
/// # Publish policies
///
/// [`set_publish_policy`](UnsafeReader::set_publish_policy) on the inner
/// reader works as for the blocking reader, through the same core: the
/// eager policy publishes every record, the lazy one every `fraction` of
/// the ring, and both publish everything before the reader awaits the
/// ring's descriptor. The lazy policy lingers as the blocking reader does,
/// through the same steps: on an empty ring it looks again every `latency`
/// for up to `idle`. Naps shorter than 50 µs are spun in place (yielding to
/// the runtime at least every 50 µs); longer ones await a timerfd, with
/// the runtime free for other tasks, and are cut short by a flush or
/// close. The timerfd is armed for the nap plus the thread's timer slack,
/// which the kernel adds to the blocking reader's `ppoll` naps but not to
/// a timerfd, so the same policy wakes either reader equally often.
/// Unlike the blocking reader, it publishes nothing before such a nap: the
/// ring's descriptor is registered with the reactor (tokio's epoll watches
/// it all the time), and a caught-up position would have the producer's
/// next commit wake the runtime in the middle of the nap. The same holds for [`AsyncReader`].
///
/// Variable-length and tagged records: read `[u8]` from an untyped reader
/// and split it with the event's [`View::view`] or
/// [`TaggedEvent::from_record`](crate::TaggedEvent::from_record).
///
/// # Examples
///
/// ```no_run
/// # #[cfg(feature = "tokio")]
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
#[derive(Debug)]
pub struct AsyncUnsafeReader<R: Reactor, T: ?Sized + View = [u8]> {
    readiness: Readiness<R>,
    reader: UnsafeReader<T>,
}

impl<R: Reactor, T: ?Sized + View> AsyncUnsafeReader<R, T> {
    /// Registers `reader`'s ring, its handle's control eventfd and a new
    /// timerfd with the reactor (each reactor's `new` checks first what it
    /// needs).
    pub(crate) fn register(mut reader: UnsafeReader<T>) -> Result<Self, ReaderError> {
        let readiness = Readiness::new(reader.as_fd(), reader.handle())?;
        reader.consumer_mut().set_checkpoint_every(CHECKPOINT_BYTES);
        Ok(Self { readiness, reader })
    }

    /// Views the next record, waiting until one is submitted; the previous
    /// view is released. Cancel-safe (see the type's docs).
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::read`], without the deadline (use the
    /// executor's timeout), plus [`ReadError::ReadyRecordGone`].
    pub fn read<'r, U: ?Sized + View + 'r>(&'r mut self) -> ReadFuture<'r, R, T, U>
    where
        T: ViewAs<U>,
    {
        ReadFuture {
            next: NextRecord::new(self),
            _view: PhantomData,
        }
    }

    /// Waits for at least one record, then calls `f` with a view of each
    /// available record, as [`UnsafeReader::read_func`] does (the same
    /// release rules). Returns how many records `f` finished. Cancel-safe.
    ///
    /// It publishes what `f` released as the policy says, as the blocking
    /// `read_func` and [`read`](Self::read) do: the eager policy when the
    /// call ends, the lazy one once a fraction of the ring is released, and
    /// both before the reader awaits the ring's descriptor. (Publishing at
    /// every call would have the producer's next commit notify the ring's
    /// descriptor, which wakes the runtime in the middle of a nap.)
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn read_func<F, Flow>(&mut self, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> Flow,
        Flow: FuncFlow,
    {
        self.read_func_n(usize::MAX, f).await
    }

    /// [`read_func`](Self::read_func) for at most `max` records.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn read_func_n<F, Flow>(&mut self, max: usize, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> Flow,
        Flow: FuncFlow,
    {
        if max == 0 {
            return Ok(0);
        }
        self.readiness.ready(&mut self.reader).await?;
        self.reader.try_read_func_n(max, f)
    }

    /// Waits for at least one record, then hands out a [`Batch`] of every
    /// available record, as [`UnsafeReader::batch`] does. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn batch(&mut self) -> Result<Batch<'_, T>, ReadError> {
        self.batch_n(usize::MAX).await
    }

    /// [`batch`](Self::batch), handing out at most `max` views.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn batch_n(&mut self, max: usize) -> Result<Batch<'_, T>, ReadError> {
        self.readiness.ready(&mut self.reader).await?;
        self.reader
            .try_batch_n(max)?
            .ok_or(ReadError::ReadyRecordGone)
    }

    /// Waits until a record is ready, without taking it; the previous view
    /// is released. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn readable(&mut self) -> Result<(), ReadError> {
        self.readiness.ready(&mut self.reader).await
    }

    /// Polls for a view of the next record, releasing the previous one:
    /// the poll form of [`read`](Self::read), for hand-written futures.
    /// `Pending` registers `cx`'s waker; the next poll goes on with the
    /// wait where this one left it.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    #[inline]
    pub fn poll_read<U: ?Sized + View>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<&U, ReadError>>
    where
        T: ViewAs<U>,
    {
        let ready = ready!(poll_next_ready(self, cx))?;
        Poll::Ready(self.reader.view_ready(ready))
    }

    /// Polls until a record is ready, without taking it (the previous view
    /// is released): the poll form of [`readable`](Self::readable).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ReadError>> {
        ready!(poll_next_ready(self, cx))?;
        Poll::Ready(Ok(()))
    }

    /// Views the next record if one is ready, without waiting; see
    /// [`UnsafeReader::try_read`]. After a `read` or `readable`, call it
    /// until `None` to take what is ready without an await per record.
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::try_read`].
    pub fn try_read<U: ?Sized + View>(&mut self) -> Result<Option<&U>, ReadError>
    where
        T: ViewAs<U>,
    {
        self.readiness.wait = Wait::Start;
        self.reader.try_read()
    }

    /// Calls `f` with each ready record, without waiting; see
    /// [`UnsafeReader::try_read_func`].
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::try_read`].
    pub fn try_read_func<F, Flow>(&mut self, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> Flow,
        Flow: FuncFlow,
    {
        self.readiness.wait = Wait::Start;
        self.reader.try_read_func(f)
    }

    /// A batch of every ready record, without waiting; see
    /// [`UnsafeReader::try_batch`].
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::try_read`].
    pub fn try_batch(&mut self) -> Result<Option<Batch<'_, T>>, ReadError> {
        self.readiness.wait = Wait::Start;
        self.reader.try_batch()
    }

    /// Releases every record handed out so far; see
    /// [`UnsafeReader::commit`].
    pub fn commit(&mut self) {
        self.reader.commit();
    }

    /// The blocking reader inside, for its other methods (`try_read`,
    /// `set_publish_policy`, `handle`, `positions`, `rejected`).
    pub fn get_ref(&self) -> &UnsafeReader<T> {
        &self.reader
    }

    /// The blocking reader inside, mutably.
    pub fn get_mut(&mut self) -> &mut UnsafeReader<T> {
        &mut self.reader
    }

    /// Deregisters from the reactor and returns the blocking reader.
    pub fn into_inner(mut self) -> UnsafeReader<T> {
        self.reader.consumer_mut().set_checkpoint_every(0);
        self.reader
    }
}

/// The future of [`AsyncUnsafeReader::read`]: a view of the next record.
///
/// A named future rather than an `async fn`'s, so that its fast path (a
/// record is ready) is a small poll the compiler inlines into the caller's
/// loop, at about the cost of the blocking `read`; the wait for a record
/// (lingering, awaiting readiness) is kept in the reader between polls, so
/// the future allocates nothing and has nothing to drop. Dropping it takes
/// nothing (see [`AsyncUnsafeReader`] on cancellation).
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "async-io")]
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::async_io::AsyncUnsafeReader;
/// use ringview::reactor::{AsyncIo, ReadFuture};
/// use ringview::testing::MemoryRing;
/// use ringview::UnsafeReader;
///
/// let ring = MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let mut reader = AsyncUnsafeReader::new(reader)?;
/// ring.output(b"view", 0)?;
/// // The reactor, the reader's view type and the view handed out.
/// let read: ReadFuture<'_, AsyncIo, [u8], [u8]> = reader.read();
/// assert_eq!(smol::block_on(read)?, b"view");
/// # Ok(())
/// # }
/// # #[cfg(not(feature = "async-io"))]
/// # fn main() {}
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ReadFuture<'r, R: Reactor, T: ?Sized + View, U: ?Sized> {
    next: NextRecord<'r, AsyncUnsafeReader<R, T>>,
    _view: PhantomData<fn() -> &'r U>,
}

impl<R: Reactor, T: ?Sized + View, U: ?Sized> std::fmt::Debug for ReadFuture<'_, R, T, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFuture")
            .field("state", &self.next.state_name())
            .finish()
    }
}

impl<'r, R, T, U> Future for ReadFuture<'r, R, T, U>
where
    R: Reactor,
    T: ?Sized + View + ViewAs<U>,
    U: ?Sized + View + 'r,
{
    type Output = Result<&'r U, ReadError>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.next
            .poll_with(cx, |reader, ready| reader.reader.view_ready(ready))
    }
}

/// The future of [`AsyncReader::read_into`]: the next record copied into
/// `record`, as [`ReadFuture`] views one.
struct ReadInto<'r, R: Reactor> {
    next: NextRecord<'r, AsyncReader<R>>,
    record: &'r mut Record,
}

impl<R: Reactor> Future for ReadInto<'_, R> {
    type Output = Result<(), ReadError>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let record = &mut *this.record;
        this.next.poll_with(cx, |reader, ready| {
            reader.reader.read_ready_into(ready, record)
        })
    }
}

/// An async reader, split into what its futures need.
trait AsyncParts: Send {
    type Reactor: Reactor;
    type Reader: TryReady + Send;
    fn parts(&mut self) -> (&mut Readiness<Self::Reactor>, &mut Self::Reader);
}

impl<R: Reactor> AsyncParts for AsyncReader<R> {
    type Reactor = R;
    type Reader = Reader;

    #[inline(always)]
    fn parts(&mut self) -> (&mut Readiness<R>, &mut Reader) {
        (&mut self.readiness, &mut self.reader)
    }
}

impl<R: Reactor, T: ?Sized + View> AsyncParts for AsyncUnsafeReader<R, T> {
    type Reactor = R;
    type Reader = UnsafeReader<T>;

    #[inline(always)]
    fn parts(&mut self) -> (&mut Readiness<R>, &mut UnsafeReader<T>) {
        (&mut self.readiness, &mut self.reader)
    }
}

/// The next record of an async reader, found but not taken: the core of
/// the readers' futures. Its poll is small enough to inline into the
/// caller's loop. It owns nothing that needs dropping (the wait for a
/// record, when there is one, is kept in the reader's [`Readiness`]), so
/// once it completed the caller drops it without a look.
struct NextRecord<'r, A> {
    /// `None` once the future completed.
    reader: Option<&'r mut A>,
    /// Whether a wait started: the first poll tries the fast path, later
    /// ones go on with the wait.
    waiting: bool,
}

impl<'r, A: AsyncParts> NextRecord<'r, A> {
    fn new(reader: &'r mut A) -> Self {
        Self {
            reader: Some(reader),
            waiting: false,
        }
    }

    fn state_name(&self) -> &'static str {
        match (&self.reader, self.waiting) {
            (None, _) => "done",
            (Some(_), false) => "start",
            (Some(_), true) => "waiting",
        }
    }

    /// Once a record is ready, `finish` with the reader and the record
    /// found. `finish` appears twice, on the fast path and after the wait,
    /// so that the fast path returns its output directly rather than
    /// through the wait's.
    #[inline(always)]
    fn poll_with<O>(
        &mut self,
        cx: &mut Context<'_>,
        finish: impl FnOnce(&'r mut A, Ready) -> Result<O, ReadError>,
    ) -> Poll<Result<O, ReadError>> {
        let Some(reader) = self.reader.take() else {
            polled_after_completion()
        };
        if !self.waiting {
            if let Some(ready) = reader.parts().1.peek_cached() {
                return Poll::Ready(finish(reader, ready));
            }
        }
        match Self::wait(reader, cx, !self.waiting) {
            Poll::Ready(Ok(ready)) => Poll::Ready(finish(reader, ready)),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                self.reader = Some(reader);
                self.waiting = true;
                Poll::Pending
            }
        }
    }

    /// Polls the wait for a record (starting it on the first poll); once
    /// it is over, the record it found.
    #[cold]
    #[inline(never)]
    fn wait(reader: &mut A, cx: &mut Context<'_>, start: bool) -> Poll<Result<Ready, ReadError>> {
        let (readiness, inner) = reader.parts();
        if start {
            readiness.wait = Wait::Start;
        }
        ready!(readiness.poll_wait(inner, cx))?;
        // The wait found a record below the cached producer position, and
        // nothing but another consumer can take it away before this.
        Poll::Ready(inner.peek_ready()?.ok_or(ReadError::ReadyRecordGone))
    }
}

/// The poll-style core of the readers' `poll_*` methods: polls for the
/// next record, going on with the wait the last poll left (a new one after
/// a record was found). Its fast path is the futures' (a record below the
/// cached producer position, with no wait under way).
#[inline(always)]
fn poll_next_ready<A: AsyncParts>(
    reader: &mut A,
    cx: &mut Context<'_>,
) -> Poll<Result<Ready, ReadError>> {
    let (readiness, inner) = reader.parts();
    if matches!(readiness.wait, Wait::Start) {
        if let Some(ready) = inner.peek_cached() {
            return Poll::Ready(Ok(ready));
        }
    }
    ready!(readiness.poll_wait(inner, cx))?;
    // The wait found a record below the cached producer position, and
    // nothing but another consumer can take it away before this.
    Poll::Ready(inner.peek_ready()?.ok_or(ReadError::ReadyRecordGone))
}

/// Polling a read future again after it returned its output: a bug in the
/// caller (a future must not be polled after it completed).
#[cold]
#[inline(never)]
fn polled_after_completion() -> ! {
    panic!("a read future polled after it completed")
}

/// Makes sure the futures stay `Send` on every reactor (so `tokio::spawn`
/// and `smol::spawn` take them).
#[expect(dead_code, reason = "a compile-time check, never called")]
fn futures_are_send<R: Reactor>(
    reader: &mut AsyncUnsafeReader<R, [u8]>,
    copying: &mut AsyncReader<R>,
) {
    fn send<F: Future + Send>(_: F) {}
    send(reader.read::<[u8]>());
    send(reader.read_func(|_, _| ()));
    send(copying.read());
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use super::{AsyncReader, AsyncUnsafeReader};
    use crate::error::ReadError;
    use crate::reactor::manual::Manual;
    use crate::read::policy::PublishPolicy;
    use crate::read::reader::{Reader, Record};
    use crate::read::unsafe_reader::UnsafeReader;
    use crate::testing::MemoryRing;

    /// Counts its wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        (Arc::clone(&count), Waker::from(count))
    }

    /// A zero-copy reader of `ring` on the test reactor, with `policy`.
    fn unsafe_reader(ring: &MemoryRing, policy: PublishPolicy) -> AsyncUnsafeReader<Manual> {
        // SAFETY: nothing outside this library consumes the ring.
        let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap();
        reader.set_publish_policy(policy);
        AsyncUnsafeReader::register(reader).unwrap()
    }

    /// Records already in the ring are read on the first poll, without a
    /// look at the reactor, by every poll form.
    #[test]
    fn ready_records_are_read_without_waiting() {
        let count = if cfg!(miri) { 5 } else { 100 };
        let ring = MemoryRing::new(4096).unwrap();
        for seq in 0..count {
            ring.output(&[seq], 0).unwrap();
        }
        let mut reader = unsafe_reader(&ring, PublishPolicy::EAGER);
        let (wakes, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        for seq in 0..count {
            let poll = match seq % 3 {
                0 => pin!(reader.read::<[u8]>())
                    .poll(&mut cx)
                    .map_ok(<[u8]>::to_vec),
                1 => reader.poll_read::<[u8]>(&mut cx).map_ok(<[u8]>::to_vec),
                _ => {
                    assert!(reader.poll_ready(&mut cx).is_ready());
                    Poll::Ready(Ok(reader.try_read::<[u8]>().unwrap().unwrap().to_vec()))
                }
            };
            assert_eq!(poll.map(Result::unwrap), Poll::Ready(vec![seq]));
        }
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    }

    /// On an empty ring, a read publishes everything released before it
    /// waits, then waits for an edge: a record submitted meanwhile is not
    /// looked for until the reactor reports an edge (no spinning), and the
    /// edge wakes the task, whose next poll returns the record.
    #[test]
    fn an_empty_ring_publishes_then_waits_for_an_edge() {
        // Lazy without lingering: nothing is published until the wait.
        let policy = PublishPolicy::lazy(0.5, std::time::Duration::ZERO, std::time::Duration::ZERO);
        let ring = MemoryRing::new(4096).unwrap();
        ring.output(b"first", 0).unwrap();
        let mut reader = unsafe_reader(&ring, policy);
        let (wakes, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(
            reader.poll_read::<[u8]>(&mut cx),
            Poll::Ready(Ok(b"first"))
        ));
        assert_eq!(
            ring.consumer_pos(),
            0,
            "the lazy policy holds the release back"
        );

        assert!(reader.poll_read::<[u8]>(&mut cx).is_pending());
        assert_eq!(
            ring.consumer_pos(),
            ring.producer_pos(),
            "published before waiting"
        );
        ring.output(b"second", 0).unwrap();
        assert!(
            reader.poll_read::<[u8]>(&mut cx).is_pending(),
            "no edge yet"
        );
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        // The ring's and the control descriptor's: the wait watches both.
        let woken = Manual::edge_all();
        assert!(woken > 0, "the wait registered a waker");
        assert_eq!(wakes.0.load(Ordering::SeqCst), woken);
        assert!(matches!(
            reader.poll_read::<[u8]>(&mut cx),
            Poll::Ready(Ok(b"second"))
        ));

        // An edge with nothing behind it: the reader looks, then waits again.
        assert!(reader.poll_read::<[u8]>(&mut cx).is_pending());
        Manual::edge_all();
        assert!(
            reader.poll_read::<[u8]>(&mut cx).is_pending(),
            "a spurious edge"
        );
        assert!(Manual::edge_all() > 0, "it waits again, with a waker");
    }

    /// A read future dropped while it waits takes nothing: the next read
    /// returns the record submitted meanwhile. The copying reader's
    /// `poll_read_into` leaves the record untouched until it completes.
    #[test]
    fn a_dropped_read_takes_nothing() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = unsafe_reader(&ring, PublishPolicy::EAGER);
        let (_, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        {
            let read = pin!(reader.read::<[u8]>());
            assert!(read.poll(&mut cx).is_pending());
        }
        ring.output(b"kept", 0).unwrap();
        let read = pin!(reader.read::<[u8]>());
        assert!(matches!(read.poll(&mut cx), Poll::Ready(Ok(b"kept"))));
        drop(reader);

        let ring = MemoryRing::new(4096).unwrap();
        let mut reader: AsyncReader<Manual> =
            AsyncReader::register(Reader::new(ring.ring_buf()).unwrap()).unwrap();
        let mut record = Record::default();
        record.sample.extend_from_slice(b"old");
        assert!(reader.poll_read_into(&mut cx, &mut record).is_pending());
        assert_eq!(record.sample, b"old");
        ring.output(b"new", 0).unwrap();
        Manual::edge_all();
        assert!(matches!(
            reader.poll_read_into(&mut cx, &mut record),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(record.sample, b"new");
    }

    /// Flush and close reach a waiting reader through the control
    /// descriptor's edge; a flush is reported once.
    #[test]
    fn flush_and_close_end_a_wait() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = unsafe_reader(&ring, PublishPolicy::EAGER);
        let handle = reader.get_ref().handle();
        let (_, waker) = waker();
        let mut cx = Context::from_waker(&waker);
        assert!(reader.poll_ready(&mut cx).is_pending());
        handle.flush();
        Manual::edge_all();
        assert!(matches!(
            reader.poll_ready(&mut cx),
            Poll::Ready(Err(ReadError::Flushed))
        ));
        assert!(
            reader.poll_ready(&mut cx).is_pending(),
            "one flush, one error"
        );
        handle.close();
        Manual::edge_all();
        assert!(matches!(
            reader.poll_ready(&mut cx),
            Poll::Ready(Err(ReadError::Closed))
        ));
    }
}
