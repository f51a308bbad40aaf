//! `ringview tap` (watch a live ring without consuming it, through an
//! `Observer`) and `ringview dump` (consume it, through a `Reader`): the
//! same output.

use std::time::{Duration, Instant};

use ringview::{Observed, Observer, ReadError, Reader, Record, RingBuf, RingId};

use crate::failure::Failure;
use crate::out::Out;
use crate::record_type;
use crate::render::Renderer;
use crate::signal;
use crate::target::{self, Target};
use crate::RecordArgs;

/// How long an idle tap sleeps between looks, at most: it has no wakeup
/// (the ring's descriptor reports the consumer's lag, not the tap's).
const MAX_NAP: Duration = Duration::from_millis(10);
/// How long a blocked `dump` read waits before checking for Ctrl-C.
const DUMP_SLICE: Duration = Duration::from_millis(100);

/// What a loop saw, for the summary on stderr.
#[derive(Debug, Default)]
struct Seen {
    records: u64,
    laps: u64,
}

fn map_id(id: RingId) -> u32 {
    match id {
        RingId::Map(id) => id,
        // Only kernel maps are opened here.
        RingId::Memory(_) => 0,
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::Id(id) => format!("map id {id}"),
        Target::Pinned(path) => format!("pinned map {}", path.display()),
    }
}

/// When the loop ends: `--duration`.
fn deadline(args: &RecordArgs) -> Option<Instant> {
    args.duration.map(|s| Instant::now() + s)
}

fn done(args: &RecordArgs, seen: &Seen, deadline: Option<Instant>) -> bool {
    args.count.is_some_and(|n| seen.records >= n)
        || deadline.is_some_and(|d| Instant::now() >= d)
        || signal::stopped()
}

/// `ringview tap`.
pub fn tap(args: &RecordArgs) -> Result<(), Failure> {
    let target = target::resolve(&args.map)?;
    let what = describe(&target);
    let opened = match &target {
        Target::Id(id) => Observer::from_map_id(*id),
        Target::Pinned(path) => Observer::from_pinned(path),
    };
    let mut observer = opened.map_err(|e| Failure::open(&what, &e))?;
    let id = map_id(observer.id());
    let renderer = Renderer::new(
        record_type::layout(args.object.as_deref(), args.type_name.as_deref(), id)?,
        args.json,
    );
    signal::stop_on_interrupt();
    let deadline = deadline(args);
    let mut out = Out::new();
    let mut seen = Seen::default();
    let mut copy = Vec::new();
    let mut nap = Duration::from_micros(100);
    while !done(args, &seen, deadline) {
        let found = observer
            .try_copy(&mut copy)
            .map_err(|e| Failure::runtime(format!("tapping map id {id}: {e}")))?;
        match found {
            Some(Observed::Record { .. }) => {
                seen.records += 1;
                nap = Duration::from_micros(100);
                if !out.write(&renderer.record(seen.records, &copy))? {
                    break;
                }
            }
            Some(Observed::Lapped { from, to }) => {
                seen.laps += 1;
                eprintln!(
                    "ringview: missed records: the producer overwrote them before the tap copied \
                     them ({} bytes from position {from} skipped)",
                    to.wrapping_sub(from)
                );
            }
            None => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(MAX_NAP);
            }
        }
    }
    eprintln!(
        "ringview: tapped {} record{} of map id {id}, missed records {} time{}",
        seen.records,
        plural(seen.records),
        seen.laps,
        plural(seen.laps)
    );
    Ok(())
}

/// `ringview dump`.
pub fn dump(args: &RecordArgs) -> Result<(), Failure> {
    let target = target::resolve(&args.map)?;
    let what = describe(&target);
    let opened = match &target {
        Target::Id(id) => RingBuf::from_map_id(*id),
        Target::Pinned(path) => RingBuf::from_pinned(path),
    };
    let ring = opened.map_err(|e| Failure::open(&what, &e))?;
    let id = map_id(ring.id());
    let renderer = Renderer::new(
        record_type::layout(args.object.as_deref(), args.type_name.as_deref(), id)?,
        args.json,
    );
    let mut reader =
        Reader::new(ring).map_err(|e| Failure::runtime(format!("cannot read map id {id}: {e}")))?;
    signal::stop_on_interrupt();
    let deadline = deadline(args);
    let mut out = Out::new();
    let mut seen = Seen::default();
    let mut record = Record::default();
    while !done(args, &seen, deadline) {
        let slice = Instant::now() + DUMP_SLICE;
        reader.set_deadline(Some(deadline.map_or(slice, |d| d.min(slice))));
        match reader.read_into(&mut record) {
            Ok(()) => {
                seen.records += 1;
                if !out.write(&renderer.record(seen.records, &record.sample))? {
                    break;
                }
            }
            Err(ReadError::DeadlineExceeded) => {}
            Err(e) => return Err(Failure::runtime(format!("reading map id {id}: {e}"))),
        }
    }
    eprintln!(
        "ringview: dumped {} record{} of map id {id}",
        seen.records,
        plural(seen.records)
    );
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
