//! Waiting for room in a user ring: edge-triggered epoll on the map's
//! descriptor, with a deadline.
//!
//! The kernel wakes the map's wait queue after `bpf_user_ringbuf_drain`
//! consumed samples, and `ringbuf_map_poll_user` reports `EPOLLOUT` while
//! the ring is not completely full (Linux v6.18, `kernel/bpf/ringbuf.c`).
//! Level-triggered, that would report ready while the ring has a few free
//! bytes but not enough for the record, and the writer would spin; so the
//! descriptor is registered edge-triggered and the writer re-checks the
//! space after every edge.
//!
//! No wakeup is lost: the registration lives as long as the writer, and an
//! edge-triggered registration queues every wakeup of the wait queue that
//! happens after it until an `epoll_wait` collects it. A drain's
//! `smp_store_release(&rb->consumer_pos)` precedes its wakeup, and the
//! wakeup reaches `epoll_wait` through the wait queue's and epoll's locks,
//! so when `epoll_wait` returns, the writer's next Acquire load of
//! `consumer_pos` sees that drain. A drain that happened before the
//! registration is seen by the check the writer makes after registering.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Instant;

use crate::error::SyscallError;

/// An epoll instance watching one descriptor, edge-triggered.
#[derive(Debug)]
pub(crate) struct EdgeWaiter {
    epoll: OwnedFd,
}

impl EdgeWaiter {
    /// Watches `fd` for `events` (`EPOLLOUT` for a user ring's map,
    /// `EPOLLIN` for an in-memory ring's eventfd), edge-triggered.
    pub fn new(fd: BorrowedFd<'_>, events: i32) -> Result<Self, SyscallError> {
        // SAFETY: `epoll_create1` has no memory preconditions.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if raw < 0 {
            return Err(SyscallError::last("epoll_create1"));
        }
        // SAFETY: `raw` was just returned by `epoll_create1`; nothing else
        // owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut event = libc::epoll_event {
            events: (events | libc::EPOLLET) as u32,
            u64: 0,
        };
        // SAFETY: both descriptors are live; `event` is a valid
        // `epoll_event` the kernel reads during the call.
        let ret = unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        };
        if ret < 0 {
            return Err(SyscallError::last("epoll_ctl(EPOLL_CTL_ADD)"));
        }
        Ok(Self { epoll })
    }

    /// Waits for an edge or until `deadline`; `Ok(false)` when the deadline
    /// passed. A signal ends the wait early with `Ok(true)`, as an edge does:
    /// the caller re-checks either way.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<bool, SyscallError> {
        let timeout_ms = match deadline {
            None => -1,
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(false);
                }
                // Round up, so a wait never ends before the deadline and never
                // spins on a zero timeout.
                let micros = (deadline - now).as_micros();
                i32::try_from(micros.div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        let mut event = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: `epoll` is a live epoll descriptor; `event` is writable for
        // the one entry passed as `maxevents`.
        let n = unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), &mut event, 1, timeout_ms) };
        if n < 0 {
            let err = SyscallError::last("epoll_wait");
            if err.io_error.kind() == std::io::ErrorKind::Interrupted {
                return Ok(true);
            }
            return Err(err);
        }
        Ok(n > 0 || deadline.is_none_or(|d| Instant::now() < d))
    }
}
