use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "no/such/prog.bpf.o", name = "exec_event")]
struct ExecEvent {
    pid: u32,
    ppid: u32,
}

fn main() {}
