//! [`UnsafeReader`]: zero-copy views of records, released by commit.

use std::cell::Cell;
use std::marker::PhantomData;
use std::time::Instant;

use crate::consumer::Consumer;
use crate::error::{ReadError, ReaderError};
use crate::event::{split_tail, RingEvent, TaggedEvent, View, ViewAs};
use crate::policy::PublishPolicy;
use crate::ring::{stride, Cursor, Next};
use crate::wait::ReaderHandle;
use crate::RingBuf;

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
    /// The last record rejected: `(pos, len)`. Its bytes are shown only
    /// while it is the last record read and is not published past (checked
    /// in `rejected`, so the hot path never clears this).
    rejected: Option<(usize, u32)>,
    _view: PhantomData<fn() -> *const T>,
}

impl<T: ?Sized + View> UnsafeReader<T> {
    /// A zero-copy reader of `ring`, starting at its live consumer position.
    ///
    /// # Safety
    ///
    /// While any view handed out by this reader is alive, nothing else may
    /// advance this ring's consumer position: no other reader (in this
    /// process or another, on this `RingBuf` or another mapping of the same
    /// map) may consume it. Otherwise a producer may overwrite the bytes
    /// behind a live `&T`.
    ///
    /// # Errors
    ///
    /// [`ReaderError::Overwrite`] for maps created with
    /// `BPF_F_RB_OVERWRITE`, where producers overwrite unconsumed records;
    /// [`ReaderError::Syscall`] when epoll or the eventfd cannot be set up.
    pub unsafe fn new(ring: RingBuf) -> Result<Self, ReaderError> {
        Ok(Self {
            consumer: Consumer::new(ring)?,
            rejected: None,
            _view: PhantomData,
        })
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
    /// [`ReadError::CorruptHeader`] and [`ReadError::Syscall`] as for
    /// [`Reader::read_into`](crate::Reader::read_into).
    #[inline(always)]
    pub fn read<U: ?Sized + View>(&mut self) -> Result<&U, ReadError>
    where
        T: ViewAs<U>,
    {
        let (pos, len) = self.next_record()?;
        // SAFETY: `pos`/`len` come from `next` on this ring; the consumer
        // position is published past `pos` only by a later `read`,
        // `commit`, batch or drop, all of which need `&mut self` and so end
        // the returned borrow first; the ring lives as long as `self`.
        let bytes = unsafe { self.consumer.raw.payload(pos, len) };
        match U::view(bytes) {
            Ok(view) => Ok(view),
            Err(err) => {
                self.rejected = Some((pos, len));
                Err(err)
            }
        }
    }

    /// Views the next record as a header `H` and the bytes after it: the
    /// tail is exactly what the producer submitted after the header, of any
    /// length (odd ones included). The previous view is released.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), with the header's size as the minimum.
    #[inline]
    pub fn read_with_tail<H: RingEvent>(&mut self) -> Result<(&H, &[u8]), ReadError>
    where
        T: ViewAs<H>,
    {
        let (pos, len) = self.next_record()?;
        // SAFETY: as in `read`.
        let bytes = unsafe { self.consumer.raw.payload(pos, len) };
        split_tail(bytes).inspect_err(|_| self.rejected = Some((pos, len)))
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
        let (pos, len) = self.next_record()?;
        // SAFETY: as in `read`.
        let bytes = unsafe { self.consumer.raw.payload(pos, len) };
        E::from_record(bytes).inspect_err(|_| self.rejected = Some((pos, len)))
    }

    /// The next record's position, blocking; releases the previous views.
    #[inline(always)]
    fn next_record(&mut self) -> Result<(usize, u32), ReadError> {
        // Blocking publishes everything handed out so far: `&mut self` means
        // no view of it is alive.
        let (pos, len) = self.consumer.next_blocking()?;
        // Release what came before this record once enough has piled up.
        self.consumer.publish_lazily(pos);
        Ok((pos, len))
    }

    /// The bytes of the last record a read rejected, until the next read or
    /// commit.
    pub fn rejected(&self) -> Option<&[u8]> {
        let (pos, len) = self.rejected?;
        let cur = &self.consumer.cur;
        let last_read = cur.pos == pos.wrapping_add(stride(len));
        // Positions are free-running: "published <= pos" is a wrapping test.
        let unpublished = (pos.wrapping_sub(cur.published) as isize) >= 0;
        if !(last_read && unpublished) {
            return None;
        }
        // SAFETY: `pos`/`len` came from `next` on this ring, and the
        // consumer position has not been published past `pos` (checked
        // above); it can only be by a call that needs `&mut self`, which
        // ends this borrow first.
        Some(unsafe { self.consumer.raw.payload(pos, len) })
    }

    /// Releases every record handed out so far, with one store of the
    /// consumer position.
    pub fn commit(&mut self) {
        self.rejected = None;
        self.consumer.publish_all();
    }

    /// Waits for at least one record, then hands out views of every record
    /// available, all valid until the batch is committed (or dropped), which
    /// releases them with one store of the consumer position.
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
    /// // SAFETY: this reader is the ring's only consumer.
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
        self.commit();
        let (first, _) = self.consumer.next_blocking()?;
        // The batch decodes the first record again: step back to it.
        self.consumer.cur.pos = first;
        Ok(Batch {
            pos: Cell::new(first),
            producer: Cell::new(self.consumer.cur.producer),
            rejected: Cell::new(None),
            reader: self,
        })
    }

    /// Waits for at least one record, then calls `f` with a view of each
    /// available record and the bytes remaining after it, and commits them
    /// all with one store. Returns how many records `f` saw.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read). On [`ReadError::RecordTooShort`] the records
    /// before the short one are committed and [`rejected`](Self::rejected)
    /// shows the short one.
    pub fn read_func<F>(&mut self, mut f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize),
    {
        self.commit();
        let (mut pos, mut len) = self.consumer.next_blocking()?;
        let mut count = 0;
        loop {
            // SAFETY: `pos`/`len` come from `next` on this ring, and the
            // consumer position is published past them only after `f`
            // returned (the view does not escape `f`: it is only valid for
            // the call's lifetime).
            let bytes = unsafe { self.consumer.raw.payload(pos, len) };
            match T::view(bytes) {
                Ok(view) => f(view, self.consumer.remaining()),
                Err(err) => {
                    self.consumer.raw.publish(&mut self.consumer.cur, pos);
                    self.rejected = Some((pos, len));
                    return Err(err);
                }
            }
            count += 1;
            match self.consumer.try_next() {
                Ok(Some(next)) => (pos, len) = next,
                Ok(None) => break,
                Err(err) => {
                    self.consumer.publish_all();
                    return Err(err);
                }
            }
        }
        self.consumer.publish_all();
        Ok(count)
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
}

/// Views handed out by [`UnsafeReader::batch`], all valid until the batch is
/// committed or dropped.
#[derive(Debug)]
pub struct Batch<'r, T: ?Sized + View> {
    reader: &'r mut UnsafeReader<T>,
    /// The batch's cursor: the next record, and the producer position as
    /// last loaded. The reader's own cursor is updated when the batch ends.
    pos: Cell<usize>,
    producer: Cell<usize>,
    rejected: Cell<Option<(usize, u32)>>,
}

impl<T: ?Sized + View> Batch<'_, T> {
    /// Views the next available record, or `None` when none is available
    /// without waiting. Never blocks.
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] (the batch moves past the record;
    /// [`rejected`](Self::rejected) shows it until the batch ends) and
    /// [`ReadError::CorruptHeader`].
    #[inline(always)]
    pub fn next<U: ?Sized + View>(&self) -> Result<Option<&U>, ReadError>
    where
        T: ViewAs<U>,
    {
        let raw = &self.reader.consumer.raw;
        let mut cur = Cursor {
            pos: self.pos.get(),
            producer: self.producer.get(),
            published: self.reader.consumer.cur.published,
        };
        let next = raw.next(&mut cur);
        self.pos.set(cur.pos);
        self.producer.set(cur.producer);
        let (pos, len) = match next {
            Next::Record { pos, len } => (pos, len),
            Next::Empty | Next::Busy => return Ok(None),
            Next::Corrupt {
                pos,
                len,
                available,
            } => {
                self.pos.set(cur.producer);
                return Err(ReadError::CorruptHeader {
                    pos: pos as u64,
                    len,
                    available: available as u64,
                });
            }
        };
        // SAFETY: `pos`/`len` come from `next` on this ring; the consumer
        // position is published past them only when the batch is committed
        // or dropped, which ends every borrow of `self`.
        let bytes = unsafe { raw.payload(pos, len) };
        match U::view(bytes) {
            Ok(view) => Ok(Some(view)),
            Err(err) => {
                self.rejected.set(Some((pos, len)));
                Err(err)
            }
        }
    }

    /// The bytes of the last record this batch rejected as too short.
    pub fn rejected(&self) -> Option<&[u8]> {
        let (pos, len) = self.rejected.get()?;
        // SAFETY: as in `next`: not published past until the batch ends.
        Some(unsafe { self.reader.consumer.raw.payload(pos, len) })
    }

    /// Bytes the producer had published after the last record handed out.
    pub fn remaining(&self) -> usize {
        self.producer.get().wrapping_sub(self.pos.get())
    }

    /// Releases every record of the batch with one store of the consumer
    /// position. Dropping the batch does the same.
    pub fn commit(self) {}
}

impl<T: ?Sized + View> Drop for Batch<'_, T> {
    fn drop(&mut self) {
        let consumer = &mut self.reader.consumer;
        consumer.cur.pos = self.pos.get();
        consumer.cur.producer = self.producer.get();
        self.reader.commit();
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::test_events::Word;
    use crate::testing::MemoryRing;

    fn reader<T: ?Sized + View>(ring: &MemoryRing) -> UnsafeReader<T> {
        // SAFETY: each test's ring has one consumer.
        unsafe { UnsafeReader::new(ring.ring_buf()) }.unwrap()
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
}
