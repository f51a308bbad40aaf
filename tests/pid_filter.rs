//! The `pid_filter` example against the real kernel: a filter pushed
//! through the user ring buffer changes what the BPF program reports.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds the example (`cargo test --test pid_filter` builds no examples)
/// and returns `target/<profile>/examples/pid_filter`.
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
            "pid_filter",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .stdin(Stdio::null());
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            build.arg("--release");
        }
        Some(profile) => {
            build.args(["--profile", profile]);
        }
    }
    let output = build.output().expect("cargo build --example pid_filter");
    assert!(
        output.status.success(),
        "`cargo build --example pid_filter` failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    profile_dir.join("examples").join("pid_filter")
}

#[test]
fn the_pushed_filter_hides_exactly_the_filtered_exec() {
    require_kernel!();
    let output = Command::new(build_example())
        .stdin(Stdio::null())
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pid_filter failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let me = output_pid(&stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    // The reported execs carry the program's name, read with `cstr`.
    assert!(
        lines[0].ends_with(&format!("true (parent {me}): reported")),
        "{stdout}"
    );
    assert_eq!(lines[1], format!("pushed: ignore children of {me}"));
    assert!(
        lines[2].ends_with(&format!("(parent {me}): ignored by BPF")),
        "{stdout}"
    );
    assert_eq!(lines[3], format!("pushed: report children of {me}"));
    assert!(
        lines[4].ends_with(&format!("true (parent {me}): reported")),
        "{stdout}"
    );
    assert_eq!(lines[5], "BPF applied 2 commands and ignored 1 exec");
}

/// The example's own pid, from its first `pushed:` line.
fn output_pid(stdout: &str) -> u32 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("pushed: ignore children of "))
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pushed line in:\n{stdout}"))
}
