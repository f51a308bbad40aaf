//! The typed paths over arbitrary records: `read::<T>`, `read_as::<T>`,
//! `read_with_tail::<H>`, `read_tagged::<E>` and a batch's `next::<T>`.
//!
//! The records come from the in-memory ring's kernel-identical producer,
//! with arbitrary lengths and bytes. Must hold: no panic; a record at least
//! as long as the type is read as its first bytes (and a tail as exactly the
//! rest); a shorter one is `RecordTooShort` with both sizes, its bytes in
//! `rejected()`, and the next read moves on; an unknown tag is `UnknownTag`
//! naming it; every record is accounted for, in order.
//!
//! Input: a list of `[mode, len, bytes...]`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringview::testing::MemoryRing;
use ringview::{ReadError, Reader, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

#[derive(Debug, FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Exec {
    kind: u32,
    pid: u32,
    seq: u64,
    comm: [u8; 16],
}

#[derive(Debug, FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Exit {
    kind: u32,
    code: i32,
    seq: u64,
}

#[derive(Debug, FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Header {
    seq: u64,
    tail_len: u32,
    pad: u32,
}

#[derive(Debug, RingEvent)]
#[ring_event(tag = "kind: u32")]
enum Event<'a> {
    #[ring_event(tag = 1)]
    Exec(&'a Exec),
    #[ring_event(tag = 2)]
    Exit(&'a Exit),
}

/// Checks a typed outcome for `record`, the bytes submitted.
fn short<T>(result: &ReadError, record: &[u8]) {
    match result {
        ReadError::RecordTooShort { len, expected, .. } => {
            assert_eq!(*len, record.len());
            assert_eq!(*expected, std::mem::size_of::<T>());
            assert!(record.len() < std::mem::size_of::<T>());
        }
        other => panic!(
            "unexpected {other:?} for a record of {} bytes",
            record.len()
        ),
    }
}

fuzz_target!(|input: &[u8]| {
    let ring = MemoryRing::new(4096).expect("ring");
    // Split the input into records, submitted while they fit.
    let mut records: Vec<(u8, &[u8])> = Vec::new();
    let mut rest = input;
    while rest.len() >= 2 {
        let (mode, len) = (rest[0], usize::from(rest[1]) % 80);
        let len = len.min(rest.len() - 2);
        let bytes = &rest[2..2 + len];
        rest = &rest[2 + len..];
        if ring.output(bytes, 0).is_err() {
            break;
        }
        records.push((mode, bytes));
    }

    if input.first().is_some_and(|b| b & 1 == 1) {
        // The copying reader's typed read.
        let mut reader = Reader::new(ring.ring_buf()).expect("reader");
        for &(_, record) in &records {
            match reader.read_as::<Exec>() {
                Ok(exec) => assert_eq!(exec.as_bytes(), &record[..32]),
                Err(e) => {
                    short::<Exec>(&e, record);
                    assert_eq!(reader.rejected(), record);
                }
            }
        }
        assert!(reader.try_read().expect("empty").is_none());
        return;
    }

    // SAFETY: the reader is this ring's only consumer.
    let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.expect("reader");
    let mut i = 0;
    while i < records.len() {
        let (mode, record) = records[i];
        match mode % 4 {
            0 => match reader.read::<Exit>() {
                Ok(exit) => assert_eq!(exit.as_bytes(), &record[..16]),
                Err(e) => {
                    short::<Exit>(&e, record);
                    assert_eq!(reader.rejected(), Some(record));
                }
            },
            1 => match reader.read_with_tail::<Header>() {
                Ok((header, tail)) => {
                    assert_eq!(header.as_bytes(), &record[..16]);
                    assert_eq!(tail, &record[16..]);
                }
                Err(e) => {
                    short::<Header>(&e, record);
                    assert_eq!(reader.rejected(), Some(record));
                }
            },
            2 => {
                let kind = record
                    .get(..4)
                    .map(|b| u32::from_ne_bytes(b.try_into().unwrap()));
                match reader.read_tagged::<Event>() {
                    Ok(Event::Exec(exec)) => {
                        assert_eq!(kind, Some(1));
                        assert_eq!(exec.as_bytes(), &record[..32]);
                    }
                    Ok(Event::Exit(exit)) => {
                        assert_eq!(kind, Some(2));
                        assert_eq!(exit.as_bytes(), &record[..16]);
                    }
                    Err(ReadError::UnknownTag { tag, len, .. }) => {
                        assert_eq!(Some(tag as u32), kind);
                        assert!(tag != 1 && tag != 2);
                        assert_eq!(len, record.len());
                        assert_eq!(reader.rejected(), Some(record));
                    }
                    Err(ReadError::RecordTooShort { len, .. }) => {
                        assert_eq!(len, record.len());
                        let needed = match kind {
                            Some(1) => 32,
                            Some(2) => 16,
                            _ => 4,
                        };
                        assert!(len < needed, "{len} bytes of kind {kind:?} refused");
                        assert_eq!(reader.rejected(), Some(record));
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
            _ => {
                // A batch reading this record and the ones after it of the
                // same mode, as `Exit` views.
                let batch = reader.try_batch().expect("batch").expect("records ready");
                while i < records.len() && records[i].0 % 4 == 3 {
                    let record = records[i].1;
                    match batch.next::<Exit>() {
                        Ok(Some(exit)) => assert_eq!(exit.as_bytes(), &record[..16]),
                        Ok(None) => panic!("record {i} missing from the batch"),
                        Err(e) => {
                            short::<Exit>(&e, record);
                            assert_eq!(batch.rejected(), Some(record));
                        }
                    }
                    i += 1;
                }
                batch.commit();
                continue;
            }
        }
        i += 1;
    }
    assert!(reader.try_read::<[u8]>().expect("empty").is_none());
});
