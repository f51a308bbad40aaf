//! The `proctrace` example against the real kernel: an exec row and an exit
//! row (with its exit code) for each process this test runs, the exec
//! always first, and its three ways to stop (`--duration`, `--count`,
//! Ctrl-C). The tests that look for rows stop it with Ctrl-C once the rows
//! are in, so a loaded machine cannot end the run first.
//!
//! Runs the example's binary from `target/<profile>/examples/`, after
//! `cargo build --all-features --example proctrace` brings it up to date.

#![cfg(feature = "tokio")]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest any run of the example may take before it is killed.
const TIMEOUT: Duration = Duration::from_secs(30);

fn example_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
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
                "--all-features",
                "--example",
                "proctrace",
            ])
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        if profile_dir.file_name().and_then(|n| n.to_str()) == Some("release") {
            build.arg("--release");
        }
        let out = build.output().expect("run cargo build --example proctrace");
        assert!(
            out.status.success(),
            "cargo build --example proctrace: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        profile_dir.join("examples").join("proctrace")
    })
}

/// A running proctrace.
struct Tracer {
    child: Child,
    started: Instant,
    lines: Receiver<String>,
    stdout: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

/// One row: TIME EVENT COMM PID PPID DETAIL.
#[derive(Debug)]
struct Row {
    event: String,
    comm: String,
    pid: u32,
    ppid: u32,
    detail: String,
}

impl Row {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace();
        let _time: f64 = fields.next()?.parse().ok()?;
        let event = fields.next()?.to_owned();
        let comm = fields.next()?.to_owned();
        let pid = fields.next()?.parse().ok()?;
        let ppid = fields.next()?.parse().ok()?;
        let detail = fields.collect::<Vec<_>>().join(" ");
        Some(Self {
            event,
            comm,
            pid,
            ppid,
            detail,
        })
    }
}

impl Tracer {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(example_binary())
            .args(args)
            .arg("--mount-tracefs")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn proctrace");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let tracer = Self {
            child,
            started: Instant::now(),
            lines,
            stdout: Vec::new(),
            stderr: Some(stderr),
        };
        // The header comes after both programs are attached.
        let header = tracer
            .lines
            .recv_timeout(TIMEOUT)
            .expect("proctrace printed its header");
        assert!(header.starts_with("TIME(s)"), "{header}");
        tracer
    }

    /// Waits for the run to end (killing it past the timeout) and returns
    /// its rows and the count it printed on stderr.
    fn finish(mut self) -> (Vec<Row>, u64) {
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if self.started.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("proctrace ran past {TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        self.stdout.extend(self.lines.iter());
        let stderr = self.stderr.take().unwrap().join().unwrap();
        assert!(status.success(), "{status}: {stderr}");
        let count = stderr
            .lines()
            .last()
            .and_then(|line| line.strip_suffix(" seen"))
            .and_then(|line| line.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count line on stderr: {stderr}"));
        let rows: Vec<Row> = self.stdout.iter().filter_map(|l| Row::parse(l)).collect();
        assert_eq!(rows.len(), self.stdout.len(), "every line parses");
        (rows, count)
    }

    /// Reads rows until `done` holds for those read so far, then stops the
    /// run with Ctrl-C (SIGINT) and finishes it: a run ended by what it
    /// printed, not by a duration that a loaded machine can outlast.
    fn stop_once(mut self, done: impl Fn(&[Row]) -> bool) -> (Vec<Row>, u64) {
        let mut rows = Vec::new();
        while !done(&rows) {
            let left = TIMEOUT.saturating_sub(self.started.elapsed());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("{e} before the rows awaited: {rows:#?}"));
            rows.extend(Row::parse(&line));
            self.stdout.push(line);
        }
        self.signal(libc::SIGINT);
        self.finish()
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill has no memory preconditions; `pid` is our child, not
        // yet waited for, so it cannot have been reused.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
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

/// Runs `command` to completion and returns its pid.
fn run(command: &mut Command) -> u32 {
    let mut child = command.spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

#[test]
fn prints_exec_and_exit_of_each_process() {
    require_kernel!();
    let tracer = Tracer::start(&[]);
    let sh = run(Command::new("/bin/sh").args(["-c", "exit 3", "proctrace-test"]));
    let truth = run(Command::new("/bin/true").arg("proctrace-test"));
    let (rows, count) =
        tracer.stop_once(|rows| [sh, truth].iter().all(|&pid| both_rows(rows, pid)));
    assert_eq!(count, rows.len() as u64, "the count is the rows printed");
    let me = std::process::id();
    for (pid, comm, code) in [(sh, "sh", 3), (truth, "true", 0)] {
        let exec = rows
            .iter()
            .find(|r| r.pid == pid && r.event == "exec")
            .unwrap_or_else(|| panic!("no exec row for {comm} ({pid}): {rows:#?}"));
        assert_eq!((exec.comm.as_str(), exec.ppid), (comm, me), "{exec:?}");
        assert_eq!(exec.detail, format!("uid {}", current_uid()));
        let exit = rows
            .iter()
            .find(|r| r.pid == pid && r.event == "exit")
            .unwrap_or_else(|| panic!("no exit row for {comm} ({pid}): {rows:#?}"));
        assert_eq!((exit.comm.as_str(), exit.ppid), (comm, me), "{exit:?}");
        assert!(
            exit.detail.starts_with(&format!("code {code} after ")),
            "{exit:?}"
        );
    }
    assert_exec_before_exit(&rows);
}

/// Many short processes at once, from several CPUs: the two rings fill
/// side by side, and each exit is read close to its own exec. Every
/// process's exec row still comes before its exit row.
#[test]
fn never_prints_an_exit_before_the_exec_of_the_same_process() {
    require_kernel!();
    let tracer = Tracer::start(&[]);
    let mut ours = Vec::new();
    for _ in 0..10 {
        let children: Vec<_> = (0..20)
            .map(|_| Command::new("/bin/true").spawn().expect("spawn"))
            .collect();
        for mut child in children {
            ours.push(child.id());
            child.wait().expect("wait");
        }
    }
    let (rows, count) = tracer.stop_once(|rows| ours.iter().all(|&pid| both_rows(rows, pid)));
    assert_eq!(count, rows.len() as u64);
    let both = ours.iter().filter(|&&pid| both_rows(&rows, pid)).count();
    assert_eq!(
        both,
        ours.len(),
        "an exec and an exit row for each: {rows:#?}"
    );
    assert_exec_before_exit(&rows);
}

/// Whether `rows` hold an exec and an exit row of `pid`.
fn both_rows(rows: &[Row], pid: u32) -> bool {
    rows.iter().any(|r| r.pid == pid && r.event == "exec")
        && rows.iter().any(|r| r.pid == pid && r.event == "exit")
}

/// For every process with both rows, the exec row comes first.
fn assert_exec_before_exit(rows: &[Row]) {
    for (at, exit) in rows.iter().enumerate().filter(|(_, r)| r.event == "exit") {
        if let Some(exec_at) = rows
            .iter()
            .position(|r| r.pid == exit.pid && r.event == "exec")
        {
            assert!(
                exec_at < at,
                "the exit of {} (row {at}) printed before its exec (row {exec_at}): {rows:#?}",
                exit.pid
            );
        }
    }
}

#[test]
fn count_and_ctrl_c_stop_it() {
    require_kernel!();
    let tracer = Tracer::start(&["--count", "3"]);
    // Each run is an exec and an exit: two runs are enough.
    for _ in 0..2 {
        run(&mut Command::new("/bin/true"));
    }
    let (rows, count) = tracer.finish();
    assert_eq!((rows.len(), count), (3, 3));

    let tracer = Tracer::start(&[]);
    let pid = run(&mut Command::new("/bin/true"));
    // Until its exit is printed (by the reader task, not by the timer).
    let (rows, count) =
        tracer.stop_once(|rows| rows.iter().any(|r| r.pid == pid && r.event == "exit"));
    assert_eq!(count, rows.len() as u64);
    assert!(rows.iter().any(|r| r.pid == pid && r.event == "exec"));
}

#[test]
fn duration_stops_it_on_its_own() {
    require_kernel!();
    let tracer = Tracer::start(&["--duration", "1"]);
    // With no signal and no count, only the duration ends the run;
    // `finish` fails the test if it runs past its deadline (30 s).
    let (rows, count) = tracer.finish();
    assert_eq!(count, rows.len() as u64);
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}
