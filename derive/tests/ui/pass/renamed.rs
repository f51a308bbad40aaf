use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "exec_event")]
struct Exec {
    #[ring_event(rename = "pid")]
    process: u32,
    #[ring_event(rename = "ppid")]
    parent: u32,
    uid: u32,
    #[ring_event(rename = "pad")]
    reserved: u32,
    comm: [u8; 16],
    #[ring_event(rename = "filename")]
    path: [u8; 256],
    #[ring_event(rename = "ts")]
    timestamp_ns: u64,
}

fn main() {
    assert_eq!(Exec::C_NAME, "exec_event");
}
