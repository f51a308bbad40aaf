//! Ctrl-C (SIGINT) and SIGTERM end `tap` and `dump` cleanly, so that they
//! print how many records they saw: the handler (installed through `ctrlc`)
//! only sets a flag, which the loops check between records.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the handler for SIGINT and SIGTERM, once per process.
pub fn stop_on_interrupt() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Relaxed: the flag carries no data; the loops only need to see it
        // eventually. If no handler can be installed, the default
        // disposition (end the process) stays, which loses no data.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed));
    });
}

/// Whether SIGINT or SIGTERM arrived.
pub fn stopped() -> bool {
    // Relaxed: see `stop_on_interrupt`.
    STOP.load(Ordering::Relaxed)
}
