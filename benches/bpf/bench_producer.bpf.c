// SPDX-License-Identifier: GPL-2.0 OR MIT
// Benchmark producer: one BPF_PROG_TEST_RUN of `fill` reserves and submits
// up to `count` records of `record_size` bytes (fixed per load) into `rb`,
// stopping at the first failed reservation.
//
// Record: 64-bit words, word w = seq + w, where seq counts every record
// ever submitted from 0. With `stamp` set, only word 0 (seq) is written,
// plus, in every 16th record, the last word: bpf_ktime_get_ns() at
// submission. That is the cheapest producer, for measuring wakeup costs and
// commit-to-read latency.
//
// With `pace_ns` set, records are at least that many nanoseconds apart
// (the producer waits on bpf_ktime_get_ns() before each reservation): a
// producer slower than the consumer, which then keeps catching up with it.
//
// Input (XDP packet at offset 0): struct ctl; output: the same packet with
// `emitted` and `failed` filled in.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 record_size = 64; // a multiple of 8, at least 16

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} rb SEC(".maps");

__u64 next_seq;

struct ctl {
	__u32 count;
	__u32 stamp;
	__u64 flags;
	__u32 emitted;
	__u32 failed;
	__u64 pace_ns;
};

struct loop_ctx {
	__u64 flags;
	__u64 pace_ns;
	__u64 next_at;
	__u32 stamp;
	__u32 emitted;
	__u32 failed;
};

// Waits until `c->next_at`, then sets the next record's time. Bounded: a
// wait longer than 1024 clock reads gives up early.
static void pace(struct loop_ctx *c)
{
	__u64 now = bpf_ktime_get_ns();

	for (int k = 0; k < 1024 && now < c->next_at; k++)
		now = bpf_ktime_get_ns();
	c->next_at = now + c->pace_ns;
}

static long emit(__u64 i, void *vctx)
{
	struct loop_ctx *c = vctx;
	__u32 words = record_size / 8;
	__u64 *rec;
	__u64 seq;

	if (c->pace_ns)
		pace(c);
	rec = bpf_ringbuf_reserve(&rb, record_size, 0);
	if (!rec) {
		c->failed++;
		return 1;
	}
	seq = next_seq++;
	if (c->stamp) {
		rec[0] = seq;
		if (seq % 16 == 0 && words >= 2 && words <= 2560 / 8)
			rec[words - 1] = bpf_ktime_get_ns();
	} else {
		for (__u32 w = 0; w < words && w < 2560 / 8; w++)
			rec[w] = seq + w;
	}
	bpf_ringbuf_submit(rec, c->flags);
	c->emitted++;
	return 0;
}

SEC("xdp")
int fill(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	struct ctl *ctl = data;
	struct loop_ctx c = {};

	if ((void *)(ctl + 1) > end)
		return XDP_ABORTED;
	c.flags = ctl->flags;
	c.stamp = ctl->stamp;
	c.pace_ns = ctl->pace_ns;
	bpf_loop(ctl->count, emit, &c, 0);
	ctl->emitted = c.emitted;
	ctl->failed = c.failed;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
