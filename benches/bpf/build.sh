#!/bin/sh
# Rebuilds the committed BPF objects from their C sources.
# Needs clang and llvm (apt-get install -y clang llvm libbpf-dev).
set -eu
cd "$(dirname "$0")"
for src in *.bpf.c; do
	clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$src" -o "${src%.c}.o"
done
