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

use std::os::fd::BorrowedFd;
use std::time::Instant;

use crate::error::SyscallError;
use crate::kernel::epoll::{Epoll, Wake};

/// An epoll instance watching one descriptor, edge-triggered.
#[derive(Debug)]
pub(crate) struct EdgeWaiter {
    epoll: Epoll,
}

impl EdgeWaiter {
    /// Watches `fd` for `events` (`EPOLLOUT` for a user ring's map,
    /// `EPOLLIN` for an in-memory ring's eventfd), edge-triggered.
    pub fn new(fd: BorrowedFd<'_>, events: i32) -> Result<Self, SyscallError> {
        let epoll = Epoll::new()?;
        epoll.add(fd, events, 0)?;
        Ok(Self { epoll })
    }

    /// Waits for an edge or until `deadline`; `Ok(false)` when the deadline
    /// passed. A signal ends the wait early with `Ok(true)`, as an edge does:
    /// the caller re-checks either way.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<bool, SyscallError> {
        Ok(self.epoll.wait(deadline)? == Wake::Again)
    }
}
