//! Traces process execs and exits, on tokio, from two rings of different
//! event types read through one ring set.
//!
//! A BPF program on `sched/sched_process_exec` sends a `struct exec_event`
//! per exec into the ring `execs`, and one on `sched/sched_process_exit` a
//! `struct exit_event` per process exit into the ring `exits`. Both rings go
//! into one [`AsyncRingSet`], each with its own typed handler, read in place
//! as `&ExecEvent` and `&ExitEvent`; one task awaits the set next to a
//! Ctrl-C future and a `--duration` timer.
//!
//! Run as root (loading and attaching tracing programs needs CAP_BPF and
//! CAP_PERFMON, or CAP_SYS_ADMIN):
//!
//! ```sh
//! sudo cargo run --features tokio --example proctrace -- --duration 5
//! ```
//!
//! ```text
//! TIME(s)  EVENT COMM             PID     PPID    DETAIL
//! 0.412    exec  true             41234   41230   uid 0
//! 0.413    exit  true             41234   41230   code 0 after 0.001s
//! ```
//!
//! TIME is seconds since tracing started, from the kernel's timestamp of the
//! event. The two rings are separate, so an exec and an exit that happen
//! close together can print in either order; the timestamps tell. Stops
//! after `--count N` events, after `--duration S` seconds, or on Ctrl-C,
//! then prints how many events it saw on stderr.
//!
//! The producer is `examples/bpf/proctrace.bpf.c`. The tracepoints need
//! tracefs at `/sys/kernel/tracing`: when it is missing, proctrace names
//! the command that mounts it, or mounts it with `--mount-tracefs`.

use std::borrow::Cow;
use std::error::Error;
use std::ffi::CStr;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aya::maps::Map;
use aya::programs::TracePoint;
use aya::{Ebpf, EbpfLoader};
use ringview::{AsyncRingSet, RingBuf, RingEvent, RingSetError, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// `struct exec_event` of `proctrace.bpf.c`, checked against its BTF.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "examples/bpf/proctrace.bpf.o", name = "exec_event")]
#[repr(C)]
struct ExecEvent {
    pid: u32,
    ppid: u32,
    uid: u32,
    _pad: u32,
    comm: [u8; 16],
    ts: u64,
}

/// `struct exit_event` of `proctrace.bpf.c`, checked against its BTF.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "examples/bpf/proctrace.bpf.o", name = "exit_event")]
#[repr(C)]
struct ExitEvent {
    pid: u32,
    ppid: u32,
    /// As wait(2) reports it: `code << 8 | signal`.
    exit_code: u32,
    _pad: u32,
    comm: [u8; 16],
    ts: u64,
    lifetime_ns: u64,
}

const USAGE: &str = "\
Usage: proctrace [--count N] [--duration S] [--mount-tracefs]

Traces exec() and process exits system-wide, one line per event:
TIME(s) (since tracing started), EVENT (exec or exit), COMM, PID, PPID,
DETAIL (the uid of an exec; the exit code or signal and lifetime of an exit).
Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).

Options:
  --count N       exit after N events
  --duration S    exit after S seconds (decimals allowed)
  --mount-tracefs mount tracefs at /sys/kernel/tracing if it is missing
  -h, --help      print this help

Ctrl-C stops tracing; the number of events seen is printed on stderr.";

#[derive(Debug, Default)]
struct Options {
    count: Option<u64>,
    duration: Option<Duration>,
    mount_tracefs: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("proctrace: {message}\nTry `proctrace --help`.");
            return ExitCode::from(2);
        }
    };
    match run(&options).await {
        Ok(seen) => {
            let plural = if seen == 1 { "" } else { "s" };
            eprintln!("{seen} event{plural} seen");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("proctrace: {}", chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

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

/// Loads and attaches both programs, then prints events until told to stop.
async fn run(options: &Options) -> Result<u64, Box<dyn Error>> {
    check_tracefs(options.mount_tracefs)?;
    let mut ebpf = EbpfLoader::new()
        .load(include_bytes!("bpf/proctrace.bpf.o"))
        .map_err(|e| format!("loading proctrace.bpf.o: {}", chain(&e)))?;
    let started = monotonic_ns();
    attach(&mut ebpf, "handle_exec", "sched_process_exec")?;
    attach(&mut ebpf, "handle_exit", "sched_process_exit")?;

    // One counter for both handlers: `--count` counts events of both kinds.
    let seen = Arc::new(AtomicU64::new(0));
    let limit = options.count.unwrap_or(u64::MAX);
    let mut set = AsyncRingSet::new()?;
    let execs = open_ring(&ebpf, "execs")?;
    // SAFETY: this process is the ring's only consumer: the map was created
    // by this `ebpf` just now, and its descriptor is not shared.
    let execs = unsafe { UnsafeReader::<ExecEvent>::new(execs)? };
    let exits = open_ring(&ebpf, "exits")?;
    // SAFETY: as for `execs`.
    let exits = unsafe { UnsafeReader::<ExitEvent>::new(exits)? };
    let count = Arc::clone(&seen);
    set.add(execs, move |event: &ExecEvent| -> io::Result<()> {
        let detail = format!("uid {}", event.uid);
        let line = Line::new("exec", event.ts, started, &event.comm);
        line.print(event.pid, event.ppid, &detail)?;
        count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;
    let count = Arc::clone(&seen);
    set.add(exits, move |event: &ExitEvent| -> io::Result<()> {
        let (code, signal) = (event.exit_code >> 8 & 0xff, event.exit_code & 0x7f);
        let how = if signal != 0 {
            format!("signal {signal}")
        } else {
            format!("code {code}")
        };
        let lifetime = Duration::from_nanos(event.lifetime_ns).as_secs_f64();
        let line = Line::new("exit", event.ts, started, &event.comm);
        line.print(
            event.pid,
            event.ppid,
            &format!("{how} after {lifetime:.3}s"),
        )?;
        count.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;

    let header = writeln!(
        io::stdout(),
        "{:<8} {:<5} {:<16} {:<7} {:<7} DETAIL",
        "TIME(s)",
        "EVENT",
        "COMM",
        "PID",
        "PPID"
    );
    if stdout_closed(header)? {
        return Ok(0);
    }

    let read = async {
        while seen.load(Ordering::Relaxed) < limit {
            let left = limit - seen.load(Ordering::Relaxed);
            match set
                .poll_n(usize::try_from(left).unwrap_or(usize::MAX))
                .await
            {
                Ok(_) => {}
                Err(RingSetError::Handler { source, .. })
                    if source
                        .downcast_ref::<io::Error>()
                        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
                {
                    break; // `proctrace | head`: stop quietly
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    };
    let duration = async {
        match options.duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = read => result?,
        _ = duration => {}
        signal = tokio::signal::ctrl_c() => signal?,
    }
    Ok(seen.load(Ordering::Relaxed))
}

/// The start of one output line.
struct Line<'a> {
    kind: &'static str,
    since: Duration,
    comm: Cow<'a, str>,
}

impl<'a> Line<'a> {
    fn new(kind: &'static str, ts: u64, started: u64, comm: &'a [u8]) -> Self {
        Self {
            kind,
            since: Duration::from_nanos(ts.saturating_sub(started)),
            comm: c_string(comm),
        }
    }

    fn print(&self, pid: u32, ppid: u32, detail: &str) -> io::Result<()> {
        writeln!(
            io::stdout().lock(),
            "{:<8.3} {:<5} {:<16} {:<7} {:<7} {detail}",
            self.since.as_secs_f64(),
            self.kind,
            self.comm,
            pid,
            ppid
        )
    }
}

fn attach(ebpf: &mut Ebpf, program: &str, tracepoint: &str) -> Result<(), Box<dyn Error>> {
    let prog: &mut TracePoint = ebpf
        .program_mut(program)
        .ok_or_else(|| format!("proctrace.bpf.o has no program `{program}`"))?
        .try_into()?;
    prog.load()
        .map_err(|e| format!("loading `{program}`: {}", chain(&e)))?;
    prog.attach("sched", tracepoint)
        .map_err(|e| format!("attaching to sched/{tracepoint}: {}", chain(&e)))?;
    Ok(())
}

fn open_ring(ebpf: &Ebpf, name: &str) -> Result<RingBuf, Box<dyn Error>> {
    let Some(Map::RingBuf(map)) = ebpf.map(name) else {
        return Err(format!("proctrace.bpf.o has no ring buffer map `{name}`").into());
    };
    Ok(RingBuf::new(map.fd())?)
}

fn stdout_closed(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(false),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(true),
        Err(err) => Err(err),
    }
}

/// A C string up to its first NUL, control characters escaped.
fn c_string(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = CStr::from_bytes_until_nul(bytes).map_or(bytes, CStr::to_bytes);
    let text = String::from_utf8_lossy(bytes);
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .flat_map(char::escape_default)
        .collect::<String>()
        .into()
}

/// Checks that tracefs shows the tracepoints; mounts it only when asked.
fn check_tracefs(mount: bool) -> Result<(), Box<dyn Error>> {
    let id = Path::new("/sys/kernel/tracing/events/sched/sched_process_exit/id");
    if id.try_exists()? {
        return Ok(());
    }
    if !mount {
        return Err(format!(
            "{} is missing: tracefs is not mounted at /sys/kernel/tracing; mount it with \
             `mount -t tracefs nodev /sys/kernel/tracing`, or run proctrace with --mount-tracefs",
            id.display()
        )
        .into());
    }
    let status = std::process::Command::new("mount")
        .args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
        .status()?;
    if !status.success() || !id.exists() {
        return Err(format!("mounting tracefs at /sys/kernel/tracing failed ({status})").into());
    }
    Ok(())
}

/// CLOCK_MONOTONIC in nanoseconds: the clock of `bpf_ktime_get_ns`.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    let ret = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now) };
    debug_assert_eq!(ret, 0, "clock_gettime(CLOCK_MONOTONIC)");
    u64::try_from(now.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(now.tv_nsec).unwrap_or(0)
}

/// `err` and its sources, joined with ": ".
fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let message = e.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = e.source();
    }
    text
}
