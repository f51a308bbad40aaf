//! The kernel's interfaces, and nothing of the ring protocol: `bpf(2)`
//! calls, the mappings, the per-process claim, and the descriptors a wait
//! is made of (epoll, eventfd, timerfd).

pub(crate) mod bpf;
pub(crate) mod claim;
pub(crate) mod epoll;
pub mod inspect;
pub(crate) mod mmap;
