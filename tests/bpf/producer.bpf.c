// SPDX-License-Identifier: GPL-2.0 OR MIT
// Test producer for ringview's kernel tests: one BPF_PROG_TEST_RUN of
// `produce` emits `count` records of `size` bytes into the ring `rb`.
//
// Input (the XDP packet, at offset 0): struct ctl. Output: the same packet
// with `emitted` and `failed` filled in.
//
// Record payload: the first min(size, 8) bytes are the little-endian
// sequence number; byte j >= 8 is pattern(j) = (j * 7 + 1) & 0xff.
// Records whose sequence number is a multiple of `discard_every` (when
// nonzero) are discarded instead of submitted.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_SIZE 65536

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

// Not a ring: for the wrong-map-type test.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} not_a_ring SEC(".maps");

struct ctl {
	__u32 count;
	__u32 size;
	__u64 seq;
	__u64 flags;
	__u32 discard_every;
	__u32 emitted;
	__u32 failed;
	__u32 _pad;
};

struct loop_ctx {
	__u64 seq;
	__u64 flags;
	__u32 size;
	__u32 discard_every;
	__u32 emitted;
	__u32 failed;
};

__u8 pattern[MAX_SIZE];

static long fill(__u64 j, void *unused)
{
	pattern[j & (MAX_SIZE - 1)] = (j * 7 + 1) & 0xff;
	return 0;
}

static long emit(__u64 i, void *vctx)
{
	struct loop_ctx *c = vctx;
	struct bpf_dynptr dp;
	__u64 seq = c->seq + i;
	__u32 size = c->size;
	__u32 head = size < 8 ? size : 8;

	if (size > MAX_SIZE || head > 8)
		return 1;
	if (bpf_ringbuf_reserve_dynptr(&rb, size, 0, &dp)) {
		bpf_ringbuf_discard_dynptr(&dp, 0);
		c->failed++;
		return 1;
	}
	bpf_dynptr_write(&dp, 0, pattern, size, 0);
	bpf_dynptr_write(&dp, 0, &seq, head, 0);
	if (c->discard_every && seq % c->discard_every == 0)
		bpf_ringbuf_discard_dynptr(&dp, c->flags);
	else
		bpf_ringbuf_submit_dynptr(&dp, c->flags);
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
	c.flags = ctl->flags;
	c.size = ctl->size;
	c.discard_every = ctl->discard_every;
	if (c.size > MAX_SIZE)
		return XDP_ABORTED;
	bpf_loop(c.size, fill, NULL, 0);
	bpf_loop(ctl->count, emit, &c, 0);
	ctl->emitted = c.emitted;
	ctl->failed = c.failed;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
