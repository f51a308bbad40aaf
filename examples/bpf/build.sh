#!/bin/sh
# Rebuilds the committed BPF objects of the examples from their C sources.
# Needs clang and the libbpf headers (apt-get install -y clang libbpf-dev).
set -eu
cd "$(dirname "$0")"
clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c execsnoop.bpf.c -o execsnoop.bpf.o
