//! With the `bytemuck` feature, an event deriving bytemuck's traits instead
//! of zerocopy's is read in place too; the layout checks are the same.
#![cfg(feature = "bytemuck")]

use ringview::testing::MemoryRing;
use ringview::{RingEvent, UnsafeReader};

#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable, RingEvent)]
#[repr(C)]
#[ring_event(btf = "tests/bpf/events.bpf.o", name = "exit_event")]
struct ExitEvent {
    kind: u32,
    code: i32,
    seq: u64,
}

#[test]
fn a_bytemuck_event_is_viewed_in_place() {
    let ring = MemoryRing::new(4096).unwrap();
    // SAFETY: the ring's only consumer.
    let mut reader = unsafe { UnsafeReader::<ExitEvent>::new(ring.ring_buf()) }.unwrap();
    let event = ExitEvent {
        kind: 2,
        code: -3,
        seq: 77,
    };
    ring.output(bytemuck::bytes_of(&event), 0).unwrap();
    let view = reader.read().unwrap();
    assert_eq!((view.kind, view.code, view.seq), (2, -3, 77));

    ring.output(&[0; 12], 0).unwrap();
    assert!(matches!(
        reader.read(),
        Err(ringview::ReadError::RecordTooShort {
            len: 12,
            expected: 16,
            ..
        })
    ));
}
