// C members named like Rust keywords, in messages: a nested type without
// the raw field, a keyword field of the wrong size, and a member no Rust
// field can be named after (`self`).
use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 48)]
struct Func {
    name: [u8; 16],
    module: [u8; 16],
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
    r#type: u16,
    #[ring_event(padding)]
    _pad: u16,
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

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 8)]
struct SelfPair {
    self_: u32,
    krate: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "self_event")]
struct SelfEvent {
    pid: u32,
    pair: SelfPair,
}

fn main() {}
