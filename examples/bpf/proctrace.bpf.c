// SPDX-License-Identifier: GPL-2.0 OR MIT
// proctrace's producer: one `struct exec_event` per exec into the ring
// `execs`, and one `struct exit_event` per process exit into the ring
// `exits`, from the sched/sched_process_exec and sched/sched_process_exit
// tracepoints. Two rings, two event types: read by examples/proctrace.rs
// through one ring set. Rebuild the committed proctrace.bpf.o with
// ../../build-bpf.sh after editing this file.
//
// No vmlinux.h: the task_struct fields read are declared with
// preserve_access_index, so the loader (aya) relocates their offsets
// against the running kernel's BTF (BPF CO-RE).

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define TASK_COMM_LEN 16

// As examples/proctrace.rs's `ExecEvent` mirrors it (checked against this
// object's BTF at compile time).
struct exec_event {
	__u32 pid;      // thread group id of the new program
	__u32 ppid;     // thread group id of the real parent
	__u32 uid;      // real uid
	__u32 _pad;     // always 0
	char comm[TASK_COMM_LEN];  // the new program's name, NUL-padded
	__u64 ts;       // bpf_ktime_get_ns() at the exec
};

// As examples/proctrace.rs's `ExitEvent` mirrors it.
struct exit_event {
	__u32 pid;        // thread group id of the process that exited
	__u32 ppid;       // thread group id of its real parent
	__u32 exit_code;  // as wait(2) reports it: code << 8 | signal
	__u32 _pad;       // always 0
	char comm[TASK_COMM_LEN];
	__u64 ts;         // bpf_ktime_get_ns() at the exit
	__u64 lifetime_ns; // since the process started (task->start_time)
};

// `__type(value, ...)` keeps each struct in the BTF for the derive; aya
// creates ring buffers with value_size 0 whatever the BTF says.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct exec_event);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__type(value, struct exit_event);
} exits SEC(".maps");

struct task_struct {
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	int tgid;
	int exit_code;
	__u64 start_time;
} __attribute__((preserve_access_index));

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct exec_event *event;
	struct task_struct *task;

	event = bpf_ringbuf_reserve(&execs, sizeof(*event), 0);
	if (!event)
		return 0; // ring full: the event is lost

	task = (struct task_struct *)bpf_get_current_task();
	event->pid = bpf_get_current_pid_tgid() >> 32;
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->uid = (__u32)bpf_get_current_uid_gid();
	event->_pad = 0;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	event->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(event, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	struct exit_event *event;
	struct task_struct *task;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 now;

	// Threads other than the process's main thread: not a process exit.
	if ((__u32)pid_tgid != pid_tgid >> 32)
		return 0;

	event = bpf_ringbuf_reserve(&exits, sizeof(*event), 0);
	if (!event)
		return 0;

	task = (struct task_struct *)bpf_get_current_task();
	now = bpf_ktime_get_ns();
	event->pid = pid_tgid >> 32;
	event->ppid = BPF_CORE_READ(task, real_parent, tgid);
	event->exit_code = BPF_CORE_READ(task, exit_code);
	event->_pad = 0;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	event->ts = now;
	event->lifetime_ns = now - BPF_CORE_READ(task, start_time);
	bpf_ringbuf_submit(event, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
