//! The descriptors a wait is made of: epoll (edge-triggered), eventfd,
//! timerfd, and `ppoll` on one descriptor.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::error::SyscallError;

/// A close-on-exec duplicate of `fd` (`fcntl(F_DUPFD_CLOEXEC)`): it
/// refers to the same open file, so it has the same readiness, and owning
/// it ties no lifetime to the caller's descriptor.
pub fn dup(fd: BorrowedFd<'_>) -> Result<OwnedFd, SyscallError> {
    fd.try_clone_to_owned().map_err(|io_error| SyscallError {
        call: "fcntl(F_DUPFD_CLOEXEC)",
        io_error,
    })
}

/// A new non-blocking, close-on-exec eventfd.
pub fn eventfd() -> Result<OwnedFd, SyscallError> {
    // SAFETY: `eventfd` has no memory preconditions.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(SyscallError::last("eventfd"));
    }
    // SAFETY: `fd` was just returned by `eventfd`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds 1 to an eventfd's counter, making it readable (and raising an
/// edge for edge-triggered epoll). A failure (EAGAIN at a saturated
/// counter) still leaves it readable, which is all a wakeup needs.
pub fn eventfd_signal(fd: BorrowedFd<'_>) {
    let one: u64 = 1;
    // SAFETY: `fd` is a live descriptor; the buffer is the 8 bytes of `one`,
    // readable for the duration of the call.
    let _ = unsafe {
        libc::write(
            fd.as_raw_fd(),
            (&one as *const u64).cast(),
            std::mem::size_of::<u64>(),
        )
    };
}

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The ring's descriptor signalled, the control eventfd did, or a
    /// signal interrupted the wait: look at the ring again.
    Again,
    /// The deadline passed.
    Deadline,
}

/// Sleeps until `eventfd` is readable or `duration` passed (with
/// nanosecond resolution, unlike `epoll_wait`), then drains its counter so
/// the next nap sleeps again. A signal ends the nap early.
pub fn ppoll_and_drain(eventfd: BorrowedFd<'_>, duration: Duration) -> Result<(), SyscallError> {
    let control = eventfd.as_raw_fd();
    let mut poll = libc::pollfd {
        fd: control,
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = timespec(duration);
    // SAFETY: `poll` is one valid `pollfd` for a live descriptor,
    // writable for the call; `timeout` is a valid `timespec` read during
    // the call; a null signal mask leaves the mask unchanged.
    let n = unsafe { libc::ppoll(&mut poll, 1, &timeout, std::ptr::null()) };
    if n < 0 {
        let err = SyscallError::last("ppoll");
        if err.io_error.kind() == std::io::ErrorKind::Interrupted {
            return Ok(());
        }
        return Err(err);
    }
    if n > 0 {
        // Drain the counter, so the next nap sleeps again. The epoll
        // registration is edge-triggered: later writes still raise an
        // edge there.
        let mut value = 0u64;
        // SAFETY: reads at most 8 bytes into `value` from a live
        // non-blocking eventfd.
        let _ = unsafe { libc::read(control, (&mut value as *mut u64).cast(), size_of::<u64>()) };
    }
    Ok(())
}

/// `duration` as a `timespec`, a day at most: the callers nap in a loop
/// that looks at the ring after each nap, and `tv_sec` is signed.
fn timespec(duration: Duration) -> libc::timespec {
    let duration = duration.min(Duration::from_secs(86_400));
    libc::timespec {
        tv_sec: duration.as_secs() as libc::time_t,
        // Below 1e9, so it fits `c_long` on every target.
        tv_nsec: duration.subsec_nanos() as libc::c_long,
    }
}

/// Linux's default timer slack: how much later than asked a thread's
/// `ppoll` may end, unless the thread set its own.
pub const DEFAULT_TIMER_SLACK: Duration = Duration::from_micros(50);

/// A one-shot `CLOCK_MONOTONIC` timerfd: the async readers' nap, with the
/// resolution of `ppoll` (tokio's timers tick every millisecond).
#[cfg(any(feature = "tokio", feature = "async-io"))]
#[derive(Debug)]
pub struct Timer {
    fd: OwnedFd,
}

#[cfg(any(feature = "tokio", feature = "async-io"))]
impl Timer {
    pub fn new() -> Result<Self, SyscallError> {
        if cfg!(miri) {
            // Miri has no timerfd: an eventfd stands in, which `arm` leaves
            // alone, so it never fires (the unit tests that run under Miri
            // never nap).
            return Ok(Self { fd: eventfd()? });
        }
        // SAFETY: plain syscall; the flags are valid for `timerfd_create`.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(SyscallError::last("timerfd_create"));
        }
        // SAFETY: `fd` is a descriptor this call just opened and nothing
        // else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    /// The descriptor, readable once the timer fired.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }

    /// Arms `fd` (a timer's descriptor) to fire once, `duration` from now
    /// (at least a nanosecond: a zero value would disarm it). Arming also
    /// clears the expirations not read yet (`timerfd_settime` resets the
    /// count), so the descriptor is not readable until the new expiry, and
    /// an edge-triggered registration sees an edge then.
    pub fn arm(fd: BorrowedFd<'_>, duration: Duration) -> Result<(), SyscallError> {
        if cfg!(miri) {
            // The stand-in of `new`.
            return Ok(());
        }
        let duration = duration.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: timespec(duration),
        };
        // SAFETY: `fd` is a live timerfd; `spec` is a valid `itimerspec`
        // read during the call; a null old value is allowed.
        let ret = unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if ret < 0 {
            return Err(SyscallError::last("timerfd_settime"));
        }
        Ok(())
    }

    /// The calling thread's timer slack: how much later than asked the
    /// kernel may end a `ppoll` or `nanosleep` of this thread, to batch
    /// wakeups ([`DEFAULT_TIMER_SLACK`] unless set with
    /// `prctl(PR_SET_TIMERSLACK)`, and assumed when the kernel does not
    /// say). A timerfd gets no slack.
    pub fn thread_slack() -> Duration {
        if cfg!(miri) {
            // Miri has no `prctl(PR_GET_TIMERSLACK)`.
            return DEFAULT_TIMER_SLACK;
        }
        // SAFETY: `PR_GET_TIMERSLACK` takes no pointer; the unused
        // arguments are zero.
        let slack = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) };
        // The slack is returned as the call's value (an `int`); negative
        // is an error.
        u64::try_from(slack).map_or(DEFAULT_TIMER_SLACK, Duration::from_nanos)
    }
}

/// An epoll instance whose registrations are all edge-triggered.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl AsFd for Epoll {
    /// Readable while an edge is queued (epoll descriptors nest).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Epoll {
    pub fn new() -> Result<Self, SyscallError> {
        // SAFETY: `epoll_create1` has no memory preconditions.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(SyscallError::last("epoll_create1"));
        }
        // SAFETY: `fd` was just returned by `epoll_create1` and nothing else
        // owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self { fd })
    }

    /// Watches `fd` for `events` (`EPOLLIN`, `EPOLLOUT`), edge-triggered,
    /// reporting `token`.
    pub fn add(&self, fd: BorrowedFd<'_>, events: i32, token: u64) -> Result<(), SyscallError> {
        let mut event = libc::epoll_event {
            events: (events | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: both descriptors are live; `event` is a valid
        // `epoll_event` the kernel reads during the call.
        let ret = unsafe {
            libc::epoll_ctl(
                self.fd.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        };
        if ret < 0 {
            return Err(SyscallError::last("epoll_ctl(EPOLL_CTL_ADD)"));
        }
        Ok(())
    }

    /// Takes the edges queued, without waiting: whether there was one. A
    /// signal counts as one (the caller looks again either way). What a
    /// registered descriptor signals after this is queued anew.
    #[cfg(feature = "async-io")]
    pub fn take_edges(&self) -> Result<bool, SyscallError> {
        self.epoll_wait(0)
    }

    /// Waits for an edge on any registered descriptor, or until `deadline`.
    /// A signal ends the wait early, as an edge does ([`Wake::Again`]): the
    /// caller looks again either way.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<Wake, SyscallError> {
        let timeout_ms = match deadline {
            None => -1,
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(Wake::Deadline);
                }
                // Round up, so a wait never ends before the deadline and
                // never spins on a zero timeout.
                let micros = (deadline - now).as_micros();
                i32::try_from(micros.div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        let took = self.epoll_wait(timeout_ms)?;
        if !took && deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Wake::Deadline);
        }
        Ok(Wake::Again)
    }

    /// `epoll_wait` for at most `timeout_ms` milliseconds (0: do not wait,
    /// -1: no limit), taking the edges queued: whether it took one. A
    /// signal counts as one (the caller looks again either way).
    fn epoll_wait(&self, timeout_ms: i32) -> Result<bool, SyscallError> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 4];
        // SAFETY: `fd` is a live epoll descriptor; `events` is writable for
        // the entries passed as `maxevents`.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                timeout_ms,
            )
        };
        if n < 0 {
            let err = SyscallError::last("epoll_wait");
            if err.io_error.kind() == std::io::ErrorKind::Interrupted {
                return Ok(true);
            }
            return Err(err);
        }
        Ok(n > 0)
    }
}
