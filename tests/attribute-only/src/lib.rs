//! Event types written with `#[ringview::event]` in a crate that does not
//! depend on the casting crate: read in place, nested, a union, an enum of
//! views.

use ringview::{ReadError, RingEvent, TaggedEvent, UnsafeReader};

/// `struct stack_event` of `derive/tests/btf/tools.bpf.o`.
#[ringview::event(btf = "../../derive/tests/btf/tools.bpf.o", name = "stack_event")]
pub struct StackEvent {
    pub pid: u32,
    pub tid: u32,
    pub ts: u64,
    pub comm: [u8; 16],
}

/// tcpconnect's address unions, each a union of its arms.
#[ringview::event]
pub union SAddr {
    pub saddr_v4: u32,
    pub saddr_v6: [u8; 16],
}

#[ringview::event]
pub union DAddr {
    pub daddr_v4: u32,
    pub daddr_v6: [u8; 16],
}

#[ringview::event(btf = "../../derive/tests/btf/v3.bpf.o", name = "tcp_event")]
pub struct TcpEvent {
    #[ring_event(nested)]
    pub saddr: SAddr,
    #[ring_event(nested)]
    pub daddr: DAddr,
    pub task: [u8; 16],
    pub ts_us: u64,
    pub af: u32,
    pub pid: u32,
    pub uid: u32,
    pub sport: u16,
    pub dport: u16,
}

/// A ring whose records lead with a tag (here the pid, to keep it short).
#[ringview::event(tag = "pid: u32")]
pub enum Event<'a> {
    #[ring_event(tag = 1)]
    Init(&'a StackEvent),
}

/// Reads the next stack event's pid: the cast goes through ringview's zerocopy.
///
/// # Errors
///
/// The reader's.
pub fn next_pid(reader: &mut UnsafeReader<StackEvent>) -> Result<u32, ReadError> {
    Ok(reader.read()?.pid)
}

/// The sizes the checks proved.
pub const SIZES: [usize; 2] = [StackEvent::SIZE, TcpEvent::SIZE];

/// Views a record as whichever event its tag names.
///
/// # Errors
///
/// An unknown tag, or a record too short for its event.
pub fn tagged(bytes: &[u8]) -> Result<Event<'_>, ReadError> {
    Event::from_record(bytes)
}
