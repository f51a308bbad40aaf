// Without `#[ring_event(nested)]`, nested members are looked up by their C
// names: a nested type that renames one is refused, with the hint.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 28)]
struct Addr {
    family: u16,
    #[ring_event(rename = "port")]
    dport: u16,
    #[ring_event(padding)]
    _bits: u32,
    v6: [u8; 16],
    weight: f32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "peer_event")]
struct PeerEvent {
    pid: u32,
    #[ring_event(padding)]
    _local: [u8; 32],
    peers: [Addr; 2],
    ts: u64,
}

fn main() {}
