// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Event structs written the way BPF tracing and networking tools write them,
// for the derive's v2 UI tests (tests/derive/v2_pass, tests/derive/v2_fail).
// Rebuild the committed tools.bpf.o (and tools.nodwarf.bpf.o, the same object
// without DWARF, as `bpftool gen object` leaves it) with ../../../build-bpf.sh.
//
// Unlike btf/tests/btf/layouts.bpf.c, most structs here have no global of
// their type: they are used only as a stack value or through a pointer from
// bpf_ringbuf_reserve, so clang leaves them out of BTF and only DWARF has them.

#include <linux/types.h>
#include <stddef.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int(*name)[val]
#define CHECK(type, member, offset)                                            \
	_Static_assert(offsetof(type, member) == (offset), #type "." #member)
#define CHECK_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type)

static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size,
				  __u64 flags) = (void *)130;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size,
				    __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

// No __type(value, ...): the map does not name the event struct.
struct {
	__uint(type, 27 /* BPF_MAP_TYPE_RINGBUF */);
	__uint(max_entries, 4096);
} rb SEC(".maps");

// Sent from the stack with bpf_ringbuf_output.
struct stack_event {
	__u32 pid;
	__u32 tid;
	__u64 ts;
	char comm[16];
};
CHECK_SIZE(struct stack_event, 32);

// Reserved in the ring and filled through a local pointer.
struct point {
	__u32 x;
	__u32 y;
};

struct segment {
	struct point from;
	struct point to;
};

struct nested_event {
	__u8 kind;
	struct segment seg;
	struct point pts[2];
	float ratio;
	__u32 count;
	char name[16];
	__be32 daddr;
};
CHECK(struct nested_event, seg, 4);
CHECK(struct nested_event, pts, 20);
CHECK(struct nested_event, ratio, 36);
CHECK_SIZE(struct nested_event, 64);

// A network event with an anonymous union of address forms.
struct conn_event {
	__u32 pid;
	__u16 family;
	__u16 port;
	union {
		__u32 saddr_v4;
		__u8 saddr_v6[16];
	};
	union {
		__u32 daddr_v4;
		__u8 daddr_v6[16];
	};
};
CHECK(struct conn_event, saddr_v6, 8);
CHECK(struct conn_event, daddr_v6, 24);
CHECK_SIZE(struct conn_event, 40);

// A union of anonymous structs, one per operation.
struct mount_event {
	__u32 op;
	__u32 pid;
	union {
		struct {
			__u64 flags;
			char source[16];
			char target[16];
		} mount;
		struct {
			__u64 flags;
			char target[16];
		} umount;
	};
};
CHECK(struct mount_event, mount, 8);
CHECK_SIZE(struct mount_event, 48);

// A named union member, for a Rust union field.
union addr {
	__u32 v4;
	__u8 v6[16];
};

struct addr_event {
	__u32 pid;
	__u32 family;
	union addr saddr;
};
CHECK_SIZE(struct addr_event, 24);

// A union as the record itself.
union sample {
	__u64 raw[3];
	struct {
		__u64 ip;
		__u64 sp;
		__u64 ts;
	} regs;
};
CHECK_SIZE(union sample, 24);

SEC("xdp")
int on_packet(void *ctx)
{
	struct stack_event e = {};

	e.pid = 1;
	bpf_ringbuf_output(&rb, &e, sizeof(e), 0);

	struct nested_event *n = bpf_ringbuf_reserve(&rb, sizeof(*n), 0);
	if (n) {
		n->kind = 1;
		bpf_ringbuf_submit(n, 0);
	}
	struct conn_event *c = bpf_ringbuf_reserve(&rb, sizeof(*c), 0);
	if (c) {
		c->saddr_v4 = 1;
		bpf_ringbuf_submit(c, 0);
	}
	struct mount_event *m = bpf_ringbuf_reserve(&rb, sizeof(*m), 0);
	if (m) {
		m->mount.flags = 1;
		bpf_ringbuf_submit(m, 0);
	}
	struct addr_event *a = bpf_ringbuf_reserve(&rb, sizeof(*a), 0);
	if (a) {
		a->saddr.v4 = 1;
		bpf_ringbuf_submit(a, 0);
	}
	union sample *s = bpf_ringbuf_reserve(&rb, sizeof(*s), 0);
	if (s) {
		s->regs.ip = 1;
		bpf_ringbuf_submit(s, 0);
	}
	return 2;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
