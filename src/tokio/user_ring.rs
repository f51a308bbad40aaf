//! [`AsyncUserRingBuf`]: a [`UserRingBuf`] whose reserves wait for room on
//! tokio (the `tokio` feature).

use std::os::fd::OwnedFd;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::error::{ReserveError, SyscallError, UserRingBufError};
use crate::event::RingEvent;
use crate::kernel::epoll::dup;
use crate::tokio::in_runtime;
use crate::write::user_ring_buf::{Reserved, UserRingBuf};

/// A [`UserRingBuf`] on tokio: `reserve().await` waits for room instead of
/// failing with [`ReserveError::Full`] (or blocking the thread, as
/// [`UserRingBuf::reserve_blocking`] does).
///
/// The map's descriptor is registered with tokio's reactor for `EPOLLOUT`
/// (edge-triggered), which the kernel signals after a
/// `bpf_user_ringbuf_drain` that consumed samples (unless the program
/// passed `BPF_RB_NO_WAKEUP`: then nothing wakes the writer, as for the
/// blocking wait). After every edge the writer checks the space again,
/// because `EPOLLOUT` says only that the ring is not completely full.
///
/// # Cancellation
///
/// Every future of this type is cancel-safe: it awaits only until there is
/// room, and reserves (or pushes) in the poll that completes it. Dropped
/// before (a `tokio::select!`, a timeout), it has written nothing. A
/// [`Reserved`] guard it returned is, as always, discarded if dropped
/// without [`submit`](Reserved::submit).
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncUserRingBuf, UserRingBuf};
///
/// // SAFETY: this process is the map's only producer.
/// let ring = unsafe { UserRingBuf::from_pinned("/sys/fs/bpf/commands")? };
/// let mut ring = AsyncUserRingBuf::new(ring)?;
/// let mut record = ring.reserve_bytes(8).await?;
/// record.copy_from_slice(&7u64.to_ne_bytes());
/// record.submit();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncUserRingBuf {
    /// A duplicate of the descriptor that reports room, registered with
    /// tokio.
    room: AsyncFd<OwnedFd>,
    interest: Interest,
    ring: UserRingBuf,
}

impl AsyncUserRingBuf {
    /// Registers `ring`'s descriptor with the current tokio runtime's
    /// reactor.
    ///
    /// # Errors
    ///
    /// [`UserRingBufError::NoRuntime`] outside a tokio runtime;
    /// [`UserRingBufError::Syscall`] when the descriptor cannot be
    /// duplicated or registered.
    ///
    /// # Panics
    ///
    /// In a tokio runtime built without I/O (`enable_io`), as tokio's
    /// `AsyncFd` does: tokio offers no way to ask.
    pub fn new(ring: UserRingBuf) -> Result<Self, UserRingBufError> {
        if !in_runtime() {
            return Err(UserRingBufError::NoRuntime);
        }
        let (fd, events) = ring.room_descriptor();
        let owned = dup(fd)?;
        // EPOLLOUT for a kernel map, EPOLLIN for an in-memory ring's
        // eventfd.
        let interest = if events & libc::EPOLLOUT != 0 {
            Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        // SAFETY: `register_with_interest` needs the descriptor to stay
        // open, refer to the same open file, and be what `as_raw_fd`
        // returns for as long as the `AsyncFd` owns it: `owned` is a fresh
        // duplicate that the `AsyncFd` takes by value and that nothing else
        // can close or replace, and `OwnedFd::as_raw_fd` always returns the
        // descriptor it owns.
        let registered = unsafe { AsyncFd::register_with_interest(owned, interest) };
        let room = registered.map_err(|err| SyscallError {
            call: "epoll_ctl(EPOLL_CTL_ADD) (tokio AsyncFd)",
            io_error: err.into(),
        })?;
        Ok(Self {
            room,
            interest,
            ring,
        })
    }

    /// Returns once a record of `len` payload bytes fits. Only this
    /// producer reserves, so the room stays until it does.
    ///
    /// No edge is lost: tokio's `clear_ready` clears only the readiness the
    /// guard reported, so a drain between the look at the space and the
    /// clear leaves the descriptor ready, and the next await returns at
    /// once (see also `write/wait.rs` on the drain's ordering).
    async fn room(&mut self, len: usize) -> Result<(), ReserveError> {
        loop {
            if self.ring.has_room(len)? {
                return Ok(());
            }
            let mut guard =
                self.room
                    .ready(self.interest)
                    .await
                    .map_err(|io_error| SyscallError {
                        call: "epoll_wait (tokio reactor)",
                        io_error,
                    })?;
            if self.ring.has_room(len)? {
                return Ok(());
            }
            guard.clear_ready();
        }
    }

    /// Reserves a zeroed `T`, waiting for room; see
    /// [`UserRingBuf::reserve`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`UserRingBuf::reserve`], without [`ReserveError::Full`];
    /// [`ReserveError::Syscall`] when the reactor fails.
    pub async fn reserve<'r, T>(&'r mut self) -> Result<Reserved<'r, T>, ReserveError>
    where
        T: 'r + RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        self.room(size_of::<T>()).await?;
        self.ring.reserve()
    }

    /// Reserves a `T` as the ring's bytes are, waiting for room; see
    /// [`UserRingBuf::reserve_unzeroed`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    pub async fn reserve_unzeroed<'r, T>(&'r mut self) -> Result<Reserved<'r, T>, ReserveError>
    where
        T: 'r + RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        self.room(size_of::<T>()).await?;
        self.ring.reserve_unzeroed()
    }

    /// Reserves `len` zeroed bytes, waiting for room; see
    /// [`UserRingBuf::reserve_bytes`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    pub async fn reserve_bytes(&mut self, len: usize) -> Result<Reserved<'_, [u8]>, ReserveError> {
        self.room(len).await?;
        self.ring.reserve_bytes(len)
    }

    /// Copies `value` in and submits it, waiting for room; see
    /// [`UserRingBuf::push`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    pub async fn push<T>(&mut self, value: &T) -> Result<(), ReserveError>
    where
        T: RingEvent + IntoBytes + Immutable,
    {
        self.room(size_of_val(value)).await?;
        self.ring.push(value)
    }

    /// The producer inside, for its other methods.
    pub fn get_ref(&self) -> &UserRingBuf {
        &self.ring
    }

    /// The producer inside, mutably (its non-waiting `reserve` and `push`).
    pub fn get_mut(&mut self) -> &mut UserRingBuf {
        &mut self.ring
    }

    /// Deregisters from the reactor and returns the producer.
    pub fn into_inner(self) -> UserRingBuf {
        self.ring
    }
}

/// Makes sure the futures stay `Send` (so `tokio::spawn` takes them).
#[expect(dead_code, reason = "a compile-time check, never called")]
fn futures_are_send(ring: &mut AsyncUserRingBuf) {
    fn send<F: std::future::Future + Send>(_: F) {}
    send(ring.reserve_bytes(8));
}
