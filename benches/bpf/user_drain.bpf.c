// SPDX-License-Identifier: GPL-2.0 OR MIT
// The user ring bench's consumer: one BPF_PROG_TEST_RUN of `drain` empties
// the user ring `user_rb` with bpf_user_ringbuf_drain, looking at nothing,
// so the bench can reset the ring between timed batches of writes. The
// number of samples drained is written back at packet offset 0 (s64).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} user_rb SEC(".maps");

static long skip(struct bpf_dynptr *dp, void *ctx)
{
	return 0;
}

SEC("xdp")
int drain(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__s64 *out = data;
	__s64 total = 0;

	if ((void *)(out + 1) > data_end)
		return XDP_ABORTED;
	for (int i = 0; i < 64; i++) {
		long n = bpf_user_ringbuf_drain(&user_rb, skip, NULL, BPF_RB_NO_WAKEUP);

		if (n <= 0) {
			if (n < 0)
				total = n;
			break;
		}
		total += n;
	}
	*out = total;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
