// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Event structs for the derive's v3 UI tests (tests/derive/v3_pass,
// tests/derive/v3_fail): C members named like Rust keywords (ksnoop's
// `struct func` has a member `mod`), the address unions of tcpconnect, a
// union of per-syscall argument structs (mountsnoop), and the C types whose
// Rust counterpart a message names (`char[16]`, `unsigned __int128`, enums,
// array typedefs). Rebuild the committed v3.bpf.o and v3.BTF (its raw BTF, as
// `/sys/kernel/btf/vmlinux` is) with ../../../build-bpf.sh.
//
// As in tools.bpf.c, the events are used only through the pointer
// bpf_ringbuf_reserve returns, so most are only in DWARF.

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

// ksnoop's `struct func`, shortened.
struct func {
	char name[16];
	char mod[16];
	__s32 nr_args;
	__u32 flags;
	__u64 ip;
};
CHECK_SIZE(struct func, 48);

struct kw_pair {
	__u32 type;
	__u32 match;
};

// Every member named like a Rust keyword; `func.mod` and `pairs[].type` are
// reached by C names from a nested Rust type.
struct keyword_event {
	__u32 type;
	__u32 mod;
	__u32 match;
	__u32 ref;
	__u32 move;
	__u32 fn;
	__u32 impl;
	__u32 priv;
	__u32 override;
	__u32 yield;
	struct func func;
	struct kw_pair pairs[2];
};
CHECK(struct keyword_event, func, 40);
CHECK_SIZE(struct keyword_event, 104);

// Names no Rust field can have, not even raw.
struct self_pair {
	__u32 self;
	__u32 crate;
};

struct self_event {
	__u32 pid;
	struct self_pair pair;
};

// tcpconnect's `struct event`: two anonymous address unions.
struct tcp_event {
	union {
		__u32 saddr_v4;
		__u8 saddr_v6[16];
	};
	union {
		__u32 daddr_v4;
		__u8 daddr_v6[16];
	};
	char task[16];
	__u64 ts_us;
	__u32 af;
	__u32 pid;
	__u32 uid;
	__u16 sport;
	__u16 dport;
};
CHECK(struct tcp_event, daddr_v6, 16);
CHECK(struct tcp_event, ts_us, 48);
CHECK_SIZE(struct tcp_event, 72);

enum op {
	MOUNT,
	UMOUNT,
	FSOPEN,
	FSCONFIG,
	FSMOUNT,
	MOVE_MOUNT,
};

// mountsnoop's `struct event`: an anonymous union of per-syscall arguments,
// one anonymous struct per syscall (sizes shortened).
struct mount_args_event {
	__u64 delta;
	__u64 flags;
	__u32 pid;
	__u32 tid;
	unsigned int mnt_ns;
	int ret;
	enum op op;
	char comm[16];
	union {
		struct {
			char src[32];
			char dest[32];
			char fs[8];
			char data[16];
		} mount;
		struct {
			char dest[32];
		} umount;
		struct {
			char fs[8];
			__u32 flags;
		} fsopen;
		struct {
			int fd;
			unsigned int cmd;
			char key[16];
			char value[16];
			int aux;
		} fsconfig;
		struct {
			int fs_fd;
			__u32 flags;
			__u32 attr_flags;
		} fsmount;
		struct {
			int from_dfd;
			char from_pathname[32];
			int to_dfd;
			char to_pathname[32];
		} move_mount;
	};
};
CHECK(struct mount_args_event, mount, 52);
CHECK_SIZE(struct mount_args_event, 144);

// Nested structs with implicit padding, one of them anonymous: their Rust
// types need no `btf` or padding fields of their own.
struct tagged {
	__u8 tag;
	__u32 value;
};

struct tagged_event {
	__u32 pid;
	struct tagged first;
	struct tagged more[2];
	struct {
		__u16 kind;
		__u64 at;
	} when;
};
CHECK(struct tagged_event, more, 12);
CHECK(struct tagged_event, when, 32);
CHECK_SIZE(struct tagged_event, 48);

typedef char path_t[16];

// The Rust types messages name: `char[16]`, `unsigned __int128`, an enum,
// an array typedef.
struct wide_event {
	__u32 pid;
	enum op op;
	char comm[16];
	path_t path;
	unsigned __int128 value;
};
CHECK(struct wide_event, value, 48);
CHECK_SIZE(struct wide_event, 64);

// A zero-size event, and the struct `Sample<N>` would stand for.
struct empty_event {
};

struct sample {
	__u32 len;
	__u8 data[16];
};

// Kept in BTF by a global: a raw BTF file (v3.BTF) has no DWARF to fall
// back on.
struct tcp_event *keep_tcp_event __attribute__((unused));
struct wide_event *keep_wide_event __attribute__((unused));

SEC("xdp")
int on_packet(void *ctx)
{
	struct keyword_event *k = bpf_ringbuf_reserve(&rb, sizeof(*k), 0);
	if (k) {
		k->type = 1;
		bpf_ringbuf_submit(k, 0);
	}
	struct self_event *s = bpf_ringbuf_reserve(&rb, sizeof(*s), 0);
	if (s) {
		s->pid = 1;
		bpf_ringbuf_submit(s, 0);
	}
	struct tcp_event *t = bpf_ringbuf_reserve(&rb, sizeof(*t), 0);
	if (t) {
		t->saddr_v4 = 1;
		bpf_ringbuf_submit(t, 0);
	}
	struct mount_args_event *m = bpf_ringbuf_reserve(&rb, sizeof(*m), 0);
	if (m) {
		m->op = FSOPEN;
		m->fsopen.flags = 1;
		bpf_ringbuf_submit(m, 0);
	}
	struct tagged_event *g = bpf_ringbuf_reserve(&rb, sizeof(*g), 0);
	if (g) {
		g->pid = 1;
		bpf_ringbuf_submit(g, 0);
	}
	struct wide_event *w = bpf_ringbuf_reserve(&rb, sizeof(*w), 0);
	if (w) {
		w->value = 1;
		bpf_ringbuf_submit(w, 0);
	}
	struct empty_event *e = bpf_ringbuf_reserve(&rb, 8, 0);
	if (e)
		bpf_ringbuf_submit(e, 0);
	struct sample *p = bpf_ringbuf_reserve(&rb, sizeof(*p), 0);
	if (p) {
		p->len = 16;
		bpf_ringbuf_submit(p, 0);
	}
	return 2;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
