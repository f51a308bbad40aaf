use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C, packed)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "packed")]
struct Packed {
    tag: u8,
    value: u32,
    wide: u64,
    last: zerocopy::little_endian::U16,
}

fn main() {
    assert_eq!(Packed::SIZE, 15);
}
