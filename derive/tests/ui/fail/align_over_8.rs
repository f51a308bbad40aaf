use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

type Wide = u128;

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Aligned {
    value: Wide,
}

fn main() {}
