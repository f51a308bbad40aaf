// Unions checked arm by arm: a wrong arm of a Rust union (the kind, the
// element size), a union renamed to one arm, an arm neither matched nor
// omitted, an `omit` of no arm, and a wrong member inside an arm's struct.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
union SAddr {
    saddr_v4: f32,
    saddr_v6: [u32; 4],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
union DAddr {
    daddr_v4: f32,
    daddr_v6: [u32; 4],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "tcp_event")]
struct TcpEvent {
    #[ring_event(nested)]
    saddr: SAddr,
    // What passed before: renamed to one arm, the others never checked.
    #[ring_event(rename = "daddr_v6")]
    daddr: DAddr,
    task: [u8; 16],
    ts_us: u64,
    af: u32,
    pid: u32,
    uid: u32,
    sport: u16,
    dport: u16,
}

// Union arms are `Copy`.
#[derive(Clone, Copy, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Mount {
    src: [u8; 32],
    dest: [u8; 32],
    fs: [u8; 8],
    data: [u8; 16],
}

// Union arms are `Copy`.
#[derive(Clone, Copy, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Fsopen {
    fs: [u8; 8],
    flags: u16,
    #[ring_event(padding)]
    _pad: u16,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(omit = ["fsconfig", "fsmount", "movemount"])]
union Args {
    mount: Mount,
    fsopen: Fsopen,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "mount_args_event")]
struct MountArgsEvent {
    delta: u64,
    flags: u64,
    pid: u32,
    tid: u32,
    mnt_ns: u32,
    ret: i32,
    op: u32,
    comm: [u8; 16],
    #[ring_event(nested)]
    args: Args,
    #[ring_event(padding)]
    _tail: u32,
}

// A Rust union against a named C union: an arm missing, an `omit` of none.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "addr", omit = ["v8"])]
union Addr {
    v4: u32,
}

fn main() {}
