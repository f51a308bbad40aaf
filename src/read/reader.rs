//! [`Reader`]: the safe, copying reader.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use zerocopy::FromBytes;

use crate::error::{ReadError, ReaderError};
use crate::read::consumer::{Consumer, Positions};
use crate::read::cursor::Ready;
use crate::read::policy::PublishPolicy;
use crate::read::ring_buf::RingBuf;
use crate::read::wait::ReaderHandle;

/// One record, copied out of the ring.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{Reader, Record};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = Reader::new(ring.ring_buf())?;
/// ring.output(b"first", 0)?;
/// ring.output(b"second", 0)?;
/// let mut record = Record::default(); // one buffer for every read
/// reader.read_into(&mut record)?;
/// assert_eq!(record.sample, b"first");
/// assert_eq!(record.remaining, 16); // the second record's stride
/// reader.read_into(&mut record)?;
/// assert_eq!((record.sample.as_slice(), record.remaining), (&b"second"[..], 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The payload, exactly as long as the producer submitted it.
    pub sample: Vec<u8>,
    /// Bytes still in the ring after this record, when it was read.
    pub remaining: usize,
}

/// Reads records by copying them out of the ring.
///
/// Consumed space is returned to producers in batches, never once per
/// record: by default once a quarter of the ring is read, and whenever the
/// ring runs empty (see [`PublishPolicy`]). Dropping the reader returns
/// everything it read.
///
/// # Other consumers
///
/// A `Reader` is safe whatever else consumes the map, including a consumer
/// this library cannot see (another process, or aya's `RingBuf` or
/// libbpf's `ring_buffer` in this process). What it guarantees then:
///
/// - **No record is ever torn or misattributed.** Each record is copied with
///   machine loads (volatile loads, or assembly on x86-64; no reference to
///   the ring's bytes is ever formed), and after the copy the live
///   `consumer_pos` is compared with the position this reader last
///   published. If another consumer moved it, that consumer may have
///   released this record and a producer may have written over it during
///   the copy: the copy is dropped and the read fails with
///   [`ReadError::ConsumerMoved`] (also at every refill, before anything is
///   copied). A producer that got more than a ring ahead is
///   [`ReadError::Lapped`].
///   One other consumer, which only moves the position forward, is always
///   caught. Two others racing can move it forward and back to the very
///   value this reader published between two of its loads; that, the check
///   cannot see (it would take a load of `producer_pos`, a line the
///   producer writes, per record).
/// - **It stops, and stays stopped.** After either error every read fails
///   again, and the reader never stores its position over the other
///   consumer's (it publishes with a compare-exchange). Open a new reader
///   to start from the live position.
/// - **Nothing more.** Two consumers share the records between them, in an
///   order neither controls: this reader sees some of them, the other
///   consumer the rest, and a record may be seen by both. Within this
///   process, a second reader of this library is refused outright
///   ([`ReaderError::AlreadyConsumed`]).
///
/// The check costs a load of `consumer_pos` (a line this reader itself
/// writes) and a compare per record.
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
    /// [`ReaderError::AlreadyConsumed`] while another reader of this process
    /// reads the same map; [`ReaderError::Overwrite`] for maps created with
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
    /// the ring empty; [`ReadError::CorruptHeader`],
    /// [`ReadError::ConsumerMoved`] and [`ReadError::Lapped`];
    /// [`ReadError::Syscall`] if waiting fails. `record` is unchanged on
    /// error, except after [`ReadError::ConsumerMoved`] found once the
    /// record was copied, when its sample is empty (see
    /// [`Reader`]'s "Other consumers").
    #[inline(always)]
    pub fn read_into(&mut self, record: &mut Record) -> Result<(), ReadError> {
        let ready = self.consumer.ready_blocking()?;
        self.read_ready_into(ready, record)
    }

    /// Reads the next record into a new [`Record`] if one is ready, without
    /// blocking. `Ok(None)` means the ring is empty (or its next record is
    /// still being written), and everything read was handed back to the
    /// producers: sleep in your own poller on [`as_fd`](AsFd::as_fd) until
    /// it is readable, then call this until it returns `None` again.
    ///
    /// # Errors
    ///
    /// As [`read_into`](Self::read_into), without the waiting ones.
    pub fn try_read(&mut self) -> Result<Option<Record>, ReadError> {
        let mut record = Record::default();
        Ok(self.try_read_into(&mut record)?.then_some(record))
    }

    /// [`read_into`](Self::read_into) without blocking: `Ok(false)` when no
    /// record is ready (see [`try_read`](Self::try_read)).
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    #[inline(always)]
    pub fn try_read_into(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        let Some(ready) = self.consumer.ready_now()? else {
            return Ok(false);
        };
        self.read_ready_into(ready, record)?;
        Ok(true)
    }

    /// Whether a record is ready to read without blocking: `Ok(false)`
    /// means, as for [`try_read`](Self::try_read), that everything read was
    /// handed back to the producers, so the caller may sleep on
    /// [`as_fd`](AsFd::as_fd).
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_ready(&mut self) -> Result<bool, ReadError> {
        Ok(self.consumer.ready_now()?.is_some())
    }

    /// The async readers' fast path: the record at the cursor if one is
    /// submitted below the cached producer position; `None` sends them to
    /// [`peek_ready`](Self::peek_ready).
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    #[inline(always)]
    pub(crate) fn peek_cached(&mut self) -> Option<Ready> {
        self.consumer.peek_cached()
    }

    /// Whether a record is ready, without publishing anything (the async
    /// readers' look when the fast path found none, and between two linger
    /// steps).
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    #[inline(always)]
    pub(crate) fn peek_ready(&mut self) -> Result<Option<Ready>, ReadError> {
        self.consumer.peek()
    }

    /// Copies out and releases the record the consumer just found
    /// (`ready_blocking`, or [`peek_ready`](Self::peek_ready) for the async
    /// reader), if it was intact when copied.
    ///
    /// # Errors
    ///
    /// [`ReadError::ConsumerMoved`] when another consumer moved the
    /// consumer position: the record is not released, `record.sample` is
    /// empty.
    #[inline(always)]
    pub(crate) fn read_ready_into(
        &mut self,
        ready: Ready,
        record: &mut Record,
    ) -> Result<(), ReadError> {
        record.remaining = copy_ready(&mut self.consumer, ready, &mut record.sample)?;
        Ok(())
    }

    /// The core, for the async readers' linger.
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub(crate) fn consumer_mut(&mut self) -> &mut Consumer {
        &mut self.consumer
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
        let ready = self.consumer.ready_blocking()?;
        // Copied out (and checked intact) first, as every record of this
        // reader; `rejected` is the copy's buffer.
        copy_ready(&mut self.consumer, ready, &mut self.rejected)?;
        match T::read_from_prefix(&self.rejected) {
            Ok((value, _)) => Ok(value),
            Err(_) => Err(ReadError::RecordTooShort {
                len: self.rejected.len(),
                expected: size_of::<T>(),
                type_name: std::any::type_name::<T>(),
            }),
        }
    }

    /// The bytes of the last record [`read_as`](Self::read_as) rejected as
    /// too short (after a successful `read_as`, the bytes it read).
    pub fn rejected(&self) -> &[u8] {
        &self.rejected
    }

    /// Sets (or clears) the deadline for blocking reads. Records already in
    /// the ring are still returned after it passes; only a read that would
    /// block fails, with [`ReadError::DeadlineExceeded`].
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

    /// Bytes submitted or reserved after this reader's position: what it
    /// has yet to read. (The ring's
    /// [`available_bytes`](RingBuf::available_bytes) counts from the
    /// published consumer position instead.)
    pub fn unread_bytes(&self) -> usize {
        self.consumer.unread_bytes()
    }

    /// The ring's positions as this reader sees them.
    pub fn positions(&self) -> Positions {
        self.consumer.positions()
    }
}

/// Copies the record `ready` found into `dst` and releases it (checked
/// intact, see `Cursor::copy_and_release`), then publishes as the policy
/// says: every copying read's one path. Returns the bytes published after
/// the record.
#[inline(always)]
fn copy_ready(
    consumer: &mut Consumer,
    ready: Ready,
    dst: &mut Vec<u8>,
) -> Result<usize, ReadError> {
    match consumer.cursor().copy_and_release(ready, dst) {
        Ok(remaining) => {
            consumer.publish_lazily();
            Ok(remaining)
        }
        Err(fault) => Err(consumer.fault(fault)),
    }
}

impl AsFd for Reader {
    /// The ring's descriptor, for readiness in your own poller: readable
    /// when a producer commits a record after [`try_read`](Reader::try_read)
    /// returned `None` (edge-triggered pollers: drain with `try_read` until
    /// it returns `None` after each event).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.consumer.ring().as_fd()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::testing::{MemoryRing, BPF_RB_NO_WAKEUP};

    /// A deterministic generator (xorshift), so runs are repeatable.
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn payload(seq: u64, len: usize) -> Vec<u8> {
        (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
    }

    #[test]
    fn odd_sizes_discards_and_wraparound_round_trip() {
        let rounds = if cfg!(miri) { 60 } else { 20_000 };
        let ring = MemoryRing::new(1024).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let mut record = Record::default();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut expected = std::collections::VecDeque::new();
        for seq in 0..rounds {
            let len = (next_random(&mut rng) % 300) as usize;
            let data = payload(seq, len);
            let discard = next_random(&mut rng).is_multiple_of(5);
            match ring.reserve(len) {
                Ok(mut reservation) => {
                    reservation.write(0, &data);
                    if discard {
                        reservation.discard(0);
                    } else {
                        reservation.submit(0);
                        expected.push_back(data);
                    }
                }
                Err(_) => {
                    // Full: drain everything, then go on.
                    reader.set_deadline(Some(Instant::now()));
                    while let Some(want) = expected.pop_front() {
                        reader.read_into(&mut record).unwrap();
                        assert_eq!(record.sample, want);
                    }
                    assert!(matches!(
                        reader.read_into(&mut record),
                        Err(ReadError::DeadlineExceeded)
                    ));
                }
            }
            if next_random(&mut rng).is_multiple_of(3) {
                if let Some(want) = expected.pop_front() {
                    reader.read_into(&mut record).unwrap();
                    assert_eq!(record.sample, want);
                }
            }
        }
        assert!(
            ring.producer_pos() > 4 * ring.size(),
            "wrapped several times"
        );
    }

    #[test]
    fn a_corrupt_header_is_an_error_and_the_reader_recovers() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        ring.output(b"before", 0).unwrap();
        // SAFETY: no record is reserved and unsubmitted while the reader
        // reads past the corrupt header.
        unsafe { ring.push_raw(5000, 16) }.unwrap();
        ring.output(b"after", 0).unwrap();
        assert_eq!(reader.read().unwrap().sample, b"before");
        let err = reader.read().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::CorruptHeader {
                    pos: 16,
                    len: 5000,
                    available: 32
                }
            ),
            "{err:?}"
        );
        ring.output(b"later", 0).unwrap();
        assert_eq!(reader.read().unwrap().sample, b"later");
    }

    #[test]
    fn an_unaligned_producer_position_never_unaligns_the_reader() {
        // A header claiming more than is published, then a producer
        // position no producer stores (13): the reader skips the corrupt
        // header, to the producer position rounded down to 8, and its next
        // header load stays aligned (Miri checks the atomic load).
        let mut data = vec![0u8; 16];
        data[..4].copy_from_slice(&100u32.to_ne_bytes());
        let ring = MemoryRing::from_raw_parts(64, 0, 13, &data).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let err = reader.read().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::CorruptHeader {
                    pos: 0,
                    len: 100,
                    available: 8
                }
            ),
            "{err:?}"
        );
        assert_eq!(reader.positions().read, 8);
        reader.set_deadline(Some(Instant::now()));
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
        assert_eq!(reader.positions().read, 8);
    }

    #[test]
    fn a_busy_record_is_waited_for_not_skipped() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let mut busy = ring.reserve(4).unwrap();
        ring.output(b"second", 0).unwrap();
        reader.set_deadline(Some(Instant::now() + Duration::from_millis(10)));
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
        busy.write(0, b"1st!");
        std::thread::scope(|s| {
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                busy.submit(0);
            });
            reader.set_deadline(Some(Instant::now() + Duration::from_secs(30)));
            assert_eq!(reader.read().unwrap().sample, b"1st!");
        });
        assert_eq!(reader.read().unwrap().sample, b"second");
    }

    #[test]
    fn a_sleeping_reader_is_woken_by_each_producer() {
        let total = if cfg!(miri) { 20 } else { 5000 };
        let ring = MemoryRing::new(512).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        reader.set_deadline(Some(Instant::now() + Duration::from_secs(60)));
        std::thread::scope(|s| {
            s.spawn(|| {
                for seq in 0..total {
                    let bytes = (seq as u64).to_le_bytes();
                    while ring.output(&bytes, 0).is_err() {
                        std::thread::yield_now();
                    }
                }
            });
            for seq in 0..total {
                assert_eq!(reader.read_as::<u64>().unwrap(), seq as u64);
            }
        });
    }

    #[test]
    fn no_wakeup_records_are_returned_before_the_deadline_error() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        for i in 0..3u8 {
            ring.output(&[i], BPF_RB_NO_WAKEUP).unwrap();
        }
        reader.set_deadline(Some(Instant::now()));
        for i in 0..3u8 {
            assert_eq!(reader.read().unwrap().sample, [i]);
        }
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
    }

    #[test]
    fn starts_at_the_live_consumer_position() {
        let ring = MemoryRing::new(4096).unwrap();
        ring.output(b"old", 0).unwrap();
        let mut first = Reader::new(ring.ring_buf()).unwrap();
        assert_eq!(first.read().unwrap().sample, b"old");
        drop(first); // publishes
        ring.output(b"new", 0).unwrap();
        let mut second = Reader::new(ring.ring_buf()).unwrap();
        assert_eq!(second.read().unwrap().sample, b"new");
    }

    #[test]
    fn publishes_in_batches_not_per_record() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        for _ in 0..10 {
            ring.output(&[0; 8], 0).unwrap();
        }
        let mut record = Record::default();
        for _ in 0..10 {
            reader.read_into(&mut record).unwrap();
        }
        assert_eq!(
            ring.consumer_pos(),
            0,
            "160 bytes is under a quarter of the ring"
        );
        for _ in 0..60 {
            ring.output(&[0; 8], 0).unwrap();
            reader.read_into(&mut record).unwrap();
        }
        assert_eq!(
            ring.consumer_pos(),
            1024,
            "published once a quarter was consumed"
        );
        reader.set_deadline(Some(Instant::now()));
        assert!(reader.read().is_err());
        assert_eq!(ring.consumer_pos(), 70 * 16, "published before waiting");
    }

    #[test]
    fn publishes_a_quarter_at_a_time_across_the_position_wrap() {
        // The positions wrap to 0 after the first 256 bytes.
        let start = usize::MAX - 255;
        let ring = MemoryRing::from_raw_parts(4096, start, start, &[]).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let mut record = Record::default();
        for _ in 0..63 {
            ring.output(&[0; 8], 0).unwrap();
            reader.read_into(&mut record).unwrap();
        }
        assert_eq!(ring.consumer_pos(), start, "1008 bytes is under a quarter");
        ring.output(&[0; 8], 0).unwrap();
        reader.read_into(&mut record).unwrap();
        assert_eq!(
            ring.consumer_pos(),
            start.wrapping_add(1024),
            "published once a quarter was consumed, past the wrap"
        );
        for _ in 0..63 {
            ring.output(&[0; 8], 0).unwrap();
            reader.read_into(&mut record).unwrap();
        }
        assert_eq!(ring.consumer_pos(), start.wrapping_add(1024));
        ring.output(&[0; 8], 0).unwrap();
        reader.read_into(&mut record).unwrap();
        assert_eq!(ring.consumer_pos(), start.wrapping_add(2048));
    }

    #[test]
    fn the_eager_policy_publishes_every_record() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        reader.set_publish_policy(crate::PublishPolicy::EAGER);
        for i in 1..=5 {
            ring.output(&[0; 8], 0).unwrap();
            reader.read().unwrap();
            assert_eq!(ring.consumer_pos(), i * 16);
        }
    }

    /// A reader of `ring` that lingers 30 s, looking every `latency`.
    fn lazy_reader(ring: &MemoryRing, latency: Duration) -> Reader {
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        reader.set_publish_policy(crate::PublishPolicy::lazy(
            0.25,
            latency,
            Duration::from_secs(30),
        ));
        reader
    }

    #[test]
    #[cfg_attr(miri, ignore = "spins on the clock for milliseconds")]
    fn short_naps_keep_the_unpublished_bytes() {
        // Naps under the timer slack are spun, not slept, and hand nothing
        // back: the producer must not find the consumer position caught up.
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = lazy_reader(&ring, Duration::from_micros(10));
        ring.output(b"first", 0).unwrap();
        assert_eq!(reader.read().unwrap().sample, b"first");
        std::thread::scope(|s| {
            s.spawn(|| {
                // Long enough for the reader to be napping.
                std::thread::sleep(Duration::from_millis(5));
                ring.output(b"second", 0).unwrap();
            });
            reader.set_deadline(Some(Instant::now() + Duration::from_secs(30)));
            assert_eq!(reader.read().unwrap().sample, b"second");
        });
        assert_eq!(ring.consumer_pos(), 0, "nothing published while napping");
        reader.set_deadline(Some(Instant::now()));
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
        assert_eq!(ring.consumer_pos(), 32, "published before giving up");
    }

    #[test]
    fn the_lazy_policy_publishes_only_when_the_ring_runs_empty() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = lazy_reader(&ring, Duration::from_micros(50));
        ring.output(b"first", 0).unwrap();
        assert_eq!(reader.read().unwrap().sample, b"first");
        std::thread::scope(|s| {
            // Reading "first" published nothing.
            assert_eq!(ring.consumer_pos(), 0);
            s.spawn(|| {
                // The empty ring makes the reader publish, then linger (not
                // block) until "second" comes.
                let give_up = Instant::now() + Duration::from_secs(20);
                while ring.consumer_pos() != 16 {
                    assert!(Instant::now() < give_up, "the reader never published");
                    std::thread::sleep(Duration::from_micros(100));
                }
                ring.output(b"second", 0).unwrap();
            });
            reader.set_deadline(Some(Instant::now() + Duration::from_secs(30)));
            assert_eq!(reader.read().unwrap().sample, b"second");
        });
        assert_eq!(
            ring.consumer_pos(),
            16,
            "published once, when the ring ran empty"
        );
        reader.set_deadline(Some(Instant::now()));
        assert!(matches!(reader.read(), Err(ReadError::DeadlineExceeded)));
        assert_eq!(ring.consumer_pos(), 32, "published before giving up");
    }

    #[test]
    fn read_into_copies_records_of_every_small_length() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let mut record = Record::default();
        for n in 1..=40u8 {
            let payload: Vec<u8> = (n..2 * n).collect();
            ring.output(&payload, 0).unwrap();
            reader.read_into(&mut record).unwrap();
            assert_eq!(record.sample, payload);
        }
    }

    #[test]
    fn read_into_reuses_the_buffer() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let mut record = Record {
            sample: Vec::with_capacity(64),
            remaining: 0,
        };
        let buffer = record.sample.as_ptr();
        ring.output(&[7; 40], 0).unwrap();
        ring.output(&[8; 20], 0).unwrap();
        reader.read_into(&mut record).unwrap();
        assert_eq!(
            record.remaining, 32,
            "the second record is still in the ring"
        );
        reader.read_into(&mut record).unwrap();
        assert_eq!(record.sample, [8; 20]);
        assert_eq!(record.sample.as_ptr(), buffer, "no reallocation");
    }

    #[test]
    fn refuses_overwrite_maps() {
        let ring = MemoryRing::with_map_flags(4096, crate::BPF_F_RB_OVERWRITE).unwrap();
        let err = Reader::new(ring.ring_buf()).unwrap_err();
        assert!(matches!(err, ReaderError::Overwrite { .. }));
        assert!(err.to_string().contains("BPF_F_RB_OVERWRITE"));
    }
}
