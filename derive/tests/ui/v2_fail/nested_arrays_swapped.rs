// Two equal-size members swapped in the struct of an array below the top
// level: caught member by member, in a nested struct's array and in the
// array of each element of an array of structs.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct Inner {
    b: u32,
    a: u32,
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
