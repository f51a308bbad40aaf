// Nested helper types need nothing of their own: no `btf`, no `name` (an
// anonymous C struct has none to give), no padding fields over their
// implicit padding. The event that nests them checks them against C, by C
// names or through their own fields.
use ringview::{RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

// `struct tagged { __u8 tag; __u32 value; }`: 3 bytes of padding.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Tagged {
    tag: u8,
    value: u32,
}

// `struct { __u16 kind; __u64 at; } when;`: anonymous, 6 bytes of padding.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct When {
    kind: u16,
    at: u64,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../../btf/v3.bpf.o", name = "tagged_event")]
struct TaggedEvent {
    pid: u32,
    first: Tagged,
    #[ring_event(nested)]
    more: [Tagged; 2],
    #[ring_event(nested)]
    when: When,
}

// The checked event is read on its own; so is a struct without padding.
fn read(reader: &mut UnsafeReader<TaggedEvent>) -> Option<u32> {
    reader.try_read().ok().flatten().map(|e| e.first.value)
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Plain {
    a: u32,
    b: u32,
}

fn read_plain(reader: &mut UnsafeReader<Plain>) -> Option<u32> {
    reader.try_read().ok().flatten().map(|e| e.b)
}

fn main() {
    assert_eq!(TaggedEvent::SIZE, 48);
    let _ = (read, read_plain);
}
