//! Compiles the libbpf consumer and the libbpf user ring producer against
//! the system libbpf (`libbpf-dev`).
fn main() {
    println!("cargo::rerun-if-changed=c/libbpf_poll.c");
    println!("cargo::rerun-if-changed=c/libbpf_user_ring.c");
    cc::Build::new()
        .file("c/libbpf_poll.c")
        .opt_level(2)
        .warnings(true)
        .compile("libbpf_poll");
    // The producer's record copy calls the C library's `memcpy` where GCC
    // would inline `rep movsq` for a large constant size: the Rust writers'
    // copies call `memcpy` at those sizes, so the comparison is of the
    // producers, not of two ways to copy.
    cc::Build::new()
        .file("c/libbpf_user_ring.c")
        .opt_level(2)
        .warnings(true)
        .flag_if_supported("-mstringop-strategy=libcall")
        .compile("libbpf_user_ring");
    println!("cargo::rustc-link-lib=bpf");
}
