//! Compiles the libbpf consumer against the system libbpf (`libbpf-dev`).
fn main() {
    println!("cargo::rerun-if-changed=c/libbpf_poll.c");
    cc::Build::new()
        .file("c/libbpf_poll.c")
        .opt_level(2)
        .warnings(true)
        .compile("libbpf_poll");
    println!("cargo::rustc-link-lib=bpf");
}
