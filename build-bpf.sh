#!/bin/sh
# Rebuilds every committed BPF object from the C source beside it
# (tests/bpf, benches/bpf, examples/bpf, derive/tests/btf, tests/derive/btf).
# The objects are committed so that building and testing need no clang; run
# this after editing a .bpf.c file and commit both.
# Needs clang and the libbpf headers: apt-get install -y clang llvm libbpf-dev
set -eu
cd "$(dirname "$0")"
git ls-files '*.bpf.c' | while read -r src; do
	echo "clang $src"
	clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "${src%.c}.o"
done
# The derive's tests also need an object without DWARF, as `bpftool gen
# object` leaves it.
llvm-objcopy --strip-debug tests/derive/btf/tools.bpf.o tests/derive/btf/tools.nodwarf.bpf.o
