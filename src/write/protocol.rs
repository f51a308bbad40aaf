//! The user ring buffer protocol (`BPF_MAP_TYPE_USER_RINGBUF`): positions,
//! headers and publishing for the producer side. Every atomic access to a
//! user ring lives in this file.
//!
//! # How the kernel drains a user ring
//!
//! Cited from `kernel/bpf/ringbuf.c` at Linux v6.18 (`ringbuf_map_mmap_user`,
//! `ringbuf_map_poll_user`, `__bpf_user_ringbuf_peek`,
//! `__bpf_user_ringbuf_sample_release`, `bpf_user_ringbuf_drain`) and
//! checked against libbpf's `user_ring_buffer__reserve/submit/discard` and
//! on this machine.
//!
//! - **Same memory as a kernel ring, reversed permissions.** The consumer
//!   page (offset 0, first word `consumer_pos`) may only be mapped
//!   read-only: `ringbuf_map_mmap_user` returns `EPERM` for a writable
//!   mapping at page offset 0. The producer page (first word
//!   `producer_pos`) and the data pages, mapped twice back to back so a
//!   record that wraps is contiguous, are mapped read-write at offset
//!   `page_size`. The kernel never writes the data pages of a user ring;
//!   it only reads them and stores `consumer_pos`.
//! - **Records** have the kernel ring's format: an 8-byte header
//!   `{ u32 len; u32 pg_off; }` at an 8-aligned position, then `len`
//!   payload bytes; the next header is at `round_up(len + 8, 8)`. `len`
//!   bit 31 is `BPF_RINGBUF_BUSY_BIT` (reserved, not yet written), bit 30
//!   `BPF_RINGBUF_DISCARD_BIT` (skip). `pg_off` is not read for user rings
//!   (the kernel finds the ring from the map, not from the record, and
//!   hands the BPF program the payload alone), so unlike libbpf we do not
//!   write it: at 16-byte records that store is one in seven, and the
//!   producer's loop is bound by its stores. It keeps whatever this
//!   producer last wrote there, or the kernel's zeroes.
//! - **The producer** (user space, here) reserves by writing `len | BUSY` at
//!   `producer_pos` and then storing the advanced `producer_pos` with
//!   Release; it submits by storing the header's `len` without BUSY (with
//!   DISCARD to discard) with Release. Nothing else signals the kernel: a
//!   BPF program sees the record the next time it calls
//!   `bpf_user_ringbuf_drain`.
//! - **The drain** (`__bpf_user_ringbuf_peek`, once per sample, up to
//!   `BPF_MAX_USER_RINGBUF_SAMPLES` per call) loads `producer_pos` with
//!   Acquire, **fails with `EINVAL` if it is not a multiple of 8**, stops
//!   when `consumer_pos >= producer_pos`, loads the header with Acquire, and
//!   then **fails the whole drain** with `EINVAL` if
//!   `round_up(len + 8, 8) > producer_pos - consumer_pos`, or with `E2BIG`
//!   if that is more than the ring's size or `len` exceeds
//!   `DYNPTR_MAX_SIZE` (16 MiB - 1). A DISCARD record is skipped (consumed,
//!   not passed to the program) even if BUSY is also set; a BUSY record ends
//!   the drain (`ENODATA`) until it is submitted. After the callback, the
//!   sample is released with a Release store of
//!   `consumer_pos + round_up(len + 8, 8)`. The length checks come before
//!   the BUSY check, so even a BUSY header must already carry the record's
//!   true length, and `producer_pos` must already cover all of it.
//! - **Wakeups.** After a drain that consumed at least one sample (unless
//!   the program passed `BPF_RB_NO_WAKEUP`; always with
//!   `BPF_RB_FORCE_WAKEUP`) the kernel wakes the map's wait queue, and
//!   `ringbuf_map_poll_user` reports `EPOLLOUT` while
//!   `producer_pos - consumer_pos` is below the ring's size. That is
//!   "not completely full", not "room for the next record", so a
//!   level-triggered wait would spin while the ring is nearly full; the
//!   writer waits edge-triggered and re-checks the space after each edge.
//! - **Space.** The kernel does not check space for a user producer; it
//!   trusts the checks above. We allow `producer_pos - consumer_pos` up to
//!   the full size, as libbpf does. A record can never be larger than
//!   `min(size - 8, DYNPTR_MAX_SIZE)` payload bytes.
//!
//! # What this library guarantees
//!
//! Every record it publishes passes every check above: positions only ever
//! advance by `round_up(len + 8, 8)` (so `producer_pos` stays 8-aligned),
//! `len` never exceeds the maximum (so no `E2BIG`) and always fits before
//! `producer_pos` (so no `EINVAL`), and a header is BUSY from the moment
//! `producer_pos` covers it until the payload is fully written and
//! zeroed or copied, so no stale or uninitialised bytes reach BPF.
//!
//! # Memory ordering
//!
//! - Header store at reserve: Relaxed, published by the Release store of
//!   `producer_pos` that follows (the kernel loads `producer_pos` with
//!   `smp_load_acquire` before it reads the header).
//! - `producer_pos` store: Release; pairs with `smp_load_acquire(&rb->
//!   producer_pos)` in `__bpf_user_ringbuf_peek`.
//! - Header store at submit/discard: Release; pairs with
//!   `smp_load_acquire(hdr)` in `__bpf_user_ringbuf_peek`: every payload
//!   write happens before the kernel sees BUSY clear.
//! - `consumer_pos` load: Acquire; pairs with the kernel's
//!   `smp_store_release(&rb->consumer_pos, ...)` in
//!   `__bpf_user_ringbuf_sample_release` (and the discard skip in
//!   `__bpf_user_ringbuf_peek`): the BPF program's reads of a sample happen
//!   before this producer overwrites its space.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::uapi::{BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ};

/// `DYNPTR_MAX_SIZE` (`include/linux/bpf.h`): the largest sample
/// `__bpf_user_ringbuf_peek` accepts (`bpf_dynptr_check_size`).
pub(crate) const DYNPTR_MAX_SIZE: usize = (1 << 24) - 1;

/// `BPF_MAX_USER_RINGBUF_SAMPLES` (`include/linux/bpf.h`): the most samples
/// one `bpf_user_ringbuf_drain` call visits.
pub(crate) const BPF_MAX_USER_RINGBUF_SAMPLES: usize = 128 * 1024;

/// The ring space a record with `len` payload bytes takes:
/// `round_up(len + BPF_RINGBUF_HDR_SZ, 8)`.
#[inline]
pub(crate) const fn stride(len: usize) -> usize {
    (len + BPF_RINGBUF_HDR_SZ + 7) & !7
}

/// The largest payload a user ring of `size` data bytes accepts.
#[inline]
pub(crate) const fn max_record_len(size: usize) -> usize {
    let ring = size - BPF_RINGBUF_HDR_SZ;
    if ring < DYNPTR_MAX_SIZE {
        ring
    } else {
        DYNPTR_MAX_SIZE
    }
}

/// Raw pointers into one user ring's shared memory.
///
/// A `RawUserRing` does not own the memory; [`UserRingBuf`](crate::UserRingBuf)
/// keeps the owner alive for as long as any copy of it is used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawUserRing {
    // INVARIANTS (established by `RawUserRing::new`, upheld by the owner):
    // - `consumer_pos` is aligned for `usize` and valid for atomic loads
    //   while the owner lives (it may be read-only memory);
    // - `producer_pos` is aligned for `usize` and valid for atomic loads and
    //   stores while the owner lives;
    // - `data` is 8-byte aligned and valid for reads and writes of
    //   `2 * (mask + 1)` bytes while the owner lives, initialised;
    // - `mask + 1` is a power of two and at least 16.
    consumer_pos: NonNull<usize>,
    producer_pos: NonNull<usize>,
    data: NonNull<u8>,
    mask: usize,
}

// SAFETY: a `RawUserRing` is a set of pointers into memory shared with the
// kernel (or an in-memory drain); every access through it is atomic, or a
// write to a reserved record that only its single producer touches (the
// kernel stops at its BUSY header). Moving the pointers to another thread
// changes none of that.
unsafe impl Send for RawUserRing {}
// SAFETY: `&RawUserRing` only allows atomic accesses; writes to payloads go
// through `payload`, whose caller must own the reservation.
unsafe impl Sync for RawUserRing {}

impl RawUserRing {
    /// # Safety
    ///
    /// The pointers must satisfy the invariants listed on the struct's
    /// fields for as long as the returned value or any copy of it is used,
    /// and `size` must be a power of two of at least 16.
    pub unsafe fn new(
        consumer_pos: NonNull<usize>,
        producer_pos: NonNull<usize>,
        data: NonNull<u8>,
        size: usize,
    ) -> Self {
        debug_assert!(size.is_power_of_two() && size >= 16);
        debug_assert_eq!(data.as_ptr() as usize % 8, 0);
        Self {
            consumer_pos,
            producer_pos,
            data,
            mask: size - 1,
        }
    }

    /// The size of the data area in bytes (`max_entries`).
    #[inline]
    pub fn size(&self) -> usize {
        self.mask + 1
    }

    #[inline]
    fn consumer(&self) -> &AtomicUsize {
        // SAFETY: `consumer_pos` is aligned and valid for atomic loads while
        // the owner lives (struct invariant). The kernel maps it read-only;
        // only atomic loads are made through this reference, which read-only
        // memory allows (`core::sync::atomic`, "Atomic accesses to read-only
        // memory").
        unsafe { AtomicUsize::from_ptr(self.consumer_pos.as_ptr()) }
    }

    #[inline]
    fn producer(&self) -> &AtomicUsize {
        // SAFETY: `producer_pos` is aligned and valid for atomic loads and
        // stores while the owner lives (struct invariant); the kernel only
        // loads it, atomically (`smp_load_acquire`).
        unsafe { AtomicUsize::from_ptr(self.producer_pos.as_ptr()) }
    }

    /// Loads `consumer_pos` with Acquire ([`ConsumerPos::load`], which
    /// names the kernel store it pairs with).
    #[inline]
    pub fn load_consumer(&self) -> usize {
        self.consumer_pos().load()
    }

    /// The `consumer_pos` word alone, to load out of line without handing
    /// over the pointers to the rest of the ring.
    #[inline]
    pub fn consumer_pos(&self) -> ConsumerPos<'_> {
        ConsumerPos(self.consumer())
    }

    /// Loads `producer_pos` with Acquire, to resume after an earlier
    /// producer (pairs with that producer's Release store in
    /// [`store_producer`](Self::store_producer)).
    pub fn load_producer(&self) -> usize {
        self.producer().load(Ordering::Acquire)
    }

    /// Stores `pos` into `producer_pos` with Release.
    ///
    /// Pairs with `smp_load_acquire(&rb->producer_pos)` in
    /// `__bpf_user_ringbuf_peek`: the BUSY header written before this store
    /// is visible to a kernel that sees the new position, so the kernel
    /// never reads a header this producer has not written.
    #[inline]
    pub fn store_producer(&self, pos: usize) {
        debug_assert_eq!(pos % 8, 0);
        self.producer().store(pos, Ordering::Release);
    }

    /// A [`BusyProbe`] of this ring's data area.
    pub fn busy_probe(&self) -> BusyProbe {
        BusyProbe {
            data: self.data,
            mask: self.mask,
        }
    }

    /// Discards every record between `consumer` and `producer` (the
    /// positions as loaded, `producer - consumer` at most the ring's size)
    /// that is still BUSY, by storing its header with DISCARD set and BUSY
    /// clear: the kernel's drain then skips it instead of stopping there for
    /// good. Returns how many it discarded and where the first was, or the
    /// position of a header that claims more than was published (the walk
    /// stops there; the kernel fails every drain that reaches it).
    ///
    /// Only for a producer that knows every such record is an orphan: one
    /// that was reserved by a producer that is gone (it crashed, or leaked
    /// the reservation), so that nothing will ever write it or submit it.
    /// The drain may run meanwhile: it only reads headers and advances
    /// `consumer_pos` over records that are not BUSY.
    pub fn discard_orphans(&self, consumer: usize, producer: usize) -> Orphans {
        let mut orphans = Orphans::default();
        let mut pos = consumer;
        while pos != producer {
            let header = self.busy_probe().header_at(pos);
            let word = header.load();
            let len = (word & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) as usize;
            let step = stride(len);
            if len > DYNPTR_MAX_SIZE || step > producer.wrapping_sub(pos) {
                orphans.malformed_at = Some(pos);
                break;
            }
            if is_reserved(word) {
                header.commit(len, true);
                orphans.count += 1;
                orphans.first.get_or_insert(pos);
            }
            pos = pos.wrapping_add(step);
        }
        orphans
    }

    /// Writes the header of a record reserved at `pos` with `len` payload
    /// bytes: `len | BPF_RINGBUF_BUSY_BIT` (the kernel reads no other
    /// header word of a user ring's record). Returns the
    /// header's `len` word, which [`RecordHeader::commit`] stores again to
    /// submit or discard the record, and the record's first payload byte.
    /// The payload of a record of at most `max_record_len(size)` bytes lies
    /// within the data area (the second copy of the data pages holds the
    /// part that wraps).
    ///
    /// Relaxed: the Release store of `producer_pos` that follows (in
    /// [`store_producer`](Self::store_producer)) publishes it, as
    /// the kernel's Acquire load of `producer_pos` comes before its header
    /// load.
    #[inline]
    pub fn write_busy_header(&self, pos: usize, len: usize) -> (RecordHeader, NonNull<u8>) {
        debug_assert!(len <= DYNPTR_MAX_SIZE);
        let offset = pos & self.mask;
        debug_assert_eq!(offset % 8, 0);
        // SAFETY: `offset <= mask`, so `data + offset` is within the
        // `2 * (mask + 1)` bytes of the data area (struct invariant).
        let len_word = unsafe { self.data.add(offset) }.cast::<u32>();
        // SAFETY: `offset + 8 <= mask + 8 < 2 * (mask + 1)` (the size is at
        // least 16), inside the data area.
        let payload = unsafe { self.data.add(offset + BPF_RINGBUF_HDR_SZ) };
        // SAFETY: `len_word` is 8-aligned (`data` is 8-aligned and `offset`
        // a multiple of 8), inside the data area, which stays valid for
        // atomic accesses while the owner lives (struct invariant) and which
        // every user of the returned `RecordHeader` borrows.
        let header = unsafe { RecordHeader::new(len_word) };
        header
            .word()
            .store(len as u32 | BPF_RINGBUF_BUSY_BIT, Ordering::Relaxed);
        (header, payload)
    }
}

/// Looks at the header at a position: whether a reservation there is
/// still BUSY. Carries the data area alone, not the producer, so the
/// producer's out-of-line slow path can use it (see `reload_limit`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BusyProbe {
    data: NonNull<u8>,
    mask: usize,
}

impl BusyProbe {
    /// `Some(pos)` when the record at `pos` (an 8-aligned position between
    /// the consumer and producer positions) is reserved and neither
    /// submitted nor discarded.
    pub fn reserved_at(self, pos: usize) -> Option<usize> {
        is_reserved(self.header_at(pos).load()).then_some(pos)
    }

    /// The header of the record at `pos` (8-aligned).
    fn header_at(self, pos: usize) -> RecordHeader {
        let offset = pos & self.mask;
        debug_assert_eq!(offset % 8, 0);
        // SAFETY: `offset <= mask`, so `data + offset` is within the
        // `2 * (mask + 1)` bytes of the data area, which outlives the
        // `RawUserRing` this probe came from (its invariant); every caller
        // holds that ring's owner.
        let len_word = unsafe { self.data.add(offset) }.cast::<u32>();
        // SAFETY: `len_word` is 8-aligned (`data` is 8-aligned and `offset`
        // a multiple of 8), inside the data area, which stays valid for
        // atomic accesses while the owner lives.
        unsafe { RecordHeader::new(len_word) }
    }
}

/// Whether a header word is a reservation's: BUSY, and neither submitted
/// nor discarded.
fn is_reserved(word: u32) -> bool {
    word & BPF_RINGBUF_BUSY_BIT != 0 && word & BPF_RINGBUF_DISCARD_BIT == 0
}

/// What [`RawUserRing::discard_orphans`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Orphans {
    /// BUSY records discarded.
    pub count: usize,
    /// The first one's position.
    pub first: Option<usize>,
    /// Where the walk stopped at a header that claims more than was
    /// published.
    pub malformed_at: Option<usize>,
}

/// A user ring's `consumer_pos` word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConsumerPos<'a>(&'a AtomicUsize);

impl ConsumerPos<'_> {
    /// Loads `consumer_pos` with Acquire.
    ///
    /// Pairs with the kernel's `smp_store_release(&rb->consumer_pos, ...)`
    /// in `__bpf_user_ringbuf_sample_release` and in the discard branch of
    /// `__bpf_user_ringbuf_peek`: the BPF program is done with every byte
    /// below the loaded position, so the producer may overwrite it.
    #[inline]
    pub fn load(self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// The `len` word of a reserved record's header: what submitting or
/// discarding the record stores to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordHeader {
    // INVARIANTS (established by `RecordHeader::new`, upheld by the owner):
    // `len_word` is 8-aligned, inside a ring's data area, and valid for
    // atomic loads and stores while the ring's owner lives; the kernel reads
    // it only atomically (`smp_load_acquire(hdr)`).
    len_word: NonNull<u32>,
}

// SAFETY: a `RecordHeader` points at one header word of memory shared with
// the kernel, accessed only atomically, and only by the guard of the record
// it heads; moving it to another thread changes none of that.
unsafe impl Send for RecordHeader {}
// SAFETY: `&RecordHeader` allows only atomic accesses to the word.
unsafe impl Sync for RecordHeader {}

impl RecordHeader {
    /// # Safety
    ///
    /// `len_word` must satisfy the invariants on the struct's field for as
    /// long as the returned value or any copy of it is used.
    #[inline]
    unsafe fn new(len_word: NonNull<u32>) -> Self {
        debug_assert_eq!(len_word.as_ptr() as usize % 8, 0);
        Self { len_word }
    }

    /// Loads the header's `len` word with Acquire: pairs with the Release
    /// store of [`commit`](Self::commit) by whichever producer wrote it
    /// (an earlier one, for a ring this producer resumes).
    fn load(&self) -> u32 {
        self.word().load(Ordering::Acquire)
    }

    #[inline]
    fn word(&self) -> &AtomicU32 {
        // SAFETY: aligned, valid for atomic accesses while the owner lives,
        // and accessed only atomically (struct invariant).
        unsafe { AtomicU32::from_ptr(self.len_word.as_ptr()) }
    }

    /// Submits (or, with `discard`, discards) the record: stores its `len`
    /// with BUSY clear (and DISCARD set when discarding).
    ///
    /// Release: pairs with `smp_load_acquire(hdr)` in
    /// `__bpf_user_ringbuf_peek`: every write to the payload happens before
    /// the kernel sees the header without BUSY and hands the payload to the
    /// BPF program.
    #[inline]
    pub fn commit(self, len: usize, discard: bool) {
        debug_assert!(len <= DYNPTR_MAX_SIZE);
        let mut word = len as u32;
        if discard {
            word |= BPF_RINGBUF_DISCARD_BIT;
        }
        self.word().store(word, Ordering::Release);
    }
}
