// A rename that matches nothing, a struct in neither BTF nor DWARF, an
// object without DWARF, a directory.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "point")]
struct Point {
    #[ring_event(rename = "xx")]
    x: u32,
    y: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "stack_evnt")]
struct Typo {
    pid: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.nodwarf.bpf.o", name = "stack_event")]
struct Stripped {
    pid: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf", name = "stack_event")]
struct Directory {
    pid: u32,
}

fn main() {}
