#!/bin/sh
# Rebuilds every committed BPF object from the C source beside it
# (tests/bpf, benches/bpf, examples/bpf, btf/tests/btf, derive/tests/btf,
# ringview-cli/tests/bpf).
# The objects are committed so that building and testing need no clang; run
# this after editing a .bpf.c file and commit both.
# Needs clang, the libbpf headers and bpftool: apt-get install -y clang llvm libbpf-dev bpftool
set -eu
cd "$(dirname "$0")"
git ls-files '*.bpf.c' | while read -r src; do
	echo "clang $src"
	clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "${src%.c}.o"
done
# The derive's tests also need an object without DWARF, as `bpftool gen
# object` leaves it.
llvm-objcopy --strip-debug derive/tests/btf/tools.bpf.o derive/tests/btf/tools.nodwarf.bpf.o
# Two `struct dup_event`s of different layouts in one object, as linking
# leaves them (needs bpftool), and an object with two .BTF sections.
bpftool gen object derive/tests/btf/linked.bpf.o derive/tests/btf/linked_a.bpf.o derive/tests/btf/linked_b.bpf.o
llvm-objcopy -O binary --only-section=.BTF derive/tests/btf/linked.bpf.o derive/tests/btf/linked.BTF
llvm-objcopy --add-section .BTF=derive/tests/btf/linked.BTF derive/tests/btf/linked.bpf.o derive/tests/btf/two_btf.bpf.o
rm derive/tests/btf/linked.BTF
# The raw BTF of v3.bpf.o, as `/sys/kernel/btf/vmlinux` is raw BTF.
llvm-objcopy --dump-section .BTF=derive/tests/btf/v3.BTF derive/tests/btf/v3.bpf.o /dev/null
