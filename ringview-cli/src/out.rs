//! Writing the command's output to stdout.

use std::io::{self, Write};

use crate::failure::Failure;

/// Writes to stdout, flushing each write; a closed pipe ends the loop
/// quietly (`ringview tap ... | head`, `ringview top --json | head`).
pub struct Out {
    stdout: io::StdoutLock<'static>,
}

impl Out {
    pub fn new() -> Self {
        Self {
            stdout: io::stdout().lock(),
        }
    }

    /// `false` when stdout is closed.
    pub fn write(&mut self, text: &str) -> Result<bool, Failure> {
        let written = self
            .stdout
            .write_all(text.as_bytes())
            .and_then(|()| self.stdout.flush());
        match written {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(Failure::runtime(format!("cannot write to stdout: {e}"))),
        }
    }
}
