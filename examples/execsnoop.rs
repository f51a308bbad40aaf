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
//! TIME is seconds since tracing started, from the kernel's timestamp of the
//! exec (`bpf_ktime_get_ns`, CLOCK_MONOTONIC), so it does not depend on when
//! the line is read. COMM is the new program's name, FILENAME the path it
//! was executed as. Stops after `--count N` events, after `--duration S`
//! seconds, or on Ctrl-C, and then prints how many events it saw (on
//! stderr, so stdout holds only the table).
//!
//! Shutdown uses the crate's own: `--duration` is the reader's deadline, and
//! Ctrl-C (SIGINT) or SIGTERM calls `ReaderHandle::close()`, which wakes the
//! blocked read at once through the reader's eventfd; the read then fails
//! with `ReadError::Closed` and the loop ends. No polling.
//!
//! The producer is `examples/bpf/execsnoop.bpf.c` (`./build-bpf.sh` at the
//! repository root rebuilds the committed object). The tracepoint needs
//! tracefs at `/sys/kernel/tracing`. When it is missing, execsnoop says so
//! and names the command that mounts it (`mount -t tracefs nodev
//! /sys/kernel/tracing`); with `--mount-tracefs` it mounts it itself (and
//! leaves it mounted).

use std::borrow::Cow;
use std::error::Error;
use std::ffi::CStr;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aya::maps::Map;
use aya::programs::TracePoint;
use aya::EbpfLoader;
use ringview::{ReadError, ReaderHandle, RingBuf, RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// `struct exec_event` of `execsnoop.bpf.c`; the derive checks at compile
/// time that every field has the size and offset the object's BTF gives it.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "examples/bpf/execsnoop.bpf.o", name = "exec_event")]
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
TIME(s) (since tracing started), COMM, PID, PPID, UID, FILENAME.
Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).

Options:
  --count N       exit after N events
  --duration S    exit after S seconds (decimals allowed)
  --mount-tracefs mount tracefs at /sys/kernel/tracing if it is missing
  -h, --help      print this help

Ctrl-C stops tracing; the number of events seen is printed on stderr.";

/// The reader's handle, which the SIGINT/SIGTERM handler closes.
static READER: OnceLock<ReaderHandle> = OnceLock::new();

/// What the command line asked for.
#[derive(Debug, Default)]
struct Options {
    count: Option<u64>,
    duration: Option<Duration>,
    mount_tracefs: bool,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("execsnoop: {message}\nTry `execsnoop --help`.");
            return ExitCode::from(2);
        }
    };
    if let Some(message) = missing_privileges() {
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
            eprintln!("execsnoop: {}", chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// `Ok(None)` for `--help`; `Err` with a message for anything unusable.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--mount-tracefs" => options.mount_tracefs = true,
            "--count" => {
                let value = args.next().ok_or("--count needs a value")?;
                match value.parse() {
                    Ok(n) if n > 0 => options.count = Some(n),
                    _ => return Err(format!("--count {value:?}: expected a positive integer")),
                }
            }
            "--duration" => {
                let value = args.next().ok_or("--duration needs a value")?;
                match value.parse().map(Duration::try_from_secs_f64) {
                    Ok(Ok(d)) if !d.is_zero() => options.duration = Some(d),
                    _ => {
                        return Err(format!(
                            "--duration {value:?}: expected seconds, like 5 or 0.5"
                        ))
                    }
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

/// Loads and attaches the producer, then prints events until told to stop.
/// Returns how many events were seen.
fn run(options: &Options) -> Result<u64, Box<dyn Error>> {
    check_tracefs(options.mount_tracefs)?;

    // Creates the `events` map, and relocates the program's task_struct
    // reads against the running kernel's /sys/kernel/btf/vmlinux (CO-RE).
    let mut ebpf = EbpfLoader::new()
        .load(include_bytes!("bpf/execsnoop.bpf.o"))
        .map_err(|e| context("loading execsnoop.bpf.o", e))?;
    let program: &mut TracePoint = ebpf
        .program_mut("handle_exec")
        .ok_or("execsnoop.bpf.o has no program `handle_exec`")?
        .try_into()?;
    program
        .load()
        .map_err(|e| context("loading the program `handle_exec`", e))?;
    let started = monotonic_ns();
    program
        .attach("sched", "sched_process_exec")
        .map_err(|e| context("attaching to the tracepoint sched/sched_process_exec", e))?;

    let Some(Map::RingBuf(map)) = ebpf.map("events") else {
        return Err("execsnoop.bpf.o has no ring buffer map `events`".into());
    };
    let ring = RingBuf::new(map.fd())?;
    // SAFETY: this process is the ring's only consumer: the map was created
    // by this `ebpf` just now, and its descriptor is not shared.
    let mut reader = unsafe { UnsafeReader::<ExecEvent>::new(ring)? };
    // `--duration` is the reader's deadline: the read that would block past
    // it fails with `DeadlineExceeded` (records already in the ring are
    // still returned first).
    let end = options.duration.map(|d| Instant::now() + d);
    reader.set_deadline(end);
    install_stop_handler(reader.handle())?;

    let mut out = io::stdout().lock();
    let header = writeln!(
        out,
        "{:<8} {:<16} {:<7} {:<7} {:<6} FILENAME",
        "TIME(s)", "COMM", "PID", "PPID", "UID"
    );
    if stdout_closed(header)? {
        return Ok(0);
    }

    let mut seen = 0;
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
        if stdout_closed(print_event(&mut out, event, started))? {
            break;
        }
    }
    Ok(seen)
}

/// Prints one table row.
fn print_event(out: &mut impl Write, event: &ExecEvent, started: u64) -> io::Result<()> {
    // Events from before `started` cannot exist (the program was not
    // attached yet); saturate rather than trust that.
    let since = Duration::from_nanos(event.ts.saturating_sub(started));
    writeln!(
        out,
        "{:<8.3} {:<16} {:<7} {:<7} {:<6} {}",
        since.as_secs_f64(),
        c_string(&event.comm),
        event.pid,
        event.ppid,
        event.uid,
        c_string(&event.filename)
    )
}

/// `Ok(true)` when stdout's reader went away (`execsnoop | head`): a reason
/// to stop, not an error.
fn stdout_closed(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(false),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(true),
        Err(err) => Err(err),
    }
}

/// The bytes of a C string up to its first NUL (all of them if there is
/// none), as text: invalid UTF-8 is replaced, and control characters are
/// escaped so that a file name cannot forge table lines.
fn c_string(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = CStr::from_bytes_until_nul(bytes).map_or(bytes, CStr::to_bytes);
    let text = String::from_utf8_lossy(bytes);
    if !text.chars().any(char::is_control) {
        return text;
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped.into()
}

extern "C" fn on_stop_signal(_signal: libc::c_int) {
    // Async-signal-safe: `OnceLock::get` is an atomic load, and `close` is
    // an atomic store and a `write(2)` to the reader's eventfd.
    if let Some(handle) = READER.get() {
        handle.close();
    }
}

/// Makes SIGINT (Ctrl-C) and SIGTERM close the reader instead of killing
/// the process, so the read loop can end and print its count.
fn install_stop_handler(handle: ReaderHandle) -> io::Result<()> {
    // Set before the handler is installed, so it never sees it unset.
    let _ = READER.set(handle);
    // SAFETY: `sigaction` is a plain C struct for which all-zero bytes are
    // valid: no flags, an empty mask, and the handler set just below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // The reader retries an interrupted `epoll_wait` itself; what wakes it
    // is the eventfd write in `close`.
    action.sa_flags = libc::SA_RESTART;
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `action` is initialised, its handler only stores to an
        // atomic (async-signal-safe), and a null old-action pointer is
        // allowed.
        if unsafe { libc::sigaction(signal, &raw const action, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Checks that the tracepoint is visible in tracefs (aya finds its id
/// there). When tracefs is missing, says how to mount it, or mounts it when
/// `mount` is set (`--mount-tracefs`).
fn check_tracefs(mount: bool) -> Result<(), Box<dyn Error>> {
    const TRACEFS: &CStr = c"/sys/kernel/tracing";
    let id = Path::new("/sys/kernel/tracing/events/sched/sched_process_exec/id");
    match id.try_exists() {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        // Mounted, but only root may look inside.
        Err(err) => {
            return Err(format!(
                "cannot look up {}: {err} (tracefs is usually open to root only: run as root)",
                id.display()
            )
            .into())
        }
    }
    if !mount {
        return Err(format!(
            "{} is missing: tracefs is not mounted at /sys/kernel/tracing; mount it with \
             `mount -t tracefs nodev /sys/kernel/tracing`, or run execsnoop with --mount-tracefs",
            id.display()
        )
        .into());
    }
    // SAFETY: every pointer is a NUL-terminated string that outlives the
    // call; tracefs takes no mount data, so null is allowed.
    let ret = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            TRACEFS.as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if ret != 0 {
        let err = io::Error::last_os_error();
        return Err(format!(
            "tracefs is not mounted at /sys/kernel/tracing and mounting it failed ({err}); \
             mount it with `mount -t tracefs nodev /sys/kernel/tracing`"
        )
        .into());
    }
    if !id.exists() {
        return Err(format!(
            "{} is missing even with tracefs mounted: this kernel has no sched_process_exec \
             tracepoint (CONFIG_TRACEPOINTS)",
            id.display()
        )
        .into());
    }
    Ok(())
}

/// CLOCK_MONOTONIC in nanoseconds: the clock of `bpf_ktime_get_ns`.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`; CLOCK_MONOTONIC always
    // exists on Linux, so the call cannot fail.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now) };
    debug_assert_eq!(ret, 0, "clock_gettime(CLOCK_MONOTONIC)");
    // Both fields are non-negative for CLOCK_MONOTONIC.
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(now.tv_nsec).unwrap_or(0);
    secs * 1_000_000_000 + nanos
}

/// Capabilities the tracing needs that this process lacks, as a message;
/// `None` when nothing is missing.
fn missing_privileges() -> Option<String> {
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())?;
    let has = |cap: u32| effective & (1 << cap) != 0;
    // Since Linux 5.8, CAP_SYS_ADMIN implies both.
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return None;
    }
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .into_iter()
        .filter(|&(cap, _)| !has(cap))
        .map(|(_, name)| name)
        .collect();
    Some(format!(
        "tracing exec() needs root: loading a BPF program needs CAP_BPF and attaching it to a \
         tracepoint needs CAP_PERFMON (or CAP_SYS_ADMIN for both), and this process lacks {} \
         (effective capabilities {effective:#x}); run it with sudo",
        missing.join(" and ")
    ))
}

/// Wraps `err` with what was being done, and a hint when the kernel said no.
fn context(doing: &str, err: impl Error + 'static) -> Box<dyn Error> {
    let mut source: Option<&(dyn Error + 'static)> = Some(&err);
    let mut refused = false;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            refused |= io.kind() == io::ErrorKind::PermissionDenied;
        }
        source = e.source();
    }
    let hint = if refused {
        " (the kernel refused: run as root; before Linux 5.11, BPF maps also count against \
         RLIMIT_MEMLOCK (`ulimit -l`); kernel lockdown or a container can forbid BPF tracing \
         altogether)"
    } else {
        ""
    };
    format!("{doing}: {}{hint}", chain(&err)).into()
}

/// `err` and its sources, joined with ": ".
fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let message = e.to_string();
        // thiserror's `transparent` and aya's wrappers often repeat it.
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = e.source();
    }
    text
}
