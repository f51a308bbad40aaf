//! One consumer (and one producer) per map in this process.
//!
//! Two consumers of one ring each move `consumer_pos`, so the one that lags
//! reads space the producer may already be reusing: a zero-copy view would
//! change under its borrow, and a copy would be torn. Every reader therefore
//! claims its map's identity (the kernel's map id, which is unique while the
//! map lives and the reader holds a descriptor to it) for as long as it
//! lives. The claim covers every way to open a map (a descriptor, a pinned
//! path, an id, another reader's ring), because each of them resolves to the
//! same id.
//!
//! Claims are per process: another process consuming the same map is
//! outside what the library can see (see `UnsafeReader::new`).

use std::collections::BTreeSet;
use std::sync::Mutex;

use crate::ring_id::RingId;

/// The side of a ring a claim is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    /// Moves `consumer_pos`: a reader.
    Consumer,
    /// Moves `producer_pos` of a user ring buffer: a writer.
    Producer,
}

/// Every claim held in this process.
static CLAIMS: Mutex<BTreeSet<(RingId, Role)>> = Mutex::new(BTreeSet::new());

fn claims() -> std::sync::MutexGuard<'static, BTreeSet<(RingId, Role)>> {
    // The set is updated by single inserts and removes, which leave it
    // consistent even if a panic poisoned the lock.
    CLAIMS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The exclusive right to one side of one ring in this process, released
/// on drop.
#[derive(Debug)]
pub(crate) struct Claim {
    ring: RingId,
    role: Role,
}

impl Claim {
    /// Claims `role` on `ring`; `Err(ring)` when something in this process
    /// already holds it.
    pub fn new(ring: RingId, role: Role) -> Result<Self, RingId> {
        if claims().insert((ring, role)) {
            Ok(Self { ring, role })
        } else {
            Err(ring)
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        claims().remove(&(self.ring, self.role));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_exclusive_until_dropped() {
        let ring = RingId::next_memory();
        let first = Claim::new(ring, Role::Consumer).unwrap();
        assert_eq!(Claim::new(ring, Role::Consumer).unwrap_err(), ring);
        // The other side of the same ring is a different claim.
        let producer = Claim::new(ring, Role::Producer).unwrap();
        drop(first);
        let _again = Claim::new(ring, Role::Consumer).unwrap();
        drop(producer);
    }
}
