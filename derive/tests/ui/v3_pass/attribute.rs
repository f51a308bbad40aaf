// `#[ringview::event]`: `#[repr(C)]` and the casting derives added, the
// arguments passed to the derive; a `repr` of the type's own kept. No
// zerocopy path is named here (tests/attribute_only.rs builds such a crate
// without the dependency).
use ringview::{RingEvent, UnsafeReader};

#[ringview::event(btf = "../../btf/tools.bpf.o", name = "stack_event")]
struct StackEvent {
    pid: u32,
    tid: u32,
    ts: u64,
    comm: [u8; 16],
}

#[ringview::event(size = 13)]
#[repr(C, packed)]
struct Packed {
    tag: u8,
    value: u32,
    wide: u64,
}

#[ringview::event(btf = "../../btf/tools.bpf.o", name = "addr", omit = ["v4"])]
union V6 {
    v6: [u8; 16],
}

#[ringview::event(tag = "pid: u32")]
enum Event<'a> {
    #[ring_event(tag = 1)]
    Stack(&'a StackEvent),
}

fn read(reader: &mut UnsafeReader<StackEvent>) -> Option<u32> {
    reader.try_read().ok().flatten().map(|e| e.pid)
}

fn main() {
    assert_eq!(StackEvent::SIZE, 32);
    assert_eq!(Packed::SIZE, 13);
    assert_eq!(V6::SIZE, 16);
    let _ = (read, |b: &[u8]| <Event<'_> as ringview::TaggedEvent>::from_record(b).is_ok());
}
