// Types the user cannot put a derive on, checked with `check_layout!` and
// `ring_event!`.
use ringview::{RingEvent, View};
use zerocopy::{FromBytes, Immutable, KnownLayout};

// What libbpf-cargo generates into a skeleton's `types` module: C names,
// anonymous unions as `__anon_N` fields, no casting traits.
#[allow(non_camel_case_types)]
mod types {
    #[derive(Debug, Default, Copy, Clone)]
    #[repr(C)]
    pub struct stack_event {
        pub pid: u32,
        pub tid: u32,
        pub ts: u64,
        pub comm: [u8; 16],
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct conn_event {
        pub pid: u32,
        pub family: u16,
        pub port: u16,
        pub __anon_1: __anon_1,
        pub __anon_2: __anon_2,
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub union __anon_1 {
        pub saddr_v4: u32,
        pub saddr_v6: [u8; 16],
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub union __anon_2 {
        pub daddr_v4: u32,
        pub daddr_v6: [u8; 16],
    }
}

// The cast is bytemuck's, on the user's side.
// SAFETY: plain integers and byte arrays, no padding.
unsafe impl bytemuck::Zeroable for types::stack_event {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for types::stack_event {}

ringview::check_layout!(
    types::stack_event,
    btf = "../../btf/tools.bpf.o",
    name = "stack_event"
);
// The members in anonymous unions, each arm at its offset and of its size,
// through the fields holding the unions.
ringview::check_layout!(
    types::conn_event,
    btf = "../../btf/tools.bpf.o",
    anon = ["__anon_1", "__anon_2"],
);

// A union of anonymous structs: each struct member by member.
#[allow(non_camel_case_types)]
mod mount_types {
    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct mount_event {
        pub op: u32,
        pub pid: u32,
        pub __anon_1: __anon_1,
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub union __anon_1 {
        pub mount: __anon_2,
        pub umount: __anon_3,
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct __anon_2 {
        pub flags: u64,
        pub source: [u8; 16],
        pub target: [u8; 16],
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct __anon_3 {
        pub flags: u64,
        pub target: [u8; 16],
    }
}

ringview::check_layout!(
    mount_types::mount_event,
    btf = "../../btf/tools.bpf.o",
    anon = ["__anon_1"]
);

// What an aya `-common` crate keeps: the event types, shared with the BPF
// side, with the casting traits but no ringview derive.
mod common {
    use zerocopy::{FromBytes, Immutable, KnownLayout};

    #[derive(FromBytes, Immutable, KnownLayout)]
    #[repr(C)]
    pub struct Point {
        pub x: u32,
        pub y: u32,
    }

    #[derive(FromBytes, Immutable, KnownLayout)]
    #[repr(C)]
    pub struct Segment {
        pub from: Point,
        pub to: Point,
    }

    #[derive(FromBytes, Immutable, KnownLayout)]
    #[repr(C)]
    pub struct NestedEvent {
        pub kind: u8,
        pub _pad: [u8; 3],
        pub seg: Segment,
        pub pts: [Point; 2],
        pub ratio: f32,
        pub count: u32,
        pub name: [u8; 16],
        pub daddr: u32,
    }
}

// Nested members are checked by name all the way down.
// SAFETY: integers, a float, byte arrays and structs of integers, no
// padding: every bit pattern is valid.
ringview::ring_event!(
    unsafe impl for common::NestedEvent,
    btf = "../../btf/tools.bpf.o",
    name = "nested_event",
);

#[derive(FromBytes, Immutable, KnownLayout, zerocopy::IntoBytes)]
#[repr(C)]
struct Aligned([u64; 8]);

// Floats where C has floats, integers and byte-order wrappers where it has
// integers.
#[allow(non_camel_case_types)]
mod kinds {
    #[repr(C)]
    pub struct point {
        pub x: u32,
        pub y: i32,
    }

    #[repr(C)]
    pub struct segment {
        pub from: point,
        pub to: point,
    }

    #[repr(C)]
    pub struct nested_event {
        pub kind: u8,
        pub _pad: [u8; 3],
        pub seg: segment,
        pub pts: [point; 2],
        pub ratio: f32,
        pub count: u32,
        pub name: [i8; 16],
        pub daddr: zerocopy::byteorder::U32<zerocopy::byteorder::BigEndian>,
    }

    // zerocopy's floats where C has a float, however they are spelled.
    pub type Ratio = zerocopy::F32<zerocopy::LE>;

    #[repr(C)]
    pub struct nested_event_be {
        pub kind: u8,
        pub _pad: [u8; 3],
        pub seg: segment,
        pub pts: [point; 2],
        pub ratio: Ratio,
        pub count: zerocopy::U32<zerocopy::BigEndian>,
        pub name: [u8; 16],
        pub daddr: u32,
    }
}

ringview::check_layout!(
    kinds::nested_event,
    btf = "../../btf/tools.bpf.o"
);
ringview::check_layout!(
    kinds::nested_event_be,
    btf = "../../btf/tools.bpf.o",
    name = "nested_event"
);

fn main() {
    let raw = [0u8; 32];
    let event: &types::stack_event = bytemuck::from_bytes(&raw);
    assert_eq!(event.pid, 0);

    assert_eq!(common::NestedEvent::SIZE, 64);
    assert_eq!(common::NestedEvent::C_NAME, "nested_event");
    let record = Aligned([0x0101_0101_0101_0101; 8]);
    let bytes = zerocopy::IntoBytes::as_bytes(&record);
    let event = common::NestedEvent::view(bytes).unwrap();
    assert_eq!(event.seg.to.y, 0x0101_0101);
    assert!(common::NestedEvent::view(&bytes[..63]).is_err());
}
