//! Typed zero-copy reading against real rings: records with variable-length
//! tails (from `bpf_ringbuf_output`) and rings that interleave event types
//! (a tagged enum of views).

mod common;

use std::time::{Duration, Instant};

use common::EventsProducer;
use ringview::{ReadError, RingBuf, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

const OBJ: &str = "tests/bpf/events.bpf.o";

#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "tests/bpf/events.bpf.o", name = "exec_event")]
struct ExecEvent {
    kind: u32,
    pid: u32,
    seq: u64,
    comm: [u8; 16],
}

#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "tests/bpf/events.bpf.o", name = "exit_event")]
struct ExitEvent {
    kind: u32,
    code: i32,
    seq: u64,
}

#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "tests/bpf/events.bpf.o", name = "tail_header")]
struct TailHeader {
    seq: u64,
    tail_len: u32,
    #[ring_event(rename = "_pad")]
    pad: u32,
}

#[derive(Debug, RingEvent)]
#[ring_event(tag = "kind: u32")]
enum Event<'a> {
    #[ring_event(tag = 1)]
    Exec(&'a ExecEvent),
    #[ring_event(tag = 2)]
    Exit(&'a ExitEvent),
}

fn untyped(producer: &EventsProducer) -> UnsafeReader {
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: each test's ring has this reader as its only consumer.
    let mut reader = unsafe { UnsafeReader::new(ring) }.unwrap();
    reader.set_deadline(Some(Instant::now() + Duration::from_secs(10)));
    reader
}

#[test]
fn tails_are_exactly_the_submitted_bytes() {
    require_kernel!();
    assert!(std::path::Path::new(OBJ).is_file());
    let producer = EventsProducer::new();
    let mut reader = untyped(&producer);
    producer.run("tails", 200, 0, 0);
    for seq in 0..200u64 {
        let (header, tail) = reader.read_with_tail::<TailHeader>().unwrap();
        assert_eq!(header.seq, seq);
        assert_eq!(header.tail_len as u64, seq % 23);
        let expected: Vec<u8> = (0..seq % 23).map(|j| ((seq + j) & 0xff) as u8).collect();
        assert_eq!(tail, &expected[..], "tail of record {seq}");
    }
}

#[test]
fn a_tagged_enum_reads_interleaved_event_types() {
    require_kernel!();
    let producer = EventsProducer::new();
    let mut reader = untyped(&producer);
    producer.run("interleave", 300, 0, 0);
    let (mut execs, mut exits) = (0, 0);
    for seq in 0..300u64 {
        match reader.read_tagged::<Event>().unwrap() {
            Event::Exec(exec) => {
                assert_eq!(seq % 2, 0);
                assert_eq!((exec.seq, u64::from(exec.pid)), (seq, seq * 3));
                assert_eq!(exec.comm[0], b'a' + (seq % 26) as u8);
                execs += 1;
            }
            Event::Exit(exit) => {
                assert_eq!(seq % 2, 1);
                assert_eq!((exit.seq, i64::from(exit.code)), (seq, -(seq as i64)));
                exits += 1;
            }
        }
    }
    assert_eq!((execs, exits), (150, 150));
}

#[test]
fn an_unknown_tag_is_an_error_with_the_bytes_reachable() {
    require_kernel!();
    let producer = EventsProducer::new();
    let mut reader = untyped(&producer);
    producer.run("interleave", 10, 1, 5); // seq 5 and 10 are unknown (99)
    let mut unknown = 0;
    for seq in 1..11u64 {
        match reader.read_tagged::<Event>() {
            Ok(Event::Exec(e)) => assert_eq!(e.seq, seq),
            Ok(Event::Exit(e)) => assert_eq!(e.seq, seq),
            Err(ReadError::UnknownTag { tag, len, .. }) => {
                assert_eq!(seq % 5, 0);
                assert_eq!((tag, len), (99, 16));
                let bytes = reader.rejected().expect("rejected bytes");
                assert_eq!(u64::from_ne_bytes(bytes[8..16].try_into().unwrap()), seq);
                unknown += 1;
            }
            Err(other) => panic!("record {seq}: {other}"),
        }
    }
    assert_eq!(unknown, 2);
}

#[test]
fn a_typed_reader_views_btf_checked_events() {
    require_kernel!();
    let producer = EventsProducer::new();
    let ring = RingBuf::new(producer.ring_fd()).unwrap();
    // SAFETY: this reader is the ring's only consumer.
    let mut reader = unsafe { UnsafeReader::<ExitEvent>::new(ring) }.unwrap();
    producer.run("interleave", 4, 1, 0); // 1, 3: exits; 2, 4: execs (24 bytes)
    let first = reader.read().unwrap();
    assert_eq!((first.kind, first.seq), (2, 1));
    assert_eq!(ExitEvent::SIZE, 16);
    assert_eq!(ExecEvent::SIZE, 32);
}
