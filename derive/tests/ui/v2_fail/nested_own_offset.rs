// A nested type with the right size and names but members at the wrong
// offsets, two levels down.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 28)]
struct Addr {
    family: u16,
    port: u16,
    #[ring_event(padding)]
    _bits: u32,
    weight: f32,
    v6: [u8; 16],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 32)]
struct Endpoint {
    id: u32,
    #[ring_event(rename = "where")]
    at: Addr,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "peer_event")]
struct PeerEvent {
    pid: u32,
    #[ring_event(nested)]
    local: Endpoint,
    #[ring_event(padding)]
    _peers: [u8; 56],
    ts: u64,
}

fn main() {}
