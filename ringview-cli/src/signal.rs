//! Ctrl-C (SIGINT) and SIGTERM end `tap` and `dump` cleanly, so that they
//! print how many records they saw: the handler only sets a flag, which
//! the loops check between records.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Relaxed: the flag carries no data; the loops only need to see it
    // eventually. An atomic store is async-signal-safe.
    STOP.store(true, Ordering::Relaxed);
}

/// Installs the handler for SIGINT and SIGTERM.
pub fn stop_on_interrupt() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `on_signal` is an `extern "C" fn(c_int)`, as `signal(2)`
        // expects of a handler, and does only an atomic store, which is
        // async-signal-safe. Replacing the default disposition of these two
        // signals affects nothing else in this program.
        unsafe { libc::signal(signal, handler) };
    }
}

/// Whether SIGINT or SIGTERM arrived.
pub fn stopped() -> bool {
    // Relaxed: see `on_signal`.
    STOP.load(Ordering::Relaxed)
}
