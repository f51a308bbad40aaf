use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct ExecEvent {
    pid: u32,
    kind: u32,
}

#[derive(RingEvent)]
#[ring_event(tag = "kind: u32")]
enum Event<'a> {
    #[ring_event(tag = 1)]
    Exec(&'a ExecEvent),
    #[ring_event(tag = 1)]
    Again(&'a ExecEvent),
    Untagged(&'a ExecEvent),
}

#[derive(RingEvent)]
enum NoTag<'a> {
    #[ring_event(tag = 1)]
    Exec(&'a ExecEvent),
}

fn main() {}
