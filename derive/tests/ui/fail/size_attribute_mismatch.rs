use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 12)]
struct Event {
    pid: u32,
    cpu: u32,
    ts: u64,
}

fn main() {}
