// SPDX-License-Identifier: MIT OR Apache-2.0
//
// The other half of tests/derive/btf/linked.bpf.o: the same name, another
// layout.
#include <linux/types.h>

struct dup_event {
	__u64 ts;
	__u32 pid;
};

struct dup_event dup_b __attribute__((section(".data.b"), used));
