//! A reactor for the unit tests, driven by hand: its descriptors have an
//! edge only when the test says so ([`Manual::edge_all`]). The wait code
//! runs as on a real reactor, without one (so Miri runs it too).

use std::cell::RefCell;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::SyscallError;
use crate::reactor::sealed::Sealed;

/// The test reactor.
#[derive(Debug)]
pub enum Manual {}

/// One registered descriptor: an edge not yet reported, and the waker of
/// the last `Pending` poll.
#[derive(Debug)]
pub struct ManualSource {
    fd: OwnedFd,
    edge: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

thread_local! {
    /// Every source registered by this thread's test.
    static SOURCES: RefCell<Vec<Arc<ManualSource>>> = const { RefCell::new(Vec::new()) };
}

impl Manual {
    /// Gives every descriptor registered on this thread an edge, and wakes
    /// the wakers waiting on them; returns how many it woke.
    pub fn edge_all() -> usize {
        SOURCES.with(|sources| {
            let mut woken = 0;
            for source in sources.borrow().iter() {
                source.edge.store(true, Ordering::SeqCst);
                if let Some(waker) = source.waker.lock().unwrap().take() {
                    waker.wake();
                    woken += 1;
                }
            }
            woken
        })
    }
}

impl Sealed for Manual {
    type Source = Arc<ManualSource>;

    fn register(fd: OwnedFd) -> Result<Arc<ManualSource>, SyscallError> {
        let source = Arc::new(ManualSource {
            fd,
            edge: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        SOURCES.with(|sources| sources.borrow_mut().push(Arc::clone(&source)));
        Ok(source)
    }

    fn poll_edge(
        source: &Arc<ManualSource>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SyscallError>> {
        if source.edge.swap(false, Ordering::SeqCst) {
            return Poll::Ready(Ok(()));
        }
        *source.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }

    fn fd(source: &Arc<ManualSource>) -> BorrowedFd<'_> {
        source.fd.as_fd()
    }
}
