#!/bin/sh
# Rebuilds every committed BPF object from the C source beside it
# (tests/bpf, benches/bpf, examples/bpf, btf/tests/btf, tests/derive/btf).
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
llvm-objcopy --strip-debug tests/derive/btf/tools.bpf.o tests/derive/btf/tools.nodwarf.bpf.o
# Two `struct dup_event`s of different layouts in one object, as linking
# leaves them (needs bpftool), and an object with two .BTF sections.
bpftool gen object tests/derive/btf/linked.bpf.o tests/derive/btf/linked_a.bpf.o tests/derive/btf/linked_b.bpf.o
llvm-objcopy -O binary --only-section=.BTF tests/derive/btf/linked.bpf.o tests/derive/btf/linked.BTF
llvm-objcopy --add-section .BTF=tests/derive/btf/linked.BTF tests/derive/btf/linked.bpf.o tests/derive/btf/two_btf.bpf.o
rm tests/derive/btf/linked.BTF
# The raw BTF of v3.bpf.o, as `/sys/kernel/btf/vmlinux` is raw BTF.
llvm-objcopy --dump-section .BTF=tests/derive/btf/v3.BTF tests/derive/btf/v3.bpf.o /dev/null
