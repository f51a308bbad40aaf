//! One consumer draining one prefilled ring, for instruction counts under
//! callgrind: `State::drain` is the only function that runs per record.
//!
//! ```text
//! cargo bench -p ringview-benches --bench profile_drain --no-run   # prints the binary's path
//! valgrind --tool=callgrind --toggle-collect='*State*drain*' \
//!     target/release/deps/profile_drain-HASH zero_copy 128 fields
//! ```
//!
//! A `harness = false` bench: `cargo bench` runs it with no arguments (just
//! `--bench`), and then it prints its usage and does nothing.
//!
//! Arguments: a consumer (`read_into`, `hand_copy`, `zero_copy`, `batch`,
//! `read_func`, `aya`, `hand_loop`), a struct size, `fields` or `payload`.
//! Prints how many records it drained; divide callgrind's `Ir` by it.

use ringview::RingEvent;

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use support::{Cold, Consumer, Words, Work};

/// A ring well below the cache size: callgrind counts instructions, not
/// cache misses.
const RING: u32 = 4 << 20;

fn drain<E: RingEvent + Words>(consumer: Consumer, work: Work) -> u64 {
    let mut cold = Cold::<E>::new(RING, consumer);
    let n = cold.capacity();
    cold.drain(work, n);
    n
}

fn main() {
    if !common::kernel_available() {
        return;
    }
    // `cargo bench` passes `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let usage = "usage: profile_drain CONSUMER SIZE fields|payload";
    if args.is_empty() {
        eprintln!("{usage}");
        return;
    }
    let [consumer, size, work] = args.as_slice() else {
        panic!("{usage}");
    };
    let consumer = Consumer::ALL
        .into_iter()
        .find(|c| c.name() == consumer)
        .expect(usage);
    let size: usize = size.parse().expect(usage);
    let work = Work::ALL
        .into_iter()
        .find(|w| w.name() == work)
        .expect(usage);
    let n = with_event!(size, E => drain::<E>(consumer, work));
    println!("{} {size} B {}: {n} records", consumer.name(), work.name());
}
