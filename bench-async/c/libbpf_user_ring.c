// libbpf's producer for the user ring comparison: `user_ring_buffer__reserve`,
// the record written in place (a copy of the template, then the sequence
// number in word 0), `user_ring_buffer__submit`, until the ring is full.
// One function per record size, so the copy has a size known to the
// compiler, as it is in the Rust writers.
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

struct user_ring_buffer *libbpf_user_ring_new(int map_fd)
{
	return user_ring_buffer__new(map_fd, NULL);
}

void libbpf_user_ring_free(struct user_ring_buffer *rb)
{
	user_ring_buffer__free(rb);
}

// Writes records numbered from `seq` until a reserve fails. Returns how many,
// and the failed reserve's errno (ENOSPC: the ring is full) in `*err`.
#define LIBBPF_USER_RING_FILL(size)                                                   \
	uint64_t libbpf_user_ring_fill_##size(struct user_ring_buffer *rb,            \
					      const void *template, uint64_t seq,     \
					      int *err)                               \
	{                                                                             \
		uint64_t n;                                                           \
                                                                                      \
		for (n = 0;; n++) {                                                   \
			uint64_t *sample = user_ring_buffer__reserve(rb, size);       \
                                                                                      \
			if (!sample) {                                                \
				*err = errno;                                         \
				break;                                                \
			}                                                             \
			memcpy(sample, template, size);                               \
			sample[0] = seq + n;                                          \
			user_ring_buffer__submit(rb, sample);                         \
		}                                                                     \
		return n;                                                             \
	}

LIBBPF_USER_RING_FILL(16)
LIBBPF_USER_RING_FILL(64)
LIBBPF_USER_RING_FILL(256)
LIBBPF_USER_RING_FILL(1024)
LIBBPF_USER_RING_FILL(2432)
