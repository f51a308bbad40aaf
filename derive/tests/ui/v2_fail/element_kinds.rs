// A float for an integer, an integer for a float, an array of the wrong
// element size, and a wider field that shifts every later one.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "stack_event")]
struct StackEvent {
    pid: f32,
    tid: u32,
    ts: u64,
    comm: [u32; 4],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "stack_event")]
struct Shifted {
    pid: u64,
    tid: u32,
    ts: u64,
    comm: [u8; 16],
}

fn main() {}
