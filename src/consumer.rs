//! The consumer loop shared by both readers: decode, publish, block.

use std::time::{Duration, Instant};

use crate::claim::{Claim, Role};
use crate::error::{ReadError, ReaderError};
use crate::policy::PublishPolicy;
use crate::ring::{Cursor, Next, RawRing};
use crate::uapi::BPF_F_RB_OVERWRITE;
use crate::wait::{ReaderHandle, Waiter, Wake};
use crate::RingBuf;

/// One ring's consumer state: where it reads, what it published, how it
/// waits.
#[derive(Debug)]
pub(crate) struct Consumer {
    pub raw: RawRing,
    pub cur: Cursor,
    /// Publish once this many bytes are consumed but unpublished, so
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
        let raw = ring.raw();
        let waiter = Waiter::new(std::os::fd::AsFd::as_fd(&ring))?;
        // Start from the live consumer position: the ring may have been
        // consumed before (a pinned map, an earlier reader).
        let pos = raw.load_consumer();
        Ok(Self {
            raw,
            cur: Cursor {
                pos,
                producer: pos,
                published: pos,
            },
            publish_every: PublishPolicy::default().max_unpublished(raw.size()),
            policy: PublishPolicy::default(),
            nap: PublishPolicy::default().latency(),
            deadline: None,
            waiter,
            _claim: claim,
            ring,
        })
    }

    pub fn ring(&self) -> &RingBuf {
        &self.ring
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
        self.publish_every = policy.max_unpublished(self.raw.size());
    }

    /// Bytes the producer had published after the cursor when last looked.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.cur.producer.wrapping_sub(self.cur.pos)
    }

    /// Publishes `pos` if at least `publish_every` bytes are unpublished
    /// before it.
    #[inline(always)]
    pub fn publish_lazily(&mut self, pos: usize) {
        if pos.wrapping_sub(self.cur.published) >= self.publish_every {
            self.raw.publish(&mut self.cur, pos);
        }
    }

    /// Publishes everything read so far.
    #[inline]
    pub fn publish_all(&mut self) {
        let pos = self.cur.pos;
        self.raw.publish(&mut self.cur, pos);
    }

    /// The next record without blocking: `Ok(None)` when the ring is empty
    /// or the next record is still BUSY.
    ///
    /// # Errors
    ///
    /// [`ReadError::CorruptHeader`]; the cursor then skips to the producer
    /// position.
    #[inline(always)]
    pub fn try_next(&mut self) -> Result<Option<(usize, u32)>, ReadError> {
        match self.raw.next(&mut self.cur) {
            Next::Record { pos, len } => Ok(Some((pos, len))),
            Next::Empty | Next::Busy => Ok(None),
            Next::Corrupt {
                pos,
                len,
                available,
            } => {
                self.cur.pos = self.cur.producer;
                Err(ReadError::CorruptHeader {
                    pos: pos as u64,
                    len,
                    available: available as u64,
                })
            }
        }
    }

    /// The next record, blocking until one is submitted. Publishes
    /// everything read so far before it blocks, so the caller must hold no
    /// view of earlier records.
    ///
    /// # Errors
    ///
    /// [`ReadError::Closed`] once the reader is closed;
    /// [`ReadError::Flushed`] or [`ReadError::DeadlineExceeded`] with the
    /// ring empty; [`ReadError::CorruptHeader`]; a failed `epoll_wait`.
    #[inline(always)]
    pub fn next_blocking(&mut self) -> Result<(usize, u32), ReadError> {
        loop {
            if let Some(record) = self.try_next()? {
                if self.waiter.is_closed() {
                    // Leave the record in the ring for whoever reads next.
                    self.cur.pos = record.0;
                    return Err(ReadError::Closed);
                }
                return Ok(record);
            }
            self.wait()?;
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
        // published position has caught up (DESIGN §2).
        self.publish_all();
        if !self.raw.should_sleep(&mut self.cur) {
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
            Wake::Deadline if self.raw.should_sleep(&mut self.cur) => {
                Err(ReadError::DeadlineExceeded)
            }
            Wake::Deadline => Ok(()),
        }
    }
}

impl Consumer {
    /// Looks at the ring every `latency` for up to `idle` (and never past
    /// the deadline) instead of blocking at once, so producers commit
    /// without a wakeup while records keep coming. Returns whether a record
    /// arrived.
    fn linger(&mut self) -> Result<bool, ReadError> {
        let start = Instant::now();
        let mut until = start + self.policy.idle();
        if let Some(deadline) = self.deadline {
            until = until.min(deadline);
        }
        // Nap rather than poll: reading right behind a live producer makes
        // every cache line cross cores while it is being written; letting
        // records pile up for one nap turns that into a bulk read.
        loop {
            if self.waiter.is_closed() {
                return Err(ReadError::Closed);
            }
            let now = Instant::now();
            if now >= until {
                // Idle: the next burst starts with a full nap again.
                self.nap = self.policy.latency();
                return Ok(false);
            }
            let nap = self.nap.min(until - now);
            if nap >= MIN_SLEEP {
                // Hand everything back before sleeping, so producers have
                // the whole ring. This costs at most one notification (the
                // next commit finds the position caught up), then none
                // while records pile up.
                self.publish_all();
                std::thread::sleep(nap);
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
            if self.raw.has_record(&mut self.cur) {
                // Aim each nap at an eighth of the ring: halve it when more
                // arrived, lengthen it (up to `latency`) when much less did.
                let filled = self.remaining();
                let target = self.raw.size() / 8;
                if filled > target {
                    self.nap /= 2;
                } else if filled < target / 4 {
                    self.nap =
                        (self.nap * 2).clamp(Duration::from_micros(1), self.policy.latency());
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
        // Everything handed out was read: release it to the producers.
        self.publish_all();
    }
}
