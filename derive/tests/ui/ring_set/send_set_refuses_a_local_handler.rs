// A set made by `RingSet::new` is `Send`, so its handlers must be: one that
// holds an `Rc` is refused (`RingSet::new_local` takes it).
use std::rc::Rc;

use ringview::testing::MemoryRing;
use ringview::{RingSet, UnsafeReader};

fn main() {
    let ring = MemoryRing::new(4096).unwrap();
    // SAFETY: the only consumer.
    let reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap();
    let seen = Rc::new(std::cell::Cell::new(0));
    let mut set = RingSet::new().unwrap();
    set.add(reader, move |_: &[u8]| seen.set(seen.get() + 1)).unwrap();
}
