use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// No padding field at all: `a` is reported at expansion.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "padded")]
struct NoPadding {
    b: u64,
}

// Padding fields that do not cover `a` (bytes 0..4) whole.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "padded")]
struct SplitPadding {
    #[ring_event(padding)]
    _low: u16,
    #[ring_event(padding)]
    _high: u16,
    b: u64,
}

fn main() {}
