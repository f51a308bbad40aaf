// A zero-size event, with no fields or only zero-size ones, and a record
// generic over its size.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Empty {}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct ZeroSize {
    data: [u8; 0],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "empty_event")]
struct EmptyEvent {}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Sample<const N: usize> {
    len: u32,
    data: [u8; N],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "sample")]
struct CheckedSample<const N: usize> {
    len: u32,
    data: [u8; N],
}

fn main() {}
