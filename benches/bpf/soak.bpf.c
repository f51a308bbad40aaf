// SPDX-License-Identifier: GPL-2.0 OR MIT
// Soak producer for `benches/soak`: one BPF_PROG_TEST_RUN of `produce`
// makes up to `count` records of stream `stream` (0..3) into `rb`, stopping
// at the first failed reservation (the record is retried on the next run).
// Several user threads may run it at once, one stream each, so records of
// different streams interleave in the ring from more than one CPU.
//
// Everything about record `seq` of a stream follows from h = mix(seq * 4 +
// stream) (splitmix64's finaliser), so the consumer can check each record
// byte for byte:
//   size    = 1 + (h >> 8) % 64 for 7 records in 8, else 1 + (h >> 8) % 4096;
//   discard when (h >> 24) % 16 == 0;
//   flags   = BPF_RB_NO_WAKEUP when (h >> 28) % 8 < 2, BPF_RB_FORCE_WAKEUP
//             when it is 2, else 0.
// Payload of `size` bytes (little-endian):
//   [0, 8)   tag = seq << 2 | stream, cut to `size` bytes;
//   [8, 16)  bpf_ktime_get_ns() just before submission  } when size >= 24
//   [16, 20) sum of the bytes of [24, size), mod 2^32     }
//   [20, 24) size                                         }
//   [24, size) pattern[off, off + size - 24), off = seq % 4096;
//   and for 8 < size < 24: [8, size) = pattern[0, size - 8).
// pattern[k] = (k * 7 + 1) ^ (k >> 8), a byte; `init` fills it and its
// prefix sums once.
//
// Input (XDP packet at offset 0): struct ctl; output: the same packet with
// the stream's running totals filled in.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PATTERN 8192
#define STREAMS 4

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} rb SEC(".maps");

__u8 pattern[PATTERN];
__u32 prefix[PATTERN + 1];

__u64 next_seq[STREAMS];
__u64 submitted[STREAMS];
__u64 discarded[STREAMS];
__u64 failed[STREAMS];

struct ctl {
	__u32 stream;
	__u32 count;
	__u64 limit;     // make no record with seq >= limit
	__u64 next_seq;  // out: running totals of the stream
	__u64 submitted;
	__u64 discarded;
	__u64 failed;
};

struct hdr {
	__u64 tag;
	__u64 stamp;
	__u32 sum;
	__u32 size;
};

static __u64 mix(__u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long init_one(__u64 k, void *unused)
{
	__u32 i = k & (PATTERN - 1);
	__u8 b = ((i * 7 + 1) ^ (i >> 8)) & 0xff;

	pattern[i] = b;
	return 0;
}

static long init_prefix(__u64 k, void *unused)
{
	__u32 i = k & (PATTERN - 1);

	prefix[i + 1] = prefix[i] + pattern[i];
	return 0;
}

SEC("xdp")
int init(struct xdp_md *xdp)
{
	bpf_loop(PATTERN, init_one, NULL, 0);
	prefix[0] = 0;
	bpf_loop(PATTERN, init_prefix, NULL, 0);
	return XDP_PASS;
}

struct loop_ctx {
	__u32 stream;
	__u64 limit;
};

static long emit(__u64 i, void *vctx)
{
	struct loop_ctx *c = vctx;
	__u32 s = c->stream & (STREAMS - 1);
	__u64 seq = next_seq[s];
	__u64 h, flags = 0;
	__u32 size, off, body, head;
	struct bpf_dynptr dp;
	struct hdr hdr;

	if (seq >= c->limit)
		return 1;
	h = mix(seq * 4 + s);
	if ((h & 7) != 0)
		size = 1 + (h >> 8) % 64;
	else
		size = 1 + (h >> 8) % 4096;
	if (((h >> 28) & 7) < 2)
		flags = BPF_RB_NO_WAKEUP;
	else if (((h >> 28) & 7) == 2)
		flags = BPF_RB_FORCE_WAKEUP;

	if (bpf_ringbuf_reserve_dynptr(&rb, size, 0, &dp)) {
		bpf_ringbuf_discard_dynptr(&dp, 0);
		failed[s]++;
		return 1;
	}
	hdr.tag = seq << 2 | s;
	hdr.stamp = 0;
	hdr.sum = 0;
	hdr.size = size;
	if (size >= 24) {
		off = seq & 4095;
		body = size - 24;
		if (body > 4096)
			body = 4096;
		bpf_dynptr_write(&dp, 24, &pattern[off], body, 0);
		hdr.sum = prefix[(off + body) & (2 * 4096 - 1)] - prefix[off];
		head = 24;
	} else {
		if (size > 8)
			bpf_dynptr_write(&dp, 8, pattern, (size - 8) & 15, 0);
		head = size < 8 ? size : 8;
	}
	hdr.stamp = bpf_ktime_get_ns();
	bpf_dynptr_write(&dp, 0, &hdr, head, 0);
	if (((h >> 24) & 15) == 0) {
		bpf_ringbuf_discard_dynptr(&dp, flags);
		discarded[s]++;
	} else {
		bpf_ringbuf_submit_dynptr(&dp, flags);
		submitted[s]++;
	}
	next_seq[s] = seq + 1;
	return 0;
}

SEC("xdp")
int produce(struct xdp_md *xdp)
{
	void *data = (void *)(long)xdp->data;
	void *end = (void *)(long)xdp->data_end;
	struct ctl *ctl = data;
	struct loop_ctx c = {};
	__u32 s;

	if ((void *)(ctl + 1) > end)
		return XDP_ABORTED;
	s = ctl->stream & (STREAMS - 1);
	c.stream = s;
	c.limit = ctl->limit;
	bpf_loop(ctl->count, emit, &c, 0);
	ctl->next_seq = next_seq[s];
	ctl->submitted = submitted[s];
	ctl->discarded = discarded[s];
	ctl->failed = failed[s];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
