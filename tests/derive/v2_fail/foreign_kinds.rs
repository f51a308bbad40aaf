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
    btf = "../../../tests/derive/btf/tools.bpf.o",
    name = "nested_event"
);

fn main() {}
