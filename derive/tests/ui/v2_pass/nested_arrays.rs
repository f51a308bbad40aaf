// Arrays of structs below the top level, checked member by member: in a
// nested struct, and in each element of an array of structs.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct Inner {
    a: u32,
    b: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 36)]
struct Outer {
    tag: u16,
    n: u16,
    items: [Inner; 4],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "deep_event")]
struct DeepEvent {
    pid: u32,
    out: Outer,
    outs: [Outer; 2],
}

fn main() {}
