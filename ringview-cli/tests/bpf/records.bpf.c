// SPDX-License-Identifier: GPL-2.0 OR MIT
// Test producer for the `ringview` command's tests: one BPF_PROG_TEST_RUN
// of `produce` writes `count` known records, numbered from `seq`, into the
// ring `events` (a `struct event`, in BTF; when `rings` has bit 0) and the
// ring `dwarf_events` (a `struct dwarf_event` of the same layout, used only
// through a local pointer, so clang 14 leaves it out of BTF: it is only in
// DWARF; when `rings` has bit 1).
//
// Input (the XDP packet, at offset 0): struct ctl. Output: the same packet
// with `emitted` and `failed` filled in. ringview-cli/tests/common/mod.rs
// computes the same field values from the sequence number.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum kind {
	KIND_EXEC = 1,
	KIND_EXIT = 2,
	KIND_NEG = -3,
};

struct inner {
	__u16 port;
	__s16 delta;
	__u32 addr;
};

union value {
	__u64 as_u64;
	__s32 as_s32;
	char tag[8];
};

#define EVENT_FIELDS                                                           \
	__u32 seq;            /* seq */                                        \
	__s32 neg;            /* -(seq + 1) */                                 \
	__s64 big;            /* -1000000000000 * seq */                       \
	char comm[16];        /* "tap-" then seq % 10 as a digit, NUL-padded */ \
	enum kind kind;       /* KIND_EXEC, KIND_EXIT, KIND_NEG, then 7 */     \
	_Bool ok;             /* seq is even */                                \
	__u8 small;           /* seq & 0xff */                                 \
	struct inner inner;   /* { seq + 80, -(seq % 100), 0x0a000001 } */     \
	union value value;    /* as_u64 = 0xfffffffffffffff0 - seq */          \
	__u32 counts[3];      /* { seq, seq * 2, seq * 3 } */

struct event {
	EVENT_FIELDS
};

struct dwarf_event {
	EVENT_FIELDS
};

_Static_assert(sizeof(struct event) == 72, "event is 72 bytes");
_Static_assert(sizeof(struct dwarf_event) == 72, "dwarf_event is 72 bytes");

// `__type(value, ...)` puts `struct event` into BTF; aya creates ring
// buffers with value_size 0 whatever the BTF says.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct event);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} dwarf_events SEC(".maps");

// Not a ring: for the command's wrong-map-type error.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} not_a_ring SEC(".maps");

struct ctl {
	__u32 count;
	__u32 seq;
	__u32 rings;
	__u32 emitted;
	__u32 failed;
};

struct loop_ctx {
	__u32 seq;
	__u32 rings;
	__u32 emitted;
	__u32 failed;
};

#define FILL(e, s)                                                             \
	do {                                                                   \
		__builtin_memset((e), 0, sizeof(*(e)));                        \
		(e)->seq = (s);                                                \
		(e)->neg = -(__s32)(s)-1;                                      \
		(e)->big = -1000000000000LL * (__s64)(s);                      \
		(e)->comm[0] = 't';                                            \
		(e)->comm[1] = 'a';                                            \
		(e)->comm[2] = 'p';                                            \
		(e)->comm[3] = '-';                                            \
		(e)->comm[4] = '0' + (s) % 10;                                 \
		(e)->kind = (s) % 4 == 0 ? KIND_EXEC                           \
			  : (s) % 4 == 1 ? KIND_EXIT                           \
			  : (s) % 4 == 2 ? KIND_NEG : (enum kind)7;            \
		(e)->ok = (s) % 2 == 0;                                        \
		(e)->small = (s) & 0xff;                                       \
		(e)->inner.port = (s) + 80;                                    \
		(e)->inner.delta = -(__s16)((s) % 100);                        \
		(e)->inner.addr = 0x0a000001;                                  \
		(e)->value.as_u64 = 0xfffffffffffffff0ULL - (s);               \
		(e)->counts[0] = (s);                                          \
		(e)->counts[1] = (s) * 2;                                      \
		(e)->counts[2] = (s) * 3;                                      \
	} while (0)

static long emit(__u64 i, void *vctx)
{
	struct loop_ctx *c = vctx;
	__u32 seq = c->seq + (__u32)i;
	struct event *e;
	struct dwarf_event *d;

	if (c->rings & 1) {
		e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e) {
			c->failed++;
			return 1;
		}
		FILL(e, seq);
		bpf_ringbuf_submit(e, 0);
	}
	if (c->rings & 2) {
		d = bpf_ringbuf_reserve(&dwarf_events, sizeof(*d), 0);
		if (!d) {
			c->failed++;
			return 1;
		}
		FILL(d, seq);
		bpf_ringbuf_submit(d, 0);
	}
	c->emitted++;
	return 0;
}

SEC("xdp")
int produce(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	struct ctl *ctl = data;
	struct loop_ctx c = {};

	if ((void *)(ctl + 1) > end)
		return XDP_ABORTED;
	c.seq = ctl->seq;
	c.rings = ctl->rings;
	bpf_loop(ctl->count, emit, &c, 0);
	ctl->emitted = c.emitted;
	ctl->failed = c.failed;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
