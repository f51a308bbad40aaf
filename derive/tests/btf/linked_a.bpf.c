// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Half of tests/derive/btf/linked.bpf.o (`bpftool gen object`, see
// ../../../build-bpf.sh): a `struct dup_event` that linked_b.bpf.c defines
// differently, for the derive's ambiguity error.
#include <linux/types.h>

struct dup_event {
	__u32 pid;
	__u32 tid;
};

struct dup_event dup_a __attribute__((section(".data.a"), used));

char LICENSE[] __attribute__((section("license"), used)) = "Dual MIT/GPL";
