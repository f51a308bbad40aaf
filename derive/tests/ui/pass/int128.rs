use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// `__int128` is 16-byte aligned in C; ring payloads are 8-byte aligned, so
// it is read as `[u64; 2]`, with explicit padding where C aligns it.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "wide")]
struct Wide {
    tag: u8,
    #[ring_event(padding)]
    _align: [u8; 15],
    s: [u64; 2],
    u: [u64; 2],
}

fn main() {
    assert_eq!(Wide::SIZE, 48);
}
