//! `ringview`: see every BPF ring buffer on the host, watch one live
//! without consuming it, decode records by their BTF.
//!
//! - `ringview top` lists every `BPF_MAP_TYPE_RINGBUF` and
//!   `BPF_MAP_TYPE_USER_RINGBUF` map with its size, fill level, producer and
//!   consumer rates, and the programs that use it.
//! - `ringview tap MAP` shows a live ring's records without consuming them:
//!   it maps the ring read-only and copies each record beside the ring's
//!   owner, which is not disturbed.
//! - `ringview dump MAP` shows them as their consumer: for rings nobody
//!   else reads.
//!
//! Records are decoded by a struct's BTF (or DWARF) with `--type NAME`,
//! from `--object FILE` or from the BTF the kernel holds for the map's
//! programs; otherwise shown as hex. Exit code 2 means bad input (the
//! message says what), 1 a failure while running.

#![forbid(unsafe_code)]

mod decode;
mod failure;
mod out;
mod record_type;
mod render;
mod signal;
mod tap;
mod target;
mod top;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// See every BPF ring buffer on the host, watch one live without consuming
/// it, decode records by their BTF.
///
/// Needs root (CAP_SYS_ADMIN to walk and open maps by id, CAP_BPF).
/// Exit code 2 means bad input (the message says what), 1 a failure while
/// running.
#[derive(Debug, Parser)]
#[command(name = "ringview", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every ring buffer on the host, with its fill level and rates.
    ///
    /// Each BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_USER_RINGBUF map: id,
    /// name, type, size, flags, the programs that use it, the fill level,
    /// producer and consumer rates (bytes/s and records/s) and how long the
    /// consumer has not moved while records wait ("stalled 4.2 s").
    /// Positions are read through read-only mappings: nothing is consumed.
    Top(TopArgs),
    /// Show a live ring's records without consuming them.
    ///
    /// Maps the ring read-only, follows the producer and copies each record
    /// once it is submitted; the ring's owner still receives every record
    /// and its consumer position never moves because of the tap. A record
    /// the producer overwrote before the copy was checked is reported as
    /// missed on stderr, never shown. Starts at the records not yet
    /// consumed.
    Tap(RecordArgs),
    /// Consume a ring's records and show them, as `tap` does.
    ///
    /// The ring's consumer: for rings that nobody else reads (a second
    /// consumer would steal records from the owner).
    Dump(RecordArgs),
}

/// The options of `ringview top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// Print JSON: an array of objects (fields in snake_case) per sample.
    #[arg(long)]
    json: bool,
    /// Print one sample, taken over one interval, and exit.
    #[arg(long)]
    once: bool,
    /// Milliseconds between samples.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(1..=3_600_000)
    )]
    interval: u64,
}

/// The options of `ringview tap` and `ringview dump`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The ring: a map id (`42`), a pinned path (`/sys/fs/bpf/events`), or
    /// `name:NAME` (an error if two rings share the name).
    #[arg(value_name = "MAP")]
    map: String,
    /// A compiled BPF object (`clang -target bpf -g`) whose BTF, or DWARF,
    /// describes the records; needs --type.
    #[arg(long, value_name = "FILE", requires = "type_name")]
    object: Option<PathBuf>,
    /// The struct (or union, or typedef of one) each record is. Without
    /// --object, looked up in the BTF the kernel holds for the map and the
    /// programs that use it. Without --type, records are shown as hex.
    #[arg(long = "type", value_name = "NAME")]
    type_name: Option<String>,
    /// Print JSON lines: one object per record, field names as in C.
    #[arg(long)]
    json: bool,
    /// Stop after N records.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop after S seconds (decimals allowed).
    #[arg(long, value_name = "S", value_parser = seconds)]
    duration: Option<Duration>,
}

/// A positive, finite number of seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds"))
}

fn main() -> ExitCode {
    // clap prints usage errors and exits with code 2 itself.
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Top(args) => top::top(args),
        Command::Tap(args) => tap::tap(args),
        Command::Dump(args) => tap::dump(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("ringview: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(seconds("0").is_err());
        assert!(seconds("-1").is_err());
        assert!(seconds("nan").is_err());
        assert!(seconds("x").is_err());
    }
}
