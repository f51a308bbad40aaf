// Names that are no struct or union: an enum, an array typedef (each told
// what it is and what stands for it instead), a struct neither BTF nor
// DWARF has (the line that keeps it, for a struct, union or typedef), and a
// raw BTF file, which has no C source to add a line to.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "op")]
struct Op {
    value: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "path_t")]
struct Path {
    bytes: [u8; 16],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "sys_type")]
struct SysType {
    value: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.BTF", name = "tcp_evnt")]
struct TcpEvent {
    pid: u32,
}

fn main() {}
