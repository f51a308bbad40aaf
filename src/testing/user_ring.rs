//! The in-memory user ring: process memory laid out as a
//! `BPF_MAP_TYPE_USER_RINGBUF`, with a drain that checks, consumes, skips
//! and wakes exactly as `bpf_user_ringbuf_drain` does (Linux v6.18,
//! `kernel/bpf/ringbuf.c`: `__bpf_user_ringbuf_peek`,
//! `__bpf_user_ringbuf_sample_release`), so a producer can be tested
//! without privileges and under Miri.
//!
//! One difference from the kernel: the data area is not mapped twice. Its
//! `2 * size` bytes are one allocation, and a record that wraps keeps its
//! tail in the second half, where both the producer and this drain address
//! it (at the header's offset plus 8). The kernel's double mapping would
//! also show that tail at the start of the ring, where nothing reads it
//! before the producer overwrites it.
//!
//! Public through [`testing`](crate::testing).

use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::{DrainError, UserRingBufError};
use crate::kernel::claim::{Claim, Role};
use crate::kernel::epoll;
use crate::ring_id::RingId;
use crate::testing::memory::RingMemory;
use crate::uapi::{BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP};
use crate::uapi::{BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ};
use crate::write::protocol::{stride, RawUserRing, BPF_MAX_USER_RINGBUF_SAMPLES, DYNPTR_MAX_SIZE};
use crate::write::user_ring_buf::UserRingBacking;
use crate::write::user_ring_buf::UserRingBuf;

/// The memory shared by an in-memory user ring's producer and its drain.
#[derive(Debug)]
struct UserShared {
    memory: RingMemory,
    eventfd: OwnedFd,
    id: RingId,
    /// The kernel's `rb->busy`: one drain at a time.
    draining: AtomicBool,
}

// SAFETY: the allocation behind `memory` is owned by `UserShared` and accessed
// only through atomics (positions, headers), by the single producer writing
// the payload of its own reservation, and by the drain reading submitted
// payloads, which the positions and headers order; no thread-affine state is
// involved.
unsafe impl Send for UserShared {}
// SAFETY: as for `Send`: all shared mutation is atomic or confined to a
// reservation that only its producer can reach.
unsafe impl Sync for UserShared {}

// SAFETY: `raw` builds the same `RawUserRing` every time, over `memory`,
// which `self` owns and frees only on drop.
unsafe impl UserRingBacking for UserShared {
    fn raw(&self) -> RawUserRing {
        let memory = &self.memory;
        // SAFETY: the position words are 8-aligned (so aligned for `usize`
        // on every 64- and 32-bit target), zero-initialised, and live as
        // long as `self`, which every `UserRingBuf` built from it keeps in an
        // `Arc`; the data area is `2 * size` readable and writable, 8-aligned
        // bytes; `size` is a power of two of at least 16 (`RingMemory`
        // invariant).
        unsafe {
            RawUserRing::new(
                memory.consumer_word(),
                memory.producer_word(),
                memory.data(),
                memory.size(),
            )
        }
    }

    fn id(&self) -> RingId {
        self.id
    }

    fn descriptor(&self) -> BorrowedFd<'_> {
        self.eventfd.as_fd()
    }

    fn room_events(&self) -> i32 {
        // The drain signals an eventfd, which reports EPOLLIN.
        libc::EPOLLIN
    }
}

impl UserShared {
    fn consumer_pos(&self) -> &AtomicUsize {
        self.memory.consumer_pos()
    }

    fn producer_pos(&self) -> &AtomicUsize {
        self.memory.producer_pos()
    }

    fn header(&self, pos: usize) -> &AtomicU32 {
        self.memory.header(pos)
    }

    fn size(&self) -> usize {
        self.memory.size()
    }

    /// The payload of the submitted sample whose header is at `pos`.
    ///
    /// # Safety
    ///
    /// The header at `pos` must have been loaded with Acquire, found not
    /// BUSY, with `round_up(len + 8, 8) <= size`, and the consumer position
    /// must not move past `pos` while the slice lives.
    unsafe fn payload(&self, pos: usize, len: usize) -> &[u8] {
        let offset = (pos & (self.size() - 1)) + BPF_RINGBUF_HDR_SZ;
        let ptr = self.memory.data_at(offset, len);
        // SAFETY: `ptr..ptr + len` lies in the data area (`data_at`); the bytes are initialised (zeroed at allocation, and the
        // producer writes only initialised bytes); the producer wrote them
        // before its Release store of the header, which the caller's Acquire
        // load saw without BUSY; the producer does not write them again
        // until the consumer position passes `pos`, which it does not while
        // the slice lives (this function's contract).
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
    }
}

/// What `__bpf_user_ringbuf_peek` found at the consumer position.
enum Peek {
    Sample {
        pos: usize,
        len: usize,
    },
    /// `-ENODATA`: empty, or the next sample is BUSY.
    NoData,
    /// `-EAGAIN`: a discarded sample, consumed.
    Discarded,
}

/// An in-memory BPF user ring buffer: the kernel side.
///
/// [`user_ring_buf`](Self::user_ring_buf) gives the producer, a
/// [`UserRingBuf`] that works on it exactly as on a kernel map;
/// [`drain`](Self::drain) plays the BPF program calling
/// `bpf_user_ringbuf_drain`, with the kernel's checks on every sample, and
/// wakes a producer blocked in
/// [`reserve_blocking`](UserRingBuf::reserve_blocking) as the kernel does.
/// Cloning gives another handle to the same ring.
///
/// # Examples
///
/// ```
/// use std::ops::ControlFlow;
/// use ringview::testing::MemoryUserRing;
///
/// let ring = MemoryUserRing::new(4096).unwrap();
/// let mut producer = ring.user_ring_buf().unwrap();
/// producer.push_bytes(b"hello").unwrap();
/// let mut seen = Vec::new();
/// let drained = ring
///     .drain(0, |sample| {
///         seen.push(sample.to_vec());
///         ControlFlow::Continue(())
///     })
///     .unwrap();
/// assert_eq!((drained, seen), (1, vec![b"hello".to_vec()]));
/// ```
#[derive(Debug, Clone)]
pub struct MemoryUserRing {
    shared: Arc<UserShared>,
}

impl MemoryUserRing {
    /// A ring with a data area of `size` bytes (a power of two, at least 16).
    ///
    /// # Errors
    ///
    /// [`UserRingBufError::BadSize`] for any other size; a
    /// [`UserRingBufError::Syscall`] if the wakeup eventfd cannot be created.
    pub fn new(size: usize) -> Result<Self, UserRingBufError> {
        if !size.is_power_of_two() || size < 16 {
            return Err(UserRingBufError::BadSize {
                size: size as u64,
                page_size: 16,
            });
        }
        let eventfd = epoll::eventfd()?;
        Ok(Self {
            shared: Arc::new(UserShared {
                memory: RingMemory::new(size),
                eventfd,
                id: RingId::next_memory(),
                draining: AtomicBool::new(false),
            }),
        })
    }

    /// The producer for this ring. Like a kernel map, the ring has at most
    /// one producer in this process at a time.
    ///
    /// # Errors
    ///
    /// [`UserRingBufError::AlreadyProduced`] while another `UserRingBuf` of
    /// this ring lives.
    pub fn user_ring_buf(&self) -> Result<UserRingBuf, UserRingBufError> {
        UserRingBuf::from_backing(Arc::clone(&self.shared) as Arc<dyn UserRingBacking>)
    }

    /// The data area's size in bytes.
    pub fn size(&self) -> usize {
        self.shared.size()
    }

    /// The published producer position (`producer_pos`).
    pub fn producer_pos(&self) -> usize {
        // Acquire pairs with the producer's Release store
        // (`RawUserRing::store_producer`).
        self.shared.producer_pos().load(Ordering::Acquire)
    }

    /// The consumer position (`consumer_pos`).
    pub fn consumer_pos(&self) -> usize {
        // Acquire pairs with the drain's Release stores.
        self.shared.consumer_pos().load(Ordering::Acquire)
    }

    /// Drains the ring as `bpf_user_ringbuf_drain(map, callback, ctx,
    /// flags)` does: passes each submitted sample to `callback`, skips
    /// discarded ones, stops at an empty ring, at a BUSY sample, after
    /// `BPF_MAX_USER_RINGBUF_SAMPLES` samples, or after `callback` returns
    /// [`ControlFlow::Break`] (that sample is still consumed). Wakes the
    /// producer unless `flags` holds `BPF_RB_NO_WAKEUP` (always with
    /// `BPF_RB_FORCE_WAKEUP`), when at least one sample was consumed.
    ///
    /// Returns the number of samples passed to `callback`.
    ///
    /// # Errors
    ///
    /// The kernel's, for a malformed ring: [`DrainError::MisalignedProducer`],
    /// [`DrainError::BeyondProducer`], [`DrainError::TooLarge`]; samples
    /// consumed before the error stay consumed. [`DrainError::Busy`] while
    /// another drain runs, [`DrainError::InvalidFlags`] for unknown flags.
    pub fn drain<F>(&self, flags: u64, mut callback: F) -> Result<usize, DrainError>
    where
        F: FnMut(&[u8]) -> ControlFlow<()>,
    {
        if flags & !(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP) != 0 {
            return Err(DrainError::InvalidFlags { flags });
        }
        let shared = &*self.shared;
        let Some(mut busy) = Busy::take(shared) else {
            return Err(DrainError::Busy);
        };
        // The wakeup, sent when `busy` drops (also if the callback panics).
        busy.wake = flags & BPF_RB_FORCE_WAKEUP != 0;
        let wake_on_consume = flags & BPF_RB_NO_WAKEUP == 0;
        let mut samples = 0;
        let mut discarded = 0;
        let mut result = Ok(());
        while samples < BPF_MAX_USER_RINGBUF_SAMPLES {
            match self.peek() {
                Ok(Peek::NoData) => break,
                Ok(Peek::Discarded) => {
                    discarded += 1;
                    samples += 1;
                    busy.wake |= wake_on_consume;
                }
                Ok(Peek::Sample { pos, len }) => {
                    // SAFETY: `peek` loaded the header at `pos` with Acquire
                    // and checked it is not BUSY and fits the ring; the
                    // consumer position moves past `pos` only below, after
                    // the slice's last use.
                    let payload = unsafe { shared.payload(pos, len) };
                    // A panic in the callback leaves this sample unconsumed;
                    // `busy` clears the ring's busy flag as it unwinds, and
                    // wakes the producer for the samples consumed before.
                    let flow = callback(payload);
                    // `__bpf_user_ringbuf_sample_release`: Release pairs
                    // with the producer's Acquire load of `consumer_pos`
                    // (`RawUserRing::load_consumer`): the callback's reads
                    // happen before the producer reuses the space.
                    shared
                        .consumer_pos()
                        .store(pos.wrapping_add(stride(len)), Ordering::Release);
                    samples += 1;
                    busy.wake |= wake_on_consume;
                    if flow.is_break() {
                        break;
                    }
                }
                Err(err) => {
                    result = Err(err);
                    break;
                }
            }
        }
        drop(busy);
        result.map(|()| samples - discarded)
    }

    /// `__bpf_user_ringbuf_peek`, check for check.
    fn peek(&self) -> Result<Peek, DrainError> {
        let shared = &*self.shared;
        // Acquire pairs with the producer's Release store of `producer_pos`:
        // the headers it covers are written.
        let prod = shared.producer_pos().load(Ordering::Acquire);
        if !prod.is_multiple_of(8) {
            return Err(DrainError::MisalignedProducer {
                producer: prod as u64,
            });
        }
        // Only the drain stores `consumer_pos`; Acquire as the kernel does.
        let cons = shared.consumer_pos().load(Ordering::Acquire);
        // The kernel compares the free-running positions directly.
        if cons >= prod {
            return Ok(Peek::NoData);
        }
        // Acquire pairs with the producer's Release store of the header in
        // `RawUserRing::commit`: the payload is written.
        let header = shared.header(cons).load(Ordering::Acquire);
        let flags = header & (BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        let len = (header & !flags) as usize;
        let total = stride(len);
        if total > prod - cons {
            return Err(DrainError::BeyondProducer {
                pos: cons as u64,
                total: total as u64,
                available: (prod - cons) as u64,
            });
        }
        if total > shared.size() || len > DYNPTR_MAX_SIZE {
            return Err(DrainError::TooLarge {
                pos: cons as u64,
                len: len as u64,
            });
        }
        if flags & BPF_RINGBUF_DISCARD_BIT != 0 {
            // Release, as in `drain`.
            shared.consumer_pos().store(cons + total, Ordering::Release);
            return Ok(Peek::Discarded);
        }
        if flags & BPF_RINGBUF_BUSY_BIT != 0 {
            return Ok(Peek::NoData);
        }
        Ok(Peek::Sample { pos: cons, len })
    }

    /// Writes the raw header word `len_word` at the producer position and
    /// advances the producer position by `advance` bytes, unchecked against
    /// each other, as a faulty producer would: for testing that the drain
    /// refuses what [`UserRingBuf`] never writes. The producer position
    /// only moves forward (it may go past the consumer position plus the
    /// ring's size, or become unaligned: the drain and a later
    /// [`UserRingBuf`] refuse such rings), and never while a drain runs, so
    /// it never writes a byte that a drain's callback is reading, or that a
    /// later producer could hand out while a drain reads it.
    ///
    /// # Errors
    ///
    /// [`UserRingBufError::AlreadyProduced`] while a `UserRingBuf` of this
    /// ring lives (its reservations must not be written over);
    /// [`UserRingBufError::Draining`] while a drain of this ring runs (from
    /// its callback, or on another thread); [`UserRingBufError::Backwards`]
    /// for an `advance` that would move the producer position back (more
    /// than `isize::MAX`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringview::testing::MemoryUserRing;
    /// use ringview::DrainError;
    ///
    /// let ring = MemoryUserRing::new(4096).unwrap();
    /// // A 9-byte sample needs 24 bytes; publish only 16.
    /// ring.push_raw(9, 16).unwrap();
    /// let err = ring.drain(0, |_| std::ops::ControlFlow::Continue(()));
    /// assert!(matches!(err, Err(DrainError::BeyondProducer { .. })));
    /// ```
    pub fn push_raw(&self, len_word: u32, advance: usize) -> Result<(), UserRingBufError> {
        let shared = &*self.shared;
        if advance > isize::MAX as usize {
            return Err(UserRingBufError::Backwards { advance });
        }
        let _claim = Claim::new(shared.id, Role::Producer)
            .map_err(|ring| UserRingBufError::AlreadyProduced { ring })?;
        // Held as a drain holds it, so no drain runs while this writes.
        let Some(_busy) = Busy::take(shared) else {
            return Err(UserRingBufError::Draining { ring: shared.id });
        };
        // Acquire/Release as the producer's (`RawUserRing`), which this
        // stands in for.
        let prod = shared.producer_pos().load(Ordering::Acquire);
        if prod.is_multiple_of(8) {
            shared.header(prod).store(len_word, Ordering::Relaxed);
        }
        shared
            .producer_pos()
            .store(prod.wrapping_add(advance), Ordering::Release);
        Ok(())
    }
}

/// The kernel's `rb->busy` flag, held: one drain (or raw push) at a time.
/// Dropping it, also while a panic unwinds, clears the flag, then wakes the
/// producer if `wake` is set.
struct Busy<'a> {
    shared: &'a UserShared,
    wake: bool,
}

impl<'a> Busy<'a> {
    /// Sets the flag, or `None` when a drain or raw push holds it.
    fn take(shared: &'a UserShared) -> Option<Self> {
        // Acquire pairs with the Release store that ends the previous
        // holder (the kernel's `atomic_try_cmpxchg(&rb->busy, ...)` /
        // `atomic_set(&rb->busy, 0)` after `smp_mb__before_atomic`).
        shared
            .draining
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Self {
                shared,
                wake: false,
            })
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        // Release pairs with the next holder's Acquire exchange.
        self.shared.draining.store(false, Ordering::Release);
        if self.wake {
            epoll::eventfd_signal(self.shared.eventfd.as_fd());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(ring: &MemoryUserRing) -> Result<Vec<Vec<u8>>, DrainError> {
        let mut out = Vec::new();
        ring.drain(0, |s| {
            out.push(s.to_vec());
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    #[test]
    fn drain_refuses_misaligned_producer() {
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.push_raw(1, 12).unwrap();
        assert_eq!(
            collect(&ring),
            Err(DrainError::MisalignedProducer { producer: 12 })
        );
    }

    #[test]
    fn drain_refuses_sample_beyond_producer() {
        let ring = MemoryUserRing::new(4096).unwrap();
        // A 9-byte sample takes 24 bytes; only 16 are published.
        ring.push_raw(9, 16).unwrap();
        assert_eq!(
            collect(&ring),
            Err(DrainError::BeyondProducer {
                pos: 0,
                total: 24,
                available: 16
            })
        );
        // Even when BUSY: the length is checked first.
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.push_raw(9 | BPF_RINGBUF_BUSY_BIT, 16).unwrap();
        assert!(matches!(
            collect(&ring),
            Err(DrainError::BeyondProducer { .. })
        ));
    }

    #[test]
    fn drain_refuses_sample_larger_than_ring() {
        let ring = MemoryUserRing::new(64).unwrap();
        // 64 bytes of payload take 72 > 64; publish 128 so that the
        // producer-position check passes first.
        ring.push_raw(64, 128).unwrap();
        assert_eq!(
            collect(&ring),
            Err(DrainError::TooLarge { pos: 0, len: 64 })
        );
    }

    #[test]
    fn drain_stops_at_busy_and_skips_discarded() {
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.push_raw(3 | BPF_RINGBUF_DISCARD_BIT, 16).unwrap();
        // DISCARD wins over BUSY, as in the kernel.
        ring.push_raw(3 | BPF_RINGBUF_DISCARD_BIT | BPF_RINGBUF_BUSY_BIT, 16)
            .unwrap();
        ring.push_raw(3 | BPF_RINGBUF_BUSY_BIT, 16).unwrap();
        assert_eq!(collect(&ring), Ok(vec![]));
        assert_eq!(ring.consumer_pos(), 32);
    }

    #[test]
    fn drain_is_exclusive_and_checks_flags() {
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.push_raw(1, 16).unwrap();
        let inner = ring.clone();
        let result = ring.drain(0, |_| {
            assert_eq!(
                inner.drain(0, |_| ControlFlow::Continue(())),
                Err(DrainError::Busy)
            );
            ControlFlow::Continue(())
        });
        assert_eq!(result, Ok(1));
        assert_eq!(
            ring.drain(4, |_| ControlFlow::Continue(())),
            Err(DrainError::InvalidFlags { flags: 4 })
        );
    }

    #[test]
    fn push_raw_refuses_while_a_producer_lives() {
        let ring = MemoryUserRing::new(4096).unwrap();
        let producer = ring.user_ring_buf().unwrap();
        assert!(matches!(
            ring.push_raw(1, 16),
            Err(UserRingBufError::AlreadyProduced { .. })
        ));
        drop(producer);
        ring.push_raw(1, 16).unwrap();
    }

    /// A raw push from inside a drain's callback would write the sample the
    /// callback reads (Miri: a write through a pointer whose bytes a
    /// protected `&[u8]` holds). It is refused, and the sample is intact.
    #[test]
    fn push_raw_refuses_during_a_drain() {
        let ring = MemoryUserRing::new(4096).unwrap();
        {
            let mut producer = ring.user_ring_buf().unwrap();
            producer.push_bytes(&[7; 24]).unwrap();
        }
        let pos = ring.producer_pos();
        let inner = ring.clone();
        let drained = ring.drain(0, |sample| {
            // Back 24 bytes, to the sample's payload, then a header there.
            let refused = inner.push_raw(0xAAAA_AAAA, usize::MAX - 23);
            assert!(matches!(refused, Err(UserRingBufError::Backwards { .. })));
            let refused = inner.push_raw(0xAAAA_AAAA, 8);
            assert!(
                matches!(refused, Err(UserRingBufError::Draining { .. })),
                "{refused:?}"
            );
            assert_eq!(sample, [7; 24]);
            ControlFlow::Continue(())
        });
        assert_eq!(drained, Ok(1));
        assert_eq!(ring.producer_pos(), pos);
        // Once the drain is over, the push runs.
        ring.push_raw(1, 16).unwrap();
        assert_eq!(ring.producer_pos(), pos + 16);
    }

    /// A panic in the callback leaves the sample unconsumed and the ring
    /// drainable, and a producer waiting for room is woken for what was
    /// consumed before it.
    #[test]
    fn a_panicking_callback_leaves_the_ring_usable() {
        let ring = MemoryUserRing::new(4096).unwrap();
        {
            let mut producer = ring.user_ring_buf().unwrap();
            for byte in 1..=3u8 {
                producer.push_bytes(&[byte; 8]).unwrap();
            }
        }
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ring.drain(0, |sample| {
                assert_ne!(sample[0], 2, "the callback fails on the second sample");
                ControlFlow::Continue(())
            })
        }));
        assert!(caught.is_err());
        // The second sample was not consumed; the drain is not busy.
        assert_eq!(collect(&ring), Ok(vec![vec![2; 8], vec![3; 8]]));
        ring.push_raw(1, 16).unwrap();
    }

    /// A header that claims more than the raw push published: a producer
    /// opened after it would reserve bytes that the drain hands out as
    /// that sample. It is refused.
    #[test]
    fn a_producer_refuses_records_that_do_not_tile_the_ring() {
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.push_raw(100, 8).unwrap();
        assert!(matches!(
            ring.user_ring_buf(),
            Err(UserRingBufError::BadPositions {
                producer: 8,
                consumer: 0,
                ..
            })
        ));
    }

    #[test]
    fn rejects_bad_sizes() {
        for size in [0, 8, 100, 4097] {
            assert!(matches!(
                MemoryUserRing::new(size),
                Err(UserRingBufError::BadSize { .. })
            ));
        }
    }
}
