// SPDX-License-Identifier: GPL-2.0 OR MIT
// pid_filter's BPF side: reports every exec on the system, except those
// whose parent is in a set of PIDs to ignore, a set that user space edits at
// run time through the user ring buffer `commands`
// (BPF_MAP_TYPE_USER_RINGBUF). Read by examples/pid_filter.rs; rebuild the
// committed pid_filter.bpf.o with ../../build-bpf.sh after editing.
//
// On each exec, the program first drains `commands` with
// bpf_user_ringbuf_drain, applying each `struct filter_cmd` to the hash map
// `ignored`, then looks up the parent and either reports the exec into the
// ring buffer `execs` or counts it in `counters[1]`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define FILTER_IGNORE 1
#define FILTER_REPORT 2

// A command from user space, as examples/pid_filter.rs's `FilterCmd`
// mirrors it (its derive checks the layout against this object's BTF).
struct filter_cmd {
	__u32 op;  // FILTER_IGNORE or FILTER_REPORT
	__u32 pid; // a parent's thread group id
};

// One reported exec.
struct exec_seen {
	__u32 pid;     // the new program's thread group id
	__u32 ppid;    // its parent's
	char comm[16]; // the new program's name, NUL-padded
};

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} commands SEC(".maps");

// The last command applied (also what puts `struct filter_cmd` in BTF).
struct filter_cmd last_cmd;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__type(value, struct exec_seen);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} ignored SEC(".maps");

// [0]: commands applied, [1]: execs ignored.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct task_struct {
	struct task_struct *real_parent;
	int tgid;
} __attribute__((preserve_access_index));

static void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &which);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static long apply(struct bpf_dynptr *dp, void *unused)
{
	struct filter_cmd cmd;
	__u8 one = 1;

	if (bpf_dynptr_read(&cmd, sizeof(cmd), dp, 0, 0))
		return 0; // shorter than a command: skip it
	if (cmd.op == FILTER_IGNORE)
		bpf_map_update_elem(&ignored, &cmd.pid, &one, BPF_ANY);
	else if (cmd.op == FILTER_REPORT)
		bpf_map_delete_elem(&ignored, &cmd.pid);
	last_cmd = cmd;
	count(0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_seen *seen;
	__u32 ppid;

	bpf_user_ringbuf_drain(&commands, apply, NULL, 0);
	ppid = BPF_CORE_READ(task, real_parent, tgid);
	if (bpf_map_lookup_elem(&ignored, &ppid)) {
		count(1);
		return 0;
	}
	seen = bpf_ringbuf_reserve(&execs, sizeof(*seen), 0);
	if (!seen)
		return 0;
	seen->pid = bpf_get_current_pid_tgid() >> 32;
	seen->ppid = ppid;
	bpf_get_current_comm(seen->comm, sizeof(seen->comm));
	bpf_ringbuf_submit(seen, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
