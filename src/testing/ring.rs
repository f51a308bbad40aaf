//! The in-memory ring: process memory laid out as the kernel's ring, with a
//! producer that reserves, submits and discards exactly as
//! `kernel/bpf/ringbuf.c` does (v6.18: `__bpf_ringbuf_reserve`,
//! `bpf_ringbuf_commit`), including the `pending_pos` space check, the
//! wakeup rule and wraparound. The data area is mirrored so wrapped records
//! are contiguous, as the kernel's double mapping makes them.
//!
//! Public through [`testing`](crate::testing).

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{self, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::RingBufError;
use crate::kernel::epoll;
use crate::read::cursor::{stride, RawRing};
use crate::read::ring_buf::RingBacking;
use crate::read::ring_buf::RingBuf;
use crate::ring_id::RingId;
use crate::testing::memory::RingMemory;
use crate::uapi::{BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP};
use crate::uapi::{BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ};

/// The reservation failed: not enough free space (or the record is larger
/// than the ring).
///
/// # Examples
///
/// ```
/// use ringview::testing::{Full, MemoryRing};
///
/// let ring = MemoryRing::new(64)?;
/// ring.output(&[0; 40], 0)?; // a 48-byte stride
/// assert_eq!(ring.output(&[0; 16], 0), Err(Full { len: 16 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no room for a record of {len} bytes")]
pub struct Full {
    /// The payload length asked for.
    pub len: usize,
}

/// The producer's lock-protected state (the kernel's `rb->spinlock`).
#[derive(Debug, Default)]
struct ProducerState {
    producer_pos: usize,
    pending_pos: usize,
}

/// The memory shared by an in-memory ring's producer and its consumers.
#[derive(Debug)]
struct Shared {
    memory: RingMemory,
    eventfd: OwnedFd,
    map_flags: u32,
    id: RingId,
    producer: Mutex<ProducerState>,
}

// SAFETY: the allocation behind `memory` is owned by `Shared` and accessed
// only through atomics (positions, headers) or under the producer lock
// (payload writes) and by consumers reading submitted records, which the
// positions order; no thread-affine state is involved.
unsafe impl Send for Shared {}
// SAFETY: as for `Send`: all shared mutation is atomic or behind `producer`.
unsafe impl Sync for Shared {}

// SAFETY: `raw` builds the same `RawRing` every time, over `memory`, which
// `self` owns and frees only on drop.
unsafe impl RingBacking for Shared {
    fn raw(&self) -> RawRing {
        let memory = &self.memory;
        // SAFETY: the position words are 8-aligned (so aligned for `usize`
        // on every 64- and 32-bit target) and live as long as `self`, which
        // every `RingBuf` built from it keeps in an `Arc`; the data area is
        // `2 * size` readable, 8-aligned bytes (payloads are mirrored by
        // `copy_in`; headers live in the first half, where every reader
        // decodes them, as `pos & mask` is below `size`);
        // `size` is a power of two (`RingMemory` invariant).
        unsafe {
            RawRing::new(
                memory.consumer_word(),
                memory.producer_word(),
                memory.data(),
                memory.size(),
            )
        }
    }

    fn map_flags(&self) -> u32 {
        self.map_flags
    }

    fn id(&self) -> RingId {
        self.id
    }

    fn descriptor(&self) -> BorrowedFd<'_> {
        self.eventfd.as_fd()
    }
}

impl Shared {
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

    /// Copies `bytes` to logical data offset `at` (any position), in both
    /// halves of the mirrored data area.
    fn copy_in(&self, at: usize, bytes: &[u8]) {
        let offset = at & (self.size() - 1);
        let first = bytes.len().min(self.size() - offset);
        for (start, chunk) in [(offset, &bytes[..first]), (0, &bytes[first..])] {
            for half in [0, self.size()] {
                self.copy_raw(start + half, chunk);
            }
        }
    }

    fn copy_raw(&self, data_offset: usize, chunk: &[u8]) {
        let dst = self.memory.data_at(data_offset, chunk.len());
        // SAFETY: `dst` is valid for `chunk.len()` bytes (above); the bytes
        // belong to a reserved record, which only its producer writes, and
        // no consumer reads before the header's BUSY bit clears; `chunk` is
        // a different allocation, so they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(chunk.as_ptr(), dst.as_ptr(), chunk.len()) };
    }

    fn wake(&self) {
        epoll::eventfd_signal(self.eventfd.as_fd());
    }

    fn lock(&self) -> MutexGuard<'_, ProducerState> {
        // A panic while holding the lock leaves the state consistent (it is
        // updated last), so a poisoned lock is still usable.
        self.producer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An in-memory BPF ring buffer: producer side.
///
/// Cloning gives another producer handle to the same ring.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::UnsafeReader;
///
/// let ring = MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let producer = ring.clone(); // producers on other threads
/// std::thread::spawn(move || producer.output(b"from a thread", 0)).join().unwrap()?;
/// assert_eq!(reader.read::<[u8]>()?, b"from a thread");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MemoryRing {
    shared: Arc<Shared>,
}

impl MemoryRing {
    /// A ring with a data area of `size` bytes (a power of two, at least 16).
    ///
    /// # Errors
    ///
    /// [`RingBufError::BadSize`] for any other size; a
    /// [`RingBufError::Syscall`] if the wakeup eventfd cannot be created.
    pub fn new(size: usize) -> Result<Self, RingBufError> {
        Self::with_map_flags(size, 0)
    }

    /// A ring whose [`RingBuf::map_flags`] report `map_flags`, to see how
    /// readers treat maps created with flags such as
    /// [`BPF_F_RB_OVERWRITE`](crate::BPF_F_RB_OVERWRITE). Only the reported
    /// flags change; the producer behaves as [`new`](Self::new)'s.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_map_flags(size: usize, map_flags: u32) -> Result<Self, RingBufError> {
        if !size.is_power_of_two() || size < 16 {
            return Err(RingBufError::BadSize {
                size: size as u64,
                page_size: 16,
            });
        }
        let eventfd = epoll::eventfd()?;
        Ok(Self {
            shared: Arc::new(Shared {
                memory: RingMemory::new(size),
                eventfd,
                map_flags,
                id: RingId::next_memory(),
                producer: Mutex::new(ProducerState::default()),
            }),
        })
    }

    /// A ring of `size` bytes whose positions and data area are given
    /// outright, as another (possibly faulty or hostile) agent could have
    /// left a shared ring: for fuzzing the readers' decoder over arbitrary
    /// headers and positions. `data` fills the data area from offset 0 (the
    /// rest stays zero; both halves of the mirror get the same bytes, as the
    /// kernel's double mapping shows them).
    ///
    /// The producer side stays usable and keeps the kernel's free-space rule
    /// (`reserve` fails unless the record fits between the producer position
    /// and the consumer position one ring ahead), so a reservation never
    /// overlaps bytes a reader may be viewing; a `producer_pos` that is not
    /// 8-byte aligned makes it panic in debug builds, never write out of
    /// place.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    #[doc(hidden)]
    pub fn from_raw_parts(
        size: usize,
        consumer_pos: usize,
        producer_pos: usize,
        data: &[u8],
    ) -> Result<Self, RingBufError> {
        let ring = Self::new(size)?;
        let shared = &*ring.shared;
        // No reader exists yet: nothing else can see these bytes.
        shared.copy_in(0, &data[..data.len().min(size)]);
        // Relaxed: the ring is not shared with any thread yet; handing it to
        // one (by `ring_buf` and a thread spawn) orders these stores.
        shared.consumer_pos().store(consumer_pos, Ordering::Relaxed);
        shared.producer_pos().store(producer_pos, Ordering::Relaxed);
        *shared.lock() = ProducerState {
            producer_pos,
            pending_pos: producer_pos,
        };
        Ok(ring)
    }

    /// A consumer's [`RingBuf`] over this ring. Each call gives another one,
    /// like mapping the same kernel map twice.
    pub fn ring_buf(&self) -> RingBuf {
        RingBuf::from_backing(Arc::clone(&self.shared) as Arc<dyn RingBacking>)
    }

    /// The data area's size in bytes.
    pub fn size(&self) -> usize {
        self.shared.size()
    }

    /// The producer position (`producer_pos`).
    pub fn producer_pos(&self) -> usize {
        // Acquire pairs with the Release store in `reserve`.
        self.shared.producer_pos().load(Ordering::Acquire)
    }

    /// The published consumer position (`consumer_pos`).
    pub fn consumer_pos(&self) -> usize {
        // Acquire pairs with the consumer's Release store
        // (`RawRing::publish_consumer`).
        self.shared.consumer_pos().load(Ordering::Acquire)
    }

    /// Stores `pos` as the consumer position, as a consumer outside this
    /// library would.
    #[cfg(test)]
    pub(crate) fn set_consumer_pos(&self, pos: usize) {
        // Release, as a consumer's publish.
        self.shared.consumer_pos().store(pos, Ordering::Release);
    }

    /// Stores `pos` as the producer position and `word` as the header
    /// there, with no space check, as a faulty or hostile producer would.
    #[cfg(test)]
    pub(crate) fn set_producer_pos_raw(&self, pos: usize, header_at: usize, word: u32) {
        let shared = &*self.shared;
        // Release, as a producer's commit and reserve.
        shared.header(header_at).store(word, Ordering::Release);
        shared.producer_pos().store(pos, Ordering::Release);
    }

    /// Reserves a record of `len` payload bytes, as `bpf_ringbuf_reserve`.
    /// The record stays BUSY (and blocks the records after it) until the
    /// reservation is submitted or discarded; dropping it discards it.
    ///
    /// # Errors
    ///
    /// [`Full`] when the ring has no room.
    pub fn reserve(&self, len: usize) -> Result<Reservation<'_>, Full> {
        let shared = &*self.shared;
        let full = Full { len };
        let len32 = u32::try_from(len).map_err(|_| full)?;
        if len32 >= BPF_RINGBUF_DISCARD_BIT {
            return Err(full);
        }
        let step = stride(len32);
        if step > shared.size() {
            return Err(full);
        }
        // Acquire pairs with the consumer's Release store: its reads of the
        // space we may now overwrite happened before.
        let cons_pos = shared.consumer_pos().load(Ordering::Acquire);
        let mut state = shared.lock();
        let mut pend_pos = state.pending_pos;
        let prod_pos = state.producer_pos;
        let new_prod_pos = prod_pos.wrapping_add(step);
        while pend_pos != prod_pos {
            // Relaxed: under the lock; only submitted (non-BUSY) headers are
            // skipped, and their length is final.
            let header = shared.header(pend_pos).load(Ordering::Relaxed);
            if header & BPF_RINGBUF_BUSY_BIT != 0 {
                break;
            }
            pend_pos = pend_pos.wrapping_add(stride(header & !BPF_RINGBUF_DISCARD_BIT));
        }
        state.pending_pos = pend_pos;
        let mask = shared.size() - 1;
        if new_prod_pos.wrapping_sub(cons_pos) > mask || new_prod_pos.wrapping_sub(pend_pos) > mask
        {
            return Err(full);
        }
        // Relaxed: published by the Release store of `producer_pos` below,
        // as the kernel's plain `hdr->len = size | BUSY` is.
        shared
            .header(prod_pos)
            .store(len32 | BPF_RINGBUF_BUSY_BIT, Ordering::Relaxed);
        // Release pairs with the consumer's Acquire load of `producer_pos`
        // (`smp_store_release(&rb->producer_pos, ...)` in the kernel).
        shared.producer_pos().store(new_prod_pos, Ordering::Release);
        state.producer_pos = new_prod_pos;
        drop(state);
        Ok(Reservation {
            shared,
            pos: prod_pos,
            len,
            done: false,
        })
    }

    /// Reserves, copies `data` in, and submits with `flags`, as
    /// `bpf_ringbuf_output`.
    ///
    /// # Errors
    ///
    /// [`Full`] when the ring has no room.
    pub fn output(&self, data: &[u8], flags: u64) -> Result<(), Full> {
        let mut reservation = self.reserve(data.len())?;
        reservation.write(0, data);
        reservation.submit(flags);
        Ok(())
    }

    /// Writes a raw header word `len_word` at the producer position and
    /// advances the producer position by `advance` bytes (a multiple of 8),
    /// for testing a consumer against corrupt rings. The header is not
    /// checked against `advance`; the ring's free space is, as for
    /// [`reserve`](Self::reserve), so no record a reader still holds is
    /// overwritten.
    ///
    /// # Errors
    ///
    /// [`Full`] (with `len` = `advance`) when `advance` bytes are not free.
    ///
    /// # Safety
    ///
    /// A reader trusts a submitted header's length. If `len_word` has the
    /// BUSY bit clear and claims more than the record's space
    /// (`round_up(len + 8, 8) > advance`, the length being `len_word`
    /// without the BUSY and DISCARD bits), the claimed bytes run into the
    /// records reserved after it: none of those may be written (reserved
    /// and not yet submitted) while a reader of this ring can read past
    /// this header, or the reader reads bytes as a producer writes them.
    ///
    /// # Panics
    ///
    /// If `advance` is not a multiple of 8.
    pub unsafe fn push_raw(&self, len_word: u32, advance: usize) -> Result<(), Full> {
        assert_eq!(advance % 8, 0, "positions advance in multiples of 8");
        let shared = &*self.shared;
        // Acquire, as in `reserve`: the consumer's reads of the space come
        // first.
        let cons_pos = shared.consumer_pos().load(Ordering::Acquire);
        let mut state = shared.lock();
        let new_prod_pos = state.producer_pos.wrapping_add(advance);
        if advance >= shared.size() || new_prod_pos.wrapping_sub(cons_pos) >= shared.size() {
            return Err(Full { len: advance });
        }
        // Relaxed, then a Release store of `producer_pos`: as in `reserve`.
        shared
            .header(state.producer_pos)
            .store(len_word, Ordering::Relaxed);
        state.producer_pos = new_prod_pos;
        state.pending_pos = new_prod_pos;
        shared.producer_pos().store(new_prod_pos, Ordering::Release);
        Ok(())
    }
}

/// A reserved record. Dropping it without [`submit`](Self::submit) discards it.
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::UnsafeReader;
///
/// let ring = MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let mut record = ring.reserve(4)?; // BUSY until submitted
/// assert_eq!(reader.try_read::<[u8]>()?, None);
/// record.write(0, b"done");
/// record.submit(0);
/// assert_eq!(reader.try_read::<[u8]>()?, Some(&b"done"[..]));
/// ring.reserve(4)?.discard(0); // skipped by the reader
/// assert_eq!(reader.try_read::<[u8]>()?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Reservation<'a> {
    shared: &'a Shared,
    pos: usize,
    len: usize,
    done: bool,
}

impl Reservation<'_> {
    /// The payload length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The record's position (its header's).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Writes `bytes` at `offset` into the payload.
    ///
    /// # Panics
    ///
    /// If `offset + bytes.len()` exceeds the payload length.
    pub fn write(&mut self, offset: usize, bytes: &[u8]) {
        assert!(
            offset
                .checked_add(bytes.len())
                .is_some_and(|end| end <= self.len),
            "write of {} bytes at {offset} past a {}-byte record",
            bytes.len(),
            self.len
        );
        self.shared
            .copy_in(self.pos + BPF_RINGBUF_HDR_SZ + offset, bytes);
    }

    /// Submits the record, as `bpf_ringbuf_submit(sample, flags)`.
    pub fn submit(mut self, flags: u64) {
        self.commit(flags, false);
    }

    /// Discards the record, as `bpf_ringbuf_discard(sample, flags)`.
    pub fn discard(mut self, flags: u64) {
        self.commit(flags, true);
    }

    fn commit(&mut self, flags: u64, discard: bool) {
        self.done = true;
        let header = self.shared.header(self.pos);
        let mut new_len = self.len as u32;
        if discard {
            new_len |= BPF_RINGBUF_DISCARD_BIT;
        }
        // SeqCst swap plus fence: the kernel's `xchg(&hdr->len, new_len)`,
        // a full barrier. Release half: the payload is visible to a consumer
        // whose Acquire load sees the cleared BUSY bit. Full-barrier half:
        // pairs with the consumer's SeqCst fence between publishing its
        // position and re-checking the ring, so a sleeping consumer is
        // always woken (see `Cursor::should_sleep`).
        header.swap(new_len, Ordering::SeqCst);
        atomic::fence(Ordering::SeqCst);
        let mask = self.shared.size() - 1;
        // Acquire, as the kernel's `smp_load_acquire(&rb->consumer_pos)`.
        let cons_pos = self.shared.consumer_pos().load(Ordering::Acquire) & mask;
        let rec_pos = self.pos & mask;
        if flags & BPF_RB_FORCE_WAKEUP != 0
            || (cons_pos == rec_pos && flags & BPF_RB_NO_WAKEUP == 0)
        {
            self.shared.wake();
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.commit(0, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_raw_parts_shows_the_given_bytes_at_the_given_positions() {
        // One record of 3 bytes at data offset 56, wrapping to offset 0, and
        // a header claiming more than is published after it.
        let mut data = [0u8; 64];
        data[56..60].copy_from_slice(&3u32.to_le_bytes());
        data[..3].copy_from_slice(b"abc");
        data[8..12].copy_from_slice(&1000u32.to_le_bytes());
        let ring = MemoryRing::from_raw_parts(64, 120, 144, &data).unwrap();
        assert_eq!((ring.consumer_pos(), ring.producer_pos()), (120, 144));
        let mut reader = crate::Reader::new(ring.ring_buf()).unwrap();
        assert_eq!(reader.try_read().unwrap().unwrap().sample, b"abc");
        let err = reader.try_read().unwrap_err();
        assert!(
            matches!(err, crate::ReadError::CorruptHeader { len: 1000, .. }),
            "{err:?}"
        );
        // The producer keeps the kernel's space rule from the given positions.
        assert!(ring.reserve(64).is_err());
    }

    #[test]
    fn reserve_follows_the_kernel_space_rules() {
        let ring = MemoryRing::new(256).unwrap();
        // Capacity is (size - 1) / stride records: never completely full.
        let mut reserved = Vec::new();
        while let Ok(r) = ring.reserve(24) {
            reserved.push(r);
        }
        assert_eq!(reserved.len(), 255 / 32);
        assert_eq!(ring.producer_pos(), 7 * 32);
        // A record larger than the ring never fits.
        assert_eq!(ring.reserve(256).unwrap_err(), Full { len: 256 });
        drop(reserved);
    }

    #[test]
    fn a_busy_record_holds_back_space_even_from_a_consumer_past_it() {
        let ring = MemoryRing::new(64).unwrap();
        let busy = ring.reserve(8).unwrap(); // 0..16, stays BUSY
        ring.output(&[1; 8], 0).unwrap(); // 16..32

        // A consumer that (wrongly) moved past the busy record: the kernel's
        // pending_pos check still keeps producers from overwriting it.
        ring.shared.consumer_pos().store(32, Ordering::Release);
        ring.output(&[2; 8], 0).unwrap(); // 32..48
        assert_eq!(
            ring.reserve(8).unwrap_err(),
            Full { len: 8 },
            "64 bytes from the busy record"
        );
        busy.submit(0);
        ring.output(&[3; 8], 0).unwrap();
    }

    #[test]
    fn wakes_only_a_caught_up_consumer() {
        use std::os::fd::AsRawFd;
        let ring = MemoryRing::new(4096).unwrap();
        let counter = || {
            let mut value = 0u64;
            // SAFETY: reads 8 bytes from a live non-blocking eventfd into
            // `value`.
            let n = unsafe {
                libc::read(
                    ring.shared.eventfd.as_raw_fd(),
                    (&mut value as *mut u64).cast(),
                    8,
                )
            };
            if n == 8 {
                value
            } else {
                0
            }
        };
        ring.output(b"a", 0).unwrap(); // consumer at 0 == record 0: wake
        assert_eq!(counter(), 1);
        ring.output(b"b", 0).unwrap(); // consumer at 0 != 16: no wake
        assert_eq!(counter(), 0);
        ring.output(b"c", BPF_RB_FORCE_WAKEUP).unwrap();
        assert_eq!(counter(), 1);
        // Consumer catches up to 48, then a NO_WAKEUP record there.
        ring.shared.consumer_pos().store(48, Ordering::Release);
        ring.output(b"d", BPF_RB_NO_WAKEUP).unwrap();
        assert_eq!(counter(), 0);
    }

    #[test]
    fn rejects_bad_sizes() {
        for size in [0, 8, 100, 4097] {
            assert!(matches!(
                MemoryRing::new(size),
                Err(RingBufError::BadSize { .. })
            ));
        }
    }

    #[test]
    fn push_raw_never_writes_over_a_record_a_reader_holds() {
        let ring = MemoryRing::new(64).unwrap();
        // SAFETY: only this test consumes the ring.
        let mut reader = unsafe { crate::UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap();
        ring.output(&[7; 8], 0).unwrap(); // 0..16
        let view = reader.read::<[u8]>().unwrap();
        // SAFETY: every header pushed claims no more than its own space.
        unsafe { ring.push_raw(BPF_RINGBUF_DISCARD_BIT | 32, 40) }.unwrap(); // 16..56
                                                                             // 56..64 would be free, 56..72 wraps onto the record behind `view`.
                                                                             // SAFETY: as above.
        let err = unsafe { ring.push_raw(BPF_RINGBUF_DISCARD_BIT, 16) }.unwrap_err();
        assert_eq!(err, Full { len: 16 });
        assert_eq!(view, [7; 8]);
    }
}
