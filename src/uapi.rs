//! Constants of the kernel's BPF user API (`include/uapi/linux/bpf.h`, Linux
//! v6.18) that this crate uses, under their uapi names.

/// `BPF_MAP_TYPE_RINGBUF` from `enum bpf_map_type`: a kernel-to-user ring.
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;
/// `BPF_MAP_TYPE_USER_RINGBUF` from `enum bpf_map_type`: a user-to-kernel
/// ring, drained by BPF programs with `bpf_user_ringbuf_drain`.
pub const BPF_MAP_TYPE_USER_RINGBUF: u32 = 31;

/// `BPF_F_RB_OVERWRITE` (Linux 6.19): producers overwrite unconsumed records.
pub const BPF_F_RB_OVERWRITE: u32 = 1 << 19;

/// `BPF_RINGBUF_BUSY_BIT`: the record is reserved but not yet submitted.
pub const BPF_RINGBUF_BUSY_BIT: u32 = 1 << 31;
/// `BPF_RINGBUF_DISCARD_BIT`: the record was discarded; skip it, but consume it.
pub const BPF_RINGBUF_DISCARD_BIT: u32 = 1 << 30;
/// `BPF_RINGBUF_HDR_SZ`: the 8-byte `{ u32 len; u32 pg_off; }` record header.
pub const BPF_RINGBUF_HDR_SZ: usize = 8;

/// `BPF_RB_NO_WAKEUP`: commit without notifying the consumer.
pub const BPF_RB_NO_WAKEUP: u64 = 1;
/// `BPF_RB_FORCE_WAKEUP`: commit and always notify the consumer.
pub const BPF_RB_FORCE_WAKEUP: u64 = 2;

/// `bpf(2)` commands from `enum bpf_cmd`.
pub(crate) const BPF_OBJ_GET: libc::c_long = 7;
pub(crate) const BPF_PROG_GET_NEXT_ID: libc::c_long = 11;
pub(crate) const BPF_MAP_GET_NEXT_ID: libc::c_long = 12;
pub(crate) const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
pub(crate) const BPF_MAP_GET_FD_BY_ID: libc::c_long = 14;
pub(crate) const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
pub(crate) const BPF_BTF_GET_FD_BY_ID: libc::c_long = 19;
