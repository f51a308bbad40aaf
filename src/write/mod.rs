//! User to kernel: the user ring protocol (`BPF_MAP_TYPE_USER_RINGBUF`:
//! positions, headers, publishing) and [`UserRingBuf`](crate::UserRingBuf),
//! its typed producer, with the wait for room.
//!
//! A user ring plugs into the producer through one seam,
//! `user_ring_buf::UserRingBacking`: a kernel map's mappings, or an
//! in-memory user ring ([`testing`](crate::testing)).

pub(crate) mod protocol;
pub(crate) mod user_ring_buf;
pub(crate) mod wait;
