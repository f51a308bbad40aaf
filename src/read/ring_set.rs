//! [`RingSet`]: many rings on one epoll, each with its own typed handler.

use std::fmt;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::error::{ReadError, RingSetError, SyscallError};
use crate::event::View;
use crate::read::unsafe_reader::UnsafeReader;
use crate::ring_id::{RingId, RingKey};

/// The records a ring may hand to its handler in one round, by default.
pub const DEFAULT_RECORDS_PER_ROUND: usize = 256;

/// A boxed handler error.
///
/// # Examples
///
/// ```
/// use ringview::{HandlerError, HandlerOutput};
///
/// let failed: Result<(), std::io::Error> = Err(std::io::ErrorKind::BrokenPipe.into());
/// let boxed: HandlerError = failed.into_result().unwrap_err();
/// assert!(boxed.downcast_ref::<std::io::Error>().is_some());
/// ```
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// What a ring set's handler returns: `()`, or a `Result<(), E>` whose
/// error stops the set (see [`RingSetError::Handler`]).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingSet, UnsafeReader};
///
/// let (a, b) = (MemoryRing::new(4096)?, MemoryRing::new(4096)?);
/// let mut set = RingSet::new()?;
/// // SAFETY (both): each ring's only consumer.
/// let (reader_a, reader_b) =
///     unsafe { (UnsafeReader::<[u8]>::new(a.ring_buf())?, UnsafeReader::<[u8]>::new(b.ring_buf())?) };
/// // A handler that cannot fail returns `()`...
/// set.add(reader_a, |bytes: &[u8]| println!("a: {bytes:?}"))?;
/// // ...one that can, a `Result`, whose error stops the set.
/// set.add(reader_b, |bytes: &[u8]| std::str::from_utf8(bytes).map(|text| println!("b: {text}")))?;
/// a.output(&[1, 2], 0)?;
/// b.output(b"ok", 0)?;
/// assert_eq!(set.consume()?, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait HandlerOutput {
    /// The error, if any.
    ///
    /// # Errors
    ///
    /// The handler's error, boxed.
    fn into_result(self) -> Result<(), HandlerError>;
}

impl HandlerOutput for () {
    #[inline(always)]
    fn into_result(self) -> Result<(), HandlerError> {
        Ok(())
    }
}

impl<E: Into<HandlerError>> HandlerOutput for Result<(), E> {
    #[inline(always)]
    fn into_result(self) -> Result<(), HandlerError> {
        self.map_err(Into::into)
    }
}

/// Why a ring's drain stopped early.
enum Failure {
    Handler(HandlerError),
    Read(ReadError),
}

/// One ring and its handler, with the handler's types erased.
trait Source: Send {
    fn fd(&self) -> BorrowedFd<'_>;
    fn ring(&self) -> RingId;
    /// Hands at most `max` ready records to the handler.
    fn drain(&mut self, max: usize) -> Result<usize, Failure>;
    /// The core's `try_ready`: `false` after publishing everything and
    /// fencing, so the set may sleep on this ring.
    fn try_ready(&mut self) -> Result<bool, ReadError>;
    /// Releases the record at the reader's position without a handler.
    fn skip(&mut self) -> Result<bool, ReadError>;
}

struct Typed<T: ?Sized + View, F, O> {
    reader: UnsafeReader<T>,
    handler: F,
    _output: PhantomData<fn() -> O>,
}

impl<T, F, O> Source for Typed<T, F, O>
where
    T: ?Sized + View,
    F: FnMut(&T) -> O + Send,
    O: HandlerOutput,
{
    fn fd(&self) -> BorrowedFd<'_> {
        self.reader.as_fd()
    }

    fn ring(&self) -> RingId {
        self.reader.ring().id()
    }

    #[inline]
    fn drain(&mut self, max: usize) -> Result<usize, Failure> {
        let handler = &mut self.handler;
        let mut failed = None;
        let count = self
            .reader
            .try_read_func_n(max, |view, _| match handler(view).into_result() {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => {
                    failed = Some(err);
                    ControlFlow::Break(())
                }
            })
            .map_err(Failure::Read)?;
        match failed {
            Some(err) => Err(Failure::Handler(err)),
            None => Ok(count),
        }
    }

    fn try_ready(&mut self) -> Result<bool, ReadError> {
        self.reader.try_ready()
    }

    fn skip(&mut self) -> Result<bool, ReadError> {
        let Some(batch) = self.reader.try_batch_n(1)? else {
            return Ok(false);
        };
        // A record too short for `T` is moved past all the same.
        let _ = batch.next::<T>();
        batch.commit();
        Ok(true)
    }
}

struct Slot<'h> {
    key: RingKey,
    source: Box<dyn Source + 'h>,
    /// The ring may have records: it had an epoll event, or it was not
    /// drained to an empty `try_ready` last round. A ring leaves this state
    /// only through `try_ready() == false`, which publishes and fences, so
    /// its next commit raises an epoll edge.
    pending: bool,
}

/// Many rings on one epoll, each read by its own typed handler: libbpf's
/// `ring_buffer__add` / `ring_buffer__poll`, with zero-copy views.
///
/// Each ring is an [`UnsafeReader<T>`] and a handler `FnMut(&T)`, returning
/// `()` or `Result<(), E>`. [`poll`](Self::poll) waits for any ring to be
/// readable and hands the ready records to the handlers;
/// [`consume`](Self::consume) does so for every ring without waiting, and
/// [`consume_n`](Self::consume_n) stops after `n` records. Rings can be
/// added and removed at any time, including inner rings of a map-in-map
/// (`BPF_MAP_TYPE_ARRAY_OF_MAPS`: open them with
/// [`RingBuf::from_map_id`](crate::RingBuf::from_map_id) or from the inner
/// map's descriptor). `AsyncRingSet` (the `tokio` feature) is the same set
/// on tokio.
///
/// # Fairness
///
/// The set works in rounds: each round visits every ring that may have
/// records, starting one ring later than the last round did, and hands each
/// at most [`records_per_round`](Self::records_per_round) records (256 by
/// default). A flooded ring therefore delays a quiet ring's record by at
/// most `(rings - 1) × records_per_round` handler calls, however fast its
/// producer is. A `poll` runs one round; `consume` runs rounds until no
/// ring has records left.
///
/// # Release and wakeups
///
/// The at-least-once rules of [`UnsafeReader::read_func`] hold per ring: a
/// record is released when its handler returns `Ok` (or `()`). A handler
/// error stops the call at that record and reports its ring
/// ([`RingSetError::Handler`]): the records before it are released, it and
/// everything after it are not, so the next poll hands it to the handler
/// again (and [`skip`](Self::skip) drops it). A panic in a handler likewise
/// leaves its record in the ring. The set sleeps on its epoll only once
/// every ring has published what it released and found nothing more (the
/// core's `try_ready`), so no wakeup is missed.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{RingBuf, RingEvent, RingSet, UnsafeReader};
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Exec { pid: u32, ppid: u32 }
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Exit { pid: u32, code: u32 }
///
/// let mut set = RingSet::new()?;
/// // SAFETY (both): this process is each ring's only consumer.
/// let execs = unsafe { UnsafeReader::<Exec>::new(RingBuf::from_pinned("/sys/fs/bpf/execs")?)? };
/// let exits = unsafe { UnsafeReader::<Exit>::new(RingBuf::from_pinned("/sys/fs/bpf/exits")?)? };
/// set.add(execs, |e: &Exec| println!("exec {} from {}", e.pid, e.ppid))?;
/// set.add(exits, |e: &Exit| println!("exit {} code {}", e.pid, e.code))?;
/// loop {
///     set.poll(None)?;
/// }
/// # }
/// ```
pub struct RingSet<'h> {
    epoll: OwnedFd,
    slots: Vec<Slot<'h>>,
    next_key: u64,
    records_per_round: usize,
    /// Where the next round starts, so a budget that runs out mid-round
    /// does not always fall on the same rings.
    start: usize,
}

impl fmt::Debug for RingSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingSet")
            .field(
                "rings",
                &self.slots.iter().map(|s| s.key).collect::<Vec<_>>(),
            )
            .field("records_per_round", &self.records_per_round)
            .finish_non_exhaustive()
    }
}

impl<'h> RingSet<'h> {
    /// An empty set.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when `epoll_create1` fails.
    pub fn new() -> Result<Self, RingSetError> {
        // SAFETY: `epoll_create1` has no memory preconditions.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if raw < 0 {
            return Err(SyscallError::last("epoll_create1").into());
        }
        // SAFETY: `raw` was just returned by `epoll_create1` and nothing
        // else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(Self {
            epoll,
            slots: Vec::new(),
            next_key: 0,
            records_per_round: DEFAULT_RECORDS_PER_ROUND,
            start: 0,
        })
    }

    /// Adds a ring, read by `reader`, whose records go to `handler` as views
    /// `&T`. For an untyped reader (`T = [u8]`) the handler gets the raw
    /// payload, and can split a header from its tail with
    /// [`View::view`] or pick a variant with
    /// [`TaggedEvent::from_record`](crate::TaggedEvent::from_record).
    /// The ring is looked at in the next round even without an epoll event,
    /// so records already in it are read. Handlers are `Send`, so that the
    /// set can move to another thread or into a tokio task (share state
    /// with `Arc` and atomics or a `Mutex`, or send it over a channel).
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when the ring cannot be added to the epoll.
    pub fn add<T, F, O>(
        &mut self,
        reader: UnsafeReader<T>,
        handler: F,
    ) -> Result<RingKey, RingSetError>
    where
        T: ?Sized + View + 'h,
        F: FnMut(&T) -> O + Send + 'h,
        O: HandlerOutput + 'h,
    {
        let key = RingKey::new(self.next_key);
        let source: Box<dyn Source + 'h> = Box::new(Typed {
            reader,
            handler,
            _output: PhantomData,
        });
        self.ctl(libc::EPOLL_CTL_ADD, source.fd(), key)?;
        self.next_key += 1;
        self.slots.push(Slot {
            key,
            source,
            pending: true,
        });
        Ok(key)
    }

    /// Removes a ring and drops its reader and handler: what the handler
    /// finished is published, the rest stays in the ring for its next
    /// reader. Returns whether the set had the ring.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when the ring cannot be removed from the
    /// epoll (it is dropped from the set all the same).
    pub fn remove(&mut self, key: RingKey) -> Result<bool, RingSetError> {
        let Some(index) = self.slots.iter().position(|s| s.key == key) else {
            return Ok(false);
        };
        let slot = self.slots.remove(index);
        self.ctl(libc::EPOLL_CTL_DEL, slot.source.fd(), key)?;
        Ok(true)
    }

    /// Releases the record at the front of ring `key` without handing it to
    /// the handler: for a record whose handler keeps failing. Returns
    /// whether there was one.
    ///
    /// # Errors
    ///
    /// [`RingSetError::NoSuchRing`]; [`RingSetError::Read`] as for a read.
    pub fn skip(&mut self, key: RingKey) -> Result<bool, RingSetError> {
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.key == key)
            .ok_or(RingSetError::NoSuchRing { key })?;
        slot.pending = true;
        slot.source.skip().map_err(|source| RingSetError::Read {
            key,
            ring: slot.source.ring(),
            source,
        })
    }

    /// How many rings the set holds.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the set holds no ring.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether the set holds ring `key`.
    pub fn contains(&self, key: RingKey) -> bool {
        self.slots.iter().any(|s| s.key == key)
    }

    /// The ring `key` reads, by its map id.
    pub fn ring_id(&self, key: RingKey) -> Option<RingId> {
        let slot = self.slots.iter().find(|s| s.key == key)?;
        Some(slot.source.ring())
    }

    /// The most records a ring hands to its handler in one round.
    pub fn records_per_round(&self) -> usize {
        self.records_per_round
    }

    /// Sets the most records a ring hands to its handler in one round (at
    /// least 1): the fairness bound (see the type's docs).
    pub fn set_records_per_round(&mut self, records: usize) {
        self.records_per_round = records.max(1);
    }

    /// Whether some ring may have records the set has not looked at: a
    /// poll then does not wait.
    pub fn has_pending(&self) -> bool {
        self.slots.iter().any(|s| s.pending)
    }

    /// Waits up to `timeout` (`None`: without end) for a ring to have
    /// records, unless one already may, then runs one round over the
    /// rings that may have records. Returns how many records the handlers
    /// finished (0 after a timeout or a signal).
    ///
    /// # Errors
    ///
    /// The first ring's failure in the round ([`RingSetError::Handler`] or
    /// [`RingSetError::Read`]); the rings before it in the round were
    /// handled. [`RingSetError::Syscall`] when `epoll_wait` fails.
    pub fn poll(&mut self, timeout: Option<Duration>) -> Result<usize, RingSetError> {
        self.poll_n(timeout, usize::MAX)
    }

    /// [`poll`](Self::poll), handing at most `n` records to the handlers.
    ///
    /// # Errors
    ///
    /// As [`poll`](Self::poll).
    pub fn poll_n(&mut self, timeout: Option<Duration>, n: usize) -> Result<usize, RingSetError> {
        if n == 0 {
            return Ok(0);
        }
        let timeout = if self.has_pending() {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        self.collect_events(timeout)?;
        self.round(n)
    }

    /// Hands every ready record of every ring to its handler, without
    /// waiting, in rounds (see the type's docs), until no ring has records.
    /// Returns how many records the handlers finished. Like libbpf's
    /// `ring_buffer__consume`, it returns only once producers stop
    /// outpacing the handlers; [`consume_n`](Self::consume_n) is bounded.
    ///
    /// # Errors
    ///
    /// As [`poll`](Self::poll).
    pub fn consume(&mut self) -> Result<usize, RingSetError> {
        self.consume_n(usize::MAX)
    }

    /// [`consume`](Self::consume), stopping after `n` records (libbpf's
    /// `ring_buffer__consume_n`).
    ///
    /// # Errors
    ///
    /// As [`poll`](Self::poll).
    pub fn consume_n(&mut self, n: usize) -> Result<usize, RingSetError> {
        self.collect_events(Some(Duration::ZERO))?;
        for slot in &mut self.slots {
            slot.pending = true;
        }
        let mut total = 0;
        while total < n && self.has_pending() {
            total += self.round(n - total)?;
        }
        Ok(total)
    }

    /// One round: each ring that may have records hands at most
    /// `records_per_round` of them (and `budget` in all) to its handler.
    fn round(&mut self, mut budget: usize) -> Result<usize, RingSetError> {
        let rings = self.slots.len();
        if rings == 0 {
            return Ok(0);
        }
        let start = self.start % rings;
        self.start = start + 1;
        let mut total = 0;
        for i in 0..rings {
            if budget == 0 {
                break;
            }
            let slot = &mut self.slots[(start + i) % rings];
            if !slot.pending {
                continue;
            }
            let max = self.records_per_round.min(budget);
            let key = slot.key;
            let count = match slot.source.drain(max) {
                Ok(count) => count,
                Err(failure) => {
                    let ring = slot.source.ring();
                    return Err(match failure {
                        Failure::Handler(source) => RingSetError::Handler { key, ring, source },
                        Failure::Read(source) => RingSetError::Read { key, ring, source },
                    });
                }
            };
            total += count;
            budget -= count;
            if count < max {
                // Drained what was there: sleep on it only once `try_ready`
                // published and found nothing more.
                slot.pending = slot
                    .source
                    .try_ready()
                    .map_err(|source| RingSetError::Read {
                        key,
                        ring: slot.source.ring(),
                        source,
                    })?;
            }
        }
        Ok(total)
    }

    /// Marks the rings epoll reports, waiting up to `timeout` for one.
    fn collect_events(&mut self, timeout: Option<Duration>) -> Result<(), RingSetError> {
        let timeout_ms = match timeout {
            None => -1,
            // Round up, so a short timeout never becomes a busy poll.
            Some(t) => i32::try_from(t.as_micros().div_ceil(1000)).unwrap_or(i32::MAX),
        };
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 32];
        let mut timeout_ms = timeout_ms;
        loop {
            // SAFETY: `epoll` is a live epoll descriptor; `events` is
            // writable for the `events.len()` entries passed.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    timeout_ms,
                )
            };
            if n < 0 {
                let err = SyscallError::last("epoll_wait");
                if err.io_error.kind() == std::io::ErrorKind::Interrupted {
                    return Ok(());
                }
                return Err(err.into());
            }
            let n = n as usize;
            for event in &events[..n] {
                let key = RingKey::new(event.u64);
                if let Some(slot) = self.slots.iter_mut().find(|s| s.key == key) {
                    slot.pending = true;
                }
            }
            if n < events.len() {
                return Ok(());
            }
            // A full buffer: more events may be queued; take them now.
            timeout_ms = 0;
        }
    }

    fn ctl(&self, op: libc::c_int, fd: BorrowedFd<'_>, key: RingKey) -> Result<(), SyscallError> {
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: key.get(),
        };
        // SAFETY: both descriptors are live; `event` is a valid
        // `epoll_event` the kernel reads during the call (and ignores for
        // `EPOLL_CTL_DEL`).
        let ret =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd.as_raw_fd(), &mut event) };
        if ret < 0 {
            return Err(SyscallError::last(if op == libc::EPOLL_CTL_ADD {
                "epoll_ctl(EPOLL_CTL_ADD)"
            } else {
                "epoll_ctl(EPOLL_CTL_DEL)"
            }));
        }
        Ok(())
    }
}

impl AsFd for RingSet<'_> {
    /// The set's epoll descriptor: readable when a ring has an edge, for an
    /// outer poller (edge-triggered: after an event, call
    /// [`consume`](RingSet::consume) or `poll(Some(Duration::ZERO))` until
    /// [`has_pending`](RingSet::has_pending) is `false`).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::event::test_events::Word;
    use crate::testing::MemoryRing;

    fn reader<T: ?Sized + View>(ring: &MemoryRing) -> UnsafeReader<T> {
        // SAFETY: each test's ring has one consumer.
        unsafe { UnsafeReader::new(ring.ring_buf()) }.unwrap()
    }

    #[test]
    fn a_flooded_ring_does_not_starve_a_quiet_one() {
        let flooded = MemoryRing::new(1 << 16).unwrap();
        let quiet = MemoryRing::new(4096).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut set = RingSet::new().unwrap();
        set.set_records_per_round(8);
        let log = Arc::clone(&seen);
        set.add(reader::<Word>(&flooded), move |w: &Word| {
            log.lock().unwrap().push(("flooded", w.0))
        })
        .unwrap();
        let log = Arc::clone(&seen);
        set.add(reader::<Word>(&quiet), move |w: &Word| {
            log.lock().unwrap().push(("quiet", w.0))
        })
        .unwrap();
        for i in 0..100u64 {
            flooded.output(&i.to_le_bytes(), 0).unwrap();
        }
        quiet.output(&7u64.to_le_bytes(), 0).unwrap();
        assert_eq!(set.consume_n(20).unwrap(), 20);
        let seen = seen.lock().unwrap();
        let at = seen.iter().position(|&(ring, _)| ring == "quiet").unwrap();
        assert!(at <= 8, "the quiet record came after {at} flooded ones");
    }

    #[test]
    fn a_handler_error_names_its_ring_and_keeps_its_record() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut set = RingSet::new().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let key = set
            .add(reader::<Word>(&ring), move |w: &Word| {
                if w.0 == 2 {
                    return Err("two is bad");
                }
                log.lock().unwrap().push(w.0);
                Ok(())
            })
            .unwrap();
        for i in 0..5u64 {
            ring.output(&i.to_le_bytes(), 0).unwrap();
        }
        let err = set.consume().unwrap_err();
        assert!(
            matches!(&err, RingSetError::Handler { key: k, .. } if *k == key),
            "{err:?}"
        );
        assert_eq!(ring.consumer_pos(), 32, "0 and 1 released, 2 not");
        // Again: the same record fails again.
        assert!(set.consume().is_err());
        assert!(set.skip(key).unwrap());
        assert_eq!(set.consume().unwrap(), 2);
        assert_eq!(*seen.lock().unwrap(), [0, 1, 3, 4]);
    }

    #[test]
    fn rings_come_and_go() {
        let a = MemoryRing::new(4096).unwrap();
        let b = MemoryRing::new(4096).unwrap();
        let mut set = RingSet::new().unwrap();
        let count = Arc::new(Mutex::new(0));
        let c = Arc::clone(&count);
        let ka = set
            .add(reader::<[u8]>(&a), move |_: &[u8]| *c.lock().unwrap() += 1)
            .unwrap();
        a.output(b"1", 0).unwrap();
        assert_eq!(set.poll(Some(Duration::from_secs(5))).unwrap(), 1);
        let c = Arc::clone(&count);
        let kb = set
            .add(reader::<[u8]>(&b), move |_: &[u8]| *c.lock().unwrap() += 10)
            .unwrap();
        b.output(b"2", 0).unwrap();
        assert!(set.remove(ka).unwrap());
        assert!(!set.remove(ka).unwrap());
        a.output(b"3", 0).unwrap();
        assert_eq!(set.consume().unwrap(), 1);
        assert_eq!(*count.lock().unwrap(), 11);
        assert!(set.contains(kb) && set.len() == 1);
        // The removed ring's reader is gone: a new one may read it.
        let mut again = reader::<[u8]>(&a);
        assert_eq!(again.try_read::<[u8]>().unwrap().unwrap(), b"3");
    }
}
