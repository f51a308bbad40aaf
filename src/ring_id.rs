//! The names of rings: [`RingId`], which ring a `RingBuf` maps (a kernel
//! map or an in-memory ring), and [`RingKey`], which ring of a ring set.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

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
/// A key from `add` is typed, `RingKey<Handles<T, F>>`: it names the
/// reader's type `T` and the handler's type `F`, so that
/// [`RingSet::remove`](crate::RingSet::remove) can hand both back. The keys
/// in errors, and [`erase`](Self::erase)d keys, are untyped
/// (`RingKey<Untyped>`, the default): removing by one drops the handler.
/// Keys are unique within the process, never reused, and compare equal by
/// the ring they name whatever their type.
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
/// assert!(set.remove(key)?.is_some());
/// assert!(!set.contains(key));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
// INVARIANTS: a `RingKey<Handles<T, F>>` is made only by `RingSet::add`,
// for a ring whose reader is an `UnsafeReader<T>` and whose handler is an
// `F`; `raw` comes from `RingKey::fresh`, so no two rings of any set in this
// process share it. `Handles` is invariant in `T` and `F`, so a key's type
// cannot be changed by subtyping.
pub struct RingKey<K = Untyped> {
    raw: u64,
    _kind: PhantomData<K>,
}

/// The type of an untyped [`RingKey`]: removing the ring by it drops the
/// reader and handler.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingKey, RingSet, UnsafeReader, Untyped};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut set = RingSet::new()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let key = set.add(reader, |_: &[u8]| ())?;
/// // Erased, a key only names the ring (`RingKey` is `RingKey<Untyped>`),
/// let untyped: RingKey<Untyped> = key.erase();
/// assert_eq!(untyped, key);
/// // and removing the ring by it drops the reader and the handler.
/// assert_eq!(set.remove(untyped)?, Some(()));
/// assert!(!set.contains(key));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Untyped {}

/// The type of a [`RingKey`] returned by `add`: the ring's reader reads `T`
/// and its handler is an `F`.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{Handles, RingKey, RingSet, UnsafeReader};
///
/// let ring = MemoryRing::new(4096)?;
/// let mut set = RingSet::new()?;
/// // SAFETY: the ring's only consumer.
/// let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// // A handler whose type can be written down (a closure's cannot).
/// let handler: fn(&[u8]) = |bytes| println!("{} bytes", bytes.len());
/// let key: RingKey<Handles<[u8], fn(&[u8])>> = set.add(reader, handler)?;
/// // The typed key hands back the reader and the handler, with their types.
/// let (reader, handler) = set.remove(key)?.expect("the set holds the ring");
/// assert_eq!(reader.ring().id(), ring.ring_buf().id());
/// handler(b"still callable");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Handles<T: ?Sized, F> {
    _invariant: PhantomData<Invariant<T, F>>,
}

/// `T` and `F` in a `fn(..) -> ..`, which makes [`Handles`] invariant.
type Invariant<T, F> = fn(PhantomData<(Box<T>, F)>) -> PhantomData<(Box<T>, F)>;

impl<T: ?Sized, F> fmt::Debug for Handles<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handles")
    }
}

impl RingKey {
    pub(crate) fn new(key: u64) -> Self {
        Self {
            raw: key,
            _kind: PhantomData,
        }
    }
}

impl<K> RingKey<K> {
    /// A key no other ring of this process has had (see the invariants).
    pub(crate) fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // Relaxed: only uniqueness matters, which the atomic increment
        // gives (2^64 rings would take centuries to add).
        Self {
            raw: NEXT.fetch_add(1, Ordering::Relaxed),
            _kind: PhantomData,
        }
    }

    pub(crate) fn get(self) -> u64 {
        self.raw
    }

    /// The untyped key of the same ring.
    pub fn erase(self) -> RingKey {
        RingKey::new(self.raw)
    }
}

impl<K> Clone for RingKey<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for RingKey<K> {}

impl<K, L> PartialEq<RingKey<L>> for RingKey<K> {
    fn eq(&self, other: &RingKey<L>) -> bool {
        self.raw == other.raw
    }
}

impl<K> Eq for RingKey<K> {}

impl<K> PartialOrd for RingKey<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for RingKey<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.raw.cmp(&other.raw)
    }
}

impl<K> Hash for RingKey<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl<K> fmt::Debug for RingKey<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RingKey").field(&self.raw).finish()
    }
}

impl<K> fmt::Display for RingKey<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.raw)
    }
}
