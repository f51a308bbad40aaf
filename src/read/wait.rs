//! Blocking a reader: its epoll over the ring's descriptor and a control
//! eventfd, with a deadline, and the handle that flushes or closes a reader from another
//! thread.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::SyscallError;
use crate::kernel::epoll::{self, Epoll, Wake};

/// Shared between a reader and its handles.
#[derive(Debug)]
struct Control {
    /// Written to wake the reader; registered edge-triggered, and read only
    /// by a nap (`ppoll_and_drain`).
    eventfd: OwnedFd,
    flushed: AtomicBool,
    closed: AtomicBool,
}

impl Control {
    fn wake(&self) {
        epoll::eventfd_signal(self.eventfd.as_fd());
    }

    fn is_closed(&self) -> bool {
        // Acquire pairs with the Release store in `ReaderHandle::close`.
        self.closed.load(Ordering::Acquire)
    }

    fn take_flush(&self) -> bool {
        // Acquire pairs with the Release store in `ReaderHandle::flush`.
        self.flushed.swap(false, Ordering::Acquire)
    }
}

/// Wakes or closes a blocked reader from any thread.
///
/// Obtained from [`Reader::handle`](crate::Reader::handle) or
/// [`UnsafeReader::handle`](crate::UnsafeReader::handle). Cloneable, `Send`
/// and `Sync`.
///
/// For a clean stop that loses nothing: detach the producers, `flush()`,
/// read until [`ReadError::Flushed`](crate::ReadError::Flushed), then
/// `close()` (or drop the reader). Both are an atomic store and an eventfd
/// write, so a signal handler may call them.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{ReadError, Reader};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut reader = Reader::new(ring.ring_buf())?;
/// let handle = reader.handle();
/// ring.output(b"last", 0)?;
///
/// // From another thread (or a Ctrl-C handler): finish what is there.
/// std::thread::spawn(move || handle.flush()).join().unwrap();
/// assert_eq!(reader.read()?.sample, b"last"); // records come first
/// assert!(matches!(reader.read(), Err(ReadError::Flushed)));
///
/// reader.handle().close();
/// assert!(matches!(reader.read(), Err(ReadError::Closed)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReaderHandle {
    control: Arc<Control>,
}

impl ReaderHandle {
    /// Wakes the reader: a blocked read returns what is in the ring, then
    /// fails once with [`ReadError::Flushed`](crate::ReadError::Flushed).
    /// A reader not blocked now sees the flush at its next empty ring.
    pub fn flush(&self) {
        // Release pairs with the reader's Acquire swap: whatever the caller
        // did before flushing is visible when the reader reports it.
        self.control.flushed.store(true, Ordering::Release);
        self.control.wake();
    }

    /// Closes the reader: a blocked (or lingering) read returns at once,
    /// and reads fail with [`ReadError::Closed`](crate::ReadError::Closed)
    /// from the reader's next refill of the producer position on: records
    /// it had already seen as available (at most a ring's worth) may still
    /// be returned first. Nothing unread is released, so a new reader of
    /// the map starts where this one stopped: to drain first, `flush`, read
    /// until `Flushed`, then close. Idempotent.
    pub fn close(&self) {
        // Release pairs with the reader's Acquire load in `is_closed`.
        self.control.closed.store(true, Ordering::Release);
        self.control.wake();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.control.is_closed()
    }

    /// The control eventfd, written by every `flush` and `close`: the async
    /// readers watch it next to the ring.
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub(crate) fn control_fd(&self) -> BorrowedFd<'_> {
        self.control.eventfd.as_fd()
    }

    /// Consumes a pending flush (for the async readers, whose wait is not
    /// the core's).
    #[cfg(any(feature = "tokio", feature = "async-io"))]
    pub(crate) fn take_flush(&self) -> bool {
        self.control.take_flush()
    }
}

const RING_TOKEN: u64 = 1;
const CONTROL_TOKEN: u64 = 2;

/// An epoll instance watching a ring's descriptor and a control eventfd.
#[derive(Debug)]
pub(crate) struct Waiter {
    epoll: Epoll,
    control: Arc<Control>,
}

impl Waiter {
    /// Watches `ring_fd` (edge-triggered: the kernel's ringbuf wait queue is
    /// woken by `bpf_ringbuf_notify` when a producer commits a record at the
    /// published consumer position).
    pub fn new(ring_fd: BorrowedFd<'_>) -> Result<Self, SyscallError> {
        let epoll = Epoll::new()?;
        let eventfd = epoll::eventfd()?;
        epoll.add(ring_fd, libc::EPOLLIN, RING_TOKEN)?;
        epoll.add(eventfd.as_fd(), libc::EPOLLIN, CONTROL_TOKEN)?;
        Ok(Self {
            epoll,
            control: Arc::new(Control {
                eventfd,
                flushed: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            }),
        })
    }

    pub fn handle(&self) -> ReaderHandle {
        ReaderHandle {
            control: Arc::clone(&self.control),
        }
    }

    #[inline]
    pub fn is_closed(&self) -> bool {
        self.control.is_closed()
    }

    /// Whether a flush is pending, without consuming it.
    pub fn flush_pending(&self) -> bool {
        // Acquire pairs with the Release store in `ReaderHandle::flush`.
        self.control.flushed.load(Ordering::Acquire)
    }

    /// Sleeps for `duration`, or until a handle flushes or closes the
    /// reader (with nanosecond resolution, unlike `epoll_wait`).
    pub fn nap(&self, duration: Duration) -> Result<(), SyscallError> {
        if cfg!(miri) {
            // Miri has no `ppoll`: a plain sleep, which flushes and closes
            // do not cut short.
            std::thread::sleep(duration);
            return Ok(());
        }
        epoll::ppoll_and_drain(self.control.eventfd.as_fd(), duration)
    }

    /// Consumes a pending flush.
    pub fn take_flush(&self) -> bool {
        self.control.take_flush()
    }

    /// Waits for an edge on the ring or the control eventfd, or until
    /// `deadline`.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<Wake, SyscallError> {
        self.epoll.wait(deadline)
    }
}
