//! One consumer draining one prefilled ring, for instruction counts under
//! callgrind: `State::drain` is the only function that runs per record.
//!
//! ```text
//! cargo build --release --example profile_drain
//! valgrind --tool=callgrind --toggle-collect='*State*drain*' \
//!     target/release/examples/profile_drain zero_copy 128 fields
//! ```
//!
//! Arguments: a consumer (`read_into`, `hand_copy`, `zero_copy`, `batch`,
//! `read_func`, `aya`, `hand_loop`), a struct size, `fields` or `payload`.
//! Prints how many records it drained; divide callgrind's `Ir` by it.

use ringview::RingEvent;

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../benches/support/mod.rs"]
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile_drain CONSUMER SIZE fields|payload";
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
