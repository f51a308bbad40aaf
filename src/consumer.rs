//! The consumer loop shared by both readers: find records, release and
//! publish them, wait for more.

use std::time::{Duration, Instant};

use crate::claim::{Claim, Role};
use crate::error::{ReadError, ReaderError};
use crate::policy::PublishPolicy;
use crate::ring::{Cursor, Decoded, Fault, Ready};
use crate::uapi::BPF_F_RB_OVERWRITE;
use crate::wait::{ReaderHandle, Waiter, Wake};
use crate::RingBuf;

/// One ring's consumer: its cursor, when it publishes, how it waits.
#[derive(Debug)]
pub(crate) struct Consumer {
    cursor: Cursor,
    /// Publish once this many bytes are released but unpublished, so
    /// producers never see more than this much of the ring held back.
    publish_every: usize,
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
        let cursor =
            Cursor::new(ring.raw()).map_err(|pos| ReaderError::MisalignedPosition { pos })?;
        let waiter = Waiter::new(std::os::fd::AsFd::as_fd(&ring))?;
        let policy = PublishPolicy::default();
        Ok(Self {
            publish_every: policy.max_unpublished(cursor.size()),
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
        self.publish_every = policy.max_unpublished(self.cursor.size());
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
        self.cursor.publish_at_least(self.publish_every);
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

    /// The next record, blocking until one is submitted. Publishes what is
    /// released before it blocks, so the caller must have released every
    /// record it read.
    ///
    /// # Errors
    ///
    /// [`ReadError::Closed`] once the reader is closed;
    /// [`ReadError::Flushed`] or [`ReadError::DeadlineExceeded`] with the
    /// ring empty; a fault of the ring; a failed `epoll_wait`.
    #[inline(always)]
    pub fn next_blocking(&mut self) -> Result<Decoded<'_>, ReadError> {
        let ready = self.ready_blocking()?;
        Ok(self.cursor.take(ready))
    }

    /// The next record without blocking, or `Ok(None)` with everything
    /// released published, as before a sleep (see
    /// [`ready_now`](Self::ready_now)).
    ///
    /// # Errors
    ///
    /// [`ReadError::Closed`] once the reader is closed; a fault of the ring.
    #[inline(always)]
    pub fn next_now(&mut self) -> Result<Option<Decoded<'_>>, ReadError> {
        Ok(self.ready_now()?.map(|ready| self.cursor.take(ready)))
    }

    /// The next record to [`take`](Cursor::take), blocking until one is
    /// submitted (see [`next_blocking`](Self::next_blocking)).
    #[inline(always)]
    pub fn ready_blocking(&mut self) -> Result<Ready, ReadError> {
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

    #[cold]
    fn publish_before_sleep(&mut self) -> Result<Option<Ready>, ReadError> {
        self.publish_all();
        if self.cursor.should_sleep().map_err(|f| self.fault(f))? {
            return Ok(None);
        }
        self.peek()
    }

    /// The record at the cursor, if one is submitted. The reader's closed
    /// flag is checked whenever the cached producer position is used up,
    /// so a close takes effect once the records already seen are read.
    #[inline(always)]
    pub fn peek(&self) -> Result<Option<Ready>, ReadError> {
        if self.cursor.pos() == self.cursor.producer() && self.waiter.is_closed() {
            return Err(ReadError::Closed);
        }
        self.cursor.peek().map_err(|fault| self.fault(fault))
    }

    /// The error for a fault; past a corrupt header the cursor skips to the
    /// producer position, so the reader recovers.
    #[cold]
    fn fault(&self, fault: Fault) -> ReadError {
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
        // `None`: no end (an idle period too long for the clock).
        let mut until = Instant::now().checked_add(self.policy.idle());
        if let Some(deadline) = self.deadline {
            until = Some(until.map_or(deadline, |until| until.min(deadline)));
        }
        let min_nap = Duration::from_micros(1).min(self.policy.latency());
        // Nap rather than poll: reading right behind a live producer makes
        // every cache line cross cores while it is being written; letting
        // records pile up for one nap turns that into a bulk read.
        loop {
            if self.waiter.is_closed() || self.waiter.flush_pending() {
                return Ok(false);
            }
            let now = Instant::now();
            let mut nap = self.nap;
            if let Some(until) = until {
                if now >= until {
                    // Idle: the next burst starts with a full nap again.
                    self.nap = self.policy.latency();
                    return Ok(false);
                }
                nap = nap.min(until - now);
            }
            if nap >= MIN_SLEEP {
                // Hand everything back before sleeping, so producers have
                // the whole ring. This costs at most one notification (the
                // next commit finds the position caught up), then none
                // while records pile up. The nap ends early on a flush or
                // close.
                self.publish_all();
                self.waiter.nap(nap)?;
            } else {
                // Shorter than the kernel's timer slack: wait on the clock,
                // the whole nap, so what arrives measures the producer's rate.
                // Keep what is unpublished (less than `publish_every`): a
                // producer this fast then never finds the consumer position
                // caught up, so it commits without a notification, which on
                // a small ring would otherwise come every few records.
                let end = now + nap;
                while Instant::now() < end {
                    std::hint::spin_loop();
                }
            }
            if self.cursor.has_record().map_err(|f| self.fault(f))? {
                // Aim each nap at an eighth of the ring: halve it when more
                // arrived, lengthen it (up to `latency`) when much less did.
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
                return Ok(true);
            }
        }
    }
}

/// Naps shorter than this wait on the clock instead: Linux's default timer
/// slack (50 µs) would stretch them.
const MIN_SLEEP: Duration = Duration::from_micros(50);

impl Drop for Consumer {
    fn drop(&mut self) {
        // Hand back what the caller released; records read but not
        // released stay in the ring for the next reader.
        self.cursor.publish();
    }
}

/// A ring's positions as one reader sees them, all free-running byte
/// counters (compare them with `wrapping_sub`).
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
