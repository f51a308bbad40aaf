//! Soak test: a live kernel producer at full speed (record sizes 1 B to
//! 4 KiB, discards, `BPF_RB_NO_WAKEUP` and `BPF_RB_FORCE_WAKEUP`, one stream
//! per producer thread) against every read path in turn, checking that no
//! record is lost, none duplicated, each byte-exact, and printing the delay
//! percentiles, the rate and the consumer's RSS.
//!
//! ```text
//! cargo build --release -p ringview-benches --example soak
//! sudo target/release/examples/soak --records 100000000
//! sudo target/release/examples/soak --records 10000000 --reopen 1000-5000
//! ```
//!
//! A measurement tool of the benchmarks crate, not an example to copy: it
//! calls `libc` directly (`clock_gettime` for the clock of BPF timestamps,
//! `poll` for the `try_read` path, `sysconf` for the RSS).
//!
//! Options: `--records N` (default 1e6, made by all producers together,
//! discards included), `--producers P` (1 to 4, default 2), `--ring-size
//! BYTES` (default 4 MiB), `--paths read,batch,read_func,read_into,try_read` (and, with the `tokio`
//! feature, `"async read"`, `"async read_into"`)
//! (default all), `--reopen LO-HI`: close the reader and the ring and reopen
//! the ring from its pin (bpffs at /sys/fs/bpf) every LO to HI records,
//! chosen at random. Exits with status 1 if any path lost, duplicated or
//! corrupted a record.

mod harness;

use harness::{Config, Path, Report};

fn main() {
    let mut config = Config::default();
    let mut paths = Path::ALL.to_vec();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--records" => config.records = number(&value()) as u64,
            "--producers" => config.producers = number(&value()) as u32,
            "--ring-size" => config.ring_size = number(&value()) as u32,
            "--paths" => {
                paths = value()
                    .split(',')
                    .map(|p| Path::parse(p).unwrap_or_else(|| usage(&format!("no path {p}"))))
                    .collect()
            }
            "--reopen" => {
                let v = value();
                let (lo, hi) = v.split_once('-').unwrap_or_else(|| usage("--reopen LO-HI"));
                config.reopen = Some((number(lo) as u64, number(hi) as u64));
            }
            "--help" | "-h" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if let Some(bpffs) = config.reopen.map(|_| std::path::Path::new("/sys/fs/bpf")) {
        assert!(bpffs.is_dir(), "--reopen pins the ring under /sys/fs/bpf");
    }
    println!(
        "{} records per path, {} producer thread(s), ring {} KiB{}",
        config.records,
        config.producers,
        config.ring_size / 1024,
        match config.reopen {
            Some((lo, hi)) => format!(", reopened from its pin every {lo}-{hi} records"),
            None => String::new(),
        }
    );
    println!("{}", Report::HEADER);
    let mut clean = true;
    for path in paths {
        let report = harness::run(&config, path);
        println!("{}", report.row());
        eprintln!(
            "  {}: {} submitted, {} discarded by the producer, {} reserves failed on a full \
             ring (retried), {:.1} s",
            path.name(),
            report.submitted,
            report.discarded,
            report.failed_reserves,
            report.elapsed.as_secs_f64()
        );
        clean &= report.is_clean();
    }
    if !clean {
        eprintln!("soak FAILED: a path lost, duplicated or corrupted records");
        std::process::exit(1);
    }
}

/// Parses `1000000`, `1e6` or `4M`-free plain numbers.
fn number(s: &str) -> f64 {
    s.parse::<f64>()
        .unwrap_or_else(|_| usage(&format!("not a number: {s}")))
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: soak [--records N] [--producers 1-4] [--ring-size BYTES] \
         [--paths read,batch,read_func,read_into,try_read] [--reopen LO-HI]"
    );
    std::process::exit(2);
}
