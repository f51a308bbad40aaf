// A nested type checked through its own fields, with a rename that matches
// no C member: the field it names, and the member it was meant for.
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
    #[ring_event(rename = "v66")]
    ip: [u8; 16],
    weight: f32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/nested.bpf.o", name = "endpoint")]
struct Endpoint {
    id: u32,
    #[ring_event(rename = "where", nested)]
    at: Addr,
}

fn main() {}
