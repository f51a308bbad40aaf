use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "inner")]
struct Inner {
    x: u16,
    y: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "nested")]
struct Nested {
    tag: u8,
    one: Inner,
    many: [Inner; 3],
    grid: [[u32; 3]; 2],
    argv: [u64; 2],
}

fn main() {
    assert_eq!(Nested::SIZE, 80);
}
