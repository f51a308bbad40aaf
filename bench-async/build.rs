//! Compiles the libbpf consumer and the libbpf user ring producer against
//! the system libbpf (`libbpf-dev`).
fn main() {
    println!("cargo::rerun-if-changed=c/libbpf_poll.c");
    println!("cargo::rerun-if-changed=c/libbpf_user_ring.c");
    cc::Build::new()
        .file("c/libbpf_poll.c")
        .file("c/libbpf_user_ring.c")
        .opt_level(2)
        .warnings(true)
        .compile("libbpf_poll");
    println!("cargo::rustc-link-lib=bpf");
}
