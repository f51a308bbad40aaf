use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "exec_event", size = 296)]
struct ExecEvent {
    pid: u32,
    ppid: u32,
    uid: u32,
    #[ring_event(padding)]
    _pad: u32,
    comm: [u8; 16],
    filename: [u8; 256],
    ts: u64,
}

fn main() {
    assert_eq!(ExecEvent::SIZE, 296);
    assert_eq!(ExecEvent::C_NAME, "exec_event");
}
