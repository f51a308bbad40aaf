// SPDX-License-Identifier: GPL-2.0 OR MIT
// Drains ringview's user ring buffer tests: one BPF_PROG_TEST_RUN of
// `drain` calls bpf_user_ringbuf_drain on `user_rb` and echoes every sample,
// byte for byte, into the kernel ring `echo`, which the test reads back with
// ringview's readers.
//
// Input (the XDP packet, at offset 0): struct ctl. Output: the same packet
// with `drained` (the helper's return value: samples drained, or a negative
// errno) and `echoed` / `failed` (samples echoed / not echoed) filled in.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// Samples up to MAX_SIZE - 1 bytes are echoed; longer ones count as failed.
#define MAX_SIZE 8192

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 64 * 1024);
} user_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} echo SEC(".maps");

struct ctl {
	__u64 flags;
	__s64 drained;
	__u32 echoed;
	__u32 failed;
};

struct drain_ctx {
	__u32 echoed;
	__u32 failed;
};

__u8 scratch[MAX_SIZE];

// Whether the sample holds at least `n` bytes: a zero-length read at
// offset n succeeds exactly when n <= size.
static __always_inline int has(struct bpf_dynptr *dp, __u32 n)
{
	return bpf_dynptr_read(scratch, 0, dp, n, 0) == 0;
}

static long echo_one(struct bpf_dynptr *dp, void *vctx)
{
	struct drain_ctx *c = vctx;
	__u32 lo = 0, hi = MAX_SIZE, size;

	if (has(dp, MAX_SIZE)) {
		c->failed++;
		return 0;
	}
	// The sample's size is in [lo, hi): binary search, 13 halvings.
#pragma unroll
	for (int i = 0; i < 13; i++) {
		__u32 mid = (lo + hi) / 2;

		if (has(dp, mid))
			lo = mid;
		else
			hi = mid;
	}
	size = lo & (MAX_SIZE - 1);
	if (bpf_dynptr_read(scratch, size, dp, 0, 0) ||
	    bpf_ringbuf_output(&echo, scratch, size, 0)) {
		c->failed++;
		return 0;
	}
	c->echoed++;
	return 0;
}

SEC("xdp")
int drain(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ctl *ctl = data;
	struct drain_ctx c = {};

	if ((void *)(ctl + 1) > data_end)
		return XDP_ABORTED;
	ctl->drained = bpf_user_ringbuf_drain(&user_rb, echo_one, &c, ctl->flags);
	ctl->echoed = c.echoed;
	ctl->failed = c.failed;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
