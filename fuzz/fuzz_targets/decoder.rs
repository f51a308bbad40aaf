//! The decoder over a ring whose data area and positions are arbitrary
//! bytes (`MemoryRing::from_raw_parts`), read through every reader.
//!
//! Must hold: no panic, no access outside the ring (Address Sanitizer), no
//! endless loop (every call returns; a ring of `size` bytes yields at most
//! `size / 8` records); every outcome is a record or an error; each record
//! lies wholly between the consumer and producer positions, its header says
//! its length and is neither BUSY nor DISCARD, and its bytes are the ring's
//! bytes at that place.
//!
//! Input: `[size exponent, reader, consumer_pos: 8, producer: 8, data...]`.
//! The producer position is `consumer_pos + (u16 from the producer bytes)`
//! unless bit 7 of the reader byte asks for all 8 bytes as-is.

#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use ringview::testing::MemoryRing;
use ringview::{ReadError, Reader, Record, UnsafeReader};

const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;

struct Ring<'a> {
    size: usize,
    data: &'a [u8],
    consumer: usize,
    producer: usize,
}

impl Ring<'_> {
    /// The byte at data offset `at` (any position), as the ring holds it.
    fn byte(&self, at: usize) -> u8 {
        self.data.get(at & (self.size - 1)).copied().unwrap_or(0)
    }

    fn word(&self, at: usize) -> u32 {
        u32::from_le_bytes(std::array::from_fn(|i| self.byte(at.wrapping_add(i))))
    }

    /// Checks a record handed out whose stride ends at `end`.
    fn check(&self, bytes: &[u8], end: usize) {
        let len = bytes.len();
        let stride = (len + 8 + 7) & !7;
        assert!(
            len + 8 <= self.size,
            "record of {len} bytes in a {}-byte ring",
            self.size
        );
        let start = end.wrapping_sub(stride);
        let avail = self.producer.wrapping_sub(self.consumer);
        assert!(
            start.wrapping_sub(self.consumer) <= avail
                && end.wrapping_sub(self.consumer) <= avail
                && start.wrapping_sub(self.consumer) <= end.wrapping_sub(self.consumer),
            "record [{start:#x}, {end:#x}) outside [{:#x}, {:#x})",
            self.consumer,
            self.producer
        );
        let header = self.word(start);
        assert_eq!(header & BUSY, 0, "a BUSY record handed out");
        assert_eq!(header & DISCARD, 0, "a discarded record handed out");
        assert_eq!(header as usize, len, "length differs from the header's");
        for (i, &b) in bytes.iter().enumerate() {
            assert_eq!(
                b,
                // Positions are free-running: a record may start just
                // below `usize::MAX` and end past zero.
                self.byte(start.wrapping_add(8 + i)),
                "byte {i} of the record at {start:#x}"
            );
        }
    }
}

fn drain(ring: &Ring<'_>, memory: &MemoryRing, mode: u8) {
    // Each record takes at least 8 bytes of at most `size` available ones.
    let bound = ring.size / 8 + 2;
    match mode % 6 {
        0 => {
            let Ok(mut reader) = Reader::new(memory.ring_buf()) else {
                return;
            };
            let mut record = Record::default();
            for _ in 0..bound {
                match reader.try_read_into(&mut record) {
                    Ok(true) => ring.check(&record.sample, reader.positions().read as usize),
                    Ok(false) | Err(_) => return,
                }
            }
            panic!("more records than the ring can hold");
        }
        1 => {
            let Ok(mut reader) = Reader::new(memory.ring_buf()) else {
                return;
            };
            // A deadline already passed: a blocking read that must not block.
            reader.set_deadline(Some(Instant::now()));
            for _ in 0..bound {
                match reader.read() {
                    Ok(record) => ring.check(&record.sample, reader.positions().read as usize),
                    Err(ReadError::DeadlineExceeded) | Err(_) => return,
                }
            }
            panic!("more records than the ring can hold");
        }
        2 | 3 => {
            // SAFETY: the reader is this ring's only consumer.
            let Ok(mut reader) = (unsafe { UnsafeReader::<[u8]>::new(memory.ring_buf()) }) else {
                return;
            };
            if mode % 6 == 3 {
                reader.set_deadline(Some(Instant::now()));
            }
            for _ in 0..bound {
                let result = if mode % 6 == 2 {
                    reader.try_read::<[u8]>().map(|r| r.map(<[u8]>::to_vec))
                } else {
                    reader.read::<[u8]>().map(|r| Some(r.to_vec()))
                };
                match result {
                    Ok(Some(bytes)) => ring.check(&bytes, reader.positions().read as usize),
                    Ok(None) | Err(_) => return,
                }
            }
            panic!("more records than the ring can hold");
        }
        4 => {
            // SAFETY: the reader is this ring's only consumer.
            let Ok(mut reader) = (unsafe { UnsafeReader::<[u8]>::new(memory.ring_buf()) }) else {
                return;
            };
            let mut seen = 0;
            for _ in 0..bound {
                match reader.try_batch() {
                    Ok(Some(batch)) => {
                        let mut n = 0;
                        while let Ok(Some(view)) = batch.next::<[u8]>() {
                            assert!(view.len() + 8 <= ring.size);
                            n += 1;
                            seen += 1;
                            assert!(seen <= bound, "more records than the ring can hold");
                        }
                        batch.commit();
                        if n == 0 {
                            return;
                        }
                    }
                    Ok(None) | Err(_) => return,
                }
            }
            panic!("more batches than the ring can hold");
        }
        _ => {
            // SAFETY: the reader is this ring's only consumer.
            let Ok(mut reader) = (unsafe { UnsafeReader::<[u8]>::new(memory.ring_buf()) }) else {
                return;
            };
            let mut seen = 0usize;
            for _ in 0..bound {
                let got = reader.try_read_func(|view: &[u8], _| {
                    assert!(view.len() + 8 <= ring.size);
                    seen += 1;
                });
                assert!(seen <= bound, "more records than the ring can hold");
                match got {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
            panic!("more calls than the ring can hold records");
        }
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 18 {
        return;
    }
    let size = 16usize << (input[0] % 9);
    let mode = input[1];
    let consumer = u64::from_le_bytes(input[2..10].try_into().unwrap()) as usize;
    let raw_producer = u64::from_le_bytes(input[10..18].try_into().unwrap());
    let producer = if mode & 0x80 != 0 {
        raw_producer as usize
    } else {
        consumer.wrapping_add(raw_producer as u16 as usize)
    };
    let data = &input[18..];
    let memory = MemoryRing::from_raw_parts(size, consumer, producer, data).expect("ring");
    let ring = Ring {
        size,
        data: &data[..data.len().min(size)],
        consumer,
        producer,
    };
    drain(&ring, &memory, mode & 0x7f);
});
