//! [`Reader`]: the safe, copying reader.

use std::time::Instant;

use zerocopy::FromBytes;

use crate::consumer::Consumer;
use crate::error::{ReadError, ReaderError};
use crate::wait::ReaderHandle;
use crate::RingBuf;

/// One record, copied out of the ring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The payload, exactly as long as the producer submitted it.
    pub sample: Vec<u8>,
    /// Bytes still in the ring after this record, when it was read.
    pub remaining: usize,
}

/// Reads records by copying them out of the ring.
///
/// Consumed space is returned to producers in batches (once a quarter of the
/// ring, and always before blocking), never once per record. Dropping the
/// reader returns everything it read.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{Reader, Record};
///
/// let ring = MemoryRing::new(4096).unwrap();
/// let mut reader = Reader::new(ring.ring_buf()).unwrap();
/// ring.output(&7u64.to_le_bytes(), 0).unwrap();
/// ring.output(b"abc", 0).unwrap();
///
/// assert_eq!(reader.read_as::<u64>().unwrap(), 7);
/// let mut record = Record::default();
/// reader.read_into(&mut record).unwrap();
/// assert_eq!(record.sample, b"abc");
/// ```
#[derive(Debug)]
pub struct Reader {
    consumer: Consumer,
    rejected: Vec<u8>,
}

impl Reader {
    /// A reader of `ring`, starting at its live consumer position.
    ///
    /// # Errors
    ///
    /// [`ReaderError::Overwrite`] for maps created with
    /// `BPF_F_RB_OVERWRITE`; [`ReaderError::Syscall`] when epoll or the
    /// eventfd cannot be set up.
    pub fn new(ring: RingBuf) -> Result<Self, ReaderError> {
        Ok(Self {
            consumer: Consumer::new(ring)?,
            rejected: Vec::new(),
        })
    }

    /// Reads the next record into a new [`Record`], blocking until one is
    /// submitted.
    ///
    /// # Errors
    ///
    /// As [`read_into`](Self::read_into).
    pub fn read(&mut self) -> Result<Record, ReadError> {
        let mut record = Record::default();
        self.read_into(&mut record)?;
        Ok(record)
    }

    /// Reads the next record into `record`, reusing its buffer: no
    /// allocation when its capacity suffices. Blocks until a record is
    /// submitted.
    ///
    /// # Errors
    ///
    /// [`ReadError::Closed`] after [`ReaderHandle::close`];
    /// [`ReadError::Flushed`] once after [`ReaderHandle::flush`] and
    /// [`ReadError::DeadlineExceeded`] after the deadline, both only with
    /// the ring empty; [`ReadError::CorruptHeader`]; [`ReadError::Syscall`]
    /// if waiting fails. `record` is unchanged on error.
    #[inline]
    pub fn read_into(&mut self, record: &mut Record) -> Result<(), ReadError> {
        let (pos, len) = self.consumer.next_blocking()?;
        // SAFETY: `pos`/`len` were just returned by `next` on this ring; the
        // consumer position is published past `pos` only below, after the
        // slice's last use; the ring outlives this call.
        let bytes = unsafe { self.consumer.raw.payload(pos, len) };
        record.sample.clear();
        record.sample.extend_from_slice(bytes);
        record.remaining = self.consumer.remaining();
        let end = self.consumer.cur.pos;
        self.consumer.publish_lazily(end);
        Ok(())
    }

    /// Reads the next record as an owned `T`, copied from the start of the
    /// record (a longer record is allowed; its tail is ignored).
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] when the record is shorter than `T`:
    /// the reader has moved past it and [`rejected`](Self::rejected) holds
    /// its bytes. Otherwise as [`read_into`](Self::read_into).
    #[inline]
    pub fn read_as<T: FromBytes>(&mut self) -> Result<T, ReadError> {
        let (pos, len) = self.consumer.next_blocking()?;
        // SAFETY: as in `read_into`: fresh from `next`, published only after
        // the slice's last use.
        let bytes = unsafe { self.consumer.raw.payload(pos, len) };
        let result = match T::read_from_prefix(bytes) {
            Ok((value, _)) => Ok(value),
            Err(_) => {
                self.rejected.clear();
                self.rejected.extend_from_slice(bytes);
                Err(ReadError::RecordTooShort {
                    len: bytes.len(),
                    expected: size_of::<T>(),
                    type_name: std::any::type_name::<T>(),
                })
            }
        };
        let end = self.consumer.cur.pos;
        self.consumer.publish_lazily(end);
        result
    }

    /// The bytes of the last record [`read_as`](Self::read_as) rejected as
    /// too short.
    pub fn rejected(&self) -> &[u8] {
        &self.rejected
    }

    /// Sets (or clears) the deadline for blocking reads. Records already in
    /// the ring are still returned after it passes; only a read that would
    /// block fails, with [`ReadError::DeadlineExceeded`].
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.consumer.set_deadline(deadline);
    }

    /// A handle that flushes or closes this reader from another thread.
    pub fn handle(&self) -> ReaderHandle {
        self.consumer.handle()
    }

    /// The ring being read.
    pub fn ring(&self) -> &RingBuf {
        self.consumer.ring()
    }

    /// Bytes submitted or reserved but not yet read by this reader.
    pub fn available_bytes(&self) -> usize {
        self.consumer
            .raw
            .load_producer()
            .wrapping_sub(self.consumer.cur.pos)
    }
}
