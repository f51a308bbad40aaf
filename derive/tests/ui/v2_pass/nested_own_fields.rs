// Nested types checked through their own fields (`#[ring_event(nested)]`):
// their renames, their padding over bitfields, the arm of an anonymous union
// they hold, at any depth and in arrays.
use ringview::RingEvent;
use zerocopy::byteorder::{BigEndian, U16};
use zerocopy::{FromBytes, Immutable, KnownLayout};

// Checked only through the types that nest it.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 28)]
struct Addr {
    family: u16,
    #[ring_event(rename = "port")]
    port_be: U16<BigEndian>,
    // `scope : 4, level : 4`
    #[ring_event(padding)]
    _bits: u32,
    // One arm of `union { __u32 v4; __u8 v6[16]; }`.
    #[ring_event(rename = "v6")]
    ip: [u8; 16],
    weight: f32,
}

// Checked against `struct endpoint` itself, and again, through its table,
// where it is nested.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "endpoint")]
struct Endpoint {
    id: u32,
    #[ring_event(rename = "where", nested)]
    at: Addr,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "peer_event")]
struct PeerEvent {
    pid: u32,
    #[ring_event(nested)]
    local: Endpoint,
    #[ring_event(nested)]
    peers: [Addr; 2],
    ts: u64,
}

// A Rust union nested for a named C union (`union addr { __u32 v4; __u8
// v6[16]; }`): every arm it has, checked through its renames.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 16)]
union Ip {
    #[ring_event(rename = "v4")]
    ipv4: u32,
    v6: [u8; 16],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "addr_event")]
struct AddrEvent {
    pid: u32,
    family: u32,
    #[ring_event(nested)]
    saddr: Ip,
}

fn main() {
    assert_eq!(PeerEvent::SIZE, 104);
    assert_eq!(AddrEvent::SIZE, 24);
}
