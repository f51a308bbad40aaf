//! Only tests live here: `tests/libbpf_rs.rs`.
