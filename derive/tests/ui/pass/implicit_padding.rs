use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// `struct padded { __u32 a; __u64 b; }`: the 4 bytes of padding after `a`
// are allowed because BTF proves where `b` is.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "padded")]
struct Padded {
    a: u32,
    b: u64,
}

fn main() {
    assert_eq!(Padded::SIZE, 16);
}
