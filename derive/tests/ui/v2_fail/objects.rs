// Objects the derive cannot take a layout from: two different structs of
// one name (objects linked together), two .BTF sections, a device.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/linked.bpf.o", name = "dup_event")]
struct DupEvent {
    pid: u32,
    tid: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/two_btf.bpf.o", name = "dup_event")]
struct TwoSections {
    pid: u32,
    tid: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "/dev/null", name = "dup_event")]
struct Device {
    pid: u32,
    tid: u32,
}

fn main() {}
