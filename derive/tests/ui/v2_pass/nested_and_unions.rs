use ringview::RingEvent;
use zerocopy::byteorder::{BigEndian, U32};
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "point")]
struct Point {
    x: u32,
    y: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 16)]
struct Segment {
    from: Point,
    to: Point,
}

// Nested structs checked member by member, at any depth.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "nested_event")]
struct NestedEvent {
    kind: u8,
    #[ring_event(padding)]
    _pad: [u8; 3],
    seg: Segment,
    pts: [Point; 2],
    ratio: f32,
    count: u32,
    name: [u8; 16],
    daddr: U32<BigEndian>,
}

// One arm of each anonymous union stands for the union; the bytes past a
// smaller arm are padding.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "conn_event")]
struct ConnEvent {
    pid: u32,
    family: u16,
    port: u16,
    saddr_v6: [u8; 16],
    #[ring_event(rename = "daddr_v4")]
    daddr: u32,
    #[ring_event(padding)]
    _daddr_rest: [u8; 12],
}

// A union of anonymous structs: a Rust struct for one arm.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 40)]
struct Mount {
    flags: u64,
    source: [u8; 16],
    target: [u8; 16],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "mount_event")]
struct MountEvent {
    op: u32,
    pid: u32,
    mount: Mount,
}

// A Rust union for a C union member, checked arm by arm.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "addr")]
union Addr {
    v4: u32,
    v6: [u8; 16],
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "addr_event")]
struct AddrEvent {
    pid: u32,
    family: u32,
    saddr: Addr,
}

// A C union as the record: a struct for one arm.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/tools.bpf.o", name = "sample")]
struct Sample {
    raw: [u64; 3],
}

fn main() {
    assert_eq!(NestedEvent::SIZE, 64);
    assert_eq!(ConnEvent::SIZE, 40);
    assert_eq!(MountEvent::SIZE, 48);
    assert_eq!(AddrEvent::SIZE, 24);
    assert_eq!(Sample::SIZE, 24);
}
