// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Arrays of structs below the top level, for the derive's v2 UI tests
// (tests/derive/v2_pass, tests/derive/v2_fail): an array inside a nested
// struct, and the same inside each element of an array of structs. Rebuild
// the committed nested.bpf.o with ../../../build-bpf.sh.

#include <linux/types.h>
#include <stddef.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int(*name)[val]
#define CHECK(type, member, offset)                                            \
	_Static_assert(offsetof(type, member) == (offset), #type "." #member)
#define CHECK_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type)

static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size,
				    __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

struct {
	__uint(type, 27 /* BPF_MAP_TYPE_RINGBUF */);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct inner {
	__u32 a;
	__u32 b;
};

struct outer {
	__u16 tag;
	__u16 n;
	struct inner items[4];
};
CHECK(struct outer, items, 4);
CHECK_SIZE(struct outer, 36);

// Reserved in the ring and filled through a local pointer.
struct deep_event {
	__u32 pid;
	struct outer out;
	struct outer outs[2];
};
CHECK(struct deep_event, out, 4);
CHECK(struct deep_event, outs, 40);
CHECK_SIZE(struct deep_event, 112);

SEC("xdp")
int on_packet(void *ctx)
{
	struct deep_event *d = bpf_ringbuf_reserve(&rb, sizeof(*d), 0);
	if (d) {
		d->pid = 1;
		bpf_ringbuf_submit(d, 0);
	}
	return 2;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
