use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

// Without BTF: no implicit padding, explicit size.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(size = 16)]
struct Event {
    pid: u32,
    cpu: u32,
    ts: u64,
}

// A C enum as a transparent newtype.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(transparent)]
struct State(u32);

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct WithState {
    state: State,
    flags: u32,
}

fn main() {
    assert_eq!(Event::SIZE, 16);
    assert_eq!(WithState::SIZE, 8);
}
