use ringview::testing::MemoryRing;
use ringview::{RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Word(u64);

fn main() {
    let ring = MemoryRing::new(4096).unwrap();
    // SAFETY: the only consumer.
    let mut reader = unsafe { UnsafeReader::<Word>::new(ring.ring_buf()) }.unwrap();
    let view = {
        let batch = reader.batch().unwrap();
        batch.next().unwrap().unwrap()
    };
    println!("{}", view.0);
}
