//! Shared harness for the kernel tests: privilege check and the BPF test
//! producer (`tests/bpf/producer.bpf.c`) driven through BPF_PROG_TEST_RUN.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::os::fd::{AsFd, BorrowedFd};

use aya::maps::Map;
use aya::programs::{TestRun, TestRunOptions, Xdp};
use aya::{Ebpf, EbpfLoader};

pub const PRODUCER_OBJ: &[u8] = include_bytes!("../bpf/producer.bpf.o");

pub const BPF_RB_NO_WAKEUP: u64 = 1;
pub const BPF_RB_FORCE_WAKEUP: u64 = 2;

/// Returns `false` (skip) only when the user asked for it with
/// `RINGVIEW_SKIP_KERNEL_TESTS=1`; fails when CAP_BPF is missing.
pub fn kernel_available() -> bool {
    if std::env::var("RINGVIEW_SKIP_KERNEL_TESTS").as_deref() == Ok("1") {
        eprintln!("RINGVIEW_SKIP_KERNEL_TESTS=1: skipping a kernel test");
        return false;
    }
    const CAP_BPF: u32 = 39;
    const CAP_SYS_ADMIN: u32 = 21;
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).expect("CapEff is hex"))
        .expect("CapEff in /proc/self/status");
    assert!(
        cap_eff & (1 << CAP_BPF) != 0 || cap_eff & (1 << CAP_SYS_ADMIN) != 0,
        "kernel tests need CAP_BPF (run them as root), which this process lacks \
         (CapEff {cap_eff:#x}); set RINGVIEW_SKIP_KERNEL_TESTS=1 to skip them"
    );
    true
}

/// Skips the calling test when the user asked for it.
#[macro_export]
macro_rules! require_kernel {
    () => {
        if !$crate::common::kernel_available() {
            return;
        }
    };
}

/// Loads the XDP programs `names` of `ebpf`.
pub fn load_xdp(ebpf: &mut Ebpf, names: &[&str]) {
    for name in names {
        let prog: &mut Xdp = ebpf
            .program_mut(name)
            .unwrap_or_else(|| panic!("no program {name}"))
            .try_into()
            .unwrap_or_else(|e| panic!("{name} is not XDP: {e:?}"));
        prog.load().unwrap_or_else(|e| panic!("load {name}: {e:?}"));
    }
}

/// Runs XDP program `name` once through BPF_PROG_TEST_RUN with `packet` as
/// its input, checks it returned XDP_PASS, and returns the packet as the
/// program left it (the producers write their counters back into it).
pub fn run_xdp(ebpf: &Ebpf, name: &str, packet: &[u8; 64]) -> [u8; 64] {
    let mut out = [0u8; 64];
    let prog: &Xdp = ebpf
        .program(name)
        .unwrap_or_else(|| panic!("no program {name}"))
        .try_into()
        .unwrap_or_else(|e| panic!("{name} is not XDP: {e:?}"));
    let result = prog
        .test_run(TestRunOptions {
            data_in: Some(packet),
            data_out: Some(&mut out),
            ..TestRunOptions::new()
        })
        .expect("BPF_PROG_TEST_RUN");
    assert_eq!(result.return_value, 2, "{name} returned XDP_PASS");
    out
}

/// The descriptor of ring buffer map `name` of `ebpf`.
pub fn ring_fd<'a>(ebpf: &'a Ebpf, name: &str) -> BorrowedFd<'a> {
    match ebpf.map(name).unwrap_or_else(|| panic!("no map {name}")) {
        Map::RingBuf(data) => data.fd().as_fd(),
        other => panic!("{name} is not a ring buffer: {other:?}"),
    }
}

/// One loaded copy of the test producer, with its own ring.
pub struct Producer {
    ebpf: Ebpf,
}

/// What one test run emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    pub emitted: u32,
    pub failed: u32,
}

impl Producer {
    /// Loads the producer with a ring of `ring_size` bytes.
    pub fn new(ring_size: u32) -> Self {
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("rb", ring_size)
            .load(PRODUCER_OBJ)
            .expect("load producer.bpf.o");
        load_xdp(&mut ebpf, &["produce"]);
        Self { ebpf }
    }

    /// The ring map's descriptor.
    pub fn ring_fd(&self) -> BorrowedFd<'_> {
        ring_fd(&self.ebpf, "rb")
    }

    /// The array map's descriptor (not a ring).
    pub fn array_fd(&self) -> BorrowedFd<'_> {
        match self.ebpf.map("not_a_ring").expect("map not_a_ring") {
            Map::Array(data) => data.fd().as_fd(),
            other => panic!("not_a_ring is not an array: {other:?}"),
        }
    }

    pub fn map(&self, name: &str) -> &Map {
        self.ebpf.map(name).expect("map")
    }

    pub fn map_mut(&mut self, name: &str) -> &mut Map {
        self.ebpf.map_mut(name).expect("map")
    }

    /// Pins the ring in the BPF filesystem (mounted if it is not) at a
    /// path unique to this process and `tag`; unpinned on drop.
    pub fn pin_ring(&self, tag: &str) -> Pin {
        let Map::RingBuf(data) = self.map("rb") else {
            panic!("rb is a ring");
        };
        let path = bpffs().join(format!("ringview_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        data.pin(&path).expect("pin ring");
        Pin { path }
    }

    /// Emits `count` records of `size` bytes, sequence numbers from `seq`.
    pub fn emit(&self, count: u32, size: u32, seq: u64, flags: u64) -> Emitted {
        self.emit_discarding(count, size, seq, flags, 0)
    }

    /// As `emit`, discarding records whose sequence number is a multiple of
    /// `discard_every` (when nonzero).
    pub fn emit_discarding(
        &self,
        count: u32,
        size: u32,
        seq: u64,
        flags: u64,
        discard_every: u32,
    ) -> Emitted {
        let mut packet = [0u8; 64];
        packet[0..4].copy_from_slice(&count.to_ne_bytes());
        packet[4..8].copy_from_slice(&size.to_ne_bytes());
        packet[8..16].copy_from_slice(&seq.to_ne_bytes());
        packet[16..24].copy_from_slice(&flags.to_ne_bytes());
        packet[24..28].copy_from_slice(&discard_every.to_ne_bytes());
        let out = run_xdp(&self.ebpf, "produce", &packet);
        Emitted {
            emitted: u32::from_ne_bytes(out[28..32].try_into().unwrap()),
            failed: u32::from_ne_bytes(out[32..36].try_into().unwrap()),
        }
    }
}

/// The BPF filesystem at `/sys/fs/bpf`, mounted first if it is not.
pub fn bpffs() -> &'static std::path::Path {
    let bpffs = std::path::Path::new("/sys/fs/bpf");
    let mounted = std::fs::read_to_string("/proc/mounts")
        .expect("read /proc/mounts")
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some("/sys/fs/bpf"));
    if !mounted {
        let status = std::process::Command::new("mount")
            .args(["-t", "bpf", "bpf", "/sys/fs/bpf"])
            .status()
            .expect("run mount");
        // Another test may have mounted it meanwhile.
        let now_mounted = std::fs::read_to_string("/proc/mounts")
            .expect("read /proc/mounts")
            .contains(" /sys/fs/bpf bpf ");
        assert!(
            status.success() || now_mounted,
            "mount -t bpf bpf /sys/fs/bpf failed"
        );
    }
    bpffs
}

/// A pinned map, unpinned on drop.
pub struct Pin {
    pub path: std::path::PathBuf,
}

impl Drop for Pin {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The payload the producer writes for `seq` at `size` bytes.
pub fn expected_payload(seq: u64, size: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..size).map(|j| (j * 7 + 1) as u8).collect();
    let head = size.min(8);
    bytes[..head].copy_from_slice(&seq.to_le_bytes()[..head]);
    bytes
}

/// The sequence number in a payload of at least 8 bytes.
pub fn seq_of(payload: &[u8]) -> u64 {
    u64::from_le_bytes(payload[..8].try_into().expect("8-byte sequence number"))
}

pub const EVENTS_OBJ: &[u8] = include_bytes!("../bpf/events.bpf.o");

/// The typed-event producers of `tests/bpf/events.bpf.c`.
pub struct EventsProducer {
    ebpf: Ebpf,
}

impl EventsProducer {
    pub fn new() -> Self {
        let mut ebpf = EbpfLoader::new()
            .load(EVENTS_OBJ)
            .expect("load events.bpf.o");
        load_xdp(&mut ebpf, &["interleave", "tails"]);
        Self { ebpf }
    }

    pub fn ring_fd(&self) -> BorrowedFd<'_> {
        ring_fd(&self.ebpf, "events")
    }

    /// Runs program `name` with `count` records from `seq`.
    pub fn run(&self, name: &str, count: u32, seq: u64, unknown_every: u32) {
        let mut packet = [0u8; 64];
        packet[0..4].copy_from_slice(&count.to_ne_bytes());
        packet[4..8].copy_from_slice(&unknown_every.to_ne_bytes());
        packet[8..16].copy_from_slice(&seq.to_ne_bytes());
        run_xdp(&self.ebpf, name, &packet);
    }
}
