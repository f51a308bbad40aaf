use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(Clone, Copy, Immutable, KnownLayout)]
#[repr(u32)]
enum State {
    Idle = 0,
    Running = 7,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct WithEnum {
    state: State,
    pid: u32,
}

fn main() {}
