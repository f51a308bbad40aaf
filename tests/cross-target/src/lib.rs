//! `struct pid_ts { __u32 pid; __u64 ts; }`: `ts` is at byte offset 8 on BPF
//! and x86_64, but at 4 on i686, where `u64` is 4-byte aligned.

use ringview::RingEvent;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// The event, checked against `tests/bpf/events.bpf.o`.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "../bpf/events.bpf.o", name = "pid_ts")]
pub struct PidTs {
    pub pid: u32,
    pub ts: u64,
}
