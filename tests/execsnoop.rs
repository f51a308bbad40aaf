//! The `execsnoop` example against the real kernel: it must print a row for
//! each process this test executes while it traces, and then its count.
//!
//! Runs the example's binary from `target/<profile>/examples/`, after
//! running `cargo build --example execsnoop` to bring it up to date: `cargo
//! test` builds examples, but `cargo test --test execsnoop` does not.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest any run of the example may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The longest bringing the example's binary up to date may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

#[test]
fn prints_the_execs_of_spawned_processes() {
    require_kernel!();
    // Stopped by SIGINT once every row is in, not by `--duration`: on a
    // loaded machine the spawns alone can outlast a short duration.
    let mut tracer = Tracer::start(&[]);
    tracer.wait_for_header();

    // Unique arguments, so these runs are ours even in `ps`.
    let tag = format!("ringview-execsnoop-test-{}", std::process::id());
    let mut spawned = Vec::new();
    for i in 0..3 {
        spawned.push((
            "true",
            run(Command::new("/bin/true").arg(format!("{tag}-{i}"))),
        ));
    }
    for i in 0..2 {
        let mut sh = Command::new("/bin/sh");
        sh.args(["-c", "exit 0", &format!("{tag}-sh-{i}")]);
        spawned.push(("sh", run(&mut sh)));
    }
    for &(_, pid) in &spawned {
        tracer.wait_for_row(pid);
    }
    tracer.signal(libc::SIGINT);

    let finished = tracer.finish();
    assert!(finished.status.success(), "execsnoop failed: {finished:#?}");
    let test_pid = std::process::id();
    for (comm, pid) in spawned {
        let row = finished
            .rows()
            .find(|row| row.pid == pid)
            .unwrap_or_else(|| panic!("no row for {comm} (pid {pid}): {finished:#?}"));
        assert_eq!(row.comm, comm, "{row:?}");
        assert_eq!(row.ppid, test_pid, "the parent is this test: {row:?}");
        assert_eq!(row.uid, current_uid(), "{row:?}");
        assert!(
            [format!("/bin/{comm}"), format!("/usr/bin/{comm}")].contains(&row.filename),
            "filename of {row:?}"
        );
    }
    finished.assert_count_matches_rows();
}

#[test]
fn sigint_stops_it_with_the_count() {
    require_kernel!();
    let mut tracer = Tracer::start(&[]);
    tracer.wait_for_header();
    let pid = run(&mut Command::new("/bin/true"));
    tracer.wait_for_row(pid);
    tracer.signal(libc::SIGINT);

    let finished = tracer.finish();
    assert!(finished.status.success(), "after SIGINT: {finished:#?}");
    assert!(finished.rows().any(|row| row.pid == pid), "{finished:#?}");
    finished.assert_count_matches_rows();
}

#[test]
fn duration_stops_it_on_its_own() {
    require_kernel!();
    let mut tracer = Tracer::start(&["--duration", "1"]);
    tracer.wait_for_header();

    // With no signal and no count, only the duration ends the run;
    // `finish` fails the test if it runs past its deadline (30 s).
    let finished = tracer.finish();
    assert!(finished.status.success(), "{finished:#?}");
    finished.assert_count_matches_rows();
}

#[test]
fn count_stops_it_after_n_events() {
    require_kernel!();
    let mut tracer = Tracer::start(&["--count", "2"]);
    tracer.wait_for_header();
    // Exec until it has seen two (other processes' execs count too).
    while !tracer.has_exited() {
        run(&mut Command::new("/bin/true"));
        thread::sleep(Duration::from_millis(20));
    }

    let finished = tracer.finish();
    assert!(finished.status.success(), "{finished:#?}");
    assert_eq!(finished.event_lines().count(), 2, "{finished:#?}");
    finished.assert_count_matches_rows();
}

#[test]
fn usage_errors_and_help() {
    // Argument parsing comes before any privilege or kernel check.
    let help = Command::new(example_binary())
        .arg("--help")
        .output()
        .expect("run execsnoop --help");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("Usage: execsnoop"));

    for args in [&["--count", "many"][..], &["--duration"], &["--frobnicate"]] {
        let out = Command::new(example_binary())
            .args(args)
            .output()
            .expect("run execsnoop");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--help"),
            "{out:?}"
        );
    }
}

/// `target/<profile>/examples/execsnoop`, next to this test's
/// `target/<profile>/deps/`, brought up to date by `cargo build` once per
/// run: `cargo test --test execsnoop` builds no examples, and a stale binary
/// would test old code.
fn example_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_example)
}

fn build_example() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps/");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "--example",
            "execsnoop",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(profile) => {
            build.args(["--profile", profile]);
        }
    }
    let mut child = build
        .spawn()
        .expect("spawn cargo build --example execsnoop");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // Usually instant (up to date); bounded in case a lock is never freed.
    let deadline = Instant::now() + BUILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`cargo build --example execsnoop` took over {BUILD_TIMEOUT:?}; killed");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let errors = errors.join().expect("stderr reader");
    assert!(
        status.success(),
        "`cargo build --example execsnoop` failed ({status}):\n{errors}"
    );
    let path = profile_dir.join("examples").join("execsnoop");
    assert!(
        path.is_file(),
        "{} is missing after `cargo build --example execsnoop` (built for another target?)",
        path.display()
    );
    path
}

/// Runs `command` to completion and returns its pid.
fn run(command: &mut Command) -> u32 {
    let mut child = command.spawn().expect("spawn");
    let pid = child.id();
    let status = child.wait().expect("wait");
    assert!(status.success(), "{command:?}: {status}");
    pid
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// A running execsnoop; killed if dropped before it exits.
struct Tracer {
    child: Child,
    started: Instant,
    /// Its stdout, line by line, from a reader thread.
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

/// A finished run.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    /// Killed at the deadline.
    killed: bool,
    stdout: Vec<String>,
    stderr: String,
}

/// One table row: TIME(s) COMM PID PPID UID FILENAME.
#[derive(Debug)]
struct Row {
    comm: String,
    pid: u32,
    ppid: u32,
    uid: u32,
    filename: String,
}

impl Tracer {
    fn start(args: &[&str]) -> Self {
        // Mounts tracefs on a machine that lacks it (a fresh VM); a no-op
        // where it is mounted.
        let mut child = Command::new(example_binary())
            .args(args)
            .arg("--mount-tracefs")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn execsnoop");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        });
        Self {
            child,
            started: Instant::now(),
            lines,
            seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    fn deadline(&self) -> Instant {
        self.started + TIMEOUT
    }

    /// Waits for a stdout line matching `wanted`; panics with the output so
    /// far when the run ends or times out first.
    fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) {
        loop {
            let left = self.deadline().saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = wanted(&line);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let finished = self.take_finished();
                    panic!("no {what} within {TIMEOUT:?}: {finished:#?}");
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let finished = self.take_finished();
                    panic!("execsnoop ended before printing {what}: {finished:#?}");
                }
            }
        }
    }

    /// Waits until tracing has started: the header comes after the attach.
    fn wait_for_header(&mut self) {
        self.wait_for_line("header", |line| line.starts_with("TIME(s)"));
    }

    fn wait_for_row(&mut self, pid: u32) {
        self.wait_for_line(&format!("row for pid {pid}"), |line| {
            Row::parse(line).is_some_and(|row| row.pid == pid)
        });
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill has no memory preconditions; `pid` is our child,
        // which has not been waited for, so it cannot have been reused.
        let ret = unsafe { libc::kill(pid, signal) };
        assert_eq!(ret, 0, "kill: {}", std::io::Error::last_os_error());
    }

    fn has_exited(&mut self) -> bool {
        assert!(
            Instant::now() < self.deadline(),
            "execsnoop ran past {TIMEOUT:?}"
        );
        self.child.try_wait().expect("try_wait").is_some()
    }

    /// Waits for the run to end and collects its output; kills it and
    /// panics with that output if it runs past the deadline.
    fn finish(mut self) -> Finished {
        let finished = self.take_finished();
        assert!(
            !finished.killed,
            "execsnoop ran past {TIMEOUT:?} and was killed: {finished:#?}"
        );
        finished
    }

    /// Reaps the child (killing it at the deadline) and drains its output.
    fn take_finished(&mut self) -> Finished {
        let mut killed = false;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= self.deadline() {
                let _ = self.child.kill();
                killed = true;
                break self.child.wait().expect("wait");
            }
            thread::sleep(Duration::from_millis(50));
        };
        // The child is gone, so both pipes reach end of file.
        let mut stdout = std::mem::take(&mut self.seen);
        stdout.extend(self.lines.iter());
        let stderr = self
            .stderr
            .take()
            .map(|handle| handle.join().expect("stderr reader"))
            .unwrap_or_default();
        Finished {
            status,
            killed,
            stdout,
            stderr,
        }
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Finished {
    /// Every line after the header: one per event.
    fn event_lines(&self) -> impl Iterator<Item = &str> {
        self.stdout
            .iter()
            .map(String::as_str)
            .filter(|line| !line.starts_with("TIME(s)"))
    }

    /// The rows that parse (COMM may hold spaces; ours do not).
    fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        self.event_lines().filter_map(Row::parse)
    }

    /// The last stderr line is "N exec event(s) seen", N the lines printed.
    fn assert_count_matches_rows(&self) {
        let count: usize = self
            .stderr
            .lines()
            .last()
            .and_then(|line| line.strip_suffix(" seen"))
            .and_then(|line| line.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count line on stderr: {self:#?}"));
        assert_eq!(count, self.event_lines().count(), "{self:#?}");
    }
}

impl Row {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace();
        let _time: f64 = fields.next()?.parse().ok()?;
        let comm = fields.next()?.to_owned();
        let pid = fields.next()?.parse().ok()?;
        let ppid = fields.next()?.parse().ok()?;
        let uid = fields.next()?.parse().ok()?;
        let filename = fields.collect::<Vec<_>>().join(" ");
        Some(Self {
            comm,
            pid,
            ppid,
            uid,
            filename,
        })
    }
}
