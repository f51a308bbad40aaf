// The v4 arm alone for a v4/v6 union: the message names the 16-byte arm.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "tcp_event")]
struct TcpEvent {
    saddr_v4: u32,
    daddr_v6: [u8; 16],
    task: [u8; 16],
    ts_us: u64,
    af: u32,
    pid: u32,
    uid: u32,
    sport: u16,
    dport: u16,
}

fn main() {}
