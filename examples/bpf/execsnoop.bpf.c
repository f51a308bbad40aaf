// SPDX-License-Identifier: GPL-2.0 OR MIT
// execsnoop's producer: one `struct exec_event` per successful exec, from
// the sched/sched_process_exec tracepoint, into the ring buffer `events`.
// Read by examples/execsnoop.rs; rebuild the committed execsnoop.bpf.o with
// ../../build-bpf.sh after editing this file.
//
// No vmlinux.h: the tracepoint's context is declared by hand from
// /sys/kernel/tracing/events/sched/sched_process_exec/format, and the two
// task_struct fields read for the parent pid are declared with
// preserve_access_index, so the loader (aya) relocates their offsets against
// the running kernel's BTF (/sys/kernel/btf/vmlinux) (BPF CO-RE).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 256

// The event, as examples/execsnoop.rs's `ExecEvent` mirrors it (its derive
// checks that layout against this object's BTF at compile time).
struct exec_event {
	__u32 pid;      // thread group id of the new program
	__u32 ppid;     // thread group id of the real parent
	__u32 uid;      // real uid
	__u32 _pad;     // always 0
	char comm[TASK_COMM_LEN];          // NUL-padded
	char filename[MAX_FILENAME_LEN];   // NUL-terminated, then garbage
	__u64 ts;       // bpf_ktime_get_ns(): CLOCK_MONOTONIC, in ns
};
_Static_assert(sizeof(struct exec_event) == 296, "exec_event is 296 bytes");

// `__type(value, ...)` puts `struct exec_event` into BTF, where the Rust
// derive looks for it (clang 14 leaves out a struct only used through a
// local pointer). The kernel refuses a ring buffer with a nonzero
// value_size, but aya (0.14) creates ring buffers with value_size 0 whatever
// the BTF says.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct exec_event);
} events SEC(".maps");

// The tracepoint's record, from its format file (Linux 6.18):
//   field:unsigned short common_type;          offset:0;  size:2;
//   field:unsigned char common_flags;          offset:2;  size:1;
//   field:unsigned char common_preempt_count;  offset:3;  size:1;
//   field:int common_pid;                      offset:4;  size:4;
//   field:__data_loc char[] filename;          offset:8;  size:4;
//   field:pid_t pid;                           offset:12; size:4;
//   field:pid_t old_pid;                       offset:16; size:4;
// This layout has been stable since Linux 3.4.
struct sched_process_exec_args {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	// __data_loc: the string's offset from the start of the record in the
	// low 16 bits, its length (with the NUL) in the high 16 bits.
	__u32 filename_loc;
	int pid;
	int old_pid;
};

// The only task_struct fields read: their offsets come from the running
// kernel's BTF at load time, not from this declaration.
struct task_struct {
	struct task_struct *real_parent;
	int tgid;
} __attribute__((preserve_access_index));

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct sched_process_exec_args *ctx)
{
	struct exec_event *event;
	struct task_struct *task;
	__u32 filename_off;

	event = bpf_ringbuf_reserve(&events, sizeof(struct exec_event), 0);
	if (!event)
		return 0; // ring full: the event is lost

	task = (struct task_struct *)bpf_get_current_task();
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->_pad = 0;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	filename_off = ctx->filename_loc & 0xffff;
	// On failure the helper zeroes the buffer: an empty filename.
	bpf_probe_read_kernel_str(event->filename, sizeof(event->filename),
				  (void *)ctx + filename_off);
	event->ts = bpf_ktime_get_ns();

	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
