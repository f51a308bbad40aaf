//! Traces every `exec` on the system, like bcc's `execsnoop`: a BPF program
//! on the `sched/sched_process_exec` tracepoint sends one `struct exec_event`
//! per exec through a ring buffer, and this program reads each one in place
//! as an `&ExecEvent` and prints it as a line.
//!
//! Run as root (loading and attaching a tracing program needs CAP_BPF and
//! CAP_PERFMON, or CAP_SYS_ADMIN):
//!
//! ```sh
//! sudo cargo run --example execsnoop -- --duration 5
//! ```
//!
//! ```text
//! TIME(s)  COMM             PID     PPID    UID    FILENAME
//! 0.412    true             41234   41230   0      /usr/bin/true
//! ```
//!
//! TIME is seconds since the first event, from the kernel's timestamps of
//! the execs (`bpf_ktime_get_ns`), so it does not depend on when a line is
//! read. COMM is the new program's name, FILENAME the path it was executed
//! as, both read from NUL-terminated arrays with `ringview::cstr`. Stops
//! after `--count N` events, after `--duration S` seconds, or on Ctrl-C,
//! and then prints how many events it saw (on stderr, so stdout holds only
//! the table).
//!
//! Shutdown uses the crate's own: `--duration` is the reader's deadline, and
//! Ctrl-C (SIGINT) or SIGTERM, through the `ctrlc` crate, calls
//! `ReaderHandle::close()`, which wakes the blocked read at once through the
//! reader's eventfd; the read then fails with `ReadError::Closed` and the
//! loop ends. No polling.
//!
//! The producer is `examples/bpf/execsnoop.bpf.c` (`./build-bpf.sh` at the
//! repository root rebuilds the committed object). The tracepoint needs
//! tracefs at `/sys/kernel/tracing`. When it is missing, execsnoop says so
//! and names the command that mounts it (`mount -t tracefs nodev
//! /sys/kernel/tracing`); with `--mount-tracefs` it mounts it itself (and
//! leaves it mounted).

mod common;

use std::error::Error;
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aya::EbpfLoader;
use common::{Parsed, TraceOptions};
use ringview::{cstr, ReadError, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// `struct exec_event` of `execsnoop.bpf.c`; the derive checks at compile
/// time that every field has the size and offset the object's BTF gives it.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "bpf/execsnoop.bpf.o", name = "exec_event")]
#[repr(C)]
struct ExecEvent {
    /// Thread group id of the new program.
    pid: u32,
    /// Thread group id of its real parent.
    ppid: u32,
    /// Real uid.
    uid: u32,
    /// Always 0.
    _pad: u32,
    /// The new program's name, NUL-padded.
    comm: [u8; 16],
    /// The path it was executed as, NUL-terminated.
    filename: [u8; 256],
    /// `bpf_ktime_get_ns()` at the exec: CLOCK_MONOTONIC, in nanoseconds.
    ts: u64,
}

const USAGE: &str = "\
Usage: execsnoop [--count N] [--duration S] [--mount-tracefs]

Traces exec() system-wide and prints one line per new program:
TIME(s) (since the first event), COMM, PID, PPID, UID, FILENAME.
Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).

Options:
  --count N       exit after N events
  --duration S    exit after S seconds (decimals allowed)
  --mount-tracefs mount tracefs at /sys/kernel/tracing if it is missing
  -h, --help      print this help

Ctrl-C stops tracing; the number of events seen is printed on stderr.";

fn main() -> ExitCode {
    let options = match TraceOptions::from_env() {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("execsnoop: {err}\nTry `execsnoop --help`.");
            return ExitCode::from(2);
        }
    };
    if let Some(message) = common::missing_privileges() {
        eprintln!("execsnoop: {message}");
        return ExitCode::FAILURE;
    }
    match run(&options) {
        Ok(seen) => {
            let plural = if seen == 1 { "" } else { "s" };
            eprintln!("{seen} exec event{plural} seen");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("execsnoop: {}", common::chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Loads and attaches the producer, then prints events until told to stop.
/// Returns how many events were seen.
fn run(options: &TraceOptions) -> Result<u64, Box<dyn Error>> {
    common::check_tracefs("sched_process_exec", options.mount_tracefs)?;

    // Creates the `events` map, and relocates the program's task_struct
    // reads against the running kernel's /sys/kernel/btf/vmlinux (CO-RE).
    let mut ebpf = EbpfLoader::new()
        .load(include_bytes!("bpf/execsnoop.bpf.o"))
        .map_err(|e| common::context("loading execsnoop.bpf.o", e))?;
    common::attach_tracepoint(&mut ebpf, "handle_exec", "sched_process_exec")?;
    let ring = common::ring_buf(&ebpf, "events")?;
    // SAFETY: this process is the ring's only consumer: the map was created
    // by this `ebpf` just now, and its descriptor is not shared.
    let mut reader = unsafe { UnsafeReader::<ExecEvent>::new(ring)? };
    // `--duration` is the reader's deadline: the read that would block past
    // it fails with `DeadlineExceeded` (records already in the ring are
    // still returned first).
    let end = options.duration.map(|d| Instant::now() + d);
    reader.set_deadline(end);
    // Ctrl-C (and SIGTERM) close the reader: the blocked read returns
    // `Closed` at once. The handler runs on a thread of `ctrlc`'s own.
    let handle = reader.handle();
    ctrlc::set_handler(move || handle.close())?;

    let mut out = io::stdout().lock();
    let header = writeln!(
        out,
        "{:<8} {:<16} {:<7} {:<7} {:<6} FILENAME",
        "TIME(s)", "COMM", "PID", "PPID", "UID"
    );
    if common::stdout_closed(header)? {
        return Ok(0);
    }

    let mut seen = 0;
    let mut first_ts = None;
    // The deadline ends a wait; the clock check ends a stream that never
    // lets the ring run empty.
    while options.count != Some(seen) && end.is_none_or(|end| Instant::now() < end) {
        let event = match reader.read() {
            Ok(event) => event,
            // The end of `--duration`, or Ctrl-C.
            Err(ReadError::DeadlineExceeded | ReadError::Closed) => break,
            Err(err) => return Err(err.into()),
        };
        seen += 1;
        let first_ts = *first_ts.get_or_insert(event.ts);
        if common::stdout_closed(print_event(&mut out, event, first_ts))? {
            break;
        }
    }
    Ok(seen)
}

/// Prints one table row. `{:#}` escapes control characters, so that a file
/// name cannot forge table lines.
fn print_event(out: &mut impl Write, event: &ExecEvent, first_ts: u64) -> io::Result<()> {
    // Events reach one ring in the order they reserved space, which on
    // several CPUs is not quite timestamp order: saturate.
    let since = Duration::from_nanos(event.ts.saturating_sub(first_ts));
    writeln!(
        out,
        "{:<8.3} {:<#16} {:<7} {:<7} {:<6} {:#}",
        since.as_secs_f64(),
        cstr(&event.comm),
        event.pid,
        event.ppid,
        event.uid,
        cstr(&event.filename)
    )
}
