//! Traces process execs and exits, on tokio, from two rings of different
//! event types read through one ring set.
//!
//! A BPF program on `sched/sched_process_exec` sends a `struct exec_event`
//! per exec into the ring `execs`, and one on `sched/sched_process_exit` a
//! `struct exit_event` per process exit into the ring `exits`. Both rings go
//! into one [`AsyncRingSet`], each with its own typed handler, read in place
//! as `&ExecEvent` and `&ExitEvent`; one task awaits the set next to a
//! Ctrl-C future (`tokio::signal`) and a `--duration` timer.
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
//! 0.000    exec  true             41234   41230   uid 0
//! 0.001    exit  true             41234   41230   code 0 after 0.001s
//! ```
//!
//! TIME is seconds since the first event, from the kernel's timestamps.
//! Lines come in timestamp order: the two rings are read separately, so an
//! exit can be read before the exec of the same process, and each event is
//! therefore held for [`WINDOW`] (100 ms) after it is read, then printed
//! once every event read before or with it that is older has been printed.
//! An exec is in its ring before its process can exit (the same task runs
//! both tracepoints, in that order), and the set reads both rings in the
//! same round or the next, so the exec is read well within the window
//! after its exit unless this process stalls for longer than that.
//!
//! Stops after `--count N` events, after `--duration S` seconds, or on
//! Ctrl-C, printing the events already read, then how many it printed on
//! stderr.
//!
//! The producer is `examples/bpf/proctrace.bpf.c`. The tracepoints need
//! tracefs at `/sys/kernel/tracing`: when it is missing, proctrace names
//! the command that mounts it, or mounts it with `--mount-tracefs`.

mod common;

use std::collections::BTreeMap;
use std::error::Error;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use aya::EbpfLoader;
use common::{Parsed, TraceOptions};
use ringview::{cstr, AsyncRingSet, RingEvent, UnsafeReader};
use tokio::time::Instant;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// How long an event is held after it is read, so that an event of the
/// other ring with an earlier timestamp can still be printed before it.
const WINDOW: Duration = Duration::from_millis(100);

/// `struct exec_event` of `proctrace.bpf.c`, checked against its BTF.
#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "bpf/proctrace.bpf.o", name = "exec_event")]
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
#[ring_event(btf = "bpf/proctrace.bpf.o", name = "exit_event")]
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

Traces exec() and process exits system-wide, one line per event, in
timestamp order: TIME(s) (since the first event), EVENT (exec or exit),
COMM, PID, PPID, DETAIL (the uid of an exec; the exit code or signal and
lifetime of an exit). Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).

Options:
  --count N       exit after N events
  --duration S    exit after S seconds (decimals allowed)
  --mount-tracefs mount tracefs at /sys/kernel/tracing if it is missing
  -h, --help      print this help

Ctrl-C stops tracing; the number of events printed goes to stderr.";

#[tokio::main]
async fn main() -> ExitCode {
    let options = match TraceOptions::from_env() {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("proctrace: {err}\nTry `proctrace --help`.");
            return ExitCode::from(2);
        }
    };
    if let Some(message) = common::missing_privileges() {
        eprintln!("proctrace: {message}");
        return ExitCode::FAILURE;
    }
    match run(&options).await {
        Ok(printed) => {
            let plural = if printed == 1 { "" } else { "s" };
            eprintln!("{printed} event{plural} seen");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("proctrace: {}", common::chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Loads and attaches both programs, then prints events until told to stop.
/// Returns how many it printed.
async fn run(options: &TraceOptions) -> Result<u64, Box<dyn Error>> {
    common::check_tracefs("sched_process_exit", options.mount_tracefs)?;
    let mut ebpf = EbpfLoader::new()
        .load(include_bytes!("bpf/proctrace.bpf.o"))
        .map_err(|e| common::context("loading proctrace.bpf.o", e))?;
    common::attach_tracepoint(&mut ebpf, "handle_exec", "sched_process_exec")?;
    common::attach_tracepoint(&mut ebpf, "handle_exit", "sched_process_exit")?;

    // SAFETY: this process is the ring's only consumer: the map was created
    // by this `ebpf` just now, and its descriptor is not shared.
    let execs = unsafe { UnsafeReader::<ExecEvent>::new(common::ring_buf(&ebpf, "execs")?)? };
    // SAFETY: as for `execs`.
    let exits = unsafe { UnsafeReader::<ExitEvent>::new(common::ring_buf(&ebpf, "exits")?)? };

    // The handlers copy what a line needs out of each view into `merge`;
    // this task prints from it in timestamp order.
    let merge = Mutex::new(Merge::default());
    let mut set = AsyncRingSet::new()?;
    set.add(execs, |event: &ExecEvent| {
        let what = What::Exec { uid: event.uid };
        lock(&merge).push(Event::new(
            event.pid,
            event.ppid,
            &event.comm,
            event.ts,
            what,
        ));
    })?;
    set.add(exits, |event: &ExitEvent| {
        let what = What::Exit {
            exit_code: event.exit_code,
            lifetime: Duration::from_nanos(event.lifetime_ns),
        };
        lock(&merge).push(Event::new(
            event.pid,
            event.ppid,
            &event.comm,
            event.ts,
            what,
        ));
    })?;

    let mut out = Output::new(options.count.unwrap_or(u64::MAX));
    if !out.header()? {
        return Ok(0);
    }
    let end = async {
        match options.duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(end);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let next_due = lock(&merge).next_due();
        tokio::select! {
            read = set.poll() => { read?; }
            () = sleep_until(next_due) => {}
            () = &mut end => break,
            signal = &mut ctrl_c => { signal?; break; }
        }
        let due = lock(&merge).take_due(Instant::now());
        if !out.print(due)? {
            return Ok(out.printed);
        }
    }
    // What was read before the stop is printed, in order.
    let rest = lock(&merge).take_all();
    out.print(rest)?;
    Ok(out.printed)
}

/// Sleeps until `due`, or forever.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Locks the merge; a handler that panicked leaves it usable.
fn lock(merge: &Mutex<Merge>) -> std::sync::MutexGuard<'_, Merge> {
    merge
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One line's worth of an event, copied out of its view.
struct Event {
    pid: u32,
    ppid: u32,
    comm: [u8; 16],
    ts: u64,
    what: What,
}

enum What {
    Exec { uid: u32 },
    Exit { exit_code: u32, lifetime: Duration },
}

impl Event {
    fn new(pid: u32, ppid: u32, comm: &[u8; 16], ts: u64, what: What) -> Self {
        Self {
            pid,
            ppid,
            comm: *comm,
            ts,
            what,
        }
    }
}

/// Events read but not yet printed, by timestamp (then by arrival, for
/// equal timestamps), each with the time it was read.
#[derive(Default)]
struct Merge {
    held: BTreeMap<(u64, u64), (Instant, Event)>,
    arrivals: u64,
}

impl Merge {
    fn push(&mut self, event: Event) {
        self.arrivals += 1;
        let key = (event.ts, self.arrivals);
        self.held.insert(key, (Instant::now(), event));
    }

    /// When the earliest event will have been held for the window.
    fn next_due(&self) -> Option<Instant> {
        let (_, (read_at, _)) = self.held.first_key_value()?;
        Some(*read_at + WINDOW)
    }

    /// The earliest events, in order, while each has been held for the
    /// window: an event waits for every earlier one still held.
    fn take_due(&mut self, now: Instant) -> Vec<Event> {
        let mut due = Vec::new();
        while let Some(entry) = self.held.first_entry() {
            if now < entry.get().0 + WINDOW {
                break;
            }
            due.push(entry.remove().1);
        }
        due
    }

    fn take_all(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.held)
            .into_values()
            .map(|(_, event)| event)
            .collect()
    }
}

/// The table on stdout.
struct Output {
    printed: u64,
    limit: u64,
    first_ts: Option<u64>,
}

impl Output {
    fn new(limit: u64) -> Self {
        Self {
            printed: 0,
            limit,
            first_ts: None,
        }
    }

    /// Prints the header; `false` when stdout is closed.
    fn header(&mut self) -> io::Result<bool> {
        let header = writeln!(
            io::stdout(),
            "{:<8} {:<5} {:<16} {:<7} {:<7} DETAIL",
            "TIME(s)",
            "EVENT",
            "COMM",
            "PID",
            "PPID"
        );
        Ok(!common::stdout_closed(header)?)
    }

    /// Prints `events` up to the `--count` limit; `false` once the limit is
    /// reached or stdout is closed (`proctrace | head`).
    fn print(&mut self, events: Vec<Event>) -> io::Result<bool> {
        let mut out = io::stdout().lock();
        for event in events {
            if self.printed == self.limit {
                return Ok(false);
            }
            let first_ts = *self.first_ts.get_or_insert(event.ts);
            let since = Duration::from_nanos(event.ts.saturating_sub(first_ts));
            let (kind, detail) = match event.what {
                What::Exec { uid } => ("exec", format!("uid {uid}")),
                What::Exit {
                    exit_code,
                    lifetime,
                } => {
                    let (code, signal) = (exit_code >> 8 & 0xff, exit_code & 0x7f);
                    let how = if signal != 0 {
                        format!("signal {signal}")
                    } else {
                        format!("code {code}")
                    };
                    (
                        "exit",
                        format!("{how} after {:.3}s", lifetime.as_secs_f64()),
                    )
                }
            };
            let line = writeln!(
                out,
                "{:<8.3} {kind:<5} {:<#16} {:<7} {:<7} {detail}",
                since.as_secs_f64(),
                cstr(&event.comm),
                event.pid,
                event.ppid,
            );
            if common::stdout_closed(line)? {
                return Ok(false);
            }
            self.printed += 1;
        }
        Ok(self.printed < self.limit)
    }
}
