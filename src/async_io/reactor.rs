//! async-io's reactor for the async readers, with tokio's edges.
//!
//! async-io (smol's reactor) polls level-triggered and one-shot: a
//! descriptor that stays readable is reported at every poll. The
//! descriptors the readers wait on stay readable after the edge that
//! matters: the control eventfd is never drained, an in-memory ring's
//! eventfd neither, and a kernel ring is readable while a producer holds a
//! reservation the reader cannot read yet. Polled level-triggered, each
//! would wake the reader at once, again and again: a spin.
//!
//! So each descriptor sits, edge-triggered, in an epoll of its own, as in
//! the blocking readers' waiter, and async-io watches that epoll, which is
//! readable exactly while an edge is queued in it. An edge is taken (and
//! the epoll is no longer readable) by a zero-timeout `epoll_wait`: the
//! same edges as tokio's `AsyncFd`, for the same wait code.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::task::{ready, Context, Poll};

use ::async_io::Async;

use crate::error::SyscallError;
use crate::kernel::epoll::Epoll;
use crate::reactor::sealed::Sealed;
use crate::reactor::AsyncIo;

/// A descriptor in an edge-triggered epoll of its own, registered with
/// async-io's reactor. (`pub` only for the sealed trait's associated type:
/// this module is private, so no user can name it.)
#[derive(Debug)]
pub struct EdgeSource {
    edges: Async<Epoll>,
    /// The descriptor watched (kept open while the epoll watches it).
    fd: OwnedFd,
}

impl Sealed for AsyncIo {
    type Source = EdgeSource;

    fn register(fd: OwnedFd) -> Result<EdgeSource, SyscallError> {
        let epoll = Epoll::new()?;
        epoll.add(fd.as_fd(), libc::EPOLLIN, 0)?;
        // An epoll descriptor is never read, only waited on with a zero
        // timeout: it need not be non-blocking.
        let edges = Async::new_nonblocking(epoll).map_err(|io_error| SyscallError {
            call: "epoll_ctl(EPOLL_CTL_ADD) (async-io reactor)",
            io_error,
        })?;
        Ok(EdgeSource { edges, fd })
    }

    /// Takes a queued edge, or polls async-io until the epoll is readable
    /// and takes it then. An edge after the take is queued anew and makes
    /// the epoll readable: the next poll reports it. async-io's
    /// `poll_readable` reports an event only from a reactor tick after the
    /// poll that registered the waker, and registers interest afresh
    /// (level-triggered) each time: an epoll readable by then is reported
    /// at once, and one found empty after a spurious report is awaited
    /// again, so the loop runs at most twice per edge.
    fn poll_edge(source: &EdgeSource, cx: &mut Context<'_>) -> Poll<Result<(), SyscallError>> {
        loop {
            if source.edges.get_ref().take_edges()? {
                return Poll::Ready(Ok(()));
            }
            ready!(source.edges.poll_readable(cx)).map_err(|io_error| SyscallError {
                call: "epoll_wait (async-io reactor)",
                io_error,
            })?;
        }
    }

    fn fd(source: &EdgeSource) -> BorrowedFd<'_> {
        source.fd.as_fd()
    }
}
