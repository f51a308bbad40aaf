// C members named like Rust keywords: raw fields at the top level, and in
// nested types checked by C names (ksnoop's `struct func` has a member
// `mod`), in arrays of them, and through `#[ring_event(nested)]`.
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 48)]
struct Func {
    name: [u8; 16],
    r#mod: [u8; 16],
    nr_args: i32,
    flags: u32,
    ip: u64,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct Pair {
    r#type: u32,
    r#match: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "keyword_event")]
struct KeywordEvent {
    r#type: u32,
    r#mod: u32,
    r#match: u32,
    r#ref: u32,
    r#move: u32,
    r#fn: u32,
    r#impl: u32,
    r#priv: u32,
    r#override: u32,
    r#yield: u32,
    func: Func,
    pairs: [Pair; 2],
}

// The same through the nested types' own fields, one renamed.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct RenamedPair {
    #[ring_event(rename = "type")]
    kind: u32,
    r#match: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "keyword_event")]
struct NestedKeywordEvent {
    #[ring_event(rename = "type")]
    kind: u32,
    r#mod: u32,
    r#match: u32,
    r#ref: u32,
    r#move: u32,
    r#fn: u32,
    r#impl: u32,
    r#priv: u32,
    r#override: u32,
    r#yield: u32,
    #[ring_event(nested)]
    func: Func,
    #[ring_event(nested)]
    pairs: [RenamedPair; 2],
}

mod types {
    #[derive(zerocopy::FromBytes, zerocopy::Immutable, zerocopy::KnownLayout)]
    #[repr(C)]
    pub struct func {
        pub name: [u8; 16],
        pub r#mod: [u8; 16],
        pub nr_args: i32,
        pub flags: u32,
        pub ip: u64,
    }
}

// A generated type (libbpf-cargo spells keywords raw), by C names.
ringview::check_layout!(types::func, btf = "../../btf/v3.bpf.o");

fn main() {
    assert_eq!(KeywordEvent::SIZE, 104);
    assert_eq!(NestedKeywordEvent::SIZE, 104);
}
