//! The consumer loop shared by both readers: find records, release and
//! publish them, wait for more.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crate::error::{ReadError, ReaderError};
use crate::kernel::claim::{Claim, Role};
use crate::kernel::epoll::{Wake, DEFAULT_TIMER_SLACK};
use crate::read::cursor::{Cursor, Decoded, Fault, Found, Ready, Step, Stop};
use crate::read::policy::PublishPolicy;
use crate::read::ring_buf::RingBuf;
use crate::read::wait::{ReaderHandle, Waiter};
use crate::uapi::BPF_F_RB_OVERWRITE;

/// One ring's consumer: its cursor, when it publishes, how it waits.
#[derive(Debug)]
pub(crate) struct Consumer {
    /// The cursor. Its lazy publish goes once the policy's share of the
    /// ring is released but unpublished, so producers never see more than
    /// that held back.
    cursor: Cursor,
    policy: PublishPolicy,
    /// How long the next linger naps: `latency` at most, shortened when a
    /// nap lets the ring fill past an eighth, so a fast producer never
    /// overruns the ring while the reader naps.
    nap: Duration,
    deadline: Option<Instant>,
    waiter: Waiter,
    /// This process's only consumer of the ring while it lives.
    _claim: Claim,
    // Declared last: dropped after everything that points into it.
    ring: RingBuf,
}

impl Consumer {
    pub fn new(ring: RingBuf) -> Result<Self, ReaderError> {
        if ring.map_flags() & BPF_F_RB_OVERWRITE != 0 {
            return Err(ReaderError::Overwrite {
                flags: ring.map_flags(),
            });
        }
        let claim = Claim::new(ring.id(), Role::Consumer)
            .map_err(|ring| ReaderError::AlreadyConsumed { ring })?;
        let mut cursor =
            Cursor::new(ring.raw()).map_err(|pos| ReaderError::MisalignedPosition { pos })?;
        let waiter = Waiter::new(std::os::fd::AsFd::as_fd(&ring))?;
        let policy = PublishPolicy::default();
        cursor.set_publish_every(policy.max_unpublished(cursor.size()));
        Ok(Self {
            cursor,
            policy,
            nap: policy.latency(),
            deadline: None,
            waiter,
            _claim: claim,
            ring,
        })
    }

    pub fn ring(&self) -> &RingBuf {
        &self.ring
    }

    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    pub fn handle(&self) -> ReaderHandle {
        self.waiter.handle()
    }

    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    pub fn set_policy(&mut self, policy: PublishPolicy) {
        self.policy = policy;
        self.nap = policy.latency();
        let every = policy.max_unpublished(self.cursor.size());
        self.cursor.set_publish_every(every);
    }

    /// Passes a checkpoint every `bytes` released (0 for none); see
    /// `Cursor::set_checkpoint_every`.
    #[cfg_attr(
        not(any(feature = "tokio", feature = "async-io")),
        expect(dead_code, reason = "only the async readers use it")
    )]
    pub fn set_checkpoint_every(&mut self, bytes: usize) {
        self.cursor.set_checkpoint_every(bytes);
    }

    /// Whether a checkpoint passed since the last call; if so, the cached
    /// producer position it set aside is put back (see
    /// `Cursor::take_checkpoint`).
    #[cfg_attr(
        not(any(feature = "tokio", feature = "async-io")),
        expect(dead_code, reason = "only the async readers use it")
    )]
    pub fn take_checkpoint(&mut self) -> bool {
        self.cursor.take_checkpoint()
    }

    /// Bytes submitted or reserved after the cursor.
    pub fn unread_bytes(&self) -> usize {
        self.cursor.live_producer().wrapping_sub(self.cursor.pos())
    }

    /// The live and local positions.
    pub fn positions(&self) -> Positions {
        Positions {
            producer: self.cursor.live_producer() as u64,
            published: self.cursor.live_consumer() as u64,
            read: self.cursor.pos() as u64,
            released: self.cursor.released() as u64,
        }
    }

    /// Releases every record read so far (nothing is published).
    #[inline(always)]
    pub fn release_all(&self) {
        self.cursor.release(self.cursor.pos());
    }

    /// Publishes the released position once enough is released.
    #[inline(always)]
    pub fn publish_lazily(&mut self) {
        self.cursor.publish_lazily();
    }

    /// Publishes the released position.
    #[inline]
    pub fn publish(&mut self) {
        self.cursor.publish();
    }

    /// Releases and publishes everything up to the cursor, discarded
    /// records skipped after the last release included: only for the
    /// waiting paths, whose callers hold no view.
    fn publish_all(&mut self) {
        self.release_all();
        self.cursor.publish();
    }

    /// The next record to [`take`](Cursor::take), blocking until one is
    /// submitted.
    #[inline(always)]
    pub fn ready_blocking(&mut self) -> Result<Ready, ReadError> {
        match self.cursor.find() {
            Found::Ready(ready) => Ok(ready),
            _ => self.ready_blocking_slow(),
        }
    }

    #[cold]
    #[inline(never)]
    fn ready_blocking_slow(&mut self) -> Result<Ready, ReadError> {
        loop {
            if let Some(ready) = self.peek()? {
                return Ok(ready);
            }
            self.wait()?;
        }
    }

    /// The next record to take, or `Ok(None)` when none is ready. Before
    /// returning `None` it follows the rule for going to sleep, because the
    /// caller is about to sleep in its own poller: it publishes what is
    /// released, fences, and looks again, so a producer that commits after
    /// the look sees the published position and notifies the ring's
    /// descriptor.
    #[inline(always)]
    pub fn ready_now(&mut self) -> Result<Option<Ready>, ReadError> {
        if let Some(ready) = self.peek()? {
            return Ok(Some(ready));
        }
        self.publish_before_sleep()
    }

    /// What [`ready_now`](Self::ready_now) does once its first look found
    /// nothing: publishes what is released, fences, and looks again, for a
    /// caller that has just looked.
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub fn publish_and_look(&mut self) -> Result<Option<Ready>, ReadError> {
        self.publish_before_sleep()
    }

    #[cold]
    fn publish_before_sleep(&mut self) -> Result<Option<Ready>, ReadError> {
        self.publish_all();
        if self.cursor.should_sleep().map_err(|f| self.fault(f))? {
            return Ok(None);
        }
        self.peek()
    }

    /// The record at the cursor if one is submitted below the cached
    /// producer position, not taken: the fast path, which neither refills
    /// nor reports anything. `None` says only "look with
    /// [`peek`](Self::peek)".
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    #[inline(always)]
    pub fn peek_cached(&self) -> Option<Ready> {
        match self.cursor.find() {
            Found::Ready(ready) => Some(ready),
            _ => None,
        }
    }

    /// The record at the cursor, if one is submitted, not taken.
    #[inline(always)]
    pub fn peek(&self) -> Result<Option<Ready>, ReadError> {
        loop {
            match self.cursor.find() {
                Found::Ready(ready) => return Ok(Some(ready)),
                Found::Busy => return Ok(None),
                Found::Refill => {
                    if !self.refill()? {
                        return Ok(None);
                    }
                }
                Found::Corrupt(fault) => return Err(self.fault(fault)),
            }
        }
    }

    /// The next record if one is submitted, taken: for the loops that hand
    /// out many records between two waits.
    #[inline(always)]
    pub fn next(&self) -> Result<Option<Decoded<'_>>, ReadError> {
        match self.cursor.step() {
            Step::Record(record) => Ok(Some(record)),
            Step::Busy => Ok(None),
            Step::Refill => self.next_after_refill(),
            Step::Corrupt(fault) => Err(self.fault(fault)),
        }
    }

    #[cold]
    #[inline(never)]
    fn next_after_refill(&self) -> Result<Option<Decoded<'_>>, ReadError> {
        loop {
            if !self.refill()? {
                return Ok(None);
            }
            match self.cursor.step() {
                Step::Record(record) => return Ok(Some(record)),
                Step::Busy => return Ok(None),
                Step::Refill => {}
                Step::Corrupt(fault) => return Err(self.fault(fault)),
            }
        }
    }

    /// Hands each submitted record to `f` until `f` breaks or none is
    /// ready without waiting: [`Cursor::take_while`], refilling as it goes.
    #[inline(always)]
    pub fn take_while<B>(
        &self,
        f: impl FnMut(Decoded<'_>) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>, ReadError> {
        match self.cursor.take_while(f, || self.refill())? {
            ControlFlow::Break(b) => Ok(ControlFlow::Break(b)),
            ControlFlow::Continue(Stop::Busy | Stop::Refill) => Ok(ControlFlow::Continue(())),
            ControlFlow::Continue(Stop::Corrupt(fault)) => Err(self.fault(fault)),
        }
    }

    /// Reloads the producer position once the cached one is used up.
    /// Returns whether anything is at the cursor now. The reader's closed
    /// flag is checked here, so a close takes effect once the records
    /// already seen are read.
    #[cold]
    fn refill(&self) -> Result<bool, ReadError> {
        if self.waiter.is_closed() {
            return Err(ReadError::Closed);
        }
        self.cursor.refill().map_err(|fault| self.fault(fault))
    }

    /// The error for a fault; past a corrupt header the cursor skips to the
    /// producer position, so the reader recovers.
    #[cold]
    pub fn fault(&self, fault: Fault) -> ReadError {
        match fault {
            Fault::Moved { published, live } => ReadError::ConsumerMoved {
                published: published as u64,
                live: live as u64,
            },
            Fault::Lapped { pos, producer } => ReadError::Lapped {
                pos: pos as u64,
                producer: producer as u64,
            },
            Fault::Corrupt {
                pos,
                len,
                available,
            } => {
                self.cursor.skip_to_producer();
                ReadError::CorruptHeader {
                    pos: pos as u64,
                    len,
                    available: available as u64,
                }
            }
        }
    }

    /// Lingers (per the policy), then publishes, re-checks the ring, and
    /// sleeps if it is still empty (or its next record BUSY). Returns `Ok`
    /// when the ring should be looked at again.
    #[cold]
    fn wait(&mut self) -> Result<(), ReadError> {
        if self.policy.lingers() && self.linger()? {
            return Ok(());
        }
        // Publish before sleeping: the kernel wakes only a consumer whose
        // published position has caught up with the record it commits.
        self.publish_all();
        if !self.should_sleep()? {
            return Ok(());
        }
        if self.waiter.is_closed() {
            return Err(ReadError::Closed);
        }
        if self.waiter.take_flush() {
            return Err(ReadError::Flushed);
        }
        match self.waiter.wait(self.deadline)? {
            Wake::Again => Ok(()),
            Wake::Deadline if self.should_sleep()? => Err(ReadError::DeadlineExceeded),
            Wake::Deadline => Ok(()),
        }
    }

    fn should_sleep(&self) -> Result<bool, ReadError> {
        self.cursor.should_sleep().map_err(|f| self.fault(f))
    }

    /// Looks at the ring every `latency` for up to `idle` (and never past
    /// the deadline) instead of blocking at once, so producers commit
    /// without a wakeup while records keep coming. Returns whether a record
    /// arrived; returns early on a flush or close, which the caller reports.
    fn linger(&mut self) -> Result<bool, ReadError> {
        let mut linger = self.start_linger();
        loop {
            match self.linger_step(&mut linger)? {
                LingerStep::Record => return Ok(true),
                LingerStep::Stop => return Ok(false),
                LingerStep::Spin => std::hint::spin_loop(),
                LingerStep::Sleep(nap) => {
                    // Hand everything back before sleeping, so producers
                    // have the whole ring. This costs at most one
                    // notification (the next commit finds the position
                    // caught up), then none while records pile up. The nap
                    // ends early on a flush or close.
                    self.publish_all();
                    self.waiter.nap(nap)?;
                    linger.napped();
                }
            }
        }
    }

    /// A linger starting now: it ends after the policy's idle period, or
    /// at the deadline.
    pub fn start_linger(&self) -> Linger {
        // `None`: no end (an idle period too long for the clock).
        let mut until = Instant::now().checked_add(self.policy.idle());
        if let Some(deadline) = self.deadline {
            until = Some(until.map_or(deadline, |until| until.min(deadline)));
        }
        Linger {
            until,
            nap_end: None,
        }
    }

    /// One step of a linger, never blocking: the blocking readers spin or
    /// sleep (on `ppoll`) as it says, the async ones spin (yielding to
    /// their runtime now and then) or sleep on a timerfd. Nothing is
    /// published here.
    ///
    /// Naps rather than polls: reading right behind a live producer makes
    /// every cache line cross cores while it is being written; letting
    /// records pile up for one nap turns that into a bulk read.
    pub fn linger_step(&mut self, linger: &mut Linger) -> Result<LingerStep, ReadError> {
        if self.waiter.is_closed() || self.waiter.flush_pending() {
            return Ok(LingerStep::Stop);
        }
        let now = Instant::now();
        if let Some(end) = linger.nap_end {
            if now < end {
                return Ok(LingerStep::Spin);
            }
            linger.nap_end = None;
            if self.cursor.has_record().map_err(|f| self.fault(f))? {
                self.aim_nap();
                return Ok(LingerStep::Record);
            }
        }
        let mut nap = self.nap;
        if let Some(until) = linger.until {
            if now >= until {
                // Idle: the next burst starts with a full nap again.
                self.nap = self.policy.latency();
                return Ok(LingerStep::Stop);
            }
            nap = nap.min(until - now);
        }
        if nap >= MIN_SLEEP {
            return Ok(LingerStep::Sleep(nap));
        }
        // Shorter than the kernel's timer slack: wait on the clock, the
        // whole nap, so what arrives measures the producer's rate. Keep
        // what is unpublished (less than the policy's share): a producer
        // this fast then never finds the consumer position caught up, so
        // it commits without a notification, which on a small ring would
        // otherwise come every few records.
        linger.nap_end = Some(now + nap);
        Ok(LingerStep::Spin)
    }

    /// After a nap that found records: aims the next nap at an eighth of
    /// the ring, halving it when more arrived, lengthening it (up to
    /// `latency`) when much less did.
    fn aim_nap(&mut self) {
        let min_nap = Duration::from_micros(1).min(self.policy.latency());
        let filled = self.cursor.producer().wrapping_sub(self.cursor.pos());
        let target = self.cursor.size() / 8;
        if filled > target {
            self.nap = (self.nap / 2).max(min_nap);
        } else if filled < target / 4 {
            self.nap = self
                .nap
                .saturating_mul(2)
                .min(self.policy.latency())
                .max(min_nap);
        }
    }

    /// Whether the policy lingers before blocking.
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub fn lingers(&self) -> bool {
        self.policy.lingers()
    }
}

/// A linger in progress (see [`Consumer::linger_step`]).
#[derive(Debug)]
pub(crate) struct Linger {
    /// When the linger ends; `None`: never (an idle period too long for the
    /// clock).
    until: Option<Instant>,
    /// When the current spinning nap ends.
    nap_end: Option<Instant>,
}

impl Linger {
    /// The nap [`LingerStep::Sleep`] asked for is over: the next step looks
    /// at the ring.
    pub fn napped(&mut self) {
        self.nap_end = Some(Instant::now());
    }
}

/// What [`Consumer::linger_step`] says to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LingerStep {
    /// A record is ready.
    Record,
    /// Stop lingering: publish and block (idle, the deadline, a flush or a
    /// close).
    Stop,
    /// Keep spinning (or yielding), then step again.
    Spin,
    /// Sleep this long (the blocking readers publish first), call
    /// [`Linger::napped`], then step again.
    Sleep(Duration),
}

/// Naps shorter than this wait on the clock instead: Linux's default timer
/// slack would stretch them.
const MIN_SLEEP: Duration = DEFAULT_TIMER_SLACK;

impl Drop for Consumer {
    fn drop(&mut self) {
        // Hand back what the caller released; records read but not
        // released stay in the ring for the next reader.
        self.cursor.publish();
    }
}

/// A ring's positions as one reader sees them, all free-running byte
/// counters (compare them with `wrapping_sub`).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::Reader;
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = Reader::new(ring.ring_buf())?;
/// ring.output(&[0; 8], 0)?; // a 16-byte stride: header and payload
/// reader.read()?;
/// let at = reader.positions();
/// assert_eq!((at.producer, at.read, at.released), (16, 16, 16));
/// // Published lazily: the producers see the space back later.
/// assert!(at.published <= at.released);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    /// The producer position (`producer_pos`): the end of the last record
    /// reserved.
    pub producer: u64,
    /// The consumer position (`consumer_pos`) as published to the
    /// producers: space before it may be reused.
    pub published: u64,
    /// Where this reader reads next.
    pub read: u64,
    /// Everything before this is released by this reader's user (published
    /// at the next publish).
    pub released: u64,
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::testing::MemoryRing;
    use crate::{Reader, UnsafeReader};

    fn unsafe_reader(ring: &MemoryRing) -> Result<UnsafeReader<[u8]>, ReaderError> {
        // SAFETY: nothing outside this library consumes the ring (a test
        // that plays such a consumer says so).
        unsafe { UnsafeReader::new(ring.ring_buf()) }
    }

    #[test]
    fn a_ring_has_one_reader_at_a_time() {
        let ring = MemoryRing::new(4096).unwrap();
        let first = Reader::new(ring.ring_buf()).unwrap();
        let id = first.ring().id();
        for err in [
            Reader::new(ring.ring_buf()).unwrap_err(),
            unsafe_reader(&ring).unwrap_err(),
        ] {
            assert!(
                matches!(err, ReaderError::AlreadyConsumed { ring } if ring == id),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "{id} already has a reader in this process: a ring has one consumer at a time"
                )
            );
        }
        // Another ring is another claim; the first ring is free once its
        // reader is gone.
        let other = MemoryRing::new(4096).unwrap();
        let _other_reader = Reader::new(other.ring_buf()).unwrap();
        drop(first);
        let mut second = unsafe_reader(&ring).unwrap();
        ring.output(b"x", 0).unwrap();
        assert_eq!(second.read::<[u8]>().unwrap(), b"x");
    }

    #[test]
    fn a_position_moved_by_another_consumer_stops_the_reader_before_any_byte() {
        let ring = MemoryRing::new(64).unwrap();
        let mut reader = unsafe_reader(&ring).unwrap();
        ring.output(&[1; 8], 0).unwrap(); // 0..16
        assert_eq!(reader.read::<[u8]>().unwrap(), [1; 8]);
        reader.commit();
        ring.output(&[2; 8], 0).unwrap(); // 16..32
        ring.output(&[3; 8], 0).unwrap(); // 32..48
                                          // A consumer outside the library takes both, and the producer
                                          // reuses their space.
        ring.set_consumer_pos(48);
        for byte in 4..=6 {
            ring.output(&[byte; 8], 0).unwrap(); // 48..64, 64..80, 80..96
        }
        let err = reader.read::<[u8]>().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::ConsumerMoved {
                    published: 16,
                    live: 48
                }
            ),
            "{err:?}"
        );
        // It stays stopped, and never stores its position over the other
        // consumer's.
        assert!(reader.read::<[u8]>().is_err());
        reader.commit();
        drop(reader);
        assert_eq!(ring.consumer_pos(), 48);
    }

    #[test]
    fn a_copying_reader_stops_too_and_never_moves_the_position_back() {
        let ring = MemoryRing::new(64).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        reader.set_publish_policy(PublishPolicy::EAGER);
        ring.output(&[1; 8], 0).unwrap();
        ring.output(&[2; 8], 0).unwrap();
        assert_eq!(reader.read().unwrap().sample, [1; 8]);
        // Moved while the reader still has a record cached: the copy of it
        // is checked against the live position, so it is not handed out
        // (the other consumer may have released it, and a producer reused
        // its space during the copy).
        ring.set_consumer_pos(32);
        ring.output(&[3; 8], 0).unwrap();
        let err = reader.read().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::ConsumerMoved {
                    published: 16,
                    live: 32
                }
            ),
            "{err:?}"
        );
        drop(reader);
        assert_eq!(ring.consumer_pos(), 32);
    }

    #[test]
    fn a_producer_that_lapped_the_reader_is_an_error() {
        let ring = MemoryRing::new(64).unwrap();
        let mut reader = unsafe_reader(&ring).unwrap();
        // Another consumer takes the space (the producer writes a ring and
        // a half past this reader), then puts the position back where this
        // reader left it.
        for round in 0..6u8 {
            ring.set_consumer_pos(usize::from(round) * 16);
            ring.output(&[round; 8], 0).unwrap();
        }
        ring.set_consumer_pos(0);
        let err = reader.read::<[u8]>().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Lapped {
                    pos: 0,
                    producer: 96
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("lapped"), "{err}");
    }

    #[test]
    fn a_misaligned_live_position_is_refused() {
        let ring = MemoryRing::new(64).unwrap();
        ring.set_consumer_pos(3);
        let err = Reader::new(ring.ring_buf()).unwrap_err();
        assert!(matches!(err, ReaderError::MisalignedPosition { pos: 3 }));
    }

    #[test]
    fn try_read_returns_none_with_everything_published() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        assert!(reader.try_read().unwrap().is_none());
        ring.output(b"a", 0).unwrap();
        ring.output(b"b", 0).unwrap();
        assert_eq!(reader.try_read().unwrap().unwrap().sample, b"a");
        assert_eq!(ring.consumer_pos(), 0, "lazy while records are ready");
        assert_eq!(reader.try_read().unwrap().unwrap().sample, b"b");
        assert!(reader.try_read().unwrap().is_none());
        assert_eq!(ring.consumer_pos(), 32, "published before returning None");

        let mut zero_copy = {
            drop(reader);
            unsafe_reader(&ring).unwrap()
        };
        assert!(zero_copy.try_read::<[u8]>().unwrap().is_none());
        ring.output(b"c", 0).unwrap();
        assert_eq!(zero_copy.try_read::<[u8]>().unwrap().unwrap(), b"c");
        assert_eq!(ring.consumer_pos(), 32, "the view is not released");
        assert!(zero_copy.try_read::<[u8]>().unwrap().is_none());
        assert_eq!(ring.consumer_pos(), 48);
        assert!(zero_copy.try_batch().unwrap().is_none());
        assert_eq!(zero_copy.try_read_func(|_, _| ()).unwrap(), 0);
        zero_copy.handle().close();
        assert!(matches!(
            zero_copy.try_read::<[u8]>(),
            Err(ReadError::Closed)
        ));
    }

    #[test]
    fn positions_and_unread_bytes_name_their_meaning() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = unsafe_reader(&ring).unwrap();
        for _ in 0..3 {
            ring.output(&[0; 8], 0).unwrap();
        }
        assert_eq!(reader.read::<[u8]>().unwrap(), [0; 8]);
        assert_eq!(reader.read::<[u8]>().unwrap(), [0; 8]);
        let positions = reader.positions();
        assert_eq!(
            positions,
            Positions {
                producer: 48,
                published: 0,
                read: 32,
                released: 16,
            }
        );
        assert_eq!(reader.unread_bytes(), 16);
        assert_eq!(reader.ring().available_bytes(), 48);
    }

    /// Extreme but accepted policies: none may panic, and each still reads.
    #[test]
    #[cfg_attr(miri, ignore = "sleeps and spins on the clock")]
    fn every_policy_value_works() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        let policies = [
            PublishPolicy::lazy(0.25, Duration::from_nanos(500), Duration::from_millis(2)),
            PublishPolicy::lazy(0.25, Duration::MAX, Duration::from_millis(2)),
            PublishPolicy::lazy(f64::NAN, Duration::from_micros(50), Duration::MAX),
            PublishPolicy::lazy(7.0, Duration::MAX, Duration::MAX),
            PublishPolicy::lazy(-1.0, Duration::ZERO, Duration::MAX),
            PublishPolicy::EAGER,
        ];
        for policy in policies {
            reader.set_publish_policy(policy);
            std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(Duration::from_millis(5));
                    ring.output(b"late", 0).unwrap();
                });
                // A record waits at most the latency, cut short by the
                // idle period and the deadline: here 1 s at the most.
                reader.set_deadline(Some(Instant::now() + Duration::from_secs(1)));
                assert_eq!(reader.read().unwrap().sample, b"late", "{policy:?}");
            });
            reader.set_deadline(Some(Instant::now() + Duration::from_millis(20)));
            assert!(
                matches!(reader.read(), Err(ReadError::DeadlineExceeded)),
                "{policy:?}"
            );
        }
    }

    /// A flush or close reaches a reader lingering with a long latency and
    /// no idle limit at once, not after the nap or the idle period.
    #[test]
    #[cfg_attr(miri, ignore = "sleeps")]
    fn flush_and_close_end_a_linger_promptly() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut reader = Reader::new(ring.ring_buf()).unwrap();
        reader.set_publish_policy(PublishPolicy::lazy(
            0.25,
            Duration::from_secs(3600),
            Duration::MAX,
        ));
        let handle = reader.handle();
        for (close, expected) in [(false, "flushed"), (true, "closed")] {
            std::thread::scope(|s| {
                s.spawn(|| {
                    std::thread::sleep(Duration::from_millis(20));
                    if close {
                        handle.close();
                    } else {
                        handle.flush();
                    }
                });
                // Without the prompt wake, the deadline ends the read.
                reader.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
                let err = reader.read().unwrap_err();
                assert!(err.to_string().contains(expected), "{err}");
            });
        }
    }
}
