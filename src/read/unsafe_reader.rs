//! [`UnsafeReader`]: zero-copy views of records, released by commit.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use crate::error::{ReadError, ReaderError};
use crate::event::{split_tail, RingEvent, TaggedEvent, View, ViewAs};
use crate::read::consumer::{Consumer, Positions};
use crate::read::cursor::{Cursor, Ready};
use crate::read::policy::PublishPolicy;
use crate::read::ring_buf::RingBuf;
use crate::read::wait::ReaderHandle;

/// Reads records as views `&T` cast in place in the ring: no copy.
///
/// A view borrows the reader and is released by the next [`read`](Self::read)
/// or by [`commit`](Self::commit); the borrow checker rejects any use after
/// that. Releases are batched: the consumer position is stored once a
/// quarter of the ring is released (see [`PublishPolicy`]), when the ring
/// runs empty, on `commit`, and on drop, never once per record.
///
/// `T = [u8]` (the default) reads raw payloads; on such an untyped reader,
/// `reader.read::<ExecEvent>()` views one record as a given type, for rings
/// that carry several event types, and `reader.read::<[u8]>()` gives the raw
/// bytes (an untyped reader always names the view type; a typed reader
/// infers it).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingEvent, UnsafeReader};
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Event {
///     pid: u32,
///     cpu: u32,
///     ts: u64,
/// }
///
/// let ring = MemoryRing::new(4096).unwrap();
/// // SAFETY: this reader is the ring's only consumer.
/// let mut reader = unsafe { UnsafeReader::<Event>::new(ring.ring_buf()) }.unwrap();
/// let mut bytes = [0u8; 16];
/// bytes[..4].copy_from_slice(&42u32.to_ne_bytes());
/// ring.output(&bytes, 0).unwrap();
///
/// let event = reader.read().unwrap();
/// assert_eq!(event.pid, 42);
/// reader.commit();
/// ```
#[derive(Debug)]
pub struct UnsafeReader<T: ?Sized + View = [u8]> {
    consumer: Consumer,
    _view: PhantomData<fn() -> *const T>,
}

impl<T: ?Sized + View> UnsafeReader<T> {
    /// A zero-copy reader of `ring`, starting at its live consumer position.
    ///
    /// # Safety
    ///
    /// For as long as this reader lives, nothing outside this library may
    /// move the ring's consumer position: no other process consuming the
    /// same map, and no consumer of another library (aya's `RingBuf`,
    /// libbpf's `ring_buffer`) in this process. A producer reuses ring space
    /// as soon as the consumer position passes it, so a consumer moving it
    /// would let a producer overwrite the bytes behind a live view `&T`,
    /// and it need not be while the view is alive: a move between two reads
    /// is enough for the next view to cover reused space.
    ///
    /// Other readers of this library need no promise: a second reader of
    /// the same map in this process is refused with
    /// [`ReaderError::AlreadyConsumed`], however the map was opened. The
    /// reader also checks at every refill of the producer position that the
    /// consumer position is still where it left it, and stops with
    /// [`ReadError::ConsumerMoved`] when not; that check narrows the harm of
    /// a broken promise but cannot make it sound, since a move between two
    /// refills goes unseen until the next one.
    ///
    /// # Errors
    ///
    /// [`ReaderError::TypeTooLarge`] when `T` is larger than any record the
    /// ring can hold ([`RingBuf::max_record_len`]), so that every read would
    /// fail; [`ReaderError::AlreadyConsumed`] while another reader of this
    /// process reads the same map; [`ReaderError::Overwrite`] for maps
    /// created with `BPF_F_RB_OVERWRITE`, where producers overwrite
    /// unconsumed records; [`ReaderError::Syscall`] when epoll or the
    /// eventfd cannot be set up.
    pub unsafe fn new(ring: RingBuf) -> Result<Self, ReaderError> {
        // Before the claim: a reader that can never read is not made.
        // Async readers and ring sets take a reader made here.
        if T::MIN_LEN > ring.max_record_len() {
            return Err(ReaderError::TypeTooLarge {
                type_name: std::any::type_name::<T>(),
                size: T::MIN_LEN,
                max_record_len: ring.max_record_len(),
                buffer_size: ring.buffer_size(),
            });
        }
        Ok(Self {
            consumer: Consumer::new(ring)?,
            _view: PhantomData,
        })
    }

    /// Ends the previous view: releases every record read so far, and
    /// publishes once enough is released.
    #[inline(always)]
    fn end_view(&mut self) {
        self.consumer.release_all();
        self.consumer.publish_lazily();
    }

    /// Views the next record, blocking until one is submitted. The previous
    /// view is released.
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] when the record is shorter than `U`:
    /// the reader moves past it, and [`rejected`](Self::rejected) shows its
    /// bytes until the next read or commit. [`ReadError::Closed`],
    /// [`ReadError::Flushed`], [`ReadError::DeadlineExceeded`],
    /// [`ReadError::CorruptHeader`], [`ReadError::ConsumerMoved`],
    /// [`ReadError::Lapped`] and [`ReadError::Syscall`] as for
    /// [`Reader::read_into`](crate::Reader::read_into).
    #[inline(always)]
    pub fn read<U: ?Sized + View>(&mut self) -> Result<&U, ReadError>
    where
        T: ViewAs<U>,
    {
        self.end_view();
        let ready = self.consumer.ready_blocking()?;
        decode(self.consumer.cursor(), ready, U::view)
    }

    /// Views the next record if one is ready, without blocking; the
    /// previous view is released. `Ok(None)` means the ring is empty (or its
    /// next record is still being written), and everything released was
    /// handed back to the producers: sleep in your own poller on
    /// [`as_fd`](AsFd::as_fd) until it is readable, then call this until it
    /// returns `None` again.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), without the waiting ones.
    #[inline(always)]
    pub fn try_read<U: ?Sized + View>(&mut self) -> Result<Option<&U>, ReadError>
    where
        T: ViewAs<U>,
    {
        self.end_view();
        let Some(ready) = self.consumer.ready_now()? else {
            return Ok(None);
        };
        decode(self.consumer.cursor(), ready, U::view).map(Some)
    }

    /// Whether a record is ready to read without blocking; the previous
    /// view is released. `Ok(false)` means, as for
    /// [`try_read`](Self::try_read), that everything released was handed
    /// back to the producers, so the caller may sleep on
    /// [`as_fd`](AsFd::as_fd). After `Ok(true)`, the next `try_read`,
    /// `try_batch` or `try_read_func` finds the record. For event loops
    /// whose wait cannot hold a view across it (an `async` read).
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_ready(&mut self) -> Result<bool, ReadError> {
        self.end_view();
        Ok(self.consumer.ready_now()?.is_some())
    }

    /// [`try_ready`](Self::try_ready) without its first look: for the
    /// async readers, which have just looked.
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub(crate) fn publish_and_look(&mut self) -> Result<bool, ReadError> {
        self.end_view();
        Ok(self.consumer.publish_and_look()?.is_some())
    }

    /// The async readers' fast path: the previous view released, the
    /// record at the cursor if one is submitted below the cached producer
    /// position; `None` sends them to [`peek_ready`](Self::peek_ready).
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    #[inline(always)]
    pub(crate) fn peek_cached(&mut self) -> Option<Ready> {
        self.end_view();
        self.consumer.peek_cached()
    }

    /// Whether a record is ready, without publishing anything (the async
    /// readers' look when the fast path found none, and between two linger
    /// steps).
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    #[inline(always)]
    pub(crate) fn peek_ready(&mut self) -> Result<Option<Ready>, ReadError> {
        self.end_view();
        self.consumer.peek()
    }

    /// Views the record [`peek_ready`](Self::peek_ready) just found, as
    /// [`read`](Self::read) does (the async readers' one decode per read).
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    #[inline(always)]
    pub(crate) fn view_ready<U: ?Sized + View>(&mut self, ready: Ready) -> Result<&U, ReadError>
    where
        T: ViewAs<U>,
    {
        decode(self.consumer.cursor(), ready, U::view)
    }

    /// The core, for the async readers' linger.
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub(crate) fn consumer_mut(&mut self) -> &mut Consumer {
        &mut self.consumer
    }

    /// Views the next record as a header `H` and the bytes after it: the
    /// tail is exactly what the producer submitted after the header, of any
    /// length (odd ones included). The previous view is released.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), with the header's size as the minimum.
    #[inline]
    pub fn read_with_tail<H: RingEvent + View>(&mut self) -> Result<(&H, &[u8]), ReadError>
    where
        T: ViewAs<H>,
    {
        self.end_view();
        let ready = self.consumer.ready_blocking()?;
        decode(self.consumer.cursor(), ready, split_tail)
    }

    /// Views the next record as the variant of `E` its leading tag names,
    /// for rings that carry several event types. The previous view is
    /// released.
    ///
    /// # Errors
    ///
    /// [`ReadError::UnknownTag`] for a tag no variant names (the reader
    /// moves past it and [`rejected`](Self::rejected) shows its bytes);
    /// otherwise as [`read`](Self::read).
    #[inline]
    pub fn read_tagged<'r, E: TaggedEvent<'r>>(&'r mut self) -> Result<E, ReadError> {
        self.end_view();
        let ready = self.consumer.ready_blocking()?;
        decode(self.consumer.cursor(), ready, E::from_record)
    }

    /// The bytes of the last record a read rejected, until the next read or
    /// commit.
    pub fn rejected(&self) -> Option<&[u8]> {
        self.consumer
            .cursor()
            .rejected()
            .map(|record| record.bytes())
    }

    /// Whether the reader has moved past records it has not released: the
    /// current view, or a record a read refused (too short, unknown tag, a
    /// corrupt span).
    pub(crate) fn has_unreleased(&self) -> bool {
        let cursor = self.consumer.cursor();
        cursor.pos() != cursor.released()
    }

    /// Releases every record handed out so far, with one store of the
    /// consumer position.
    pub fn commit(&mut self) {
        self.consumer.release_all();
        self.consumer.publish();
    }

    /// Waits for at least one record, then hands out views of every record
    /// available, all valid until the batch ends. [`Batch::commit`] releases
    /// them with one store of the consumer position; a batch dropped
    /// without `commit` (a `?` that returned early, a panic) releases none
    /// of them, and the next read starts again at its first record. The
    /// previous view is released.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), for the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringview::testing::MemoryRing;
    /// use ringview::UnsafeReader;
    ///
    /// let ring = MemoryRing::new(4096).unwrap();
    /// // SAFETY: nothing outside this library consumes the ring.
    /// let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap();
    /// ring.output(b"one", 0).unwrap();
    /// ring.output(b"two", 0).unwrap();
    ///
    /// let batch = reader.batch().unwrap();
    /// // An untyped reader names the view type: raw bytes here.
    /// let first = batch.next::<[u8]>().unwrap().unwrap();
    /// let second = batch.next::<[u8]>().unwrap().unwrap();
    /// assert_eq!((first, second), (&b"one"[..], &b"two"[..]));
    /// assert!(batch.next::<[u8]>().unwrap().is_none());
    /// batch.commit();
    /// ```
    pub fn batch(&mut self) -> Result<Batch<'_, T>, ReadError> {
        self.batch_n(usize::MAX)
    }

    /// [`batch`](Self::batch), handing out at most `max` views.
    ///
    /// # Errors
    ///
    /// As [`batch`](Self::batch).
    pub fn batch_n(&mut self, max: usize) -> Result<Batch<'_, T>, ReadError> {
        self.end_view();
        self.consumer.ready_blocking()?;
        Ok(Batch::new(self, max))
    }

    /// [`batch`](Self::batch) without blocking: `Ok(None)` when no record
    /// is ready, as for [`try_read`](Self::try_read).
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_batch(&mut self) -> Result<Option<Batch<'_, T>>, ReadError> {
        self.try_batch_n(usize::MAX)
    }

    /// [`try_batch`](Self::try_batch), handing out at most `max` views.
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_batch_n(&mut self, max: usize) -> Result<Option<Batch<'_, T>>, ReadError> {
        self.end_view();
        if self.consumer.ready_now()?.is_none() {
            return Ok(None);
        }
        Ok(Some(Batch::new(self, max)))
    }

    /// Waits for at least one record, then calls `f` with a view of each
    /// available record and the bytes remaining after it. Returns how many
    /// records `f` finished. The previous view is released.
    ///
    /// A record is released when `f` returns for it. Released records are
    /// published as the [`PublishPolicy`](crate::PublishPolicy) says, as for [`read`](Self::read)
    /// and on every reader (the async ones and a ring set's too): the
    /// eager policy with one store when the call ends, the lazy one once
    /// its share of the ring is released; both before the reader sleeps,
    /// and at [`commit`](Self::commit) or drop. `f` may
    /// return `()`, or a [`ControlFlow`](std::ops::ControlFlow): `Break`
    /// stops the call and leaves the record it was given unreleased, so the
    /// next read starts with it. A panic in `f` likewise leaves its record
    /// (and everything after it) in the ring.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read). On [`ReadError::RecordTooShort`] the records
    /// before the short one are released and [`rejected`](Self::rejected)
    /// shows the short one.
    pub fn read_func<F, R>(&mut self, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.consume(true, usize::MAX, f)
    }

    /// [`read_func`](Self::read_func) for at most `max` records (libbpf's
    /// `ring_buffer__consume_n`).
    ///
    /// # Errors
    ///
    /// As [`read_func`](Self::read_func).
    pub fn read_func_n<F, R>(&mut self, max: usize, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.consume(true, max, f)
    }

    /// [`read_func`](Self::read_func) without blocking: `Ok(0)` when no
    /// record is ready, as for [`try_read`](Self::try_read).
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_read_func<F, R>(&mut self, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.consume(false, usize::MAX, f)
    }

    /// [`try_read_func`](Self::try_read_func) for at most `max` records.
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_read_func_n<F, R>(&mut self, max: usize, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.consume(false, max, f)
    }

    #[inline(always)]
    fn consume<F, R>(&mut self, block: bool, max: usize, mut f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.end_view();
        if max == 0 {
            return Ok(0);
        }
        if block {
            self.consumer.ready_blocking()?;
        } else if self.consumer.ready_now()?.is_none() {
            return Ok(0);
        }
        let consumer = &self.consumer;
        let cursor = consumer.cursor();
        let mut done = Done {
            cursor,
            end: cursor.released(),
            rewind: false,
        };
        let mut count = 0;
        let flow = consumer.take_while(|record| {
            let view = match T::view(record.bytes()) {
                Ok(view) => view,
                Err(err) => {
                    cursor.reject(&record);
                    return ControlFlow::Break(Err(err));
                }
            };
            if f(view, record.remaining()).is_break() {
                done.rewind = true;
                return ControlFlow::Break(Ok(()));
            }
            done.end = record.end();
            count += 1;
            if count == max {
                return ControlFlow::Break(Ok(()));
            }
            ControlFlow::Continue(())
        });
        let result = match flow {
            Ok(ControlFlow::Break(Err(err))) | Err(err) => Err(err),
            Ok(_) => Ok(count),
        };
        drop(done);
        self.consumer.publish_lazily();
        result
    }

    /// Sets (or clears) the deadline for blocking reads; see
    /// [`Reader::set_deadline`](crate::Reader::set_deadline).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.consumer.set_deadline(deadline);
    }

    /// Sets when consumed space is published and how long the reader polls
    /// an empty ring before it blocks; see [`PublishPolicy`].
    pub fn set_publish_policy(&mut self, policy: PublishPolicy) {
        self.consumer.set_policy(policy);
    }

    /// A handle that flushes or closes this reader from another thread.
    pub fn handle(&self) -> ReaderHandle {
        self.consumer.handle()
    }

    /// The ring being read.
    pub fn ring(&self) -> &RingBuf {
        self.consumer.ring()
    }

    /// Bytes submitted or reserved after this reader's position; see
    /// [`Reader::unread_bytes`](crate::Reader::unread_bytes).
    pub fn unread_bytes(&self) -> usize {
        self.consumer.unread_bytes()
    }

    /// The ring's positions as this reader sees them.
    pub fn positions(&self) -> Positions {
        self.consumer.positions()
    }
}

impl<T: ?Sized + View> AsFd for UnsafeReader<T> {
    /// The ring's descriptor, for readiness in your own poller; see
    /// [`try_read`](UnsafeReader::try_read) and
    /// [`Reader::as_fd`](crate::Reader).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.consumer.ring().as_fd()
    }
}

/// Takes the record `ready` found and views it with `view`; a record the
/// view rejects stays reachable through `rejected()`.
#[inline(always)]
fn decode<'a, V>(
    cursor: &'a Cursor,
    ready: Ready,
    view: impl FnOnce(&'a [u8]) -> Result<V, ReadError>,
) -> Result<V, ReadError> {
    let record = cursor.take(ready);
    view(record.bytes()).inspect_err(|_| cursor.reject(&record))
}

/// The records a `read_func` callback finished: released when the call
/// ends, however it ends. Kept in a local rather than the cursor while the
/// callbacks run, so the loop stores nothing per record.
struct Done<'a> {
    cursor: &'a Cursor,
    /// The end of the last record the callback returned from.
    end: usize,
    /// The callback stopped: the cursor goes back to the record it stopped
    /// on.
    rewind: bool,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.cursor.release(self.end);
        // A panic in the callback leaves its record unreleased: back to it.
        if self.rewind || std::thread::panicking() {
            self.cursor.rewind();
        }
    }
}

/// What a [`read_func`](UnsafeReader::read_func) callback returns: `()` to
/// go on, or a [`ControlFlow`](std::ops::ControlFlow) whose `Break` stops
/// the call before the record it was given is released.
///
/// # Examples
///
/// ```
/// use std::ops::ControlFlow;
///
/// use ringview::testing::MemoryRing;
/// use ringview::UnsafeReader;
///
/// let ring = MemoryRing::new(4096)?;
/// for byte in [1u8, 2, 0, 4] {
///     ring.output(&[byte], 0)?;
/// }
/// // SAFETY: the ring's only consumer.
/// let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// // Stop at the first zero: it and the records after it stay in the ring.
/// let done = reader.try_read_func(|bytes, _remaining| {
///     if bytes[0] == 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
/// })?;
/// assert_eq!(done, 2);
/// assert_eq!(reader.try_read::<[u8]>()?, Some(&[0u8][..]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait FuncFlow {
    /// Whether to stop.
    fn is_break(&self) -> bool;
}

impl FuncFlow for () {
    #[inline(always)]
    fn is_break(&self) -> bool {
        false
    }
}

impl<B, C> FuncFlow for std::ops::ControlFlow<B, C> {
    #[inline(always)]
    fn is_break(&self) -> bool {
        std::ops::ControlFlow::is_break(self)
    }
}

/// Views handed out by [`UnsafeReader::batch`], all valid until the batch
/// ends: [`commit`](Self::commit) releases them, dropping the batch
/// without it releases none.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::UnsafeReader;
///
/// let ring = MemoryRing::new(4096)?;
/// ring.output(b"one", 0)?;
/// ring.output(b"two", 0)?;
/// // SAFETY: the ring's only consumer.
/// let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
///
/// let batch = reader.batch()?;
/// let first = batch.next::<[u8]>()?.unwrap();
/// let second = batch.next::<[u8]>()?.unwrap();
/// assert_eq!((first, second), (&b"one"[..], &b"two"[..])); // both alive at once
/// assert_eq!(batch.next::<[u8]>()?, None);
/// drop(batch); // no commit: nothing released
///
/// let batch = reader.batch()?;
/// assert_eq!(batch.next::<[u8]>()?, Some(&b"one"[..]));
/// batch.commit();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Batch<'r, T: ?Sized + View> {
    reader: &'r mut UnsafeReader<T>,
    /// How many more views this batch may hand out.
    left: Cell<usize>,
}

impl<'r, T: ?Sized + View> Batch<'r, T> {
    /// A batch of at most `max` records; the caller waited until one was
    /// ready (`next` decodes it again: one more header load per batch).
    fn new(reader: &'r mut UnsafeReader<T>, max: usize) -> Self {
        Self {
            reader,
            left: Cell::new(max),
        }
    }

    /// Views the next available record, or `None` when none is available
    /// without waiting (or the batch's limit is reached). Never blocks.
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] (the batch moves past the record;
    /// [`rejected`](Self::rejected) shows it until the batch ends), and the
    /// ring's faults as for [`UnsafeReader::read`].
    #[inline(always)]
    pub fn next<U: ?Sized + View>(&self) -> Result<Option<&U>, ReadError>
    where
        T: ViewAs<U>,
    {
        let left = self.left.get();
        if left == 0 {
            return Ok(None);
        }
        let consumer = &self.reader.consumer;
        let Some(record) = consumer.next()? else {
            return Ok(None);
        };
        self.left.set(left - 1);
        U::view(record.bytes())
            .inspect_err(|_| consumer.cursor().reject(&record))
            .map(Some)
    }

    /// The bytes of the last record this batch rejected as too short.
    pub fn rejected(&self) -> Option<&[u8]> {
        let cursor = self.reader.consumer.cursor();
        cursor.rejected().map(|record| record.bytes())
    }

    /// Bytes the producer had published after the last record handed out.
    pub fn remaining(&self) -> usize {
        let cursor = self.reader.consumer.cursor();
        cursor.producer().wrapping_sub(cursor.pos())
    }

    /// Releases every record of the batch with one store of the consumer
    /// position.
    pub fn commit(self) {
        let consumer = &mut self.reader.consumer;
        consumer.release_all();
        consumer.publish();
        // `drop` then rewinds to the released position: where it is.
    }
}

impl<T: ?Sized + View> Drop for Batch<'_, T> {
    fn drop(&mut self) {
        // Without `commit`, hand nothing back: the batch's records are read
        // again, by this reader or the next.
        self.reader.consumer.cursor().rewind();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_events::Word;
    use crate::read::cursor::Found;
    use crate::testing::MemoryRing;

    fn reader<T: ?Sized + View>(ring: &MemoryRing) -> UnsafeReader<T> {
        // SAFETY: each test's ring has one consumer.
        unsafe { UnsafeReader::new(ring.ring_buf()) }.unwrap()
    }

    /// The largest record a 4 KiB ring holds is 4080 bytes (stride 4088,
    /// under the mask 4095): a reader of a 4080-byte type is made and reads
    /// such a record; one of a 4088-byte type is refused, naming both
    /// sizes, and an untyped reader takes any ring.
    #[test]
    fn refuses_a_type_no_record_of_the_ring_can_hold() {
        type Largest = Bytes<4080>;
        type TooLarge = Bytes<4088>;

        let ring = MemoryRing::new(4096).unwrap();
        assert_eq!(ring.ring_buf().max_record_len(), 4080);
        // The producer agrees: 4080 bytes fit an empty ring, 4081 do not.
        assert!(ring.reserve(4081).is_err());
        ring.output(&[7; 4080], 0).unwrap();

        // SAFETY: the ring's only consumer while it lives.
        let err = unsafe { UnsafeReader::<TooLarge>::new(ring.ring_buf()) }.unwrap_err();
        match err {
            ReaderError::TypeTooLarge {
                size,
                max_record_len,
                buffer_size,
                type_name,
            } => {
                assert_eq!((size, max_record_len, buffer_size), (4088, 4080, 4096));
                assert!(type_name.ends_with("Bytes<4088>"), "{type_name}");
            }
            other => panic!("expected TypeTooLarge, got {other:?}"),
        }
        let message = err_message::<TooLarge>(&ring);
        assert!(message.contains("4088 bytes"), "{message}");
        assert!(message.contains("at most 4080 bytes"), "{message}");

        let mut largest = reader::<Largest>(&ring);
        assert_eq!(largest.read().unwrap().0, [7; 4080]);
        drop(largest);
        let mut untyped = reader::<[u8]>(&MemoryRing::new(16).unwrap());
        assert_eq!(untyped.try_read::<[u8]>().unwrap(), None);
    }

    /// `N` bytes, an event type of any size.
    #[derive(Debug, zerocopy::FromBytes, zerocopy::Immutable, zerocopy::KnownLayout)]
    #[repr(C)]
    struct Bytes<const N: usize>([u8; N]);

    // SAFETY: `__view` casts through zerocopy, which checks the size and
    // alignment; `Bytes` is `FromBytes`.
    unsafe impl<const N: usize> RingEvent for Bytes<N> {
        const C_NAME: &'static str = "bytes";
        const SIZE: usize = N;
        type __Layout = crate::event::__private::Proven;

        fn __view(bytes: &[u8]) -> Option<&Self> {
            zerocopy::FromBytes::ref_from_prefix(bytes)
                .ok()
                .map(|(view, _)| view)
        }
    }

    fn err_message<T: View + ?Sized>(ring: &MemoryRing) -> String {
        // SAFETY: the ring's only consumer while it lives.
        match unsafe { UnsafeReader::<T>::new(ring.ring_buf()) } {
            Ok(_) => panic!("expected an error"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn views_wrapped_records_contiguously() {
        let ring = MemoryRing::new(256).unwrap();
        let mut reader = reader::<[u8]>(&ring);
        for round in 0..if cfg!(miri) { 10 } else { 1000 } {
            let data: Vec<u8> = (0..100).map(|i| (i + round) as u8).collect();
            ring.output(&data, 0).unwrap();
            assert_eq!(reader.read::<[u8]>().unwrap(), &data[..]);
            reader.commit();
        }
    }

    /// The async readers' checkpoints: every `every` bytes released, the
    /// cached producer position is emptied once (so the next look takes
    /// the slow path) and `take_checkpoint` says so once; nothing is lost,
    /// and the publish policy is unchanged.
    #[test]
    fn checkpoints_pass_every_so_many_bytes_and_lose_nothing() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<Word>(&ring);
        // A quarter of the ring (1024 bytes) published at a time; a
        // checkpoint every 64 bytes, 4 records of 16 bytes.
        reader.set_publish_policy(PublishPolicy::default());
        reader.consumer.set_checkpoint_every(64);
        for i in 0..200u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        let mut passed = Vec::new();
        for i in 0..200u64 {
            // Releasing the previous view passes a due checkpoint: the
            // cursor then finds nothing cached.
            reader.end_view();
            let cached = matches!(reader.consumer.cursor().find(), Found::Ready(_));
            if reader.consumer.take_checkpoint() {
                assert!(!cached, "a checkpoint empties the cache");
                assert!(
                    matches!(reader.consumer.cursor().find(), Found::Ready(_)),
                    "taking it puts the cache back"
                );
                passed.push(i);
            } else if i > 0 {
                // (The first look finds nothing cached: nothing was loaded.)
                assert!(cached, "the cache stays full between checkpoints");
            }
            assert!(!reader.consumer.take_checkpoint(), "said once");
            assert_eq!(reader.read().unwrap().0, i, "nothing lost or repeated");
            let released = reader.consumer.cursor().released();
            assert_eq!(
                ring.consumer_pos(),
                released / 1024 * 1024,
                "published as the policy says, at record {i}"
            );
        }
        let expected: Vec<u64> = (1..50).map(|n| n * 4).collect();
        assert_eq!(passed, expected, "one checkpoint per 64 bytes");
        // Without checkpoints, the cache is never emptied.
        reader.consumer.set_checkpoint_every(0);
        for i in 0..100u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        assert_eq!(reader.read().unwrap().0, 0);
        for i in 1..100u64 {
            reader.end_view();
            assert!(matches!(reader.consumer.cursor().find(), Found::Ready(_)));
            assert!(!reader.consumer.take_checkpoint());
            assert_eq!(reader.read().unwrap().0, i);
        }
    }

    /// Checkpoints change nothing about how a consumer that moved the
    /// position behind the reader's back is found.
    #[test]
    fn checkpoints_never_hide_a_moved_consumer() {
        for policy in [PublishPolicy::default(), PublishPolicy::EAGER] {
            let ring = MemoryRing::new(64).unwrap();
            let mut reader = reader::<[u8]>(&ring);
            reader.set_publish_policy(policy);
            reader.consumer.set_checkpoint_every(16);
            ring.output(&[1; 8], 0).unwrap(); // 0..16
            ring.output(&[2; 8], 0).unwrap(); // 16..32
            assert_eq!(reader.read::<[u8]>().unwrap(), [1; 8]);
            reader.commit();
            // Another consumer takes the second record.
            ring.set_consumer_pos(32);
            let _ = reader.read::<[u8]>();
            reader.commit();
            ring.output(&[3; 8], 0).unwrap(); // 32..48
            let mut moved = false;
            for _ in 0..3 {
                reader.consumer.take_checkpoint();
                match reader.read::<[u8]>() {
                    Err(ReadError::ConsumerMoved { live: 32, .. }) => moved = true,
                    other => assert!(moved || other.is_ok(), "{policy:?}: {other:?}"),
                }
            }
            assert!(moved, "{policy:?}: the move is reported");
            drop(reader);
            assert_eq!(ring.consumer_pos(), 32, "{policy:?}: never moved back");
        }
    }

    /// A publish by another path than the per-record one (a batch's
    /// commit, the eager policy) also passes a due checkpoint.
    #[test]
    fn a_commit_passes_a_due_checkpoint() {
        for policy in [PublishPolicy::default(), PublishPolicy::EAGER] {
            let ring = MemoryRing::new(4096).unwrap();
            let mut reader = reader::<Word>(&ring);
            reader.set_publish_policy(policy);
            reader.consumer.set_checkpoint_every(64);
            for i in 0..10u64 {
                ring.output(&i.to_le_bytes(), 0).unwrap();
            }
            let batch = reader.try_batch_n(5).unwrap().unwrap();
            for i in 0..5u64 {
                assert_eq!(batch.next::<Word>().unwrap().unwrap().0, i);
            }
            batch.commit();
            assert_eq!(ring.consumer_pos(), 80, "{policy:?}");
            assert!(
                matches!(reader.consumer.cursor().find(), Found::Refill),
                "{policy:?}"
            );
            // Taking it puts the cache back: the rest is found without a
            // refill.
            assert!(reader.consumer.take_checkpoint(), "{policy:?}");
            assert!(
                matches!(reader.consumer.cursor().find(), Found::Ready(_)),
                "{policy:?}"
            );
            for i in 5..10u64 {
                assert_eq!(reader.read().unwrap().0, i, "{policy:?}");
            }
        }
    }

    #[test]
    fn commit_publishes_with_one_store() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<Word>(&ring);
        for i in 0..5u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        for i in 0..5u64 {
            assert_eq!(reader.read().unwrap().0, i);
            assert_eq!(ring.consumer_pos(), 0);
        }
        reader.commit();
        assert_eq!(ring.consumer_pos(), 80);
    }

    #[test]
    fn batch_views_and_errors() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<Word>(&ring);
        ring.output(&1u64.to_le_bytes(), 0).unwrap();
        ring.output(&[9; 3], 0).unwrap();
        ring.output(&2u64.to_le_bytes(), 0).unwrap();
        let batch = reader.batch().unwrap();
        let one = batch.next().unwrap().unwrap();
        let err = batch.next().unwrap_err();
        assert!(matches!(
            err,
            ReadError::RecordTooShort {
                len: 3,
                expected: 8,
                ..
            }
        ));
        assert_eq!(batch.rejected().unwrap(), [9; 3]);
        let two = batch.next().unwrap().unwrap();
        assert!(batch.next().unwrap().is_none());
        assert_eq!((one.0, two.0), (1, 2));
        assert_eq!(ring.consumer_pos(), 0);
        batch.commit();
        assert_eq!(ring.consumer_pos(), 48);
    }

    #[test]
    fn views_longer_records_by_their_prefix() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<Word>(&ring);
        ring.output(&[1, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5], 0).unwrap();
        assert_eq!(reader.read().unwrap().0, 1);
    }

    #[test]
    fn read_with_tail_gives_exactly_the_submitted_tail() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<[u8]>(&ring);
        for tail_len in [0usize, 1, 3, 7, 8, 13] {
            let mut bytes = 42u64.to_le_bytes().to_vec();
            bytes.extend((0..tail_len).map(|i| i as u8));
            ring.output(&bytes, 0).unwrap();
            let (header, tail) = reader.read_with_tail::<Word>().unwrap();
            assert_eq!(header.0, 42);
            assert_eq!(tail, &bytes[8..]);
        }
        ring.output(&[1; 5], 0).unwrap();
        assert!(matches!(
            reader.read_with_tail::<Word>(),
            Err(ReadError::RecordTooShort {
                len: 5,
                expected: 8,
                ..
            })
        ));
        assert_eq!(reader.rejected().unwrap(), [1; 5]);
    }

    #[test]
    fn rejected_bytes_end_with_the_next_read_or_publish() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<Word>(&ring);
        ring.output(&[1; 3], 0).unwrap();
        assert!(reader.read().is_err());
        assert_eq!(reader.rejected().unwrap(), [1; 3]);
        // A read that gives up publishes, and so releases the rejected bytes.
        reader.set_deadline(Some(std::time::Instant::now()));
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
        assert!(reader.rejected().is_none());
        ring.output(&[2; 3], 0).unwrap();
        ring.output(&7u64.to_le_bytes(), 0).unwrap();
        assert!(reader.read().is_err());
        assert!(reader.rejected().is_some());
        assert_eq!(reader.read().unwrap().0, 7);
        assert!(reader.rejected().is_none());
    }

    #[test]
    fn refuses_overwrite_maps() {
        let ring = MemoryRing::with_map_flags(4096, crate::BPF_F_RB_OVERWRITE).unwrap();
        // SAFETY: the only consumer.
        let err = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap_err();
        assert!(matches!(err, ReaderError::Overwrite { flags } if flags == 1 << 19));
    }

    #[test]
    fn flush_and_close_reach_a_zero_copy_reader() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<[u8]>(&ring);
        let handle = reader.handle();
        ring.output(b"x", 0).unwrap();
        handle.flush();
        assert_eq!(reader.read::<[u8]>().unwrap(), b"x");
        assert!(matches!(reader.read::<[u8]>(), Err(ReadError::Flushed)));
        handle.close();
        ring.output(b"y", 0).unwrap();
        assert!(matches!(reader.read::<[u8]>(), Err(ReadError::Closed)));
        assert!(matches!(reader.batch(), Err(ReadError::Closed)));
    }

    /// Five records 0..5 of one word each, and a reader of them.
    fn five(ring: &MemoryRing) -> UnsafeReader<Word> {
        let reader = reader::<Word>(ring);
        for i in 0..5u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        reader
    }

    /// What a fresh reader of `ring` reads, after `reader` is dropped.
    fn left_for_the_next_reader(ring: &MemoryRing, last: UnsafeReader<Word>) -> Vec<u64> {
        drop(last);
        let mut next = reader::<Word>(ring);
        let mut seen = Vec::new();
        while let Some(word) = next.try_read::<Word>().unwrap() {
            seen.push(word.0);
        }
        seen
    }

    #[test]
    fn dropping_after_read_keeps_the_last_view() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = five(&ring);
        assert_eq!(reader.read().unwrap().0, 0);
        assert_eq!(reader.read().unwrap().0, 1);
        assert_eq!(left_for_the_next_reader(&ring, reader), [1, 2, 3, 4]);
    }

    #[test]
    fn a_batch_dropped_without_commit_releases_nothing() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = five(&ring);
        assert_eq!(reader.read().unwrap().0, 0);
        let batch = reader.batch().unwrap();
        assert_eq!(batch.next().unwrap().unwrap().0, 1);
        assert_eq!(batch.next().unwrap().unwrap().0, 2);
        drop(batch);
        // The same reader reads the batch again...
        let batch = reader.batch_n(2).unwrap();
        assert_eq!(batch.next().unwrap().unwrap().0, 1);
        assert_eq!(batch.next().unwrap().unwrap().0, 2);
        assert!(batch.next().unwrap().is_none(), "limited to 2");
        drop(batch);
        // ...and so does the next reader.
        assert_eq!(left_for_the_next_reader(&ring, reader), [1, 2, 3, 4]);
    }

    #[test]
    fn a_panic_in_a_batch_releases_nothing_of_it() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = five(&ring);
        let batch = reader.batch().unwrap();
        assert_eq!(batch.next().unwrap().unwrap().0, 0);
        batch.commit();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let batch = reader.batch().unwrap();
            assert_eq!(batch.next().unwrap().unwrap().0, 1);
            panic!("processing failed");
        }));
        assert!(panicked.is_err());
        assert_eq!(left_for_the_next_reader(&ring, reader), [1, 2, 3, 4]);
    }

    #[test]
    fn a_panic_in_read_func_keeps_its_record_and_releases_the_ones_before() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut first = five(&ring);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            first.read_func(|word, _| assert!(word.0 < 2, "record {}", word.0))
        }));
        assert!(panicked.is_err());
        // The reader goes on from the record that panicked.
        assert_eq!(first.read().unwrap().0, 2);
        drop(first);
        let mut next = reader::<Word>(&ring);
        assert_eq!(next.read().unwrap().0, 2, "the view of 2 was not released");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            next.read_func(|word, _| assert!(word.0 < 3, "record {}", word.0))
        }));
        assert!(panicked.is_err());
        assert_eq!(left_for_the_next_reader(&ring, next), [3, 4]);
    }

    #[test]
    fn break_from_read_func_keeps_the_record_it_stopped_on() {
        use std::ops::ControlFlow;
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = five(&ring);
        let count = reader
            .read_func(|word, _| {
                if word.0 == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!(count, 2);
        assert_eq!(reader.positions().released, 32, "0 and 1 released");
        assert_eq!(ring.consumer_pos(), 0, "published as the lazy policy says");
        let mut seen = Vec::new();
        assert_eq!(
            reader.read_func_n(2, |word, _| seen.push(word.0)).unwrap(),
            2
        );
        assert_eq!(seen, [2, 3]);
        let count = reader
            .read_func(|_, _| ControlFlow::<()>::Break(()))
            .unwrap();
        assert_eq!(count, 0);
        assert_eq!(left_for_the_next_reader(&ring, reader), [4]);
    }

    /// A producer more than a ring ahead of the published position is a
    /// lap, even while a batch has read ahead of it: otherwise, once the
    /// batch rewinds, a header at the released position could claim more
    /// than a ring's worth of bytes, past the end of the mapping.
    #[test]
    fn a_lap_is_caught_against_the_published_position() {
        let size = 4096;
        let ring = MemoryRing::from_raw_parts(size, 2048, 2048, &[]).unwrap();
        for byte in 1..=3u8 {
            ring.output(&[byte; 1016], 0).unwrap();
        }
        let mut reader = reader::<[u8]>(&ring);
        {
            let batch = reader.try_batch().unwrap().unwrap();
            for _ in 0..3 {
                assert_eq!(batch.next::<[u8]>().unwrap().unwrap().len(), 1016);
            }
            // A hostile producer: a ring ahead of the read position, two
            // rings' worth of bytes ahead of the published one; and a header
            // at the published position that claims nearly all of that.
            ring.set_producer_pos_raw(2048 + 3 * 1024 + size, 2048, 7000);
            let err = batch.next::<[u8]>().unwrap_err();
            assert!(matches!(err, ReadError::Lapped { .. }), "{err:?}");
            // Dropped without commit: the reader rewinds to 2048.
        }
        // After the rewind the header is judged against what the last good
        // refill published: refused, never handed out.
        match reader.try_read::<[u8]>() {
            Err(ReadError::Lapped { .. } | ReadError::CorruptHeader { len: 7000, .. }) => {}
            Ok(Some(bytes)) => panic!("handed out {} bytes", bytes.len()),
            other => panic!("{other:?}"),
        }
    }

    /// The blocking `read_func` publishes as the policy says, like `read`
    /// and the async `read_func`: eager at the end of the call, lazy once
    /// its share is released or before the reader sleeps.
    #[test]
    fn read_func_publishes_as_the_policy_says() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = reader::<Word>(&ring);
        reader.set_publish_policy(crate::PublishPolicy::EAGER);
        for i in 0..3u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        assert_eq!(reader.read_func(|_, _| ()).unwrap(), 3);
        assert_eq!(
            ring.consumer_pos(),
            48,
            "eager: published when the call ends"
        );
        reader.set_publish_policy(crate::PublishPolicy::default());
        for i in 0..3u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        assert_eq!(reader.try_read_func(|_, _| ()).unwrap(), 3);
        assert_eq!(
            ring.consumer_pos(),
            48,
            "lazy: less than a quarter released"
        );
        assert_eq!(reader.positions().released, 96);
        // Finding the ring empty, as before a sleep, publishes everything.
        assert_eq!(reader.try_read_func(|_, _| ()).unwrap(), 0);
        assert_eq!(ring.consumer_pos(), 96);
    }
}
