#!/bin/sh
# The derive's compile cost: `cargo check` of this crate alone (50 derives
# against the kernel's 5 MB raw BTF), after its dependencies are built.
# Prints the wall time and the peak memory of the largest process (rustc).
# Budget (issue 21): at most 4 s and 300 MB.
set -eu
cd "$(dirname "$0")"
target="${CARGO_TARGET_DIR:-../../../target/compile-cost}"
cargo check -j2 --quiet --target-dir "$target"
for run in 1 2 3; do
	touch src/lib.rs
	/usr/bin/time -f "run $run: %e s, %M KB peak" cargo check -j2 --quiet --target-dir "$target"
done
