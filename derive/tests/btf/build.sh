#!/bin/sh
# Rebuilds layouts.bpf.o, the BPF object the BTF reader's tests parse.
# The object is committed so that the tests do not need clang; run this
# after editing layouts.bpf.c and commit both files.
set -eu
cd "$(dirname "$0")"
clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c layouts.bpf.c -o layouts.bpf.o
