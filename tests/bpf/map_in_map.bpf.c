// SPDX-License-Identifier: GPL-2.0 OR MIT
// Map-in-map producer for ringview's ring set test: `outer` is an
// ARRAY_OF_MAPS whose slots hold ring buffers; one BPF_PROG_TEST_RUN of
// `produce_inner` writes `count` 16-byte records {seq, slot} into the ring
// in slot `slot`. User space fills the slots with `ring_a` and `ring_b`.
//
// Input (the XDP packet, at offset 0): struct ctl. Output: the same packet
// with `emitted` filled in.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define RING_SIZE 4096

struct inner_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RING_SIZE);
};

struct inner_ring ring_a SEC(".maps");
struct inner_ring ring_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_ring);
} outer SEC(".maps");

struct ctl {
	__u32 count;
	__u32 slot;
	__u64 seq;
	__u32 emitted;
	__u32 _pad;
};

struct record {
	__u64 seq;
	__u64 slot;
};

// Keeps `struct record` in the BTF for the derive's layout check (clang
// leaves out a struct used only through a local).
struct record record_btf_anchor;

SEC("xdp")
int produce_inner(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ctl *ctl = data;
	struct record rec;
	__u32 slot;
	void *ring;

	if ((void *)(ctl + 1) > end)
		return XDP_ABORTED;
	slot = ctl->slot;
	ring = bpf_map_lookup_elem(&outer, &slot);
	if (!ring)
		return XDP_PASS;
	ctl->emitted = 0;
	for (__u32 i = 0; i < 64 && i < ctl->count; i++) {
		rec.seq = ctl->seq + i;
		rec.slot = slot;
		if (bpf_ringbuf_output(ring, &rec, sizeof(rec), 0))
			break;
		ctl->emitted++;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
