//! `#[ringview::event]` needs no zerocopy dependency: `tests/attribute-only`
//! depends on ringview alone and names no zerocopy path, and builds. (A
//! trybuild test could not show it: trybuild's crate gets every dependency
//! of ringview's, zerocopy included.)

use std::path::Path;
use std::process::Command;

#[test]
fn an_event_crate_needs_no_zerocopy_dependency() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = root.join("tests/attribute-only");
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).expect("read the manifest");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table");
    assert!(
        deps.lines()
            .all(|l| !l.trim_start().starts_with("zerocopy")),
        "the crate must not depend on zerocopy:\n{manifest}"
    );
    let source = std::fs::read_to_string(krate.join("src/lib.rs")).expect("read the source");
    assert!(
        !source.contains("zerocopy::") && !source.contains("use zerocopy"),
        "the source must name no zerocopy path"
    );
    let out = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target/attribute-only"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo check");
    assert!(
        out.status.success(),
        "the crate without zerocopy failed to build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
