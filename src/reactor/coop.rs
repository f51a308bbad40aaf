//! Cooperation with the executor: an async reader or ring set that keeps
//! finding records gives its thread back now and then, so a flooded ring
//! cannot starve the other tasks of its worker thread. Executor-neutral:
//! yielding is a wake of the task's own waker and one `Pending`.

use std::future::poll_fn;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Rounds a ring set hands out without suspending before it looks at the
/// clock: once [`COOP_SLICE`] has passed since it last suspended, it
/// yields to the runtime once, so a flooded ring cannot starve the other
/// tasks of its worker thread.
pub(crate) const COOP_BUDGET: u32 = 1024;

/// The longest an async reader hands out records (or spins) without giving
/// its thread back to the runtime, give or take one checkpoint (or, for a
/// ring set, one [`COOP_BUDGET`] of rounds): tokio asks a task to reach an
/// await point every 10 µs to 100 µs.
pub(crate) const COOP_SLICE: Duration = Duration::from_micros(50);

/// How long the task has kept its thread, and (for a ring set) the work
/// done since it last gave it back.
#[derive(Debug)]
pub(crate) struct Coop {
    streak: u32,
    /// When the streak began: the first look at the clock after the task
    /// last gave its thread back (or the reader was made).
    since: Instant,
    /// The task gave its thread back since the last look at the clock.
    suspended: bool,
}

impl Default for Coop {
    fn default() -> Self {
        Self {
            streak: 0,
            since: Instant::now(),
            suspended: false,
        }
    }
}

impl Coop {
    /// The task suspended (it awaited readiness): a new streak begins.
    /// Reads no clock: a wakeup costs nothing more, and the next look at
    /// the clock starts the slice.
    pub(crate) fn suspended(&mut self) {
        self.streak = 0;
        self.suspended = true;
    }

    /// Whether the task has kept its thread for [`COOP_SLICE`] since the
    /// streak began (a streak that begins now has not).
    pub(crate) fn slice_over(&mut self) -> bool {
        let now = Instant::now();
        if std::mem::take(&mut self.suspended) {
            self.since = now;
            return false;
        }
        now.duration_since(self.since) >= COOP_SLICE
    }

    /// One more round of a ring set without suspending. Every
    /// [`COOP_BUDGET`] rounds it looks at the clock, and yields to the
    /// runtime if the task has kept its thread for [`COOP_SLICE`]: one
    /// clock read per budget, and a yield (which polls the runtime's
    /// reactor) only as often as tokio asks. Dropping the future while it
    /// yields loses nothing: no record is taken.
    pub(crate) async fn tick(&mut self) {
        self.streak += 1;
        if self.streak < COOP_BUDGET {
            return;
        }
        self.streak = 0;
        if !self.slice_over() {
            return;
        }
        yield_once().await;
        self.suspended();
    }
}

/// Returns `Pending` once, asking to be polled again at once: the task
/// lets the other tasks of its worker thread run.
pub(crate) async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}
