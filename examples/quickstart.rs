//! Loads a BPF producer, makes it emit typed events into a ring buffer, and
//! reads them as zero-copy views, then with the copying reader.
//!
//! Run as root (or with CAP_BPF): `cargo run --example quickstart`.
//!
//! The producer is `tests/bpf/producer.bpf.c`, an XDP program driven through
//! `BPF_PROG_TEST_RUN`: each run emits `count` records of `size` bytes that
//! start with a sequence number.

mod common;

use std::error::Error;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use aya::maps::Map;
use aya::programs::{TestRun, TestRunOptions, Xdp};
use aya::EbpfLoader;
use ringview::{Reader, RingBuf, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// One record of the producer, as it lays it out.
#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Sample {
    seq: u64,
    pattern: [u8; 24],
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut ebpf = EbpfLoader::new()
        .map_max_entries("rb", 64 * 1024)
        .load(include_bytes!("../tests/bpf/producer.bpf.o"))
        .map_err(|e| common::context("loading producer.bpf.o", e))?;
    let program: &mut Xdp = ebpf
        .program_mut("produce")
        .ok_or("no program")?
        .try_into()?;
    program
        .load()
        .map_err(|e| common::context("loading the program `produce`", e))?;

    let Some(Map::RingBuf(map)) = ebpf.map("rb") else {
        return Err("no ring buffer map `rb`".into());
    };
    let ring = RingBuf::new(map.fd().as_fd())?;
    println!("mapped a {} KiB ring", ring.buffer_size() / 1024);

    // Ask the producer for 5 records of 32 bytes, sequence numbers 100..105.
    let program: &Xdp = ebpf.program("produce").ok_or("no program")?.try_into()?;
    run_producer(program, 5, 32, 100)?;

    // SAFETY: this process is the ring's only consumer.
    let mut reader = unsafe { UnsafeReader::<Sample>::new(ring)? };
    reader.set_deadline(Some(Instant::now() + Duration::from_secs(1)));
    let seen = reader.read_func(|sample, remaining| {
        println!(
            "zero-copy view: seq {} pattern {:02x?}.. ({remaining} bytes after it)",
            sample.seq,
            &sample.pattern[..4]
        );
    })?;
    println!("read {seen} records in place");
    drop(reader);

    // The copying reader, on a second mapping of the same map.
    let mut reader = Reader::new(RingBuf::new(map.fd().as_fd())?)?;
    run_producer(program, 2, 32, 200)?;
    reader.set_deadline(Some(Instant::now() + Duration::from_secs(1)));
    for _ in 0..2 {
        let sample: Sample = reader.read_as()?;
        println!("copied: seq {}", sample.seq);
    }
    Ok(())
}

fn run_producer(program: &Xdp, count: u32, size: u32, seq: u64) -> Result<(), Box<dyn Error>> {
    let mut packet = [0u8; 64];
    packet[0..4].copy_from_slice(&count.to_ne_bytes());
    packet[4..8].copy_from_slice(&size.to_ne_bytes());
    packet[8..16].copy_from_slice(&seq.to_ne_bytes());
    program.test_run(TestRunOptions {
        data_in: Some(&packet),
        ..TestRunOptions::new()
    })?;
    Ok(())
}
