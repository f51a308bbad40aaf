//! Shared harness for the command's kernel tests: the privilege check, the
//! BPF test producer (`tests/bpf/records.bpf.c`) driven through
//! BPF_PROG_TEST_RUN, the values it writes, and running `ringview`.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use aya::maps::Map;
use aya::programs::{TestRun, TestRunOptions, Xdp};
use aya::{Ebpf, EbpfLoader};
use ringview::inspect;
use serde_json::{json, Value};

pub const RECORDS_OBJ: &[u8] = include_bytes!("../bpf/records.bpf.o");
/// The object's path, for `--object`.
pub const RECORDS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bpf/records.bpf.o");
/// `sizeof(struct event)`, and its stride in the ring.
pub const EVENT_SIZE: u64 = 72;
pub const EVENT_STRIDE: u64 = 80;
/// `emit_into`'s ring bits.
pub const EVENTS: u32 = 1;
pub const DWARF_EVENTS: u32 = 2;

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
        cap_eff & (1 << CAP_BPF) != 0 && cap_eff & (1 << CAP_SYS_ADMIN) != 0,
        "the command's kernel tests need CAP_BPF and CAP_SYS_ADMIN (run them as root), which \
         this process lacks (CapEff {cap_eff:#x}); set RINGVIEW_SKIP_KERNEL_TESTS=1 to skip them"
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

/// One loaded copy of the test producer, with its own rings.
pub struct Producer {
    ebpf: Ebpf,
}

impl Producer {
    /// Loads the producer with rings of `ring_size` bytes.
    pub fn new(ring_size: u32) -> Self {
        let mut ebpf = EbpfLoader::new()
            .map_max_entries("events", ring_size)
            .map_max_entries("dwarf_events", ring_size)
            .load(RECORDS_OBJ)
            .expect("load records.bpf.o");
        let prog: &mut Xdp = ebpf
            .program_mut("produce")
            .expect("program produce")
            .try_into()
            .expect("produce is XDP");
        prog.load().expect("load produce");
        Self { ebpf }
    }

    /// The descriptor of map `name`.
    pub fn fd(&self, name: &str) -> BorrowedFd<'_> {
        match self
            .ebpf
            .map(name)
            .unwrap_or_else(|| panic!("no map {name}"))
        {
            Map::RingBuf(data) => data.fd().as_fd(),
            Map::Array(data) => data.fd().as_fd(),
            other => panic!("{name} is {other:?}"),
        }
    }

    /// The id of map `name`.
    pub fn id(&self, name: &str) -> u32 {
        inspect::map_info_of(self.fd(name)).expect("map info").id
    }

    /// Writes `count` records numbered from `seq` into the ring `events`;
    /// returns how many were written.
    pub fn emit(&self, count: u32, seq: u32) -> u32 {
        self.emit_into(EVENTS, count, seq)
    }

    /// As `emit`, into the rings `rings` names ([`EVENTS`],
    /// [`DWARF_EVENTS`], or both).
    pub fn emit_into(&self, rings: u32, count: u32, seq: u32) -> u32 {
        let mut packet = [0u8; 64];
        packet[0..4].copy_from_slice(&count.to_ne_bytes());
        packet[4..8].copy_from_slice(&seq.to_ne_bytes());
        packet[8..12].copy_from_slice(&rings.to_ne_bytes());
        let mut out = [0u8; 64];
        let prog: &Xdp = self
            .ebpf
            .program("produce")
            .expect("program produce")
            .try_into()
            .expect("produce is XDP");
        let result = prog
            .test_run(TestRunOptions {
                data_in: Some(&packet),
                data_out: Some(&mut out),
                ..TestRunOptions::new()
            })
            .expect("BPF_PROG_TEST_RUN");
        assert_eq!(result.return_value, 2, "produce returned XDP_PASS");
        let failed = u32::from_ne_bytes(out[16..20].try_into().unwrap());
        assert_eq!(failed, 0, "the rings had room");
        u32::from_ne_bytes(out[12..16].try_into().unwrap())
    }
}

/// The bytes of record `seq`, as `records.bpf.c` writes them.
pub fn record_bytes(seq: u32) -> Vec<u8> {
    let s = u64::from(seq);
    let mut b = vec![0u8; EVENT_SIZE as usize];
    b[0..4].copy_from_slice(&seq.to_le_bytes());
    b[4..8].copy_from_slice(&(-(i64::from(seq)) as i32 - 1).to_le_bytes());
    b[8..16].copy_from_slice(&(-1_000_000_000_000i64 * i64::from(seq)).to_le_bytes());
    b[16..21].copy_from_slice(&[b't', b'a', b'p', b'-', b'0' + (seq % 10) as u8]);
    let kind: u32 = match seq % 4 {
        0 => 1,
        1 => 2,
        2 => (-3i32) as u32,
        _ => 7,
    };
    b[32..36].copy_from_slice(&kind.to_le_bytes());
    b[36] = u8::from(seq.is_multiple_of(2));
    b[37] = (seq & 0xff) as u8;
    b[40..42].copy_from_slice(&((seq + 80) as u16).to_le_bytes());
    b[42..44].copy_from_slice(&(-((seq % 100) as i16)).to_le_bytes());
    b[44..48].copy_from_slice(&0x0a00_0001u32.to_le_bytes());
    b[48..56].copy_from_slice(&(0xffff_ffff_ffff_fff0u64 - s).to_le_bytes());
    for (i, mult) in [1u32, 2, 3].into_iter().enumerate() {
        b[56 + 4 * i..60 + 4 * i].copy_from_slice(&(seq * mult).to_le_bytes());
    }
    b
}

/// Record `seq` as `ringview ... --json` prints it, decoded field by field
/// from the values `records.bpf.c` writes.
pub fn expected_json(seq: u32) -> Value {
    let s = i64::from(seq);
    let value = 0xffff_ffff_ffff_fff0u64 - u64::from(seq);
    let kind = match seq % 4 {
        0 => json!("KIND_EXEC"),
        1 => json!("KIND_EXIT"),
        2 => json!("KIND_NEG"),
        _ => json!(7),
    };
    json!({
        "seq": seq,
        "neg": -s - 1,
        "big": -1_000_000_000_000i64 * s,
        "comm": format!("tap-{}", seq % 10),
        "kind": kind,
        "ok": seq.is_multiple_of(2),
        "small": seq & 0xff,
        "inner": { "port": seq + 80, "delta": -(s % 100), "addr": 0x0a00_0001u32 },
        "value": {
            "as_u64": value,
            "as_s32": value as u32 as i32,
            "tag": text(&value.to_le_bytes()),
        },
        "counts": [seq, seq * 2, seq * 3],
    })
}

/// A `char[N]` as the command shows it: up to its NUL, invalid UTF-8
/// replaced.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The `ringview` binary built for these tests.
pub fn ringview() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ringview"))
}

/// Runs `ringview args` to its end.
pub fn run(args: &[&str]) -> Output {
    ringview().args(args).output().expect("run ringview")
}

/// A running `ringview`, its stdout read line by line on a thread.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
}

impl Running {
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = ringview()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ringview");
        let stdout: ChildStdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line of stdout, within 20 s.
    pub fn line(&mut self) -> String {
        match self.lines.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(e) => {
                let _ = self.child.kill();
                panic!(
                    "no line from ringview ({e}); stderr: {}",
                    stderr_of(&mut self.child)
                );
            }
        }
    }

    /// Waits for the process to end; its exit status and stderr.
    pub fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().expect("wait for ringview");
        (status, stderr_of(&mut self.child))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Never leave a tap running behind a failed test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to end and returns its stderr.
fn stderr_of(child: &mut Child) -> String {
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    stderr
}
