//! [`AsyncReader`] and [`AsyncUnsafeReader`]: the readers on tokio, over
//! `tokio::io::unix::AsyncFd` (the `tokio` feature).
//!
//! They drive the same core as the blocking readers: each read asks the
//! core's non-blocking `try_ready` whether a record is ready (which, when
//! none is, publishes what is released and fences, as before any sleep),
//! awaits readiness of the ring's descriptor when not, then takes the
//! record with the core's `try_*` call. There is no second copy of the
//! ring logic.

use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use zerocopy::FromBytes;

use crate::error::{ReadError, ReaderError, SyscallError};
use crate::event::{View, ViewAs};
use crate::kernel::epoll::Timer;
use crate::read::consumer::{Consumer, Linger, LingerStep};
use crate::read::cursor::Ready;
use crate::read::reader::{Reader, Record};
use crate::read::unsafe_reader::{Batch, FuncFlow, UnsafeReader};
use crate::read::wait::ReaderHandle;

/// Rounds a ring set hands out without suspending before it looks at the
/// clock: once [`COOP_SLICE`] has passed since it last suspended, it
/// yields to the runtime once, so a flooded ring cannot starve the other
/// tasks of its worker thread.
pub(crate) const COOP_BUDGET: u32 = 1024;

/// Bytes an async reader releases between two looks at the clock (the
/// core's checkpoints): a reader that has kept its thread for
/// [`COOP_SLICE`] then yields once. 64 KiB is about 2,700 records of 16
/// bytes (some 30 µs of reading here) or 60 of 1 KiB, so the clock is read
/// rarely enough to cost nothing and often enough for tokio.
const CHECKPOINT_BYTES: usize = 64 << 10;

/// The longest an async reader hands out records (or spins) without giving
/// its thread back to the runtime, give or take one checkpoint (or, for a
/// ring set, one [`COOP_BUDGET`] of rounds): tokio asks a task to reach an
/// await point every 10 µs to 100 µs.
pub(crate) const COOP_SLICE: Duration = Duration::from_micros(50);

/// How long the task has kept its thread, and (for a ring set) the work
/// done since it last gave it back.
#[derive(Debug)]
pub(crate) struct Coop {
    streak: u32,
    /// When the streak began: the first look at the clock after the task
    /// last gave its thread back (or the reader was made).
    since: Instant,
    /// The task gave its thread back since the last look at the clock.
    suspended: bool,
}

impl Default for Coop {
    fn default() -> Self {
        Self {
            streak: 0,
            since: Instant::now(),
            suspended: false,
        }
    }
}

impl Coop {
    /// The task suspended (it awaited readiness): a new streak begins.
    /// Reads no clock: a wakeup costs nothing more, and the next look at
    /// the clock starts the slice.
    pub(crate) fn suspended(&mut self) {
        self.streak = 0;
        self.suspended = true;
    }

    /// Whether the task has kept its thread for [`COOP_SLICE`] since the
    /// streak began (a streak that begins now has not).
    fn slice_over(&mut self) -> bool {
        let now = Instant::now();
        if std::mem::take(&mut self.suspended) {
            self.since = now;
            return false;
        }
        now.duration_since(self.since) >= COOP_SLICE
    }

    /// One more round of a ring set without suspending. Every
    /// [`COOP_BUDGET`] rounds it looks at the clock, and yields to the
    /// runtime if the task has kept its thread for [`COOP_SLICE`]: one
    /// clock read per budget, and a yield (which polls the runtime's
    /// reactor) only as often as tokio asks. Dropping the future while it
    /// yields loses nothing: no record is taken.
    pub(crate) async fn tick(&mut self) {
        self.streak += 1;
        if self.streak < COOP_BUDGET {
            return;
        }
        self.streak = 0;
        if !self.slice_over() {
            return;
        }
        yield_once().await;
        self.suspended();
    }
}

/// What the readiness loop needs from a reader: the core's `try_ready`
/// (publishing before it says no), the same without its first look (for a
/// caller that has just looked), a look that publishes nothing, and the
/// core itself for lingering and checkpoints.
trait TryReady {
    fn try_ready(&mut self) -> Result<bool, ReadError>;
    fn publish_and_look(&mut self) -> Result<bool, ReadError>;
    fn peek_ready(&mut self) -> Result<Option<Ready>, ReadError>;
    fn peek_cached(&mut self) -> Option<Ready>;
    fn consumer(&mut self) -> &mut Consumer;
}

impl TryReady for Reader {
    #[inline(always)]
    fn try_ready(&mut self) -> Result<bool, ReadError> {
        Reader::try_ready(self)
    }

    fn publish_and_look(&mut self) -> Result<bool, ReadError> {
        Ok(self.consumer_mut().publish_and_look()?.is_some())
    }

    #[inline(always)]
    fn peek_ready(&mut self) -> Result<Option<Ready>, ReadError> {
        Reader::peek_ready(self)
    }

    #[inline(always)]
    fn peek_cached(&mut self) -> Option<Ready> {
        Reader::peek_cached(self)
    }

    fn consumer(&mut self) -> &mut Consumer {
        self.consumer_mut()
    }
}

impl<T: ?Sized + View> TryReady for UnsafeReader<T> {
    #[inline(always)]
    fn try_ready(&mut self) -> Result<bool, ReadError> {
        UnsafeReader::try_ready(self)
    }

    fn publish_and_look(&mut self) -> Result<bool, ReadError> {
        UnsafeReader::publish_and_look(self)
    }

    #[inline(always)]
    fn peek_ready(&mut self) -> Result<Option<Ready>, ReadError> {
        UnsafeReader::peek_ready(self)
    }

    #[inline(always)]
    fn peek_cached(&mut self) -> Option<Ready> {
        UnsafeReader::peek_cached(self)
    }

    fn consumer(&mut self) -> &mut Consumer {
        self.consumer_mut()
    }
}

/// Returns `Pending` once, asking to be polled again at once: the task
/// lets the other tasks of its worker thread run.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// The ring's descriptor and the reader's control eventfd, registered with
/// tokio's reactor (edge-triggered, as tokio registers everything).
#[derive(Debug)]
struct Readiness {
    ring: AsyncFd<OwnedFd>,
    /// Written by every `ReaderHandle::flush` and `close`.
    control: AsyncFd<OwnedFd>,
    /// A timerfd for the linger's naps.
    timer: AsyncFd<OwnedFd>,
    /// Added to every nap: the timer slack of the thread that made the
    /// reader (see [`nap`](Self::nap)).
    slack: Duration,
    handle: ReaderHandle,
    coop: Coop,
    /// The wait for a record in progress: kept here, between two polls,
    /// so the readers' futures hold nothing that needs dropping.
    wait: Wait,
}

/// Where a wait for a record is (see [`Readiness::poll_wait`]).
#[derive(Debug)]
enum Wait {
    /// Looks at the ring first.
    Start,
    /// Gave the thread back at a checkpoint, with a record ready.
    Yielded,
    /// Looks at the ring again every nap, as the policy says.
    Linger(Lingering),
    /// Publishes, fences and looks, before it awaits the descriptors.
    Block,
    /// Awaits an edge on the ring or the control eventfd.
    Readable,
}

/// A linger in progress, between two polls.
#[derive(Debug)]
struct Lingering {
    linger: Linger,
    /// When a spinning linger last gave the thread back.
    last_yield: Instant,
    /// Whether the task gave its thread back meanwhile.
    awaited: bool,
    /// Whether a nap on the timerfd is under way.
    napping: bool,
}

impl Readiness {
    /// Registers duplicates of `ring_fd` and the handle's control eventfd
    /// (a duplicate refers to the same open file, so it has the same
    /// readiness; owning it means no lifetime ties the registration to the
    /// reader).
    fn new(ring_fd: BorrowedFd<'_>, handle: ReaderHandle) -> Result<Self, ReaderError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ReaderError::NoRuntime);
        }
        let register = |owned: OwnedFd| -> Result<AsyncFd<OwnedFd>, SyscallError> {
            // SAFETY: `register_with_interest` needs the descriptor to stay
            // open, refer to the same open file, and be what `as_raw_fd`
            // returns for as long as the `AsyncFd` owns it: `owned` is a
            // fresh duplicate that the `AsyncFd` takes by value and that
            // nothing else can close or replace (a duplicate, or the
            // timer's own), and `OwnedFd::as_raw_fd`
            // always returns the descriptor it owns.
            let registered =
                unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) };
            registered.map_err(|err| SyscallError {
                call: "epoll_ctl(EPOLL_CTL_ADD) (tokio AsyncFd)",
                io_error: err.into(),
            })
        };
        let duplicate = |fd: BorrowedFd<'_>| {
            fd.try_clone_to_owned().map_err(|io_error| SyscallError {
                call: "fcntl(F_DUPFD_CLOEXEC)",
                io_error,
            })
        };
        Ok(Self {
            ring: register(duplicate(ring_fd)?)?,
            control: register(duplicate(handle.control_fd())?)?,
            timer: register(Timer::new()?.into_fd())?,
            slack: Timer::thread_slack(),
            handle,
            coop: Coop::default(),
            wait: Wait::Start,
        })
    }

    /// Returns once `reader` has a record ready: [`poll_wait`]
    /// (Self::poll_wait) unless one is ready at once. Dropping the future
    /// takes nothing.
    ///
    /// # Errors
    ///
    /// As [`poll_wait`](Self::poll_wait).
    async fn ready(&mut self, reader: &mut impl TryReady) -> Result<(), ReadError> {
        if reader.peek_cached().is_some() {
            return Ok(());
        }
        self.wait = Wait::Start;
        poll_fn(|cx| self.poll_wait(reader, cx)).await
    }

    /// Waits for `reader` to have a record ready, from where the last poll
    /// left off ([`Wait::Start`] for a new wait). A record found at once is
    /// returned at once, unless the core passed a checkpoint and the task
    /// has kept its thread for [`COOP_SLICE`]: then it yields once first.
    /// With a lingering policy (the default), an empty ring is looked at
    /// again as the blocking readers do, every `latency` for up to `idle`,
    /// yielding to the runtime in between, without publishing: a producer
    /// that keeps committing then never wakes the reader. Before each
    /// await of the descriptor, the core has published everything released
    /// and fenced, then looked (`publish_and_look` before the first await,
    /// `try_ready` after each edge), so a producer that commits afterwards
    /// notifies it (the publish-before-sleep rule). Once it
    /// returns `Ready`, the next wait starts afresh.
    ///
    /// # Errors
    ///
    /// [`ReadError::Closed`] once the reader's handle closed it;
    /// [`ReadError::Flushed`] once per flush with the ring empty; the ring's
    /// faults; [`ReadError::Syscall`] when the reactor fails.
    fn poll_wait(
        &mut self,
        reader: &mut impl TryReady,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ReadError>> {
        let polled = self.step(reader, cx);
        if polled.is_ready() {
            self.wait = Wait::Start;
        }
        polled
    }

    /// [`poll_wait`](Self::poll_wait)'s steps.
    fn step(
        &mut self,
        reader: &mut impl TryReady,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ReadError>> {
        loop {
            match &mut self.wait {
                Wait::Start => {
                    // First, so a checkpoint's records are found again
                    // without a refill.
                    let checkpoint = reader.consumer().take_checkpoint();
                    if reader.peek_ready()?.is_some() {
                        if checkpoint && self.coop.slice_over() {
                            self.wait = Wait::Yielded;
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                        return Poll::Ready(Ok(()));
                    }
                    let consumer = reader.consumer();
                    self.wait = if consumer.lingers() {
                        Wait::Linger(Lingering {
                            linger: consumer.start_linger(),
                            last_yield: Instant::now(),
                            awaited: false,
                            napping: false,
                        })
                    } else {
                        Wait::Block
                    };
                }
                // Nothing else consumes the ring meanwhile: the record is
                // still there.
                Wait::Yielded => {
                    self.coop.suspended();
                    return Poll::Ready(Ok(()));
                }
                Wait::Linger(lingering) => {
                    // A nap ends when the timer expires or at a flush or
                    // close, not when the producer commits: what it
                    // commits meanwhile is read after the nap, in bulk.
                    if lingering.napping {
                        ready!(poll_edge(&self.timer, &self.control, cx))?;
                        lingering.napping = false;
                        lingering.awaited = true;
                        lingering.linger.napped();
                    }
                    match reader.consumer().linger_step(&mut lingering.linger)? {
                        LingerStep::Record => {
                            // A new streak only if the task gave its thread
                            // back: short spins alone must not reset it.
                            if lingering.awaited {
                                self.coop.suspended();
                            }
                            return Poll::Ready(Ok(()));
                        }
                        LingerStep::Stop => self.wait = Wait::Block,
                        // Naps shorter than the timer slack (50 µs) are
                        // spun in place, so a nap costs no more than the
                        // blocking reader's, yielding to the runtime at
                        // least every `COOP_SLICE` (short enough between
                        // two awaits, as tokio asks).
                        LingerStep::Spin => {
                            if lingering.last_yield.elapsed() >= COOP_SLICE {
                                lingering.last_yield = Instant::now();
                                lingering.awaited = true;
                                cx.waker().wake_by_ref();
                                return Poll::Pending;
                            }
                            std::hint::spin_loop();
                        }
                        // Unlike the blocking linger, publish nothing
                        // first: the ring's descriptor is in the runtime's
                        // epoll, so the notification a caught-up position
                        // invites would wake the runtime in the middle of
                        // every nap. What is held back stays below the
                        // policy's fraction, and a nap is aimed at an
                        // eighth of the ring.
                        LingerStep::Sleep(nap) => {
                            // The timer slack, which the kernel adds to the
                            // blocking readers' `ppoll` naps but not to a
                            // timerfd: so a policy's nap lasts as long on
                            // either reader, and an async reader wakes no
                            // more often than a blocking one.
                            let timer = self.timer.get_ref().as_fd();
                            Timer::arm(timer, nap.saturating_add(self.slack))
                                .map_err(ReadError::Syscall)?;
                            lingering.napping = true;
                        }
                    }
                }
                // The ring was just looked at and found empty.
                Wait::Block => {
                    if reader.publish_and_look()? {
                        return Poll::Ready(Ok(()));
                    }
                    self.wait = Wait::Readable;
                }
                Wait::Readable => {
                    if self.handle.is_closed() {
                        return Poll::Ready(Err(ReadError::Closed));
                    }
                    if self.handle.take_flush() {
                        return Poll::Ready(Err(ReadError::Flushed));
                    }
                    ready!(poll_edge(&self.ring, &self.control, cx))?;
                    self.coop.suspended();
                    if reader.try_ready()? {
                        return Poll::Ready(Ok(()));
                    }
                }
            }
        }
    }
}

/// Polls for an edge on `fd` or, when it has none, on the control eventfd
/// (a flush or close), and clears the edge it found. tokio clears only the
/// readiness it reported, so an edge that comes after the clear sets it
/// anew. An edge left on the control eventfd makes the next poll return at
/// once, and the callers look at the flags it stands for before each
/// poll, so leaving it (or clearing it) loses nothing.
///
/// For a nap, `fd` is the timerfd, whose expiry is not read: the next
/// `arm` clears it, and an edge left over from a nap cut short (by a
/// flush, or a dropped read) ends the next one early, which costs one more
/// look at the ring. For the wait on the ring, `fd` is the ring's
/// descriptor, and the caller looks at the ring after every edge.
fn poll_edge(
    fd: &AsyncFd<OwnedFd>,
    control: &AsyncFd<OwnedFd>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), ReadError>> {
    let ready = match fd.poll_read_ready(cx) {
        Poll::Ready(ready) => ready,
        Poll::Pending => ready!(control.poll_read_ready(cx)),
    };
    let mut guard = ready.map_err(|io_error| {
        ReadError::Syscall(SyscallError {
            call: "epoll_wait (tokio reactor)",
            io_error,
        })
    })?;
    guard.clear_ready();
    Poll::Ready(Ok(()))
}

/// The copying [`Reader`] on tokio: `read().await` instead of a blocking
/// read.
///
/// # Cancellation
///
/// Every future of this type is cancel-safe in tokio's sense: dropped
/// before it completes (a `tokio::select!` whose other branch won, a
/// timeout), it has taken nothing from the ring, so the next read (of this
/// reader or of the ring's next reader) returns the same record. A record
/// is copied out and released only in the poll that completes the future.
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncReader, Reader, RingBuf};
///
/// let ring = RingBuf::from_pinned("/sys/fs/bpf/events")?;
/// let mut reader = AsyncReader::new(Reader::new(ring)?)?;
/// loop {
///     let record = reader.read().await?;
///     println!("{} bytes", record.sample.len());
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncReader {
    readiness: Readiness,
    reader: Reader,
    /// The reader's `Stream` ended (see `stream.rs`).
    #[cfg_attr(not(feature = "stream"), allow(dead_code))]
    pub(crate) stream_ended: bool,
}

impl AsyncReader {
    /// Registers `reader`'s ring with the current tokio runtime's reactor.
    ///
    /// # Errors
    ///
    /// [`ReaderError::NoRuntime`] outside a tokio runtime;
    /// [`ReaderError::Syscall`] when the descriptors cannot be duplicated or
    /// registered.
    ///
    /// # Panics
    ///
    /// In a tokio runtime built without I/O (`enable_io`), as tokio's
    /// `AsyncFd` does: tokio offers no way to ask.
    pub fn new(mut reader: Reader) -> Result<Self, ReaderError> {
        let readiness = Readiness::new(reader.as_fd(), reader.handle())?;
        reader.consumer_mut().set_checkpoint_every(CHECKPOINT_BYTES);
        Ok(Self {
            readiness,
            reader,
            stream_ended: false,
        })
    }

    /// Reads the next record into a new [`Record`], waiting until one is
    /// submitted. Cancel-safe (see the type's docs).
    ///
    /// # Errors
    ///
    /// As [`Reader::read_into`], without the deadline (use
    /// `tokio::time::timeout`).
    pub async fn read(&mut self) -> Result<Record, ReadError> {
        let mut record = Record::default();
        self.read_into(&mut record).await?;
        Ok(record)
    }

    /// Reads the next record into `record`, reusing its buffer. Cancel-safe:
    /// `record` is unchanged unless the future completes with `Ok`.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn read_into<'r>(
        &'r mut self,
        record: &'r mut Record,
    ) -> impl Future<Output = Result<(), ReadError>> + Send + 'r {
        // As `AsyncUnsafeReader::read`: a poll that inlines into the
        // caller's loop while records are ready.
        ReadInto {
            next: NextRecord::new(self),
            record,
        }
    }

    /// Reads the next record as an owned `T`; see [`Reader::read_as`].
    /// Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`Reader::read_as`], without the deadline.
    pub async fn read_as<T: FromBytes>(&mut self) -> Result<T, ReadError> {
        self.readiness.ready(&mut self.reader).await?;
        // A ready record stays ready: the copying reader is this ring's only
        // consumer in this process.
        let mut record = Record::default();
        if !self.reader.try_read_into(&mut record)? {
            return Err(ReadError::ReadyRecordGone);
        }
        T::read_from_prefix(&record.sample)
            .map(|(value, _)| value)
            .map_err(|_| ReadError::RecordTooShort {
                len: record.sample.len(),
                expected: size_of::<T>(),
                type_name: std::any::type_name::<T>(),
            })
    }

    /// Waits until a record is ready, without taking it. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn readable(&mut self) -> Result<(), ReadError> {
        self.readiness.ready(&mut self.reader).await
    }

    /// Polls for the next record, copied into `record`: the poll form of
    /// [`read_into`](Self::read_into), for hand-written futures and
    /// streams. `Pending` registers `cx`'s waker; the next poll goes on
    /// with the wait where this one left it. `record` is unchanged unless
    /// it returns `Ready` (as for [`Reader::read_into`], after
    /// `ConsumerMoved` its sample is empty).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    #[inline]
    pub fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        record: &mut Record,
    ) -> Poll<Result<(), ReadError>> {
        let ready = ready!(poll_next_ready(self, cx))?;
        Poll::Ready(self.reader.read_ready_into(ready, record))
    }

    /// Polls for the next record as a new [`Record`]: the poll form of
    /// [`read`](Self::read).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<Record, ReadError>> {
        let mut record = Record::default();
        ready!(self.poll_read_into(cx, &mut record))?;
        Poll::Ready(Ok(record))
    }

    /// Polls until a record is ready, without taking it: the poll form of
    /// [`readable`](Self::readable).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ReadError>> {
        ready!(poll_next_ready(self, cx))?;
        Poll::Ready(Ok(()))
    }

    /// Takes the next record if one is ready, without waiting: `Ok(None)`
    /// when none is (everything released is then published, as before a
    /// wait). After a `read` or `readable`, call it until `None` to take
    /// what is ready without an await per record.
    ///
    /// # Errors
    ///
    /// As [`Reader::try_read`].
    pub fn try_read(&mut self) -> Result<Option<Record>, ReadError> {
        self.readiness.wait = Wait::Start;
        self.reader.try_read()
    }

    /// [`try_read`](Self::try_read) into `record`, reusing its buffer;
    /// returns whether a record was read.
    ///
    /// # Errors
    ///
    /// As [`Reader::try_read_into`].
    pub fn try_read_into(&mut self, record: &mut Record) -> Result<bool, ReadError> {
        self.readiness.wait = Wait::Start;
        self.reader.try_read_into(record)
    }

    /// The blocking reader inside, for its other methods (`try_read`,
    /// `set_publish_policy`, `handle`, `positions`).
    pub fn get_ref(&self) -> &Reader {
        &self.reader
    }

    /// The blocking reader inside, mutably.
    pub fn get_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }

    /// Deregisters from the reactor and returns the blocking reader.
    pub fn into_inner(mut self) -> Reader {
        self.reader.consumer_mut().set_checkpoint_every(0);
        self.reader
    }
}

/// The zero-copy [`UnsafeReader`] on tokio: `read().await` hands out a view
/// `&U` borrowed exactly like the blocking one's, released by the next read
/// or by [`commit`](Self::commit).
///
/// # Cancellation
///
/// A future of this type, dropped before it completes, has taken nothing
/// from the ring: every await happens before a record is taken, and a
/// record is taken only in the poll that completes the future. So
/// `tokio::select!` may drop any of them, and the record it would have
/// returned is the next one read, by this reader or by the ring's next
/// reader. What starting a read does release is the previous view, as the
/// blocking [`UnsafeReader::read`] does: calling `read` says you are done
/// with it.
///
/// A `read_func` callback is synchronous (it runs inside one poll, between
/// awaits), so the at-least-once rules of [`UnsafeReader::read_func`] hold
/// unchanged: each record is released when its callback returns, `Break`
/// and panics leave theirs in the ring. A batch is used after the future
/// completes, under the rules of [`Batch`].
///
/// # Publish policies
///
/// [`set_publish_policy`](UnsafeReader::set_publish_policy) on the inner
/// reader works as for the blocking reader, through the same core: the
/// eager policy publishes every record, the lazy one every `fraction` of
/// the ring, and both publish everything before the reader awaits the
/// ring's descriptor. The lazy policy lingers as the blocking reader does,
/// through the same steps: on an empty ring it looks again every `latency`
/// for up to `idle`. Naps shorter than 50 µs are spun in place (yielding to
/// the runtime at least every 50 µs); longer ones await a timerfd, with
/// the runtime free for other tasks, and are cut short by a flush or
/// close. The timerfd is armed for the nap plus the thread's timer slack,
/// which the kernel adds to the blocking reader's `ppoll` naps but not to
/// a timerfd, so the same policy wakes either reader equally often.
/// Unlike the blocking reader, it publishes nothing before such a nap: the
/// ring's descriptor is in the runtime's epoll, and a caught-up position
/// would have the producer's next commit wake the runtime in the middle of
/// the nap. The same holds for [`AsyncReader`].
///
/// Variable-length and tagged records: read `[u8]` from an untyped reader
/// and split it with the event's [`View::view`] or
/// [`TaggedEvent::from_record`](crate::TaggedEvent::from_record).
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncUnsafeReader, RingBuf, RingEvent, UnsafeReader};
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct ExecEvent {
///     pid: u32,
///     ppid: u32,
///     comm: [u8; 16],
/// }
///
/// let ring = RingBuf::from_pinned("/sys/fs/bpf/exec_events")?;
/// // SAFETY: this process is the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<ExecEvent>::new(ring)? };
/// let mut reader = AsyncUnsafeReader::new(reader)?;
/// loop {
///     let event = reader.read().await?;
///     println!("{} {}", event.pid, String::from_utf8_lossy(&event.comm));
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncUnsafeReader<T: ?Sized + View = [u8]> {
    readiness: Readiness,
    reader: UnsafeReader<T>,
}

impl<T: ?Sized + View> AsyncUnsafeReader<T> {
    /// Registers `reader`'s ring with the current tokio runtime's reactor.
    /// Safe: `reader`'s constructor already took the promise about other
    /// consumers.
    ///
    /// # Errors
    ///
    /// [`ReaderError::NoRuntime`] outside a tokio runtime;
    /// [`ReaderError::Syscall`] when the descriptors cannot be duplicated or
    /// registered.
    ///
    /// # Panics
    ///
    /// In a tokio runtime built without I/O (`enable_io`), as tokio's
    /// `AsyncFd` does: tokio offers no way to ask.
    pub fn new(mut reader: UnsafeReader<T>) -> Result<Self, ReaderError> {
        let readiness = Readiness::new(reader.as_fd(), reader.handle())?;
        reader.consumer_mut().set_checkpoint_every(CHECKPOINT_BYTES);
        Ok(Self { readiness, reader })
    }

    /// Views the next record, waiting until one is submitted; the previous
    /// view is released. Cancel-safe (see the type's docs).
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::read`], without the deadline (use
    /// `tokio::time::timeout`), plus [`ReadError::ReadyRecordGone`].
    pub fn read<'r, U: ?Sized + View + 'r>(&'r mut self) -> ReadFuture<'r, T, U>
    where
        T: ViewAs<U>,
    {
        ReadFuture {
            next: NextRecord::new(self),
            _view: PhantomData,
        }
    }

    /// Waits for at least one record, then calls `f` with a view of each
    /// available record, as [`UnsafeReader::read_func`] does (the same
    /// release rules). Returns how many records `f` finished. Cancel-safe.
    ///
    /// It publishes what `f` released as the policy says, as the blocking
    /// `read_func` and [`read`](Self::read) do: the eager policy when the
    /// call ends, the lazy one once a fraction of the ring is released, and
    /// both before the reader awaits the ring's descriptor. (Publishing at
    /// every call would have the producer's next commit notify the ring's
    /// descriptor, which wakes the runtime in the middle of a nap.)
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn read_func<F, R>(&mut self, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.read_func_n(usize::MAX, f).await
    }

    /// [`read_func`](Self::read_func) for at most `max` records.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn read_func_n<F, R>(&mut self, max: usize, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        if max == 0 {
            return Ok(0);
        }
        self.readiness.ready(&mut self.reader).await?;
        self.reader.try_read_func_n(max, f)
    }

    /// Waits for at least one record, then hands out a [`Batch`] of every
    /// available record, as [`UnsafeReader::batch`] does. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn batch(&mut self) -> Result<Batch<'_, T>, ReadError> {
        self.batch_n(usize::MAX).await
    }

    /// [`batch`](Self::batch), handing out at most `max` views.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn batch_n(&mut self, max: usize) -> Result<Batch<'_, T>, ReadError> {
        self.readiness.ready(&mut self.reader).await?;
        self.reader
            .try_batch_n(max)?
            .ok_or(ReadError::ReadyRecordGone)
    }

    /// Waits until a record is ready, without taking it; the previous view
    /// is released. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub async fn readable(&mut self) -> Result<(), ReadError> {
        self.readiness.ready(&mut self.reader).await
    }

    /// Polls for a view of the next record, releasing the previous one:
    /// the poll form of [`read`](Self::read), for hand-written futures.
    /// `Pending` registers `cx`'s waker; the next poll goes on with the
    /// wait where this one left it.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    #[inline]
    pub fn poll_read<U: ?Sized + View>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<&U, ReadError>>
    where
        T: ViewAs<U>,
    {
        let ready = ready!(poll_next_ready(self, cx))?;
        Poll::Ready(self.reader.view_ready(ready))
    }

    /// Polls until a record is ready, without taking it (the previous view
    /// is released): the poll form of [`readable`](Self::readable).
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read).
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ReadError>> {
        ready!(poll_next_ready(self, cx))?;
        Poll::Ready(Ok(()))
    }

    /// Views the next record if one is ready, without waiting; see
    /// [`UnsafeReader::try_read`]. After a `read` or `readable`, call it
    /// until `None` to take what is ready without an await per record.
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::try_read`].
    pub fn try_read<U: ?Sized + View>(&mut self) -> Result<Option<&U>, ReadError>
    where
        T: ViewAs<U>,
    {
        self.readiness.wait = Wait::Start;
        self.reader.try_read()
    }

    /// Calls `f` with each ready record, without waiting; see
    /// [`UnsafeReader::try_read_func`].
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::try_read`].
    pub fn try_read_func<F, R>(&mut self, f: F) -> Result<usize, ReadError>
    where
        F: FnMut(&T, usize) -> R,
        R: FuncFlow,
    {
        self.readiness.wait = Wait::Start;
        self.reader.try_read_func(f)
    }

    /// A batch of every ready record, without waiting; see
    /// [`UnsafeReader::try_batch`].
    ///
    /// # Errors
    ///
    /// As [`UnsafeReader::try_read`].
    pub fn try_batch(&mut self) -> Result<Option<Batch<'_, T>>, ReadError> {
        self.readiness.wait = Wait::Start;
        self.reader.try_batch()
    }

    /// Releases every record handed out so far; see
    /// [`UnsafeReader::commit`].
    pub fn commit(&mut self) {
        self.reader.commit();
    }

    /// The blocking reader inside, for its other methods (`try_read`,
    /// `set_publish_policy`, `handle`, `positions`, `rejected`).
    pub fn get_ref(&self) -> &UnsafeReader<T> {
        &self.reader
    }

    /// The blocking reader inside, mutably.
    pub fn get_mut(&mut self) -> &mut UnsafeReader<T> {
        &mut self.reader
    }

    /// Deregisters from the reactor and returns the blocking reader.
    pub fn into_inner(mut self) -> UnsafeReader<T> {
        self.reader.consumer_mut().set_checkpoint_every(0);
        self.reader
    }
}

/// The future of [`AsyncUnsafeReader::read`]: a view of the next record.
///
/// A named future rather than an `async fn`'s, so that its fast path (a
/// record is ready) is a small poll the compiler inlines into the caller's
/// loop, at about the cost of the blocking `read`; the wait for a record
/// (lingering, awaiting readiness) is kept in the reader between polls, so
/// the future allocates nothing and has nothing to drop. Dropping it takes
/// nothing (see [`AsyncUnsafeReader`] on cancellation).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{AsyncUnsafeReader, ReadFuture, UnsafeReader};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let ring = MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let mut reader = AsyncUnsafeReader::new(reader)?;
/// ring.output(b"hello", 0)?;
/// let read: ReadFuture<'_, [u8], [u8]> = reader.read();
/// assert_eq!(read.await?, b"hello");
/// # Ok(())
/// # }
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct ReadFuture<'r, T: ?Sized + View, U: ?Sized> {
    next: NextRecord<'r, AsyncUnsafeReader<T>>,
    _view: PhantomData<fn() -> &'r U>,
}

impl<T: ?Sized + View, U: ?Sized> std::fmt::Debug for ReadFuture<'_, T, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadFuture")
            .field("state", &self.next.state_name())
            .finish()
    }
}

impl<'r, T, U> Future for ReadFuture<'r, T, U>
where
    T: ?Sized + View + ViewAs<U>,
    U: ?Sized + View + 'r,
{
    type Output = Result<&'r U, ReadError>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.next
            .poll_with(cx, |reader, ready| reader.reader.view_ready(ready))
    }
}

/// The future of [`AsyncReader::read_into`]: the next record copied into
/// `record`, as [`ReadFuture`] views one.
struct ReadInto<'r> {
    next: NextRecord<'r, AsyncReader>,
    record: &'r mut Record,
}

impl Future for ReadInto<'_> {
    type Output = Result<(), ReadError>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let record = &mut *this.record;
        this.next.poll_with(cx, |reader, ready| {
            reader.reader.read_ready_into(ready, record)
        })
    }
}

/// An async reader, split into what its futures need.
trait AsyncParts: Send {
    type Reader: TryReady + Send;
    fn parts(&mut self) -> (&mut Readiness, &mut Self::Reader);
}

impl AsyncParts for AsyncReader {
    type Reader = Reader;

    #[inline(always)]
    fn parts(&mut self) -> (&mut Readiness, &mut Reader) {
        (&mut self.readiness, &mut self.reader)
    }
}

impl<T: ?Sized + View> AsyncParts for AsyncUnsafeReader<T> {
    type Reader = UnsafeReader<T>;

    #[inline(always)]
    fn parts(&mut self) -> (&mut Readiness, &mut UnsafeReader<T>) {
        (&mut self.readiness, &mut self.reader)
    }
}

/// The next record of an async reader, found but not taken: the core of
/// the readers' futures. Its poll is small enough to inline into the
/// caller's loop. It owns nothing that needs dropping (the wait for a
/// record, when there is one, is kept in the reader's [`Readiness`]), so
/// once it completed the caller drops it without a look.
struct NextRecord<'r, A> {
    /// `None` once the future completed.
    reader: Option<&'r mut A>,
    /// Whether a wait started: the first poll tries the fast path, later
    /// ones go on with the wait.
    waiting: bool,
}

impl<'r, A: AsyncParts> NextRecord<'r, A> {
    fn new(reader: &'r mut A) -> Self {
        Self {
            reader: Some(reader),
            waiting: false,
        }
    }

    fn state_name(&self) -> &'static str {
        match (&self.reader, self.waiting) {
            (None, _) => "done",
            (Some(_), false) => "start",
            (Some(_), true) => "waiting",
        }
    }

    /// Once a record is ready, `finish` with the reader and the record
    /// found. `finish` appears twice, on the fast path and after the wait,
    /// so that the fast path returns its output directly rather than
    /// through the wait's.
    #[inline(always)]
    fn poll_with<O>(
        &mut self,
        cx: &mut Context<'_>,
        finish: impl FnOnce(&'r mut A, Ready) -> Result<O, ReadError>,
    ) -> Poll<Result<O, ReadError>> {
        let Some(reader) = self.reader.take() else {
            polled_after_completion()
        };
        if !self.waiting {
            if let Some(ready) = reader.parts().1.peek_cached() {
                return Poll::Ready(finish(reader, ready));
            }
        }
        match Self::wait(reader, cx, !self.waiting) {
            Poll::Ready(Ok(ready)) => Poll::Ready(finish(reader, ready)),
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                self.reader = Some(reader);
                self.waiting = true;
                Poll::Pending
            }
        }
    }

    /// Polls the wait for a record (starting it on the first poll); once
    /// it is over, the record it found.
    #[cold]
    #[inline(never)]
    fn wait(reader: &mut A, cx: &mut Context<'_>, start: bool) -> Poll<Result<Ready, ReadError>> {
        let (readiness, inner) = reader.parts();
        if start {
            readiness.wait = Wait::Start;
        }
        ready!(readiness.poll_wait(inner, cx))?;
        // The wait found a record below the cached producer position, and
        // nothing but another consumer can take it away before this.
        Poll::Ready(inner.peek_ready()?.ok_or(ReadError::ReadyRecordGone))
    }
}

/// The poll-style core of the readers' `poll_*` methods: polls for the
/// next record, going on with the wait the last poll left (a new one after
/// a record was found). Its fast path is the futures' (a record below the
/// cached producer position, with no wait under way).
#[inline(always)]
fn poll_next_ready<A: AsyncParts>(
    reader: &mut A,
    cx: &mut Context<'_>,
) -> Poll<Result<Ready, ReadError>> {
    let (readiness, inner) = reader.parts();
    if matches!(readiness.wait, Wait::Start) {
        if let Some(ready) = inner.peek_cached() {
            return Poll::Ready(Ok(ready));
        }
    }
    ready!(readiness.poll_wait(inner, cx))?;
    // The wait found a record below the cached producer position, and
    // nothing but another consumer can take it away before this.
    Poll::Ready(inner.peek_ready()?.ok_or(ReadError::ReadyRecordGone))
}

/// Polling a read future again after it returned its output: a bug in the
/// caller (a future must not be polled after it completed).
#[cold]
#[inline(never)]
fn polled_after_completion() -> ! {
    panic!("a read future polled after it completed")
}

/// Makes sure the futures stay `Send` (so `tokio::spawn` takes them).
#[expect(dead_code, reason = "a compile-time check, never called")]
fn futures_are_send(reader: &mut AsyncUnsafeReader<[u8]>, copying: &mut AsyncReader) {
    fn send<F: Future + Send>(_: F) {}
    send(reader.read::<[u8]>());
    send(reader.read_func(|_, _| ()));
    send(copying.read());
}
