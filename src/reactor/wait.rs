//! The wait for a record, for any reactor: the state machine of an async
//! reader between two polls (look, linger, publish, await an edge), over
//! three descriptors registered with the reactor: the ring's, the
//! handle's control eventfd and a timerfd for the linger's naps.

use std::future::poll_fn;
use std::os::fd::BorrowedFd;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use crate::error::{ReadError, ReaderError};
use crate::event::View;
use crate::kernel::epoll::{dup, Timer};
use crate::reactor::coop::{Coop, COOP_SLICE};
use crate::reactor::sealed::Sealed as Reactor;
use crate::read::consumer::{Consumer, Linger, LingerStep};
use crate::read::cursor::Ready;
use crate::read::reader::Reader;
use crate::read::unsafe_reader::UnsafeReader;
use crate::read::wait::ReaderHandle;

/// What the readiness loop needs from a reader: the core's `try_ready`
/// (publishing before it says no), the same without its first look (for a
/// caller that has just looked), a look that publishes nothing, and the
/// core itself for lingering and checkpoints.
pub(crate) trait TryReady {
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

/// The ring's descriptor, the reader's control eventfd and the nap's
/// timerfd, registered with the reactor `R`, and the wait in progress.
#[derive(Debug)]
pub(crate) struct Readiness<R: Reactor> {
    ring: R::Source,
    /// Written by every `ReaderHandle::flush` and `close`.
    control: R::Source,
    /// A timerfd for the linger's naps.
    timer: R::Source,
    /// Added to every nap: the timer slack of the thread that made the
    /// reader (see the `LingerStep::Sleep` arm of [`step`](Self::step)).
    slack: Duration,
    handle: ReaderHandle,
    coop: Coop,
    /// The wait for a record in progress: kept here, between two polls,
    /// so the readers' futures hold nothing that needs dropping.
    pub(crate) wait: Wait,
}

/// Where a wait for a record is (see [`Readiness::poll_wait`]).
#[derive(Debug)]
pub(crate) enum Wait {
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
pub(crate) struct Lingering {
    linger: Linger,
    /// When a spinning linger last gave the thread back.
    last_yield: Instant,
    /// Whether the task gave its thread back meanwhile.
    awaited: bool,
    /// Whether a nap on the timerfd is under way.
    napping: bool,
}

impl<R: Reactor> Readiness<R> {
    /// Registers duplicates of `ring_fd` and the handle's control eventfd
    /// (a duplicate refers to the same open file, so it has the same
    /// readiness; owning it means no lifetime ties the registration to the
    /// reader), and a new timerfd.
    pub(crate) fn new(ring_fd: BorrowedFd<'_>, handle: ReaderHandle) -> Result<Self, ReaderError> {
        Ok(Self {
            ring: R::register(dup(ring_fd)?)?,
            control: R::register(dup(handle.control_fd())?)?,
            timer: R::register(Timer::new()?.into_fd())?,
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
    pub(crate) async fn ready(&mut self, reader: &mut impl TryReady) -> Result<(), ReadError> {
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
    pub(crate) fn poll_wait(
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
                        ready!(poll_edge::<R>(&self.timer, &self.control, cx))?;
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
                            let timer = R::fd(&self.timer);
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
                    ready!(poll_edge::<R>(&self.ring, &self.control, cx))?;
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
/// (a flush or close), consuming the edge it found (see
/// [`Sealed::poll_edge`](crate::reactor::sealed::Sealed::poll_edge): an
/// edge after that is reported by the next poll). An edge left on the
/// control eventfd makes the next poll return at once, and the callers
/// look at the flags it stands for before each poll, so leaving it (or
/// consuming it) loses nothing.
///
/// For a nap, `fd` is the timerfd, whose expiry is not read: the next
/// `arm` clears it, and an edge left over from a nap cut short (by a
/// flush, or a dropped read) ends the next one early, which costs one more
/// look at the ring. For the wait on the ring, `fd` is the ring's
/// descriptor, and the caller looks at the ring after every edge.
fn poll_edge<R: Reactor>(
    fd: &R::Source,
    control: &R::Source,
    cx: &mut Context<'_>,
) -> Poll<Result<(), ReadError>> {
    let edge = match R::poll_edge(fd, cx) {
        Poll::Ready(edge) => edge,
        Poll::Pending => ready!(R::poll_edge(control, cx)),
    };
    Poll::Ready(edge.map_err(ReadError::Syscall))
}
