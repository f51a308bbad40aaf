use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// The bitfields of `struct bitfields` are covered by integer storage fields
// marked padding; the program extracts the bits by hand.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "bitfields")]
struct Bitfields {
    kind: u8,
    #[ring_event(padding)]
    flag_level_count: [u8; 7],
    #[ring_event(padding)]
    big: u64,
    tail: u32,
    #[ring_event(padding)]
    _end: u32,
}

fn main() {
    assert_eq!(Bitfields::SIZE, 24);
}
