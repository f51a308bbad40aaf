//! Bad input gives a clear message and exit code 2: a map that is not a
//! ring, a `--type` not in the object, an object that is not BPF, a map
//! that does not exist, two rings of one name, no privilege.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use common::{Producer, RECORDS_PATH};

/// Runs `ringview args`, expects exit code 2, and returns its stderr.
fn bad_input(args: &[&str]) -> String {
    check_bad(common::run(args))
}

fn check_bad(out: Output) -> String {
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    assert!(stderr.starts_with("ringview: "), "{stderr}");
    stderr
}

#[test]
fn a_map_that_is_not_a_ring() {
    require_kernel!();
    let producer = Producer::new(4096);
    let id = producer.id("not_a_ring").to_string();
    for command in ["tap", "dump"] {
        let stderr = bad_input(&[command, &id]);
        assert!(
            stderr.contains(&format!("map id {id}"))
                && stderr.contains("BPF_MAP_TYPE_ARRAY")
                && stderr.contains("BPF_MAP_TYPE_RINGBUF"),
            "{stderr}"
        );
    }
}

#[test]
fn a_type_not_in_the_object_or_an_object_that_is_not_bpf() {
    require_kernel!();
    let producer = Producer::new(4096);
    let id = producer.id("events").to_string();
    let stderr = bad_input(&["tap", &id, "--object", RECORDS_PATH, "--type", "evnt"]);
    assert!(
        stderr.contains("no struct or union named `evnt` in `records.bpf.o`")
            && stderr.contains("similar names: event"),
        "{stderr}"
    );
    let not_bpf = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let stderr = bad_input(&["dump", &id, "--object", not_bpf, "--type", "event"]);
    assert!(stderr.contains("is not a BPF object"), "{stderr}");
    let stderr = bad_input(&[
        "tap",
        &id,
        "--object",
        "/nonexistent.bpf.o",
        "--type",
        "event",
    ]);
    assert!(
        stderr.contains("cannot read /nonexistent.bpf.o"),
        "{stderr}"
    );
    // An ELF file that is not a BPF object: this test binary.
    let exe = std::env::current_exe().unwrap();
    let stderr = bad_input(&[
        "tap",
        &id,
        "--object",
        exe.to_str().unwrap(),
        "--type",
        "event",
    ]);
    assert!(
        stderr.contains("is not a BPF object: an ELF file for machine 62"),
        "{stderr}"
    );
    // --object without --type is a usage error.
    let stderr =
        String::from_utf8(common::run(&["tap", &id, "--object", RECORDS_PATH]).stderr).unwrap();
    assert!(stderr.contains("--type <NAME>"), "{stderr}");
}

#[test]
fn maps_that_are_not_there_or_not_one() {
    require_kernel!();
    let stderr = bad_input(&["tap", "4294967295"]);
    assert!(stderr.contains("cannot open map id 4294967295"), "{stderr}");
    let stderr = bad_input(&["tap", "events"]);
    assert!(stderr.contains("name:NAME"), "{stderr}");
    let stderr = bad_input(&["dump", "/sys/fs/bpf/ringview-no-such-pin"]);
    assert!(stderr.contains("cannot open pinned map"), "{stderr}");
    let stderr = bad_input(&["tap", "name:ringview-none"]);
    assert!(
        stderr.contains("no map is named `ringview-none`"),
        "{stderr}"
    );
    // Two rings named `dwarf_events`: the error lists both ids.
    let (a, b) = (Producer::new(4096), Producer::new(4096));
    let stderr = bad_input(&["tap", "name:dwarf_events"]);
    for id in [a.id("dwarf_events"), b.id("dwarf_events")] {
        assert!(stderr.contains(&id.to_string()), "{id} not in {stderr}");
    }
    assert!(stderr.contains("are named `dwarf_events`"), "{stderr}");
    let stderr = bad_input(&["tap", "name:not_a_ring"]);
    assert!(stderr.contains("not a ring buffer"), "{stderr}");
}

#[test]
fn no_privilege() {
    require_kernel!();
    // A copy that user `nobody` can run, wherever the build lives.
    let dir = std::env::temp_dir().join(format!("ringview-noprivilege-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.join("ringview");
    std::fs::copy(env!("CARGO_BIN_EXE_ringview"), &exe).unwrap();
    let as_nobody = |args: &[&str]| {
        Command::new(&exe)
            .args(args)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap()
    };
    let top = as_nobody(&["top", "--once", "--json", "--interval", "1"]);
    let tap = as_nobody(&["tap", "1"]);
    std::fs::remove_dir_all(&dir).unwrap();
    for out in [top, tap] {
        let stderr = check_bad(out);
        assert!(stderr.contains("CAP_SYS_ADMIN"), "{stderr}");
        assert!(stderr.contains("Operation not permitted"), "{stderr}");
    }
}
