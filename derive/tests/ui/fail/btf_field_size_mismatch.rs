use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// `a` is `__u32` in C: same offsets, different size.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "padded")]
struct Padded {
    a: u64,
    b: u64,
}

fn main() {}
