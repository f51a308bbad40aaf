// libbpf's consumer for the comparison: one `struct ring_buffer` over
// several rings (`ring_buffer__new` + `ring_buffer__add`), drained with
// `ring_buffer__poll` until told to stop. The callback does what the Rust
// handlers do: check each ring's sequence number (word 0) and count.
#include <bpf/libbpf.h>
#include <stdatomic.h>
#include <stdint.h>

struct ring_ctx {
	uint64_t next_seq;
	uint64_t records;
	uint64_t out_of_order;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct ring_ctx *ring = ctx;
	uint64_t seq = *(const uint64_t *)data;

	(void)size;
	if (seq != ring->next_seq)
		ring->out_of_order++;
	ring->next_seq = seq + 1;
	ring->records++;
	return 0;
}

// Polls the `n` rings `fds` (at most 16) until `*stop` is set. Fills
// `records` and `out_of_order` per ring. Returns 0, or a negative errno.
int libbpf_poll_rings(const int *fds, int n, const atomic_int *stop,
		      uint64_t *records, uint64_t *out_of_order)
{
	struct ring_ctx rings[16] = { 0 };
	struct ring_buffer *rb = NULL;
	int err = 0;

	if (n < 1 || n > 16)
		return -22;
	for (int i = 0; i < n; i++) {
		if (!rb)
			rb = ring_buffer__new(fds[i], on_record, &rings[i], NULL);
		else if (ring_buffer__add(rb, fds[i], on_record, &rings[i]))
			err = -1;
		if (!rb || err)
			goto out;
	}
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -4 /* EINTR */)
			goto out;
		err = 0;
	}
out:
	for (int i = 0; i < n; i++) {
		records[i] = rings[i].records;
		out_of_order[i] = rings[i].out_of_order;
	}
	ring_buffer__free(rb);
	return err;
}
