// SPDX-License-Identifier: GPL-2.0 OR MIT
// Event producers for ringview's typed-reading tests, driven through
// BPF_PROG_TEST_RUN (input: struct ctl at packet offset 0).
//
// - `interleave`: `count` records alternating struct exec_event (kind 1),
//   struct exit_event (kind 2) and, every `unknown_every`-th record (when
//   nonzero), a record with the unknown kind 99; `seq` counts up from `seq`.
// - `tails`: `count` records sent with bpf_ringbuf_output: a struct
//   tail_header followed by `header.tail_len` bytes, tail_len = seq % 23
//   (odd lengths included), tail byte j = (seq + j) & 0xff.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct exec_event {
	__u32 kind;
	__u32 pid;
	__u64 seq;
	char comm[16];
};

struct exit_event {
	__u32 kind;
	__s32 code;
	__u64 seq;
};

struct tail_header {
	__u64 seq;
	__u32 tail_len;
	__u32 _pad;
};

// The cross-target test's event: `ts` is at offset 8 on BPF and x86_64, 4
// on i686.
struct pid_ts {
	__u32 pid;
	__u64 ts;
};

// Globals keep the structs in BTF (clang omits a struct used only through a
// local pointer).
struct exec_event _exec_event = {};
struct exit_event _exit_event = {};
struct tail_header _tail_header = {};
struct pid_ts _pid_ts = {};

struct ctl {
	__u32 count;
	__u32 unknown_every;
	__u64 seq;
};

struct loop_ctx {
	__u64 seq;
	__u32 unknown_every;
};

static long interleave_one(__u64 i, void *vctx)
{
	struct loop_ctx *c = vctx;
	__u64 seq = c->seq + i;

	if (c->unknown_every && seq % c->unknown_every == 0) {
		struct exit_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return 1;
		e->kind = 99;
		e->code = 0;
		e->seq = seq;
		bpf_ringbuf_submit(e, 0);
	} else if (seq % 2 == 0) {
		struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return 1;
		e->kind = 1;
		e->pid = seq * 3;
		e->seq = seq;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
		e->comm[0] = 'a' + seq % 26;
		bpf_ringbuf_submit(e, 0);
	} else {
		struct exit_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return 1;
		e->kind = 2;
		e->code = -(int)seq;
		e->seq = seq;
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

SEC("xdp")
int interleave(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	struct ctl *ctl = data;
	struct loop_ctx c = {};

	if ((void *)(ctl + 1) > end)
		return XDP_ABORTED;
	c.seq = ctl->seq;
	c.unknown_every = ctl->unknown_every;
	bpf_loop(ctl->count, interleave_one, &c, 0);
	return XDP_PASS;
}

#define MAX_TAIL 32

struct tail_record {
	struct tail_header header;
	__u8 tail[MAX_TAIL];
};

struct tail_record scratch = {};

static long tail_one(__u64 i, void *vctx)
{
	struct loop_ctx *c = vctx;
	__u64 seq = c->seq + i;
	__u32 len = seq % 23;

	scratch.header.seq = seq;
	scratch.header.tail_len = len;
	for (int j = 0; j < MAX_TAIL; j++)
		scratch.tail[j] = (seq + j) & 0xff;
	__u64 size = sizeof(struct tail_header) + len;
	// Hide the known range from clang, so the verifier sees the check.
	asm volatile("" : "+r"(size));
	if (size > sizeof(struct tail_record))
		return 1;
	if (bpf_ringbuf_output(&events, &scratch, size, 0))
		return 1;
	return 0;
}

SEC("xdp")
int tails(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	struct ctl *ctl = data;
	struct loop_ctx c = {};

	if ((void *)(ctl + 1) > end)
		return XDP_ABORTED;
	c.seq = ctl->seq;
	bpf_loop(ctl->count, tail_one, &c, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
