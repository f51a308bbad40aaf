// `check_layout!` on a type with a float where C has an integer, and the
// reverse: the macro cannot see the field types, so the compiler tells.
#[allow(non_camel_case_types)]
mod types {
    #[repr(C)]
    pub struct point {
        pub x: u32,
        pub y: u32,
    }

    #[repr(C)]
    pub struct segment {
        pub from: point,
        pub to: point,
    }

    // `ratio` and `count` swapped in kind: `float ratio` as a `u32`,
    // `__u32 count` as an `f32`.
    #[repr(C)]
    pub struct nested_event {
        pub kind: u8,
        pub _pad: [u8; 3],
        pub seg: segment,
        pub pts: [point; 2],
        pub ratio: u32,
        pub count: f32,
        pub name: [u8; 16],
        pub daddr: u32,
    }
}

ringview::check_layout!(
    types::nested_event,
    btf = "../../btf/tools.bpf.o",
    name = "nested_event"
);

// The same with zerocopy's byte-order numbers: an `F32` is a float, a `U32`
// an integer.
#[allow(non_camel_case_types)]
mod byte_order {
    use zerocopy::byteorder::{BigEndian, F32, U32};

    #[repr(C)]
    pub struct nested_event {
        pub kind: u8,
        pub _pad: [u8; 3],
        pub seg: super::types::segment,
        pub pts: [super::types::point; 2],
        pub ratio: U32<BigEndian>,
        pub count: F32<BigEndian>,
        pub name: [u8; 16],
        pub daddr: u32,
    }
}

ringview::check_layout!(
    byte_order::nested_event,
    btf = "../../btf/tools.bpf.o",
);

fn main() {}
