//! `ringview top`: every ring buffer on the host, with its fill level and
//! how fast its producer and consumer move, sampled through read-only
//! mappings (an `Observer` per ring) that never move a position.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use ringview::inspect::{self, MapInfo};
use ringview::{ObservedPositions, Observer, BPF_MAP_TYPE_USER_RINGBUF};
use serde::Serialize;

use crate::failure::Failure;
use crate::out::Out;
use crate::signal;
use crate::target;
use crate::TopArgs;

/// One ring, as `top --json` prints it.
#[derive(Debug, Default, Serialize)]
struct Row {
    id: u32,
    name: String,
    /// `ringbuf` or `user_ringbuf`.
    #[serde(rename = "type")]
    map_type: &'static str,
    /// The data area in bytes (`max_entries`).
    size: u32,
    /// `map_flags`.
    flags: u32,
    /// The programs that use the map, as the kernel lists them.
    programs: Vec<Program>,
    consumer_pos: Option<u64>,
    producer_pos: Option<u64>,
    /// Bytes reserved and not yet consumed.
    fill_bytes: Option<u64>,
    fill_percent: Option<f64>,
    producer_bytes_per_s: Option<f64>,
    consumer_bytes_per_s: Option<f64>,
    /// Records per second, where their headers could be walked.
    producer_records_per_s: Option<f64>,
    consumer_records_per_s: Option<f64>,
    /// Seconds since the consumer was last seen to move, while records
    /// wait; `None` when the ring is empty.
    stalled_s: Option<f64>,
    /// Why the positions could not be read.
    error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct Program {
    id: u32,
    name: String,
}

/// What `top` keeps of a ring between samples.
struct Watch {
    observer: Observer,
    last: ObservedPositions,
    at: Instant,
    consumer_moved_at: Instant,
}

/// The rings being watched, by map id.
#[derive(Default)]
struct Top {
    watches: HashMap<u32, Watch>,
}

/// `ringview top`.
pub fn top(args: &TopArgs) -> Result<(), Failure> {
    let interval = Duration::from_millis(args.interval);
    let mut top = Top::default();
    // The first sample only sets the start of each ring's rates.
    top.sample()?;
    if !args.once {
        signal::stop_on_interrupt();
    }
    let mut out = Out::new();
    let clear = !args.json && !args.once && io::stdout().is_terminal();
    loop {
        if !nap(interval) {
            return Ok(());
        }
        let rows = top.sample()?;
        let mut text = if args.json {
            let mut line = serde_json::to_string(&rows)
                .map_err(|e| Failure::runtime(format!("cannot write JSON: {e}")))?;
            line.push('\n');
            line
        } else {
            table(&rows, interval)
        };
        if clear {
            text.insert_str(0, "\x1b[H\x1b[2J");
        }
        if !out.write(&text)? {
            return Ok(());
        }
        if args.once {
            return Ok(());
        }
    }
}

/// Sleeps `interval`, waking early for Ctrl-C: `false` if it came.
fn nap(interval: Duration) -> bool {
    let end = Instant::now() + interval;
    loop {
        if signal::stopped() {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

impl Top {
    /// Lists the rings and samples each one.
    fn sample(&mut self) -> Result<Vec<Row>, Failure> {
        let rings: Vec<MapInfo> = target::all_maps()?
            .into_iter()
            .filter(MapInfo::is_ring)
            .collect();
        let users = programs_by_map()?;
        self.watches
            .retain(|id, _| rings.iter().any(|ring| ring.id == *id));
        Ok(rings
            .into_iter()
            .map(|ring| {
                let programs = users.get(&ring.id).cloned().unwrap_or_default();
                self.row(ring, programs)
            })
            .collect())
    }

    fn row(&mut self, map: MapInfo, programs: Vec<Program>) -> Row {
        let mut row = Row {
            id: map.id,
            name: map.name.clone(),
            map_type: if map.map_type == BPF_MAP_TYPE_USER_RINGBUF {
                "user_ringbuf"
            } else {
                "ringbuf"
            },
            size: map.max_entries,
            flags: map.map_flags,
            programs,
            ..Default::default()
        };
        let now = Instant::now();
        let watch = match self.watches.entry(map.id) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                match Observer::from_map_id(map.id) {
                    Ok(observer) => {
                        let last = observer.positions();
                        entry.insert(Watch {
                            observer,
                            last,
                            at: now,
                            consumer_moved_at: now,
                        })
                    }
                    Err(e) => {
                        row.error = Some(e.to_string());
                        return row;
                    }
                }
            }
        };
        let positions = watch.observer.positions();
        let fill = positions.pending();
        row.consumer_pos = Some(positions.consumer);
        row.producer_pos = Some(positions.producer);
        row.fill_bytes = Some(fill);
        row.fill_percent = Some(percent(fill, map.max_entries));
        let seconds = now.duration_since(watch.at).as_secs_f64();
        if seconds > 0.0 {
            let last = watch.last;
            let rate = |delta: u64| delta as f64 / seconds;
            row.producer_bytes_per_s = Some(rate(positions.producer.wrapping_sub(last.producer)));
            row.consumer_bytes_per_s = Some(rate(positions.consumer.wrapping_sub(last.consumer)));
            row.producer_records_per_s = watch
                .observer
                .count_records(last.producer, positions.producer)
                .map(rate);
            row.consumer_records_per_s = watch
                .observer
                .count_records(last.consumer, positions.consumer)
                .map(rate);
        }
        if positions.consumer != watch.last.consumer {
            watch.consumer_moved_at = now;
        }
        if fill > 0 {
            row.stalled_s = Some(now.duration_since(watch.consumer_moved_at).as_secs_f64());
        }
        watch.last = positions;
        watch.at = now;
        row
    }
}

fn percent(fill: u64, size: u32) -> f64 {
    if size == 0 {
        0.0
    } else {
        (fill as f64 * 1000.0 / f64::from(size)).round() / 10.0
    }
}

/// The programs that use each map, from every program's `map_ids`.
fn programs_by_map() -> Result<HashMap<u32, Vec<Program>>, Failure> {
    let mut users: HashMap<u32, Vec<Program>> = HashMap::new();
    for id in inspect::prog_ids() {
        let id = id.map_err(|e| Failure::syscall("cannot list the BPF programs", &e))?;
        // A program unloaded during the walk is simply not seen.
        let Ok(prog) = inspect::prog_info(id) else {
            continue;
        };
        for map in &prog.map_ids {
            users.entry(*map).or_default().push(Program {
                id: prog.id,
                name: prog.name.clone(),
            });
        }
    }
    Ok(users)
}

/// `1.5 KiB`, `256 KiB`, `12 B`.
fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `1.2 KiB/s 40/s`: bytes and records per second.
fn rate(bytes_per_s: Option<f64>, records_per_s: Option<f64>) -> String {
    match (bytes_per_s, records_per_s) {
        (None, _) => "-".to_owned(),
        (Some(b), None) => format!("{}/s", bytes(b)),
        (Some(b), Some(r)) => format!("{}/s {r:.0} rec/s", bytes(b)),
    }
}

/// The table `top` shows, one line per ring.
fn table(rows: &[Row], interval: Duration) -> String {
    let mut lines = vec![[
        "ID", "NAME", "TYPE", "SIZE", "FLAGS", "FILL", "PRODUCED", "CONSUMED", "CONSUMER",
        "PROGRAMS",
    ]
    .map(str::to_owned)];
    for row in rows {
        let fill = match (row.fill_bytes, row.fill_percent) {
            (Some(b), Some(p)) => format!("{} {p:.1}%", bytes(b as f64)),
            _ => "-".to_owned(),
        };
        let consumer = match (&row.error, row.stalled_s) {
            (Some(e), _) => format!("error: {e}"),
            (None, None) => "caught up".to_owned(),
            (None, Some(s)) if s > 0.0 => format!("stalled {s:.1} s"),
            (None, Some(_)) => "moving".to_owned(),
        };
        let programs: Vec<String> = row
            .programs
            .iter()
            .map(|p| format!("{}({})", p.name, p.id))
            .collect();
        lines.push([
            row.id.to_string(),
            row.name.clone(),
            row.map_type.to_owned(),
            bytes(f64::from(row.size)),
            if row.flags == 0 {
                "-".to_owned()
            } else {
                format!("{:#x}", row.flags)
            },
            fill,
            rate(row.producer_bytes_per_s, row.producer_records_per_s),
            rate(row.consumer_bytes_per_s, row.consumer_records_per_s),
            consumer,
            if programs.is_empty() {
                "-".to_owned()
            } else {
                programs.join(",")
            },
        ]);
    }
    let mut widths = [0usize; 10];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = format!(
        "ringview top: {} ring buffer{}, sampled every {:.1} s\n",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        interval.as_secs_f64()
    );
    for line in &lines {
        let mut text = String::new();
        for (i, (cell, width)) in line.iter().zip(widths).enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_rates_read_as_people_write_them() {
        assert_eq!(bytes(12.0), "12 B");
        assert_eq!(bytes(256.0 * 1024.0), "256 KiB");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(rate(None, None), "-");
        assert_eq!(rate(Some(2048.0), Some(4.0)), "2 KiB/s 4 rec/s");
        assert_eq!(percent(1024, 4096), 25.0);
        assert_eq!(percent(1, 0), 0.0);
    }
}
