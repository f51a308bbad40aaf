//! [`Records`] and [`RecordsAs`]: a blocking [`Reader`] as an iterator of
//! owned records, and when such an iteration (or an async stream) ends.

use std::marker::PhantomData;

use zerocopy::FromBytes;

use crate::error::ReadError;
use crate::read::reader::{Reader, Record};

impl Reader {
    /// The records as an iterator of owned [`Record`]s, blocking for each,
    /// until the reader is closed or flushed or its deadline passes with
    /// the ring empty (see [`Records`]).
    pub fn records(&mut self) -> Records<'_> {
        Records::new(self)
    }

    /// The records as an iterator of owned `T`s, each copied from the
    /// start of its record as [`read_as`](Reader::read_as) does; it ends as
    /// [`records`](Self::records) does.
    pub fn records_as<T: FromBytes>(&mut self) -> RecordsAs<'_, T> {
        RecordsAs::new(self)
    }
}

/// What an iteration or a stream does after a read error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterError {
    /// Ends without yielding it: the reader was closed, flushed, or its
    /// deadline passed with the ring empty.
    End,
    /// Yields it, then goes on: the reader moved past the record
    /// ([`ReadError::RecordTooShort`]).
    YieldAndGoOn,
    /// Yields it, then ends: the reader cannot go on (another consumer
    /// moved the position, a failed syscall), and yielding it again and
    /// again would make `for` loops spin.
    YieldAndEnd,
}

impl AfterError {
    pub(crate) fn of(err: &ReadError) -> Self {
        match err {
            ReadError::Closed | ReadError::Flushed | ReadError::DeadlineExceeded => Self::End,
            ReadError::RecordTooShort { .. } => Self::YieldAndGoOn,
            _ => Self::YieldAndEnd,
        }
    }
}

/// The records of a [`Reader`], owned, as an iterator: blocking for each
/// until it is submitted, ending when the reader is closed
/// ([`ReaderHandle::close`](crate::ReaderHandle::close)) or flushed, or its
/// deadline ([`Reader::set_deadline`]) passes with the ring empty. Made by
/// [`Reader::records`].
///
/// A read error other than those is yielded; after it the iteration ends,
/// except after [`ReadError::RecordTooShort`] (for [`RecordsAs`]), which
/// the reader has moved past. Each record is released once it is copied
/// out, as for [`Reader::read`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ringview::testing::MemoryRing;
/// use ringview::Reader;
///
/// let ring = MemoryRing::new(4096).unwrap();
/// let mut reader = Reader::new(ring.ring_buf()).unwrap();
/// ring.output(b"one", 0).unwrap();
/// ring.output(b"two", 0).unwrap();
/// reader.set_deadline(Some(Instant::now() + Duration::from_millis(10)));
/// let records: Vec<Vec<u8>> = reader.records().map(|r| r.unwrap().sample).collect();
/// assert_eq!(records, [b"one", b"two"]);
/// ```
#[derive(Debug)]
#[must_use = "iterators do nothing unless iterated"]
pub struct Records<'r> {
    reader: &'r mut Reader,
    ended: bool,
}

impl<'r> Records<'r> {
    pub(crate) fn new(reader: &'r mut Reader) -> Self {
        Self {
            reader,
            ended: false,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let read = self.reader.read();
        after(&mut self.ended, read)
    }
}

impl std::iter::FusedIterator for Records<'_> {}

/// The records of a [`Reader`] as owned values of `T` (copied from the
/// start of each record, as [`Reader::read_as`] does), as an iterator that
/// ends as [`Records`] does. Made by [`Reader::records_as`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// use ringview::testing::MemoryRing;
/// use ringview::{ReadError, Reader};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = Reader::new(ring.ring_buf())?;
/// ring.output(&7u32.to_ne_bytes(), 0)?;
/// ring.output(b"x", 0)?; // too short for a `u32`
/// ring.output(&9u32.to_ne_bytes(), 0)?;
/// // Ends once the deadline passes with the ring empty.
/// reader.set_deadline(Some(Instant::now() + Duration::from_millis(10)));
/// let mut pids = reader.records_as::<u32>();
/// assert_eq!(pids.next().transpose()?, Some(7));
/// // A record too short is yielded as an error, and the iteration goes on.
/// assert!(matches!(pids.next(), Some(Err(ReadError::RecordTooShort { .. }))));
/// assert_eq!(pids.next().transpose()?, Some(9));
/// assert!(pids.next().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "iterators do nothing unless iterated"]
pub struct RecordsAs<'r, T> {
    reader: &'r mut Reader,
    ended: bool,
    _value: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for RecordsAs<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordsAs")
            .field("type", &std::any::type_name::<T>())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<'r, T> RecordsAs<'r, T> {
    pub(crate) fn new(reader: &'r mut Reader) -> Self {
        Self {
            reader,
            ended: false,
            _value: PhantomData,
        }
    }
}

impl<T: FromBytes> Iterator for RecordsAs<'_, T> {
    type Item = Result<T, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let read = self.reader.read_as::<T>();
        after(&mut self.ended, read)
    }
}

impl<T: FromBytes> std::iter::FusedIterator for RecordsAs<'_, T> {}

/// The item for the result of one read, marking the iteration `ended` as
/// [`AfterError`] says.
pub(crate) fn after<V>(
    ended: &mut bool,
    read: Result<V, ReadError>,
) -> Option<Result<V, ReadError>> {
    match read {
        Ok(value) => Some(Ok(value)),
        Err(err) => match AfterError::of(&err) {
            AfterError::End => {
                *ended = true;
                None
            }
            AfterError::YieldAndGoOn => Some(Err(err)),
            AfterError::YieldAndEnd => {
                *ended = true;
                Some(Err(err))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::testing::MemoryRing;

    #[test]
    #[cfg_attr(miri, ignore = "waits for a deadline")]
    fn records_end_at_the_deadline_and_at_a_close() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        for i in 0..5u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        reader.set_deadline(Some(Instant::now() + Duration::from_millis(5)));
        let values: Vec<u64> = reader.records_as::<u64>().map(Result::unwrap).collect();
        assert_eq!(values, [0, 1, 2, 3, 4]);
        assert_eq!(
            ring.consumer_pos(),
            80,
            "every record released and published"
        );

        // A close ends it too, after the records already seen, and the
        // iterator stays ended.
        reader.set_deadline(None);
        ring.output(b"one", 0).unwrap();
        ring.output(b"two", 0).unwrap();
        let handle = reader.handle();
        let mut records = reader.records();
        assert_eq!(records.next().unwrap().unwrap().sample, b"one");
        handle.close();
        assert_eq!(records.next().unwrap().unwrap().sample, b"two");
        assert!(records.next().is_none());
        assert!(records.next().is_none());
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads the clock for a deadline")]
    fn a_short_record_is_yielded_as_an_error_and_the_iteration_goes_on() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        ring.output(&1u64.to_le_bytes(), 0).unwrap();
        ring.output(b"abc", 0).unwrap();
        ring.output(&2u64.to_le_bytes(), 0).unwrap();
        // A deadline already passed: what is in the ring, then the end.
        reader.set_deadline(Some(Instant::now()));
        let items: Vec<_> = reader.records_as::<u64>().collect();
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(*items[0].as_ref().unwrap(), 1);
        assert!(
            matches!(items[1], Err(ReadError::RecordTooShort { len: 3, .. })),
            "{items:?}"
        );
        assert_eq!(*items[2].as_ref().unwrap(), 2);
    }

    #[test]
    fn an_error_the_reader_cannot_pass_ends_the_iteration_after_it() {
        let ring = MemoryRing::new(64).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        ring.output(&[1; 8], 0).unwrap();
        let mut records = reader.records();
        assert_eq!(records.next().unwrap().unwrap().sample, [1; 8]);
        // Another consumer takes the next record.
        ring.output(&[2; 8], 0).unwrap();
        ring.set_consumer_pos(32);
        ring.output(&[3; 8], 0).unwrap();
        let err = records.next().unwrap().unwrap_err();
        assert!(matches!(err, ReadError::ConsumerMoved { .. }), "{err:?}");
        assert!(records.next().is_none());
    }
}
