// Two equal-size members of a nested struct swapped, and an array of the
// wrong struct with the same total size: caught member by member.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct Point {
    y: u32,
    x: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct Wide {
    x: u64,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 16)]
struct Segment {
    from: Point,
    to: Point,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "nested_event")]
struct NestedEvent {
    kind: u8,
    #[ring_event(padding)]
    _pad: [u8; 3],
    seg: Segment,
    pts: [Wide; 2],
    ratio: f32,
    count: u32,
    name: [u8; 16],
    daddr: u32,
}

fn main() {}
