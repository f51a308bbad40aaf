// The matched arm of an anonymous union has the wrong size, and nothing
// else is wrong at expansion time: the size error is not masked.
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
    daddr_v6: [u8; 16],
}

fn main() {}
