//! Nothing to build: the package declares `links = "ringview"` (see
//! `Cargo.toml`) so that cargo refuses two copies of this crate in one
//! binary, and `links` needs a build script.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
