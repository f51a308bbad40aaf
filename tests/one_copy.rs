//! One copy of ringview per binary: the claim registry (one consumer and
//! one producer per map in the process) is a `static` of the crate, so two
//! copies linked into one binary would each keep their own. The package
//! declares `links = "ringview"`, and cargo refuses a build that holds two
//! packages with the same `links`: this resolves such a build and checks
//! that cargo refuses it.

use std::path::Path;
use std::process::Command;

#[test]
fn cargo_refuses_two_copies_of_ringview_in_one_build() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        manifest.lines().any(|l| l.trim() == "links = \"ringview\""),
        "Cargo.toml declares `links = \"ringview\"`"
    );
    let dir = std::env::temp_dir().join(format!("ringview_one_copy_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Another release of ringview, as a second dependency would bring it.
    let other = dir.join("ringview-0.2");
    std::fs::create_dir_all(other.join("src")).unwrap();
    std::fs::write(
        other.join("Cargo.toml"),
        "[package]\nname = \"ringview\"\nversion = \"0.2.0\"\nedition = \"2021\"\n\
         links = \"ringview\"\nbuild = \"build.rs\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(other.join("build.rs"), "fn main() {}\n").unwrap();
    std::fs::write(other.join("src/lib.rs"), "").unwrap();
    // A binary that depends on both.
    let app = dir.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             [dependencies]\nringview = {{ path = {:?} }}\n\
             ringview2 = {{ package = \"ringview\", path = {:?} }}\n[workspace]\n",
            root.display().to_string(),
            other.display().to_string(),
        ),
    )
    .unwrap();
    std::fs::write(app.join("src/main.rs"), "fn main() {}\n").unwrap();
    let output = Command::new(env!("CARGO"))
        .args(["generate-lockfile", "--offline", "--manifest-path"])
        .arg(app.join("Cargo.toml"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "cargo resolved two copies: {stderr}"
    );
    assert!(
        stderr.contains("links") && stderr.contains("ringview"),
        "refused for another reason: {stderr}"
    );
}
