//! What the examples share: their command line, the checks before tracing
//! (privileges, tracefs), loading with aya, and error messages that say
//! what to do. `mod common;` in each example; no example copies another's.

#![allow(dead_code, reason = "each example uses part of it")]

use std::error::Error;
use std::io;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use aya::maps::Map;
use aya::programs::TracePoint;
use aya::Ebpf;
use ringview::RingBuf;

/// The options of the tracing examples (`execsnoop`, `proctrace`).
#[derive(Debug, Default)]
pub struct TraceOptions {
    /// `--count N`: stop after N events.
    pub count: Option<u64>,
    /// `--duration S`: stop after S seconds.
    pub duration: Option<Duration>,
    /// `--mount-tracefs`: mount tracefs at /sys/kernel/tracing if missing.
    pub mount_tracefs: bool,
}

/// What the command line asked for.
pub enum Parsed<T> {
    /// Run with these options.
    Run(T),
    /// `-h` or `--help`: print the usage and exit.
    Help,
}

impl TraceOptions {
    /// Parses `--count N`, `--duration S`, `--mount-tracefs` and
    /// `-h`/`--help` from the process's arguments.
    ///
    /// # Errors
    ///
    /// An unknown argument, a missing value, or a value that is not a
    /// positive number.
    pub fn from_env() -> Result<Parsed<Self>, lexopt::Error> {
        use lexopt::prelude::*;

        let mut options = Self::default();
        let mut parser = lexopt::Parser::from_env();
        while let Some(arg) = parser.next()? {
            match arg {
                Short('h') | Long("help") => return Ok(Parsed::Help),
                Long("mount-tracefs") => options.mount_tracefs = true,
                Long("count") => {
                    let count: u64 = parser.value()?.parse()?;
                    if count == 0 {
                        return Err("--count: expected a positive integer".into());
                    }
                    options.count = Some(count);
                }
                Long("duration") => {
                    let value = parser.value()?;
                    let seconds: f64 = value.parse()?;
                    match Duration::try_from_secs_f64(seconds) {
                        Ok(duration) if !duration.is_zero() => options.duration = Some(duration),
                        _ => return Err("--duration: expected seconds, like 5 or 0.5".into()),
                    }
                }
                _ => return Err(arg.unexpected()),
            }
        }
        Ok(Parsed::Run(options))
    }
}

/// Makes sure the tracepoint `sched/<event>` is visible in tracefs, where
/// aya looks up its id. When tracefs is not mounted, mounts it with
/// `mount(8)` if `mount` is set, and otherwise says how.
///
/// # Errors
///
/// When the tracepoint stays out of sight, with the command that fixes it.
pub fn check_tracefs(event: &str, mount: bool) -> Result<(), Box<dyn Error>> {
    let id = format!("/sys/kernel/tracing/events/sched/{event}/id");
    let id = Path::new(&id);
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
             `mount -t tracefs nodev /sys/kernel/tracing`, or pass --mount-tracefs",
            id.display()
        )
        .into());
    }
    let status = Command::new("mount")
        .args(["-t", "tracefs", "nodev", "/sys/kernel/tracing"])
        .status()
        .map_err(|err| format!("running `mount -t tracefs nodev /sys/kernel/tracing`: {err}"))?;
    if !status.success() {
        return Err(format!(
            "`mount -t tracefs nodev /sys/kernel/tracing` failed ({status}): run as root"
        )
        .into());
    }
    if !id.exists() {
        return Err(format!(
            "{} is missing even with tracefs mounted: this kernel has no sched/{event} \
             tracepoint (CONFIG_TRACEPOINTS)",
            id.display()
        )
        .into());
    }
    Ok(())
}

/// What this process lacks to load and attach tracing programs, as a
/// message; `None` when nothing is missing.
pub fn missing_privileges() -> Option<String> {
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
        "tracing needs root: loading a BPF program needs CAP_BPF and attaching it to a \
         tracepoint needs CAP_PERFMON (or CAP_SYS_ADMIN for both), and this process lacks {} \
         (effective capabilities {effective:#x}); run it with sudo",
        missing.join(" and ")
    ))
}

/// Loads the program `name` of `ebpf` and attaches it to the tracepoint
/// `sched/<event>`.
///
/// # Errors
///
/// When the object has no such program, or the kernel refuses it.
pub fn attach_tracepoint(ebpf: &mut Ebpf, name: &str, event: &str) -> Result<(), Box<dyn Error>> {
    let program: &mut TracePoint = ebpf
        .program_mut(name)
        .ok_or_else(|| format!("the BPF object has no program `{name}`"))?
        .try_into()?;
    program
        .load()
        .map_err(|e| context(&format!("loading the program `{name}`"), e))?;
    program
        .attach("sched", event)
        .map_err(|e| context(&format!("attaching `{name}` to sched/{event}"), e))?;
    Ok(())
}

/// Maps the ring buffer `name` of `ebpf` (ringview keeps its own duplicate
/// of the map's descriptor).
///
/// # Errors
///
/// When the object has no ring buffer of that name, or mapping it fails.
pub fn ring_buf(ebpf: &Ebpf, name: &str) -> Result<RingBuf, Box<dyn Error>> {
    let Some(Map::RingBuf(map)) = ebpf.map(name) else {
        return Err(format!("the BPF object has no ring buffer map `{name}`").into());
    };
    Ok(RingBuf::new(map.fd())?)
}

/// `Ok(true)` when stdout's reader went away (`execsnoop | head`): a reason
/// to stop, not an error.
pub fn stdout_closed(result: io::Result<()>) -> io::Result<bool> {
    match result {
        Ok(()) => Ok(false),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(true),
        Err(err) => Err(err),
    }
}

/// Wraps `err` with what was being done, and a hint when the kernel said no.
pub fn context(doing: &str, err: impl Error + 'static) -> Box<dyn Error> {
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
pub fn chain(err: &dyn Error) -> String {
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
