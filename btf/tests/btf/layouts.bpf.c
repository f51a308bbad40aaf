// SPDX-License-Identifier: MIT OR Apache-2.0
//
// Struct layouts for the BTF reader's tests (derive/src/btf.rs). Rebuild the
// committed layouts.bpf.o with ../../../build-bpf.sh after editing this file.
//
// Every struct has a global variable of its type: clang 14 leaves out of BTF
// a struct that is only used through a local pointer. The _Static_asserts pin
// the layout C gives each struct, so the numbers the Rust tests expect are
// checked by the compiler too.

#include <linux/types.h>
#include <stddef.h>

#define SEC(name) __attribute__((section(name), used))
// The map-definition macros of <bpf/bpf_helpers.h>, without the helpers.
#define __uint(name, val) int(*name)[val]
#define __type(name, val) typeof(val) *name

#define CHECK(type, member, offset)                                            \
	_Static_assert(offsetof(type, member) == (offset), #type "." #member)
#define CHECK_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type)

// An exec event as a process monitor would send it.
struct exec_event {
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 pad;
	char comm[16];
	char filename[256];
	__u64 ts;
};
CHECK(struct exec_event, comm, 16);
CHECK(struct exec_event, filename, 32);
CHECK(struct exec_event, ts, 288);
CHECK_SIZE(struct exec_event, 296);

// The ring buffer carries exec_event: the usual way to get a struct into BTF.
struct {
	__uint(type, 27 /* BPF_MAP_TYPE_RINGBUF */);
	__uint(max_entries, 4096);
	__type(value, struct exec_event);
} events SEC(".maps");

// 4 bytes of implicit padding after a.
struct padded {
	__u32 a;
	__u64 b;
};
CHECK(struct padded, b, 8);
CHECK_SIZE(struct padded, 16);
struct padded _padded = {};

struct bitfields {
	__u8 kind;
	unsigned int flag : 1;
	unsigned int level : 3;
	unsigned int : 4;
	__u16 count : 10;
	__u64 big : 40;
	__u32 tail;
};
CHECK(struct bitfields, tail, 16);
CHECK_SIZE(struct bitfields, 24);
struct bitfields _bitfields = {};

struct packed {
	__u8 tag;
	__u32 value;
	__u64 wide;
	__u16 last;
} __attribute__((packed));
CHECK(struct packed, value, 1);
CHECK(struct packed, wide, 5);
CHECK(struct packed, last, 13);
CHECK_SIZE(struct packed, 15);
struct packed _packed = {};

struct wide {
	__u8 tag;
	__int128 s;
	unsigned __int128 u;
};
CHECK(struct wide, s, 16);
CHECK(struct wide, u, 32);
CHECK_SIZE(struct wide, 48);
struct wide _wide = {};

struct inner {
	__u16 x;
	__u32 y;
};
CHECK_SIZE(struct inner, 8);

struct nested {
	__u8 tag;
	struct inner one;
	struct inner many[3];
	__u32 grid[2][3];
	char *argv[2];
};
CHECK(struct nested, one, 4);
CHECK(struct nested, many, 12);
CHECK(struct nested, grid, 36);
CHECK(struct nested, argv, 64);
CHECK_SIZE(struct nested, 80);
struct nested _nested = {};

enum state { STATE_IDLE, STATE_RUNNING = 7 };

struct tagged {
	__u32 kind;
	union {
		__u64 addr;
		struct {
			__u16 port;
			__u8 proto;
		};
	};
	enum state state;
};
CHECK(struct tagged, addr, 8);
CHECK(struct tagged, port, 8);
CHECK(struct tagged, proto, 10);
CHECK(struct tagged, state, 16);
CHECK_SIZE(struct tagged, 24);
struct tagged _tagged = {};

union value {
	__u32 u;
	__s64 s;
	char bytes[12];
};
CHECK_SIZE(union value, 16);
union value _value = {};

typedef __u64 stamp_t;
typedef const volatile stamp_t cv_stamp_t;

struct qualified {
	const __u32 c;
	volatile __u16 v;
	cv_stamp_t ts;
	const char *name;
	__u64 *restrict out;
	void *ctx;
	int (*callback)(int, char *);
	double ratio;
	__u32 tagged __attribute__((btf_decl_tag("ringview")));
	__u64 __attribute__((btf_type_tag("user"))) *user_ptr;
};
CHECK(struct qualified, ts, 8);
CHECK(struct qualified, name, 16);
CHECK(struct qualified, callback, 40);
CHECK(struct qualified, ratio, 48);
CHECK(struct qualified, tagged, 56);
CHECK(struct qualified, user_ptr, 64);
CHECK_SIZE(struct qualified, 72);
struct qualified _qualified = {};

// A struct named only through a typedef.
typedef struct {
	__u32 lo;
	__u32 hi;
} pair_t;
pair_t _pair = {};

// Functions, so FUNC and FUNC_PROTO (with parameters) appear too.
__attribute__((noinline)) int add(int a, int b)
{
	return a + b;
}

SEC("xdp")
int read_event(void *ctx)
{
	return add(_padded.a, _tagged.kind);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
