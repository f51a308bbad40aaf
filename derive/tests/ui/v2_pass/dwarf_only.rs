// `stack_event` is used only as a stack value: clang leaves it out of BTF,
// and the derive reads it from DWARF.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "stack_event")]
struct StackEvent {
    pid: u32,
    tid: i32, // signedness is free
    ts: u64,
    comm: [u8; 16],
}

fn main() {
    assert_eq!(StackEvent::SIZE, 32);
}
