//! The soak run of `benches/soak` in the test suite: a live kernel
//! producer (two threads, sizes 1 B to 4 KiB, discards, NO_WAKEUP and
//! FORCE_WAKEUP) against every read path, 1e6 records each, and a run that
//! closes and reopens the pinned ring every few thousand records. Every
//! record must arrive once, byte for byte.

mod common;

#[allow(dead_code, reason = "the command's reporting is not used here")]
#[path = "../benches/soak/harness.rs"]
mod harness;

use harness::{Config, Path};

#[test]
fn a_million_records_per_read_path_arrive_once_and_intact() {
    require_kernel!();
    let config = Config {
        records: 1_000_000,
        ..Config::default()
    };
    for path in Path::ALL {
        let report = harness::run(&config, path);
        eprintln!("{}", report.row());
        assert!(report.submitted > 900_000, "{report:?}");
        assert_eq!(
            report.submitted + report.discarded,
            config.records,
            "{report:?}"
        );
        assert!(report.is_clean(), "{report:?}");
        // The readers allocate nothing per record: the process stays small
        // (the other soak test runs alongside in this process).
        assert!(report.rss_end_kib < 256 * 1024, "{report:?}");
    }
}

#[test]
fn nothing_is_lost_across_close_and_reopen_of_the_pinned_ring() {
    require_kernel!();
    common::bpffs();
    let config = Config {
        records: 300_000,
        reopen: Some((1000, 5000)),
        ..Config::default()
    };
    for path in Path::ALL {
        let report = harness::run(&config, path);
        eprintln!("{}", report.row());
        assert!(report.reopens >= 30, "{report:?}");
        assert!(report.is_clean(), "{report:?}");
    }
}
