use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Generic<T> {
    value: T,
}

fn main() {}
