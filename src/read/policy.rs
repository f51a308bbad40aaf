//! [`PublishPolicy`]: when a reader hands consumed space back to producers,
//! and how long it keeps looking before it sleeps.

use std::time::Duration;

/// When a reader publishes its consumer position, and how it waits.
///
/// The kernel wakes a sleeping consumer only when a producer commits the
/// record at the *published* consumer position, and that wakeup
/// (`irq_work`, then a context switch) costs the producer more than the
/// record itself. A consumer that publishes every record and sleeps as soon
/// as the ring is empty (what libbpf does) makes producers pay it for almost
/// every record once the consumer keeps up. The lazy policy (the default)
/// avoids that: while records keep coming it publishes only every
/// `max_unpublished` bytes, and when the ring runs empty it looks again
/// every `latency` for up to `idle` before it publishes and blocks, so
/// producers of a busy ring submit without waking anyone.
///
/// Blocking always publishes first, so nothing is held back while asleep.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use ringview::PublishPolicy;
///
/// // Look again every 50 µs; block after 2 ms without records; never hold
/// // back more than an eighth of the ring.
/// let policy = PublishPolicy::lazy(0.125, Duration::from_micros(50), Duration::from_millis(2));
/// assert_eq!(policy.latency(), Duration::from_micros(50));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishPolicy {
    fraction: f64,
    latency: Duration,
    idle: Duration,
}

impl PublishPolicy {
    /// Publishes after every record and blocks as soon as the ring is empty:
    /// the per-record commit of libbpf's `ring_buffer__poll`.
    pub const EAGER: Self = Self {
        fraction: 0.0,
        latency: Duration::ZERO,
        idle: Duration::ZERO,
    };

    /// Publishes once `fraction` of the ring (clamped to `0.0..=0.5`; NaN
    /// is 0) is consumed but unpublished; when the ring is empty, looks
    /// again every `latency` (the most a record waits unread) for up to
    /// `idle`, then publishes and blocks.
    ///
    /// Every value works: a zero `latency` or `idle` blocks at once (as
    /// [`EAGER`](Self::EAGER) does), `Duration::MAX` as `idle` never blocks
    /// (the reader keeps looking until a record, a deadline, a flush or a
    /// close), and `Duration::MAX` as `latency` looks again only when the
    /// idle period or the deadline ends. A flush or close ends a nap at
    /// once, whatever its length.
    pub fn lazy(fraction: f64, latency: Duration, idle: Duration) -> Self {
        Self {
            fraction: if fraction.is_nan() {
                0.0
            } else {
                fraction.clamp(0.0, 0.5)
            },
            latency,
            idle,
        }
    }

    /// The longest a record waits unread while the reader lingers.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// How long the ring stays empty before the reader publishes and blocks.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// The most bytes of a ring of `size` bytes left consumed but
    /// unpublished.
    pub(crate) fn max_unpublished(&self, size: usize) -> usize {
        (size as f64 * self.fraction) as usize
    }

    /// Whether the reader polls for a while before blocking.
    pub(crate) fn lingers(&self) -> bool {
        !self.latency.is_zero() && !self.idle.is_zero()
    }
}

impl Default for PublishPolicy {
    /// A quarter of the ring; look every 50 µs, block after 1 ms idle.
    fn default() -> Self {
        Self::lazy(0.25, Duration::from_micros(50), Duration::from_millis(1))
    }
}
