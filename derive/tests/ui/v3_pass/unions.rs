// Rust unions standing for C unions, arm by arm: tcpconnect's two anonymous
// address unions, and mountsnoop's union of per-syscall argument structs
// (anonymous C structs, whose Rust types have no `btf` or `name` to give),
// one arm left out on purpose.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
union SAddr {
    saddr_v4: u32,
    saddr_v6: [u8; 16],
}

// The same arms under other names.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
union DAddr {
    #[ring_event(rename = "daddr_v4")]
    v4: u32,
    #[ring_event(rename = "daddr_v6")]
    v6: [u8; 16],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "tcp_event")]
struct TcpEvent {
    // `union { __u32 saddr_v4; __u8 saddr_v6[16]; };`
    #[ring_event(nested)]
    saddr: SAddr,
    #[ring_event(nested)]
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
struct Umount {
    dest: [u8; 32],
}

// Union arms are `Copy`.
#[derive(Clone, Copy, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Fsopen {
    fs: [u8; 8],
    flags: u32,
}

// Union arms are `Copy`.
#[derive(Clone, Copy, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Fsconfig {
    fd: i32,
    cmd: u32,
    key: [u8; 16],
    value: [u8; 16],
    aux: i32,
}

// Union arms are `Copy`.
#[derive(Clone, Copy, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Fsmount {
    fs_fd: i32,
    flags: u32,
    attr_flags: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(omit = ["move_mount"])]
union Args {
    mount: Mount,
    umount: Umount,
    fsopen: Fsopen,
    fsconfig: Fsconfig,
    fsmount: Fsmount,
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
    op: Op,
    comm: [u8; 16],
    #[ring_event(nested)]
    args: Args,
    #[ring_event(padding)]
    _tail: u32,
}

// A C enum as a `#[repr(transparent)]` newtype: it holds integers.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(transparent)]
struct Op(u32);

// A Rust union checked against a named C union, every arm present.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "addr")]
union Addr {
    v4: u32,
    v6: [u8; 16],
}

// One arm left out on purpose.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "addr", omit = ["v4"])]
union V6Only {
    v6: [u8; 16],
}

fn main() {
    assert_eq!(TcpEvent::SIZE, 72);
    assert_eq!(MountArgsEvent::SIZE, 144);
    assert_eq!(Addr::SIZE, 16);
    assert_eq!(V6Only::SIZE, 16);
}
