use ringview::{RingEvent, TaggedEvent};
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct ExecEvent {
    kind: u32,
    pid: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct ExitEvent {
    kind: u32,
    code: i32,
    ts: u64,
}

#[derive(RingEvent)]
#[ring_event(tag = "kind: u32")]
enum Event<'a> {
    #[ring_event(tag = 1)]
    Exec(&'a ExecEvent),
    #[ring_event(tag = 2)]
    Exit(&'a ExitEvent),
}

fn main() {
    let mut bytes = [0u64; 2];
    bytes[0] = 1 | (7 << 32);
    let raw: &[u8] = zerocopy::IntoBytes::as_bytes(&bytes[..]);
    match Event::from_record(raw).unwrap() {
        Event::Exec(exec) => assert_eq!(exec.pid, 7),
        Event::Exit(_) => panic!("tag 1 is Exec"),
    }
    bytes[0] = 9;
    let raw: &[u8] = zerocopy::IntoBytes::as_bytes(&bytes[..]);
    assert!(matches!(
        Event::from_record(raw),
        Err(ringview::ReadError::UnknownTag { tag: 9, len: 16, .. })
    ));
}
