//! Why the command stopped, and its exit code: 2 for bad input (a map that
//! is not there or not a ring, a type not in the object, a file that is not
//! a BPF object, no privilege), 1 for a failure while running.

use std::io;

use ringview::{RingBufError, SyscallError};

/// Exit code for bad input.
pub const BAD_INPUT: u8 = 2;
/// Exit code for a failure while running.
pub const FAILED: u8 = 1;

/// A message for stderr and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            code: BAD_INPUT,
            message: message.into(),
        }
    }

    /// A failure while running: exit code 1.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: FAILED,
            message: message.into(),
        }
    }

    /// A failed system call: bad input when it lacked the privilege.
    pub fn syscall(context: &str, error: &SyscallError) -> Self {
        let message = format!("{context}: {error}");
        if is_privilege(&error.io_error) {
            Self::input(privilege_hint(message))
        } else {
            Self::runtime(message)
        }
    }

    /// Opening a ring failed: bad input unless the system failed.
    pub fn open(what: &str, error: &RingBufError) -> Self {
        // These two name what was opened already.
        let message = match error {
            RingBufError::MapId { .. } | RingBufError::Pinned { .. } => error.to_string(),
            _ => format!("cannot open {what}: {error}"),
        };
        match error {
            RingBufError::Syscall(e) if !is_privilege(&e.io_error) => Self::runtime(message),
            RingBufError::Syscall(_) => Self::input(privilege_hint(message)),
            _ => Self::input(message),
        }
    }
}

fn is_privilege(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EPERM | libc::EACCES))
}

/// Says what privilege the command needs, unless the message does.
fn privilege_hint(message: String) -> String {
    if message.contains("CAP_SYS_ADMIN") {
        message
    } else {
        format!(
            "{message} (ringview opens maps by id, which needs CAP_SYS_ADMIN, and reads them \
             with CAP_BPF: run it as root)"
        )
    }
}
