//! A ring of a BPF object loaded by libbpf-rs, read by ringview: the map
//! descriptor libbpf-rs hands out (`Map: AsFd`) is all `RingBuf::new`
//! needs. The producer is the kernel tests' own (`tests/bpf/producer.bpf.c`),
//! run through `BPF_PROG_TEST_RUN` with libbpf-rs.

use libbpf_rs::{MapCore, ObjectBuilder, ProgramInput};
use ringview::{Reader, RingBuf, UnsafeReader};

const PRODUCER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/bpf/producer.bpf.o"
);

/// Fails without CAP_BPF unless the user asked to skip kernel tests.
fn kernel_available() -> bool {
    if std::env::var("RINGVIEW_SKIP_KERNEL_TESTS").as_deref() == Ok("1") {
        eprintln!("RINGVIEW_SKIP_KERNEL_TESTS=1: skipping a kernel test");
        return false;
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).expect("CapEff is hex"))
        .expect("CapEff in /proc/self/status");
    assert!(
        cap_eff & (1 << 39) != 0 || cap_eff & (1 << 21) != 0,
        "kernel tests need CAP_BPF (run them as root), which this process lacks; \
         set RINGVIEW_SKIP_KERNEL_TESTS=1 to skip them"
    );
    true
}

/// Runs the producer once: `count` records of `size` bytes from `seq`.
fn emit(object: &libbpf_rs::Object, count: u32, size: u32, seq: u64) -> u32 {
    let prog = object
        .progs_mut()
        .find(|p| p.name() == "produce")
        .expect("program produce");
    let mut packet = [0u8; 64];
    packet[0..4].copy_from_slice(&count.to_ne_bytes());
    packet[4..8].copy_from_slice(&size.to_ne_bytes());
    packet[8..16].copy_from_slice(&seq.to_ne_bytes());
    let mut out = [0u8; 64];
    let input = ProgramInput {
        data_in: Some(&packet),
        data_out: Some(&mut out),
        ..Default::default()
    };
    let output = prog.test_run(input).expect("BPF_PROG_TEST_RUN");
    assert_eq!(output.return_value, 2, "XDP_PASS");
    u32::from_ne_bytes(out[28..32].try_into().unwrap())
}

#[test]
fn ringview_reads_a_ring_that_libbpf_rs_loaded() {
    if !kernel_available() {
        return;
    }
    let object = ObjectBuilder::default()
        .open_file(PRODUCER)
        .expect("open producer.bpf.o")
        .load()
        .expect("load producer.bpf.o");
    let map = object.maps().find(|m| m.name() == "rb").expect("map rb");

    // Zero-copy views, typed as raw bytes here.
    let ring = RingBuf::new(&map).expect("ringview maps libbpf-rs's map");
    assert_eq!(ring.buffer_size(), map.max_entries() as usize);
    // SAFETY: nothing outside this library consumes the ring.
    let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.expect("reader");
    assert_eq!(emit(&object, 100, 32, 0), 100);
    for seq in 0..100u64 {
        let record = reader.try_read::<[u8]>().unwrap().expect("a record");
        assert_eq!(record.len(), 32);
        assert_eq!(u64::from_le_bytes(record[..8].try_into().unwrap()), seq);
    }
    assert!(reader.try_read::<[u8]>().unwrap().is_none());
    drop(reader);

    // The copying reader, on a second mapping of the same map, goes on
    // where the first stopped.
    let mut reader = Reader::new(RingBuf::new(&map).unwrap()).expect("reader");
    assert_eq!(emit(&object, 10, 9, 100), 10);
    for seq in 100..110u64 {
        let record = reader.try_read().unwrap().expect("a record");
        assert_eq!(record.sample.len(), 9);
        assert_eq!(
            u64::from_le_bytes(record.sample[..8].try_into().unwrap()),
            seq
        );
    }
}
