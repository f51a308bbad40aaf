use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "bitfields")]
struct Bitfields {
    kind: u8,
    flag: u8,
    #[ring_event(padding)]
    _rest: [u8; 6],
    #[ring_event(padding)]
    big: u64,
    tail: u32,
    #[ring_event(padding)]
    _end: u32,
}

fn main() {}
