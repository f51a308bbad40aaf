use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// `ppid` and `pid` swapped, `ts` missing: sizes add up differently.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../../../btf/tests/btf/layouts.bpf.o", name = "exec_event")]
struct ExecEvent {
    ppid: u32,
    pid: u32,
    uid: u32,
    pad: u32,
    comm: [u8; 16],
    filename: [u8; 256],
    ts: u32,
}

fn main() {}
