//! Prints the benchmark comparison as Markdown tables, without criterion:
//! ns/record and GB/s by struct size for every consumer (cold regime, both
//! kinds of work), the zero-copy/copy and zero-copy/aya ratios, and the hot
//! regime with and without the lazy publish policy. Writes the same numbers
//! to `target/bench_report/results.csv` and plots ns/record against struct
//! size to `target/bench_report/cold_{fields,payload}.svg`.
//!
//! Run as root: `cargo bench -p ringview-benches --bench bench_report` (a
//! few minutes; a `harness = false` bench, built with the bench profile). `-- --quick`
//! measures fewer sizes, `-- --hot` only the hot regime, `-- --cold` only
//! the cold one; `-- --sizes 16,1024` and `-- --rounds 9` choose the sizes
//! and the number of cold rounds.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use ringview::{PublishPolicy, RingEvent, UnsafeReader};

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use support::{BenchProducer, Cold, Consumer, Feed, Words, Work, COLD_RING, HOT_RING};

const REPORT_SIZES: [usize; 11] = [16, 32, 64, 128, 256, 512, 1024, 1536, 2048, 2432, 2560];
/// Records per BPF_PROG_TEST_RUN of the hot producer.
const HOT_BATCH: u32 = 1024;
/// Alternating runs of each policy in the hot regime.
const HOT_ROUNDS: u32 = 3;
/// The hot producer's pacing: flat out, then at least this many ns apart.
const HOT_PACES: [u64; 2] = [0, 200];
/// `BPF_RB_FORCE_WAKEUP`: notify the consumer whatever its position.
const BPF_RB_FORCE_WAKEUP: u64 = 2;
const QUICK_SIZES: [usize; 4] = [16, 128, 1024, 2432];

/// One measurement.
struct Row {
    regime: &'static str,
    work: Work,
    size: usize,
    consumer: &'static str,
    ns: f64,
    gbps: f64,
}

/// One size's cold measurement: every consumer's ns/record in every round,
/// in `Consumer::ALL` order.
struct ColdRounds(Vec<[f64; Consumer::ALL.len()]>);

impl ColdRounds {
    /// A consumer's fastest round.
    fn best(&self, consumer: usize) -> f64 {
        self.0
            .iter()
            .map(|r| r[consumer])
            .fold(f64::INFINITY, f64::min)
    }

    /// The median over rounds of `a`'s time over `b`'s in the same round:
    /// each ratio compares two drains of one round, within a second of each
    /// other, so the machine's slow and fast phases mostly cancel out of it.
    fn ratio(&self, a: Consumer, b: Consumer) -> f64 {
        let index = |c| Consumer::ALL.iter().position(|&x| x == c).unwrap();
        let (a, b) = (index(a), index(b));
        let mut ratios: Vec<f64> = self.0.iter().map(|r| r[a] / r[b]).collect();
        support::median(&mut ratios)
    }
}

/// Every consumer in turn drains one prefilled ring, `rounds` times, in
/// `Consumer::ALL` order in even rounds and the reverse in odd ones. One
/// ring (the same pages) for all, and turns that spread this VM's slow and
/// fast phases over all consumers alike.
fn cold<E: RingEvent + Words>(work: Work, rounds: u32) -> ColdRounds {
    let mut cold = Cold::<E>::new(COLD_RING, Consumer::ALL[0]);
    let n = cold.capacity();
    let mut times = Vec::new();
    for round in 0..rounds {
        let mut ns = [0.0; Consumer::ALL.len()];
        let mut order: Vec<usize> = (0..Consumer::ALL.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            cold.switch_to(Consumer::ALL[i]);
            ns[i] = cold.drain(work, n).as_nanos() as f64 / n as f64;
        }
        times.push(ns);
    }
    ColdRounds(times)
}

/// One hot-regime measurement, or the sum of several.
#[derive(Default)]
struct Hot {
    read: u64,
    elapsed: Duration,
    /// Runs of the producer that stopped at a failed reservation (a full
    /// ring).
    failed: u64,
    /// `IRQ work interrupts` raised meanwhile, all CPUs: the kernel's
    /// consumer notifications (`bpf_ringbuf_notify` runs from irq_work).
    notifications: u64,
    /// Times the consumer thread went to sleep (voluntary context
    /// switches).
    sleeps: u64,
    /// Commit-to-read delays of every 16th record, in ns.
    delays: Vec<u64>,
}

impl Hot {
    fn per_sec(&self) -> f64 {
        self.read as f64 / self.elapsed.as_secs_f64()
    }

    fn per_k(&self, n: u64) -> f64 {
        n as f64 * 1000.0 / self.read as f64
    }

    fn p99(&mut self) -> Duration {
        self.delays.sort_unstable();
        let p99 = self.delays.get(self.delays.len() * 99 / 100);
        Duration::from_nanos(p99.copied().unwrap_or(0))
    }

    fn add(&mut self, other: Hot) {
        self.read += other.read;
        self.elapsed += other.elapsed;
        self.failed += other.failed;
        self.notifications += other.notifications;
        self.sleeps += other.sleeps;
        self.delays.extend(other.delays);
    }
}

/// The hot regime for one policy: a producer thread submits with default
/// flags into a fresh ring for `run` while `UnsafeReader::read` drains it.
fn hot<E: RingEvent + Words>(
    size: usize,
    policy: PublishPolicy,
    pace_ns: u64,
    run: Duration,
) -> Hot {
    let producer = BenchProducer::new(HOT_RING, size as u32);
    // SAFETY: the ring's only consumer.
    let mut reader = unsafe { UnsafeReader::<E>::new(producer.ring()) }.unwrap();
    reader.set_publish_policy(policy);
    let feed = Feed {
        flags: 0,
        stamp: true,
        pace_ns,
        cpu: None,
    };
    let mut delays = Vec::with_capacity(4 << 20);
    let notifications = irq_work_interrupts();
    let sleeps = voluntary_switches();
    let ((read, elapsed), (_, failed)) =
        support::while_producing(&producer, HOT_BATCH, feed, || {
            let start = Instant::now();
            let mut seq = 0u64;
            reader.set_deadline(Some(start + run));
            loop {
                match reader.read() {
                    Ok(event) => {
                        let words = event.words();
                        assert_eq!(words[0], seq, "sequence");
                        if seq.is_multiple_of(16) && delays.len() < delays.capacity() {
                            let stamp = *words.last().unwrap();
                            delays.push(monotonic_ns().saturating_sub(stamp));
                        }
                        seq += 1;
                    }
                    Err(ringview::ReadError::DeadlineExceeded) => break,
                    Err(e) => panic!("{e}"),
                }
                if seq.is_multiple_of(1024) && start.elapsed() >= run {
                    break;
                }
            }
            (seq, start.elapsed())
        });
    Hot {
        read,
        elapsed,
        failed,
        notifications: irq_work_interrupts() - notifications,
        sleeps: voluntary_switches() - sleeps,
        delays,
    }
}

/// The hot regime, eager against lazy: `rounds` alternating runs of each,
/// summed, so that this machine's slow and fast phases hit both alike.
fn hot_pair<E: RingEvent + Words>(size: usize, pace_ns: u64, rounds: u32) -> [Hot; 2] {
    let mut pair = [Hot::default(), Hot::default()];
    for _ in 0..rounds {
        for (i, policy) in [PublishPolicy::EAGER, PublishPolicy::default()]
            .into_iter()
            .enumerate()
        {
            pair[i].add(hot::<E>(size, policy, pace_ns, Duration::from_millis(400)));
        }
    }
    pair
}

/// The producer alone, flat out with `flags`, for `run`: a consumer thread
/// releases everything submitted every 20 µs without reading it. Returns
/// records/s and notifications per 1000 records.
fn producer_alone(size: usize, flags: u64, run: Duration) -> (f64, f64) {
    let producer = BenchProducer::new(HOT_RING, size as u32);
    let ring = support::HandRing::new(producer.ring_fd());
    let feed = Feed {
        flags,
        stamp: true,
        pace_ns: 0,
        cpu: None,
    };
    let notifications = irq_work_interrupts();
    let start = Instant::now();
    let ((), (emitted, _)) = support::while_producing(&producer, HOT_BATCH, feed, || {
        while start.elapsed() < run {
            ring.skip_all();
            std::thread::sleep(Duration::from_micros(20));
        }
    });
    let per_sec = emitted as f64 / start.elapsed().as_secs_f64();
    let notifications = (irq_work_interrupts() - notifications) as f64 * 1000.0 / emitted as f64;
    (per_sec, notifications)
}

/// The `IWI` line of `/proc/interrupts`, summed over CPUs.
fn irq_work_interrupts() -> u64 {
    let text = std::fs::read_to_string("/proc/interrupts").unwrap_or_default();
    text.lines()
        .find(|l| l.trim_start().starts_with("IWI:"))
        .map_or(0, |l| {
            l.split_whitespace()
                .skip(1)
                .map_while(|w| w.parse::<u64>().ok())
                .sum()
        })
}

/// This thread's voluntary context switches.
fn voluntary_switches() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    if !common::kernel_available() {
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let value = |name: &str| {
        let i = args.iter().position(|a| a == name)?;
        let value = args
            .get(i + 1)
            .unwrap_or_else(|| panic!("{name} needs a value"));
        Some(value.as_str())
    };
    let quick = flag("--quick");
    let hot_only = flag("--hot");
    let cold_only = flag("--cold");
    let chosen: Option<Vec<usize>> = value("--sizes").map(|list| {
        list.split(',')
            .map(|s| s.parse().expect("--sizes takes sizes like 16,1024"))
            .collect()
    });
    let sizes: &[usize] = match &chosen {
        Some(sizes) => sizes,
        None if quick => &QUICK_SIZES,
        None => &REPORT_SIZES,
    };
    let rounds: u32 = value("--rounds").map_or(if quick { 2 } else { 5 }, |n| {
        n.parse().expect("--rounds takes a number")
    });
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!("# ringview benchmark report\n");
    println!(
        "CPU: {cpu}, {} cores; cold ring {} MiB (prefilled, then drained by each consumer in turn, {rounds} rounds); \
         hot ring {} KiB.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        COLD_RING >> 20,
        HOT_RING >> 10
    );

    let mut rows = Vec::new();
    for work in Work::ALL.into_iter().filter(|_| !hot_only) {
        let mut measured = Vec::new();
        for &size in sizes {
            let times = with_event!(size, E => cold::<E>(work, rounds));
            for (i, consumer) in Consumer::ALL.into_iter().enumerate() {
                let ns = times.best(i);
                eprintln!(
                    "cold {} {size} B {}: {ns:.2} ns",
                    work.name(),
                    consumer.name()
                );
                rows.push(Row {
                    regime: "cold",
                    work,
                    size,
                    consumer: consumer.name(),
                    ns,
                    gbps: size as f64 / ns,
                });
            }
            measured.push((size, times));
        }
        print_table(&rows, work, &measured);
    }

    if cold_only {
        write_outputs(&rows, sizes);
        return;
    }
    println!("## Hot regime: lazy publishing against per-record commit\n");
    println!(
        "A producer thread submits with default flags ({HOT_BATCH} records per \
         BPF_PROG_TEST_RUN) into a {} KiB ring while `UnsafeReader::read` drains it, eager \
         (libbpf-like: publish every record, block when empty) and lazy (the default policy) \
         alternating, {HOT_ROUNDS} runs of 0.4 s each. The producer runs flat out, or paced \
         (at least `pace` ns between records, a producer slower than the consumer). The last \
         word of every 16th record is the producer's `bpf_ktime_get_ns()`, for the delay. \
         Notifications are the IRQ work interrupts raised meanwhile (`IWI` in \
         `/proc/interrupts`, all CPUs), sleeps the consumer's voluntary context switches, \
         both per 1000 records read; failed reserves are producer runs stopped by a full \
         ring.\n",
        HOT_RING >> 10
    );
    println!(
        "What a notification costs the producer: the same producer with a consumer that only \
         releases the ring every 20 µs, unread, with default flags (it never finds the \
         consumer caught up) and with `BPF_RB_FORCE_WAKEUP` (a notification for every \
         record):\n"
    );
    println!("| size | submit flags | records/s | notifications /1k |");
    println!("|---:|---|---:|---:|");
    for size in [16, 128] {
        for (name, flags) in [("0", 0), ("BPF_RB_FORCE_WAKEUP", BPF_RB_FORCE_WAKEUP)] {
            let (per_sec, notifications) = producer_alone(size, flags, Duration::from_millis(500));
            println!(
                "| {size} | {name} | {:.2} M | {notifications:.2} |",
                per_sec / 1e6
            );
        }
    }
    println!();
    println!(
        "| size | pace | policy | records/s | lazy/eager | failed reserves | notifications /1k | \
         sleeps /1k | p99 commit-to-read |"
    );
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    let hot_sizes: &[usize] = if quick {
        &[16, 128]
    } else {
        &[16, 32, 64, 128, 1024, 2432]
    };
    for pace_ns in HOT_PACES {
        for &size in hot_sizes {
            let mut pair = with_event!(size, E => hot_pair::<E>(size, pace_ns, HOT_ROUNDS));
            let ratio = pair[1].per_sec() / pair[0].per_sec();
            let pace = if pace_ns == 0 {
                "flat out".to_owned()
            } else {
                format!("{pace_ns} ns")
            };
            for (i, h) in pair.iter_mut().enumerate() {
                let (name, regime, ratio) = match (i, pace_ns) {
                    (0, 0) => ("eager", "hot_eager", String::new()),
                    (0, _) => ("eager", "hot_paced_eager", String::new()),
                    (_, 0) => ("lazy", "hot_lazy", format!("{ratio:.2}x")),
                    _ => ("lazy", "hot_paced_lazy", format!("{ratio:.2}x")),
                };
                let p99 = h.p99();
                println!(
                    "| {size} | {pace} | {name} | {:.2} M | {ratio} | {} | {:.2} | {:.2} | {:.1} µs |",
                    h.per_sec() / 1e6,
                    h.failed,
                    h.per_k(h.notifications),
                    h.per_k(h.sleeps),
                    p99.as_nanos() as f64 / 1e3
                );
                rows.push(Row {
                    regime,
                    work: Work::Fields,
                    size,
                    consumer: "zero_copy",
                    ns: 1e9 / h.per_sec(),
                    gbps: size as f64 * h.per_sec() / 1e9,
                });
            }
        }
    }
    println!();

    write_outputs(&rows, if hot_only { &[] } else { sizes });
}

/// Writes `results.csv` and, for the sizes measured cold, the plots.
fn write_outputs(rows: &[Row], sizes: &[usize]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench_report");
    std::fs::create_dir_all(&dir).expect("create target/bench_report");
    let mut csv = String::from("regime,work,size,consumer,ns_per_record,gb_per_s\n");
    for r in rows {
        let _ = writeln!(
            csv,
            "{},{},{},{},{:.3},{:.3}",
            r.regime,
            r.work.name(),
            r.size,
            r.consumer,
            r.ns,
            r.gbps
        );
    }
    std::fs::write(dir.join("results.csv"), csv).expect("write results.csv");
    for work in Work::ALL.into_iter().filter(|_| !sizes.is_empty()) {
        let svg = plot(rows, work, sizes);
        std::fs::write(dir.join(format!("cold_{}.svg", work.name())), svg).expect("write svg");
    }
    println!(
        "Wrote {}/results.csv and cold_{{fields,payload}}.svg.",
        dir.display()
    );
}

fn ns_of(rows: &[Row], work: Work, size: usize, consumer: &str) -> f64 {
    rows.iter()
        .find(|r| r.regime == "cold" && r.work == work && r.size == size && r.consumer == consumer)
        .map_or(f64::NAN, |r| r.ns)
}

fn print_table(rows: &[Row], work: Work, measured: &[(usize, ColdRounds)]) {
    println!("## Cold regime, `{}` work: ns/record (GB/s)\n", work.name());
    let mut header = String::from("| size |");
    let mut rule = String::from("|---:|");
    for c in Consumer::ALL {
        let _ = write!(header, " {} |", c.name());
        rule.push_str("---:|");
    }
    // (name, numerator, denominator, shown as "how many times faster")
    let ratios = [
        ("zero-copy/copy", Consumer::Copy, Consumer::ZeroCopy, true),
        ("zero-copy/aya", Consumer::Aya, Consumer::ZeroCopy, true),
        (
            "zero-copy/hand",
            Consumer::ZeroCopy,
            Consumer::HandLoop,
            false,
        ),
        ("batch/hand", Consumer::Batch, Consumer::HandLoop, false),
        (
            "read_func/hand",
            Consumer::ReadFunc,
            Consumer::HandLoop,
            false,
        ),
        (
            "read_into/hand_copy",
            Consumer::Copy,
            Consumer::HandCopy,
            false,
        ),
    ];
    for (name, ..) in ratios {
        let _ = write!(header, " {name} |");
        rule.push_str("---:|");
    }
    println!("{header}\n{rule}");
    for (size, times) in measured {
        let mut line = format!("| {size} |");
        for c in Consumer::ALL {
            let ns = ns_of(rows, work, *size, c.name());
            let _ = write!(line, " {ns:.2} ({:.1}) |", *size as f64 / ns);
        }
        for (_, a, b, times_faster) in ratios {
            let ratio = times.ratio(a, b);
            if times_faster {
                let _ = write!(line, " {ratio:.2}x |");
            } else {
                let _ = write!(line, " {ratio:.2} |");
            }
        }
        println!("{line}");
    }
    println!(
        "\nns/record: each consumer's fastest round. Ratios: the median over rounds of the two \
         consumers' times in the same round. zero-copy/copy and zero-copy/aya: how many times \
         faster `UnsafeReader::read` is; the others: time relative to the hand-written \
         reference (1.00 = as fast).\n"
    );
}

/// ns/record against struct size, one line per consumer.
fn plot(rows: &[Row], work: Work, sizes: &[usize]) -> String {
    const W: f64 = 900.0;
    const H: f64 = 520.0;
    const L: f64 = 70.0;
    const R: f64 = 170.0;
    const T: f64 = 40.0;
    const B: f64 = 50.0;
    let colors = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f",
    ];
    let max_size = *sizes.iter().max().unwrap() as f64;
    let max_ns = rows
        .iter()
        .filter(|r| r.regime == "cold" && r.work == work)
        .map(|r| r.ns)
        .fold(1.0, f64::max);
    let x = |s: f64| L + s / max_size * (W - L - R);
    let y = |ns: f64| H - B - ns / max_ns * (H - T - B);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" \
         fill=\"white\"/>\n<text x=\"{L}\" y=\"22\" font-size=\"15\">ringview, cold regime, {} \
         work: ns per record by struct size</text>\n",
        work.name()
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{L}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"black\"/>\
         <line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{0}\" stroke=\"black\"/>",
        H - B,
        W - R
    );
    for i in 0..=5 {
        let ns = max_ns * f64::from(i) / 5.0;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{ns:.0}</text>",
            L - 6.0,
            y(ns) + 4.0
        );
    }
    for &s in sizes {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{s}</text>",
            x(s as f64),
            H - B + 18.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">struct size (bytes)</text>\
         <text x=\"18\" y=\"{}\" transform=\"rotate(-90 18 {})\" text-anchor=\"middle\">ns per \
         record</text>",
        (L + W - R) / 2.0,
        H - 12.0,
        H / 2.0,
        H / 2.0
    );
    for (i, c) in Consumer::ALL.iter().enumerate() {
        let points: Vec<String> = sizes
            .iter()
            .map(|&s| {
                format!(
                    "{:.1},{:.1}",
                    x(s as f64),
                    y(ns_of(rows, work, s, c.name()))
                )
            })
            .collect();
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\
             <text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>",
            colors[i],
            points.join(" "),
            W - R + 12.0,
            T + 18.0 * i as f64 + 10.0,
            colors[i],
            c.name()
        );
    }
    svg.push_str("</svg>\n");
    svg
}
