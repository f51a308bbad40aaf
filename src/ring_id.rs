//! The names of rings: [`RingId`], which ring a `RingBuf` maps (a kernel
//! map or an in-memory ring), and [`RingKey`], which ring of a ring set.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which ring a [`RingBuf`](crate::RingBuf) maps: a kernel map by its id, or
/// an in-memory ring ([`testing::MemoryRing`](crate::testing::MemoryRing)).
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::RingId;
///
/// let ring = MemoryRing::new(4096)?;
/// let id = ring.ring_buf().id();
/// assert!(matches!(id, RingId::Memory(_)));
/// assert_eq!(ring.ring_buf().id(), id); // the same ring, the same id
/// assert!(id.to_string().starts_with("in-memory ring "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RingId {
    /// A kernel map, by its map id (`bpftool map show id N`).
    Map(u32),
    /// An in-memory ring, numbered in creation order within this process.
    Memory(u32),
}

impl RingId {
    /// A fresh id for a new in-memory ring.
    pub(crate) fn next_memory() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        // Relaxed: only uniqueness matters, which the atomic increment gives.
        Self::Memory(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for RingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Map(id) => write!(f, "map id {id}"),
            Self::Memory(id) => write!(f, "in-memory ring {id}"),
        }
    }
}

/// Which ring of a set: returned by [`RingSet::add`](crate::RingSet::add),
/// named by every error of the set.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingSet, UnsafeReader};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut set = RingSet::new()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let key = set.add(reader, |_: &[u8]| ())?;
/// assert_eq!(set.ring_id(key), Some(ring.ring_buf().id()));
/// assert!(set.remove(key)?);
/// assert!(!set.contains(key));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RingKey(u64);

impl RingKey {
    pub(crate) fn new(key: u64) -> Self {
        Self(key)
    }

    pub(crate) fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
