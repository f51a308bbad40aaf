use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct ExecEvent {
    pid: u32,
    kind: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct ExitEvent {
    kind: u16,
    code: u16,
}

#[derive(RingEvent)]
#[ring_event(tag = "kind: u32")]
enum Event<'a> {
    #[ring_event(tag = 1)]
    Exec(&'a ExecEvent),
    #[ring_event(tag = 2)]
    Exit(&'a ExitEvent),
}

fn main() {}
