//! Pushes a typed filter from user space to BPF through a user ring buffer
//! (`BPF_MAP_TYPE_USER_RINGBUF`): a BPF program on the
//! `sched/sched_process_exec` tracepoint reports every exec, except those
//! whose parent is in a set of PIDs to ignore, and this program edits that
//! set at run time by writing `FilterCmd` records in place with
//! `UserRingBuf::reserve`.
//!
//! Run as root (loading and attaching a tracing program needs CAP_BPF and
//! CAP_PERFMON, or CAP_SYS_ADMIN):
//!
//! ```sh
//! sudo cargo run --example pid_filter
//! ```
//!
//! ```text
//! exec 41234 true (parent 41230): reported
//! pushed: ignore children of 41230
//! exec 41235 (parent 41230): ignored by BPF
//! pushed: report children of 41230
//! exec 41236 true (parent 41230): reported
//! BPF applied 2 commands and ignored 1 exec
//! ```
//!
//! The BPF side is `examples/bpf/pid_filter.bpf.c`; it drains the commands
//! at its next exec (`bpf_user_ringbuf_drain`), before deciding, so a
//! command pushed before a spawn applies to it. The tracepoint needs
//! tracefs at `/sys/kernel/tracing`: it is mounted there when missing.
//!
//! aya 0.14 has no map type for a user ring buffer: the loader needs
//! `EbpfLoader::allow_unsupported_maps()` to create it, and then hands it
//! out as `Map::Unsupported`, whose descriptor `UserRingBuf::new` takes.

mod common;

use std::error::Error;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use aya::maps::{Array, Map};
use aya::EbpfLoader;
use ringview::{cstr, ReadError, RingEvent, UnsafeReader, UserRingBuf};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `struct filter_cmd`, checked against the BPF object's BTF.
#[derive(Debug, FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "bpf/pid_filter.bpf.o", name = "filter_cmd")]
#[repr(C)]
struct FilterCmd {
    op: u32,
    pid: u32,
}

const FILTER_IGNORE: u32 = 1;
const FILTER_REPORT: u32 = 2;

/// `struct exec_seen`.
#[derive(Debug, FromBytes, Immutable, KnownLayout, RingEvent)]
#[ring_event(btf = "bpf/pid_filter.bpf.o", name = "exec_seen")]
#[repr(C)]
struct ExecSeen {
    pid: u32,
    ppid: u32,
    /// The new program's name, NUL-padded.
    comm: [u8; 16],
}

fn main() -> ExitCode {
    if let Some(message) = common::missing_privileges() {
        eprintln!("pid_filter: {message}");
        return ExitCode::FAILURE;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pid_filter: {}", common::chain(err.as_ref()));
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    common::check_tracefs("sched_process_exec", true)?;
    // `allow_unsupported_maps`: aya 0.14 does not know
    // BPF_MAP_TYPE_USER_RINGBUF and refuses the object without it.
    let mut ebpf = EbpfLoader::new()
        .allow_unsupported_maps()
        .load(include_bytes!("bpf/pid_filter.bpf.o"))
        .map_err(|e| common::context("loading pid_filter.bpf.o", e))?;
    common::attach_tracepoint(&mut ebpf, "handle_exec", "sched_process_exec")?;

    // The user ring comes back as `Map::Unsupported`.
    let Some(Map::Unsupported(commands)) = ebpf.map("commands") else {
        return Err("pid_filter.bpf.o has no user ring buffer map `commands`".into());
    };
    // SAFETY: this process is the only one that knows the map it just
    // created, so it is its only producer.
    let mut filter = unsafe { UserRingBuf::new(commands.fd())? };
    // SAFETY: this process is the ring's only consumer: the map was created
    // by this `ebpf` just now, and its descriptor is not shared.
    let mut reports = unsafe { UnsafeReader::<ExecSeen>::new(common::ring_buf(&ebpf, "execs")?)? };

    let me = std::process::id();
    let mut push = |op: u32| -> Result<(), Box<dyn Error>> {
        // Written in place in the ring, then published.
        let mut cmd = filter.reserve::<FilterCmd>()?;
        cmd.op = op;
        cmd.pid = me;
        cmd.submit();
        Ok(())
    };

    spawn_and_report(&mut reports, me)?;
    push(FILTER_IGNORE)?;
    println!("pushed: ignore children of {me}");
    spawn_and_report(&mut reports, me)?;
    push(FILTER_REPORT)?;
    println!("pushed: report children of {me}");
    spawn_and_report(&mut reports, me)?;

    let counters: Array<_, u64> = Array::try_from(ebpf.map("counters").ok_or("no counters")?)?;
    let applied = counters.get(&0, 0)?;
    let ignored = counters.get(&1, 0)?;
    println!("BPF applied {applied} commands and ignored {ignored} exec");
    Ok(())
}

/// Spawns `/bin/true` and prints whether BPF reported its exec (it has
/// 2 seconds to show up in the ring).
fn spawn_and_report(reports: &mut UnsafeReader<ExecSeen>, me: u32) -> Result<(), Box<dyn Error>> {
    let child = Command::new("/bin/true").spawn()?;
    let pid = child.id();
    let status = child.wait_with_output()?.status;
    if !status.success() {
        return Err(format!("/bin/true failed: {status}").into());
    }
    // The exec's report, if any, is in the ring once the child has exited;
    // drain what is there, looking for it among other processes' execs.
    let deadline = Instant::now() + Duration::from_millis(200);
    reports.set_deadline(Some(deadline));
    loop {
        match reports.read() {
            Ok(seen) if seen.pid == pid => {
                println!(
                    "exec {pid} {:#} (parent {}): reported",
                    cstr(&seen.comm),
                    seen.ppid
                );
                return Ok(());
            }
            Ok(_) => {}
            Err(ReadError::DeadlineExceeded) => {
                println!("exec {pid} (parent {me}): ignored by BPF");
                return Ok(());
            }
            Err(err) => return Err(err.into()),
        }
    }
}
