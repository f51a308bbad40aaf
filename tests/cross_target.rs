//! The BTF check catches a host whose layout differs from BPF's: on i686,
//! `u64` is 4-byte aligned, so `struct pid_ts { __u32 pid; __u64 ts; }` puts
//! `ts` at offset 4 instead of 8, and the derive must fail the build there
//! while the same crate builds for x86_64.

use std::path::Path;
use std::process::{Command, Output};

fn check(target: &str) -> Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--target", target, "--manifest-path"])
        .arg(root.join("tests/cross-target/Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target/cross-target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo check")
}

#[test]
fn builds_where_the_layout_matches() {
    let out = check("x86_64-unknown-linux-gnu");
    assert!(
        out.status.success(),
        "x86_64 check failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs the i686 standard library: `.ci/run` adds the target and runs this with --ignored"]
fn fails_on_i686_with_the_offset_error() {
    let out = check("i686-unknown-linux-gnu");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("target may not be installed"),
        "the i686 standard library is missing: run `rustup target add i686-unknown-linux-gnu`\n{stderr}"
    );
    assert!(!out.status.success(), "the i686 check must fail:\n{stderr}");
    assert!(
        stderr.contains(
            "offset of `PidTs.ts` differs: Rust puts it at byte 4, but `__u64 ts` is at byte offset 8 in `struct pid_ts`"
        ),
        "the i686 check failed for another reason:\n{stderr}"
    );
    assert!(
        stderr.contains("size of `PidTs` differs: `struct pid_ts` is 16 bytes in `events.bpf.o`"),
        "{stderr}"
    );
}
