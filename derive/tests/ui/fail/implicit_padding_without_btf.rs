use ringview::{RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

// Implicit padding without a BPF object: fine as a nested field of a checked
// event, refused where the type is read on its own.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Padded {
    a: u32,
    b: u64,
}

fn read(_reader: &mut UnsafeReader<Padded>) {}

fn main() {}
