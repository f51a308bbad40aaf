// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Nested structs for the derive's v2 UI tests (tests/derive/v2_pass,
// tests/derive/v2_fail): arrays of structs below the top level, in a nested
// struct and inside each element of an array of structs; and nested structs
// whose Rust types rename members and cover bitfields with padding, checked
// through their own fields (`#[ring_event(nested)]`). Rebuild the committed
// nested.bpf.o with ../../../build-bpf.sh.

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

// A member Rust renames (`port`), bitfields only padding can stand for, an
// anonymous union, a float.
struct addr {
	__u16 family;
	__u16 port;
	__u32 scope : 4, level : 4;
	union {
		__u32 v4;
		__u8 v6[16];
	};
	float weight;
};
CHECK(struct addr, v6, 8);
CHECK(struct addr, weight, 24);
CHECK_SIZE(struct addr, 28);

// `where`, a Rust keyword, is renamed in Rust: a nested type whose own
// field is nested.
struct endpoint {
	__u32 id;
	struct addr where;
};
CHECK_SIZE(struct endpoint, 32);

// Reserved in the ring and filled through a local pointer.
struct peer_event {
	__u32 pid;
	struct endpoint local;
	struct addr peers[2];
	__u64 ts;
};
CHECK(struct peer_event, local, 4);
CHECK(struct peer_event, peers, 36);
CHECK(struct peer_event, ts, 96);
CHECK_SIZE(struct peer_event, 104);

SEC("xdp")
int on_packet(void *ctx)
{
	struct deep_event *d = bpf_ringbuf_reserve(&rb, sizeof(*d), 0);
	if (d) {
		d->pid = 1;
		bpf_ringbuf_submit(d, 0);
	}
	struct peer_event *p = bpf_ringbuf_reserve(&rb, sizeof(*p), 0);
	if (p) {
		p->pid = 2;
		bpf_ringbuf_submit(p, 0);
	}
	return 2;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
