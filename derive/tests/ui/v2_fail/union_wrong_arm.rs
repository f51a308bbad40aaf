// An arm of the wrong size, and fields from two arms of one union.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "conn_event")]
struct ConnEvent {
    pid: u32,
    family: u16,
    port: u16,
    saddr_v6: [u8; 8],
    saddr_v4: u32,
    daddr_v6: [u8; 16],
}

fn main() {}
