// Two equal-size members swapped through renames in a nested type, and an
// integer where C has a float: its own derive has no object to check
// against, and the one that nests it checks it through its renames.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 28)]
struct Addr {
    #[ring_event(rename = "port")]
    dport: u16,
    #[ring_event(rename = "family")]
    fam: u16,
    #[ring_event(padding)]
    _bits: u32,
    #[ring_event(rename = "v4")]
    ip: u32,
    #[ring_event(padding)]
    _ip_rest: [u8; 12],
    weight: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "peer_event")]
struct PeerEvent {
    pid: u32,
    #[ring_event(padding)]
    _local: [u8; 32],
    #[ring_event(nested)]
    peers: [Addr; 2],
    ts: u64,
}

fn main() {}
