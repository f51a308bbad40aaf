//! [`AsyncRingSet`]: the [`RingSet`] on a reactor, generic over it.

use std::future::poll_fn;
use std::os::fd::AsFd;
use std::time::Duration;

use crate::error::RingSetError;
use crate::event::View;
use crate::kernel::epoll::dup;
use crate::reactor::coop::Coop;
use crate::reactor::Reactor;
use crate::read::ring_set::{HandlerOutput, Removed, RingSet};
use crate::read::unsafe_reader::UnsafeReader;
use crate::ring_id::{Handles, RingKey};

/// A [`RingSet`] on the reactor `R`: `poll().await` instead of a blocking
/// poll. Named [`ringview::AsyncRingSet`](crate::AsyncRingSet) on tokio and
/// [`ringview::async_io::AsyncRingSet`](crate::async_io::AsyncRingSet) on
/// async-io (smol); see [the module](crate::reactor).
///
/// The set's own epoll descriptor, which is readable whenever one of its
/// rings has an edge, is registered with the reactor; each `poll`
/// collects the rings' events without waiting and runs one round of the
/// blocking set, so the handlers, the fairness bound and the release rules
/// are the blocking set's (see [`RingSet`]).
///
/// # Cancellation
///
/// [`poll`](Self::poll) is cancel-safe: it awaits only while no ring has a
/// record to hand out, and the round that hands records to the handlers
/// runs within a single poll of the future, so dropping it never leaves a
/// record half handled. The set gives its thread back to the runtime once it
/// has kept it for 50 µs (looking at the clock every 1024 rounds run
/// without waiting), so a flooded ring does not starve the worker's other
/// tasks.
///
/// # Examples
///
/// ```no_run
/// # #[cfg(feature = "tokio")]
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{AsyncRingSet, RingBuf, UnsafeReader};
///
/// let mut set = AsyncRingSet::new()?;
/// for path in ["/sys/fs/bpf/execs", "/sys/fs/bpf/exits"] {
///     // SAFETY: this process is each ring's only consumer.
///     let reader = unsafe { UnsafeReader::<[u8]>::new(RingBuf::from_pinned(path)?)? };
///     set.add(reader, move |bytes: &[u8]| println!("{path}: {} bytes", bytes.len()))?;
/// }
/// let read = async {
///     loop {
///         set.poll().await?;
///     }
///     #[allow(unreachable_code)]
///     Ok::<(), ringview::RingSetError>(())
/// };
/// tokio::select! {
///     result = read => result?,
///     _ = tokio::signal::ctrl_c() => {}
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncRingSet<'h, R: Reactor> {
    /// A duplicate of the set's epoll descriptor, registered with the
    /// reactor.
    readiness: R::Source,
    set: RingSet<'h>,
    coop: Coop,
}

impl<'h, R: Reactor> AsyncRingSet<'h, R> {
    /// Registers a duplicate of `set`'s epoll descriptor with the reactor
    /// (each reactor's `from_set` checks first what it needs).
    pub(crate) fn register(set: RingSet<'h>) -> Result<Self, RingSetError> {
        let owned = dup(set.as_fd())?;
        Ok(Self {
            readiness: R::register(owned)?,
            set,
            coop: Coop::default(),
        })
    }

    /// Adds a ring; see [`RingSet::add`].
    ///
    /// # Errors
    ///
    /// As [`RingSet::add`].
    pub fn add<T, F, O>(
        &mut self,
        reader: UnsafeReader<T>,
        handler: F,
    ) -> Result<RingKey<Handles<T, F>>, RingSetError>
    where
        T: ?Sized + View + 'h,
        F: FnMut(&T) -> O + Send + 'h,
        O: HandlerOutput + 'h,
    {
        self.set.add(reader, handler)
    }

    /// Removes a ring; see [`RingSet::remove`].
    ///
    /// # Errors
    ///
    /// As [`RingSet::remove`].
    pub fn remove<K: Removed<'h>>(
        &mut self,
        key: RingKey<K>,
    ) -> Result<Option<K::Parts>, RingSetError> {
        self.set.remove(key)
    }

    /// Waits until a ring has records, then runs one round (see
    /// [`RingSet::poll`]). Returns how many records the handlers finished,
    /// at least one unless a round found only records already taken by a
    /// failed handler. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`RingSet::poll`].
    pub async fn poll(&mut self) -> Result<usize, RingSetError> {
        self.poll_n(usize::MAX).await
    }

    /// [`poll`](Self::poll), handing at most `n` records (at least 1) to
    /// the handlers. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`RingSet::poll`].
    pub async fn poll_n(&mut self, n: usize) -> Result<usize, RingSetError> {
        let n = n.max(1);
        loop {
            let count = self.set.poll_n(Some(Duration::ZERO), n)?;
            if count > 0 {
                self.coop.tick().await;
                return Ok(count);
            }
            if self.set.has_pending() {
                continue;
            }
            // Every ring found nothing after publishing (`try_ready`), and
            // the epoll queue was emptied: sleep until the next edge. One
            // that came after the zero-timeout wait is not lost: the
            // reactor consumes only the edge it reported (see
            // `Sealed::poll_edge`), and the loop looks again.
            poll_fn(|cx| R::poll_edge(&self.readiness, cx)).await?;
            self.coop.suspended();
        }
    }

    /// The blocking set inside, for its other methods (`consume`,
    /// `consume_n`, `skip`, `set_records_per_round`, `len`).
    pub fn get_ref(&self) -> &RingSet<'h> {
        &self.set
    }

    /// The blocking set inside, mutably.
    pub fn get_mut(&mut self) -> &mut RingSet<'h> {
        &mut self.set
    }

    /// Deregisters from the reactor and returns the blocking set.
    pub fn into_inner(self) -> RingSet<'h> {
        self.set
    }
}

/// Makes sure the set and its futures stay `Send` on every reactor (so
/// `tokio::spawn` and `smol::spawn` take them).
#[expect(dead_code, reason = "a compile-time check, never called")]
fn futures_are_send<R: Reactor>(set: &mut AsyncRingSet<'static, R>) {
    fn send<F: std::future::Future + Send>(_: F) {}
    fn send_value<T: Send>(_: &T) {}
    send_value(set);
    send(set.poll());
}
