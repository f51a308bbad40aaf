//! [`RingSet`]: many rings on one epoll, each with its own typed handler.

use std::fmt;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::error::{ReadError, RingSetError, SyscallError};
use crate::event::View;
use crate::read::unsafe_reader::UnsafeReader;
use crate::ring_id::{Handles, RingId, RingKey, Untyped};

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

/// Why a ring's drain stopped early (public only as [`Source`] is).
#[doc(hidden)]
#[derive(Debug)]
pub enum Failure {
    /// The handler failed.
    Handler(HandlerError),
    /// Reading the ring failed.
    Read(ReadError),
}

/// One ring and its handler, with the handler's types erased. Public only
/// so that [`Handlers`] can name it; the module is private.
#[doc(hidden)]
pub trait Source {
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
    F: FnMut(&T) -> O,
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
        // After a read error (a record too short for `T`, an unknown tag, a
        // corrupt header) the reader has moved past what the error was
        // about without releasing it: release exactly that.
        if self.reader.has_unreleased() {
            self.reader.commit();
            return Ok(true);
        }
        let Some(batch) = self.reader.try_batch_n(1)? else {
            return Ok(false);
        };
        // A record too short for `T` is moved past all the same.
        let _ = batch.next::<T>();
        batch.commit();
        Ok(true)
    }
}

/// Whether a set's handlers must be `Send`: [`SendHandlers`] (the
/// default; the set is `Send` and may move into a thread or a task) or
/// [`LocalHandlers`] (any handler; the set stays on its thread).
///
/// # Examples
///
/// ```
/// use ringview::{Handlers, RingSet};
///
/// // Code for either kind of set.
/// fn describe<'h, H: Handlers<'h>>(set: &RingSet<'h, H>) -> String {
///     format!("{} rings, {} records per round", set.len(), set.records_per_round())
/// }
///
/// assert_eq!(describe(&RingSet::new()?), "0 rings, 256 records per round");
/// assert_eq!(describe(&RingSet::new_local()?), "0 rings, 256 records per round");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Handlers<'h>: sealed::Sealed {
    /// The handlers as the set keeps them.
    #[doc(hidden)]
    type Source: ?Sized + Source + 'h;
}

/// The handlers of a [`RingSet`] are `Send`, and so is the set.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// use ringview::testing::MemoryRing;
/// use ringview::{RingSet, SendHandlers, UnsafeReader};
///
/// let ring = MemoryRing::new(4096)?;
/// let seen = Arc::new(AtomicUsize::new(0));
/// let mut set: RingSet<'static, SendHandlers> = RingSet::new()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let counter = Arc::clone(&seen);
/// set.add(reader, move |_: &[u8]| {
///     counter.fetch_add(1, Ordering::Relaxed);
/// })?;
/// ring.output(b"one", 0)?;
/// ring.output(b"two", 0)?;
/// // The set is `Send`: it may move into another thread.
/// let handled = std::thread::spawn(move || set.consume()).join().unwrap()?;
/// assert_eq!((handled, seen.load(Ordering::Relaxed)), (2, 2));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub enum SendHandlers {}

/// The handlers of a [`RingSet`] need not be `Send` (they may hold an `Rc`
/// or a `&RefCell`); the set stays on the thread that made it.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
///
/// use ringview::testing::MemoryRing;
/// use ringview::{LocalHandlers, RingSet, UnsafeReader};
///
/// let ring = MemoryRing::new(4096)?;
/// let lengths = RefCell::new(Vec::new());
/// // The handler borrows `lengths`, a `RefCell` (not `Sync`): a local set.
/// let mut set: RingSet<'_, LocalHandlers> = RingSet::new_local()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// set.add(reader, |bytes: &[u8]| lengths.borrow_mut().push(bytes.len()))?;
/// ring.output(b"abc", 0)?;
/// ring.output(b"de", 0)?;
/// set.consume()?;
/// drop(set);
/// assert_eq!(lengths.into_inner(), [3, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub enum LocalHandlers {}

impl<'h> Handlers<'h> for SendHandlers {
    type Source = dyn Source + Send + 'h;
}

impl<'h> Handlers<'h> for LocalHandlers {
    type Source = dyn Source + 'h;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::SendHandlers {}
    impl Sealed for super::LocalHandlers {}
    impl Sealed for crate::ring_id::Untyped {}
    impl<T: ?Sized, F> Sealed for crate::ring_id::Handles<T, F> {}
}

/// What [`RingSet::remove`] returns for a key of this type: the reader and
/// the handler for a key from `add` (`RingKey<Handles<T, F>>`), nothing for
/// an untyped key (they are dropped).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{Removed, RingKey, RingSet, UnsafeReader};
///
/// // Removes a ring the set is known to hold, whatever its key's type.
/// fn take_back<'h, K: Removed<'h>>(set: &mut RingSet<'h>, key: RingKey<K>) -> K::Parts {
///     set.remove(key).expect("epoll_ctl").expect("the set holds the ring")
/// }
///
/// let ring = MemoryRing::new(4096)?;
/// let mut set = RingSet::new()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let key = set.add(reader, |_: &[u8]| ())?;
/// // A key from `add`: the parts are the reader and the handler.
/// let (reader, _handler) = take_back(&mut set, key);
/// // An untyped key: the parts are `()` (the reader and handler are dropped).
/// let key = set.add(reader, |_: &[u8]| ())?.erase();
/// let () = take_back(&mut set, key);
/// assert!(set.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Removed<'h>: sealed::Sealed + Sized {
    /// The ring's parts.
    type Parts;

    /// Turns the ring's boxed source back into its parts.
    ///
    /// # Safety
    ///
    /// `source` was boxed by a set's `add` that returned a key of type
    /// `RingKey<Self>`.
    #[doc(hidden)]
    unsafe fn parts<S: ?Sized + Source + 'h>(source: Box<S>) -> Self::Parts;
}

impl<'h> Removed<'h> for Untyped {
    type Parts = ();

    unsafe fn parts<S: ?Sized + Source + 'h>(source: Box<S>) {
        drop(source);
    }
}

impl<'h, T, F, O> Removed<'h> for Handles<T, F>
where
    T: ?Sized + View + 'h,
    F: FnMut(&T) -> O + 'h,
    O: HandlerOutput + 'h,
{
    type Parts = (UnsafeReader<T>, F);

    unsafe fn parts<S: ?Sized + Source + 'h>(source: Box<S>) -> (UnsafeReader<T>, F) {
        let typed = Box::into_raw(source).cast::<Typed<T, F, O>>();
        // SAFETY: `Box::from_raw` needs a pointer from `Box::into_raw` of a
        // box of the same type. The caller promises that `add` boxed this
        // source for a `RingKey<Handles<T, F>>`, and `add` boxes a
        // `Typed<T, F, O>` for exactly that key type (`O` is `F`'s output,
        // fixed by `F` and `T`); the cast only drops the trait object's
        // vtable, so `typed` is the pointer `Box::new` allocated.
        let typed = unsafe { Box::from_raw(typed) };
        let Typed {
            reader, handler, ..
        } = *typed;
        (reader, handler)
    }
}

struct Slot<S: ?Sized> {
    key: RingKey,
    source: Box<S>,
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
/// most `2 × (rings - 1) × records_per_round` handler calls, however fast
/// its producer is: the rest of the round under way, then at most a whole
/// round before the quiet ring's turn (the ring that ends one round can
/// start the next, so one ring can take two turns back to back). A `poll` runs one round (unlike libbpf's
/// `ring_buffer__poll`, which empties every ready ring); `poll_drain` runs
/// rounds until every ring that was ready is empty (libbpf's meaning, still
/// fair); `consume` runs rounds until no ring has records left.
///
/// # Handlers
///
/// A set made by [`new`](Self::new) takes `Send` handlers and is `Send`;
/// one made by [`new_local`](RingSet::new_local) takes any handler,
/// including closures that borrow the caller's state for the set's
/// lifetime `'h`. [`remove`](Self::remove) and
/// [`into_rings`](Self::into_rings) hand each reader and handler back.
///
/// # Release and wakeups
///
/// The at-least-once rules of [`UnsafeReader::read_func`] hold per ring: a
/// record is released when its handler returns `Ok` (or `()`). A handler
/// error stops the call at that record and reports its ring
/// ([`RingSetError::Handler`]): the records before it are released, it and
/// everything after it are not, so the next poll hands it to the handler
/// again (and [`skip`](Self::skip) drops it). A panic in a handler likewise
/// leaves its record in the ring. Released records are published as each
/// reader's [`PublishPolicy`](crate::PublishPolicy) says, as by its
/// `read_func`. The set sleeps on its epoll only once
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
pub struct RingSet<'h, H: Handlers<'h> = SendHandlers> {
    epoll: OwnedFd,
    slots: Vec<Slot<H::Source>>,
    records_per_round: usize,
    /// Where the next round starts, so a budget that runs out mid-round
    /// does not always fall on the same rings.
    start: usize,
}

impl<'h, H: Handlers<'h>> fmt::Debug for RingSet<'h, H> {
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

impl<'h> RingSet<'h, SendHandlers> {
    /// An empty set whose handlers are `Send`, so that the set can move to
    /// another thread or into a tokio task (share state with `Arc` and
    /// atomics or a `Mutex`, or send it over a channel);
    /// [`new_local`](RingSet::new_local) makes a set for any handlers.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when `epoll_create1` fails.
    pub fn new() -> Result<Self, RingSetError> {
        Self::with_epoll()
    }

    /// Adds a ring, read by `reader`, whose records go to `handler` as views
    /// `&T`. For an untyped reader (`T = [u8]`) the handler gets the raw
    /// payload, and can split a header from its tail with
    /// [`View::view`] or pick a variant with
    /// [`TaggedEvent::from_record`](crate::TaggedEvent::from_record).
    /// The ring is looked at in the next round even without an epoll event,
    /// so records already in it are read. Returns the ring's key, by which
    /// [`remove`](Self::remove) hands the reader and the handler back.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when the ring cannot be added to the epoll.
    pub fn add<T, F, O>(
        &mut self,
        reader: UnsafeReader<T>,
        handler: F,
    ) -> Result<RingKey<Handles<T, F>>, RingSetError>
    where
        T: ?Sized + View + 'h,
        F: FnMut(&T) -> O + Send + 'h,
        O: HandlerOutput + 'h,
    {
        self.insert(Box::new(Typed {
            reader,
            handler,
            _output: PhantomData,
        }))
    }
}

impl<'h> RingSet<'h, LocalHandlers> {
    /// An empty set for handlers that need not be `Send`: they may hold an
    /// `Rc`, or borrow the caller's state (`&mut` a local, for as long as
    /// the set lives). The set stays on the thread that made it.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when `epoll_create1` fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use ringview::{RingBuf, RingSet, UnsafeReader};
    ///
    /// let mut bytes = 0;
    /// let mut set = RingSet::new_local()?;
    /// // SAFETY: this process is the ring's only consumer.
    /// let reader = unsafe { UnsafeReader::<[u8]>::new(RingBuf::from_pinned("/sys/fs/bpf/events")?)? };
    /// set.add(reader, |record: &[u8]| bytes += record.len())?;
    /// set.poll(None)?;
    /// drop(set);
    /// println!("{bytes} bytes");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new_local() -> Result<Self, RingSetError> {
        Self::with_epoll()
    }

    /// Adds a ring, as [`RingSet::add`] does, for a handler that need not be
    /// `Send`.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when the ring cannot be added to the epoll.
    pub fn add<T, F, O>(
        &mut self,
        reader: UnsafeReader<T>,
        handler: F,
    ) -> Result<RingKey<Handles<T, F>>, RingSetError>
    where
        T: ?Sized + View + 'h,
        F: FnMut(&T) -> O + 'h,
        O: HandlerOutput + 'h,
    {
        self.insert(Box::new(Typed {
            reader,
            handler,
            _output: PhantomData,
        }))
    }
}

impl<'h, H: Handlers<'h>> RingSet<'h, H> {
    fn with_epoll() -> Result<Self, RingSetError> {
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
            records_per_round: DEFAULT_RECORDS_PER_ROUND,
            start: 0,
        })
    }

    /// Adds a boxed source under a fresh key of the type `add` returns.
    fn insert<K>(&mut self, source: Box<H::Source>) -> Result<RingKey<K>, RingSetError> {
        let key = RingKey::<K>::fresh();
        self.ctl(libc::EPOLL_CTL_ADD, source.fd(), key.erase())?;
        self.slots.push(Slot {
            key: key.erase(),
            source,
            pending: true,
        });
        Ok(key)
    }

    /// Removes a ring. With the key `add` returned, hands back its reader
    /// and its handler (`Some((reader, handler))`); with an untyped key
    /// (from an error, or [`RingKey::erase`]), drops them (`Some(())`).
    /// `None` when the set has no such ring. What the handler finished is
    /// published; the rest stays in the ring, for the reader or its next
    /// one.
    ///
    /// # Errors
    ///
    /// [`RingSetError::Syscall`] when the ring cannot be removed from the
    /// epoll (it is dropped from the set all the same).
    pub fn remove<K: Removed<'h>>(
        &mut self,
        key: RingKey<K>,
    ) -> Result<Option<K::Parts>, RingSetError> {
        let Some(index) = self.slots.iter().position(|s| s.key == key) else {
            return Ok(None);
        };
        let slot = self.slots.remove(index);
        self.ctl(libc::EPOLL_CTL_DEL, slot.source.fd(), key.erase())?;
        // SAFETY: `parts` needs `slot.source` to be boxed by `add` for a
        // `RingKey<K>`: slots are made only by `insert`, under the key
        // `add` returned, and keys are unique in the process (the
        // invariants of `RingKey`), so the slot with this key's number
        // was added with a key of exactly this type.
        Ok(Some(unsafe { K::parts(slot.source) }))
    }

    /// Ends the set (closing its epoll) and returns its rings, from which
    /// the keys `add` returned take each reader and handler back; the rings
    /// not taken are dropped with the [`Rings`].
    pub fn into_rings(self) -> Rings<'h, H> {
        Rings { slots: self.slots }
    }

    /// Releases the record at the front of ring `key` without handing it to
    /// the handler: for a record whose handler keeps failing. After a
    /// [`RingSetError::Read`] of the ring (a record too short for its type,
    /// an unknown tag, a corrupt header), releases exactly what that error
    /// was about. Returns whether there was a record.
    ///
    /// # Errors
    ///
    /// [`RingSetError::NoSuchRing`]; [`RingSetError::Read`] as for a read.
    pub fn skip<K>(&mut self, key: RingKey<K>) -> Result<bool, RingSetError> {
        let key = key.erase();
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
    pub fn contains<K>(&self, key: RingKey<K>) -> bool {
        self.slots.iter().any(|s| s.key == key)
    }

    /// The ring `key` reads, by its map id.
    pub fn ring_id<K>(&self, key: RingKey<K>) -> Option<RingId> {
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
    /// records, unless one already may, then runs **one round** over the
    /// rings that may have records: each hands its handler at most
    /// [`records_per_round`](Self::records_per_round) records (256 by
    /// default). Returns how many records the handlers finished (0 after a
    /// timeout or a signal).
    ///
    /// This is not what libbpf's `ring_buffer__poll` does: that empties
    /// each ready ring, one after the other, before it returns, so a
    /// flooded ring holds the others back for as long as its producer
    /// keeps up. A ring left with records here is looked at again by the
    /// next `poll`, which does not wait for it. For libbpf's meaning (every
    /// ready ring emptied) with this fairness, call
    /// [`poll_drain`](Self::poll_drain).
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

    /// Waits as [`poll`](Self::poll) does, then runs rounds until every
    /// ring that had records is empty: libbpf's `ring_buffer__poll`
    /// (every ready ring emptied), still fair between the rings (a round
    /// hands each at most `records_per_round` records). Returns how many
    /// records the handlers finished. Like libbpf's, it returns only once
    /// the producers of the ready rings stop outpacing the handlers.
    ///
    /// # Errors
    ///
    /// As [`poll`](Self::poll).
    pub fn poll_drain(&mut self, timeout: Option<Duration>) -> Result<usize, RingSetError> {
        let timeout = if self.has_pending() {
            Some(Duration::ZERO)
        } else {
            timeout
        };
        self.collect_events(timeout)?;
        let mut total = 0;
        while self.has_pending() {
            total += self.round(usize::MAX)?;
        }
        Ok(total)
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

impl<'h, H: Handlers<'h>> AsFd for RingSet<'h, H> {
    /// The set's epoll descriptor: readable when a ring has an edge, for an
    /// outer poller (edge-triggered: after an event, call
    /// [`consume`](RingSet::consume) or `poll(Some(Duration::ZERO))` until
    /// [`has_pending`](RingSet::has_pending) is `false`).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}

/// The rings of an ended [`RingSet`] ([`RingSet::into_rings`]): each
/// reader and handler, until taken back by its key.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingSet, UnsafeReader};
///
/// let (first, second) = (MemoryRing::new(4096)?, MemoryRing::new(4096)?);
/// let mut set = RingSet::new()?;
/// // SAFETY: each ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(first.ring_buf())? };
/// let key = set.add(reader, |_: &[u8]| ())?;
/// // SAFETY: as above.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(second.ring_buf())? };
/// let other = set.add(reader, |_: &[u8]| ())?;
///
/// let mut rings = set.into_rings();
/// let (reader, _handler) = rings.take(key).expect("not taken yet");
/// assert_eq!(reader.ring().id(), first.ring_buf().id());
/// assert!(rings.take(key).is_none());
/// // `other` is still there; the rings not taken are dropped with `rings`.
/// assert_eq!(rings.keys(), [other.erase()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Rings<'h, H: Handlers<'h> = SendHandlers> {
    slots: Vec<Slot<H::Source>>,
}

impl<'h, H: Handlers<'h>> Rings<'h, H> {
    /// Takes ring `key`'s parts, as [`RingSet::remove`] does: the reader
    /// and the handler for the key `add` returned, `()` for an untyped
    /// key; `None` once taken, or for a ring the set did not hold.
    pub fn take<K: Removed<'h>>(&mut self, key: RingKey<K>) -> Option<K::Parts> {
        let index = self.slots.iter().position(|s| s.key == key)?;
        let slot = self.slots.swap_remove(index);
        // SAFETY: as in `RingSet::remove`: the slot with this key's number
        // was added under a key of exactly this type.
        Some(unsafe { K::parts(slot.source) })
    }

    /// The keys of the rings not yet taken, untyped.
    pub fn keys(&self) -> Vec<RingKey> {
        self.slots.iter().map(|s| s.key).collect()
    }
}

impl<'h, H: Handlers<'h>> fmt::Debug for Rings<'h, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rings")
            .field("rings", &self.keys())
            .finish()
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
        let mut eager = reader::<Word>(&ring);
        eager.set_publish_policy(crate::PublishPolicy::EAGER);
        let key = set
            .add(eager, move |w: &Word| {
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

    /// A ring in a set whose handler logs the words it sees.
    fn logged_words() -> (MemoryRing, RingSet<'static>, RingKey, Arc<Mutex<Vec<u64>>>) {
        let ring = MemoryRing::new(4096).unwrap();
        let mut set = RingSet::new().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let key = set
            .add(reader::<Word>(&ring), move |w: &Word| {
                log.lock().unwrap().push(w.0)
            })
            .unwrap();
        (ring, set, key.erase(), seen)
    }

    /// After a record too short for the handler's type, `skip` releases
    /// that record alone: the next one still reaches the handler.
    #[test]
    fn skip_after_a_short_record_releases_it_alone() {
        let (ring, mut set, key, seen) = logged_words();
        ring.output(&1u64.to_le_bytes(), 0).unwrap();
        ring.output(b"abc", 0).unwrap();
        ring.output(&2u64.to_le_bytes(), 0).unwrap();
        ring.output(&3u64.to_le_bytes(), 0).unwrap();
        let err = set.consume().unwrap_err();
        assert!(
            matches!(
                &err,
                RingSetError::Read {
                    source: ReadError::RecordTooShort { len: 3, .. },
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(set.skip(key).unwrap());
        assert_eq!(ring.consumer_pos(), 32, "1 and the short record released");
        assert_eq!(set.consume().unwrap(), 2);
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);
        // With nothing left, `skip` finds nothing.
        assert!(!set.skip(key).unwrap());
    }

    /// After a corrupt header the reader skips to the producer position;
    /// `skip` releases that span, and the next record is read.
    #[test]
    fn skip_after_a_corrupt_header_releases_the_span_alone() {
        let (ring, mut set, key, seen) = logged_words();
        // SAFETY: the header claims 5000 bytes in a 4096-byte ring; the
        // reader refuses it as corrupt before reading past it, and nothing
        // is reserved after it while the reader reads.
        unsafe { ring.push_raw(5000, 16) }.unwrap();
        let err = set.consume().unwrap_err();
        assert!(
            matches!(
                &err,
                RingSetError::Read {
                    source: ReadError::CorruptHeader { .. },
                    ..
                }
            ),
            "{err:?}"
        );
        ring.output(&9u64.to_le_bytes(), 0).unwrap();
        assert!(set.skip(key).unwrap());
        assert_eq!(ring.consumer_pos(), 16, "the corrupt span alone");
        assert_eq!(set.consume().unwrap(), 1);
        assert_eq!(*seen.lock().unwrap(), [9]);
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
        assert!(set.remove(ka).unwrap().is_some());
        assert!(set.remove(ka).unwrap().is_none());
        a.output(b"3", 0).unwrap();
        assert_eq!(set.consume().unwrap(), 1);
        assert_eq!(*count.lock().unwrap(), 11);
        assert!(set.contains(kb) && set.len() == 1);
        // The removed ring's reader is gone: a new one may read it.
        let mut again = reader::<[u8]>(&a);
        assert_eq!(again.try_read::<[u8]>().unwrap().unwrap(), b"3");
    }

    #[test]
    fn a_local_set_takes_handlers_that_borrow_and_are_not_send() {
        use std::cell::RefCell;
        use std::rc::Rc;

        let a = MemoryRing::new(4096).unwrap();
        let b = MemoryRing::new(4096).unwrap();
        let mut sum = 0u64;
        let log = Rc::new(RefCell::new(Vec::new()));
        {
            let mut set = RingSet::new_local().unwrap();
            set.add(reader::<Word>(&a), |w: &Word| sum += w.0).unwrap();
            let rc = Rc::clone(&log);
            let kb = set
                .add(reader::<Word>(&b), move |w: &Word| {
                    rc.borrow_mut().push(w.0)
                })
                .unwrap();
            for i in 1..=3u64 {
                a.output(&i.to_le_bytes(), 0).unwrap();
                b.output(&(10 * i).to_le_bytes(), 0).unwrap();
            }
            assert_eq!(set.consume().unwrap(), 6);
            // The handler comes back with its reader, still working.
            let (mut reader, mut handler) = set.remove(kb).unwrap().unwrap();
            b.output(&40u64.to_le_bytes(), 0).unwrap();
            handler(reader.read().unwrap());
            assert!(set.remove(kb).unwrap().is_none());
            assert!(!set.contains(kb));
        }
        assert_eq!(sum, 6, "the borrow of `sum` ended with the set");
        assert_eq!(*log.borrow(), [10, 20, 30, 40]);
    }

    #[test]
    fn into_rings_hands_back_each_reader_and_handler_by_its_key() {
        let a = MemoryRing::new(4096).unwrap();
        let b = MemoryRing::new(4096).unwrap();
        let mut set = RingSet::new().unwrap();
        let mut count = 0usize;
        let ka = set
            .add(reader::<Word>(&a), move |_: &Word| {
                count += 1;
                if count > 1 {
                    return Err(format!("record {count}"));
                }
                Ok(())
            })
            .unwrap();
        let kb = set.add(reader::<[u8]>(&b), |_: &[u8]| ()).unwrap();
        a.output(&1u64.to_le_bytes(), 0).unwrap();
        assert_eq!(set.consume().unwrap(), 1);
        let mut rings = set.into_rings();
        assert_eq!(rings.keys().len(), 2);
        let (reader, mut handler) = rings.take(ka).unwrap();
        assert_eq!(reader.ring().id(), a.ring_buf().id());
        // The handler kept its state: it counted one record.
        assert_eq!(handler(&Word(0)), Err("record 2".to_string()));
        assert!(rings.take(ka).is_none());
        // An untyped key drops the ring's parts.
        assert_eq!(rings.take(kb.erase()), Some(()));
        assert!(rings.keys().is_empty());
        // A key of another set names no ring here.
        let mut other = RingSet::new().unwrap();
        assert!(other.remove(kb).unwrap().is_none());
    }

    #[test]
    fn poll_runs_one_round_and_poll_drain_empties_every_ready_ring() {
        let a = MemoryRing::new(1 << 16).unwrap();
        let b = MemoryRing::new(1 << 16).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut set = RingSet::new().unwrap();
        set.set_records_per_round(4);
        for (ring, name) in [(&a, 'a'), (&b, 'b')] {
            let log = Arc::clone(&seen);
            set.add(reader::<Word>(ring), move |w: &Word| {
                log.lock().unwrap().push((name, w.0))
            })
            .unwrap();
            for i in 0..10u64 {
                ring.output(&i.to_le_bytes(), 0).unwrap();
            }
        }
        let timeout = Some(Duration::from_secs(5));
        assert_eq!(set.poll(timeout).unwrap(), 8, "one round: 4 per ring");
        assert!(set.has_pending());
        assert_eq!(set.poll_drain(timeout).unwrap(), 12);
        assert!(!set.has_pending());
        let seen = seen.lock().unwrap();
        for name in ['a', 'b'] {
            let of_ring: Vec<u64> = seen.iter().filter(|r| r.0 == name).map(|r| r.1).collect();
            assert_eq!(of_ring, (0..10).collect::<Vec<_>>());
        }
        // Still fair while draining: rounds of at most 4 per ring, so (with
        // the start rotating, two turns of one ring back to back) no run of
        // more than 8 from one ring while the other had records; libbpf's
        // poll would hand all 10 of the first ring at once.
        let runs: Vec<usize> = seen.chunk_by(|x, y| x.0 == y.0).map(<[_]>::len).collect();
        assert!(runs.iter().all(|&run| run <= 8), "{runs:?}");
        assert!(runs.len() >= 3, "{runs:?}");
    }

    /// Compile-time checks: a set of `Send` handlers is `Send`.
    #[expect(dead_code, reason = "a compile-time check, never called")]
    fn a_send_set_is_send(set: RingSet<'static>) {
        fn send<T: Send>(_: T) {}
        send(set);
    }
}
