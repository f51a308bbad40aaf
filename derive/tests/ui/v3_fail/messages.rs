// Messages that name the Rust type to write: `[u8; 16]` for `char comm[16]`,
// `[u64; 2]` for `unsigned __int128`; a float-kind error at expansion and an
// element-size error the compiler finds, reported in one build.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "wide_event")]
struct WideEvent {
    pid: f32,
    op: u32,
    comm: [u16; 8],
    path: [u8; 16],
    value: u64,
    #[ring_event(padding)]
    _rest: u64,
}

fn main() {}
