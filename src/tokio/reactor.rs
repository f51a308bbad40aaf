//! tokio's reactor for the async readers: each descriptor in an `AsyncFd`,
//! which tokio registers edge-triggered.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::error::SyscallError;
use crate::reactor::sealed::Sealed;
use crate::reactor::Tokio;

impl Sealed for Tokio {
    type Source = AsyncFd<OwnedFd>;

    /// # Panics
    ///
    /// Outside a tokio runtime, or in one built without I/O, as tokio's
    /// `AsyncFd` does: the readers' constructors check for a runtime
    /// first.
    fn register(fd: OwnedFd) -> Result<AsyncFd<OwnedFd>, SyscallError> {
        // SAFETY: `register_with_interest` needs the descriptor to stay
        // open, refer to the same open file, and be what `as_raw_fd`
        // returns for as long as the `AsyncFd` owns it: `fd` is owned (a
        // fresh duplicate, or a timer's own), the `AsyncFd` takes it by
        // value so nothing else can close or replace it, and
        // `OwnedFd::as_raw_fd` always returns the descriptor it owns.
        let registered = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) };
        registered.map_err(|err| SyscallError {
            call: "epoll_ctl(EPOLL_CTL_ADD) (tokio AsyncFd)",
            io_error: err.into(),
        })
    }

    /// tokio clears only the readiness it reported (`clear_ready` on the
    /// guard of that poll), so an edge that comes after the poll sets it
    /// anew and the next poll reports it.
    fn poll_edge(
        source: &AsyncFd<OwnedFd>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SyscallError>> {
        let mut guard = ready!(source.poll_read_ready(cx)).map_err(|io_error| SyscallError {
            call: "epoll_wait (tokio reactor)",
            io_error,
        })?;
        guard.clear_ready();
        Poll::Ready(Ok(()))
    }

    fn fd(source: &AsyncFd<OwnedFd>) -> BorrowedFd<'_> {
        source.get_ref().as_fd()
    }
}
