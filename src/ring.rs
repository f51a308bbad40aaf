//! Positions, header decoding and publishing: every atomic access to the
//! shared ring lives in this file.
//!
//! The kernel side cited below is `kernel/bpf/ringbuf.c` at Linux v6.18
//! (`__bpf_ringbuf_reserve`, `bpf_ringbuf_commit`, `ringbuf_map_poll_kern`).

use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicU32, AtomicUsize, Ordering};

use crate::uapi::{BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ};

/// The space a record with `len` payload bytes takes in the ring:
/// `round_up(len + BPF_RINGBUF_HDR_SZ, 8)`.
#[inline]
pub const fn stride(len: u32) -> usize {
    (len as usize + BPF_RINGBUF_HDR_SZ + 7) & !7
}

/// Raw pointers into one ring's shared memory.
///
/// A `RawRing` does not own the memory; [`RingBuf`](crate::RingBuf) keeps the
/// owner alive for as long as any copy of its `RawRing` is used.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawRing {
    // INVARIANTS (established by `RawRing::new`, upheld by the owner):
    // - `consumer_pos` is aligned for `usize` and valid for atomic loads and
    //   stores while the owner lives;
    // - `producer_pos` is aligned for `usize` and valid for atomic loads
    //   while the owner lives;
    // - `data` is 8-byte aligned and valid for reads of `2 * (mask + 1)`
    //   bytes while the owner lives, and byte `i + mask + 1` always holds
    //   the same value as byte `i` (the kernel maps the data pages twice);
    // - `mask + 1` is a power of two.
    consumer_pos: NonNull<usize>,
    producer_pos: NonNull<usize>,
    data: NonNull<u8>,
    mask: usize,
}

// SAFETY: a `RawRing` is a set of pointers into memory shared with producers
// in other threads or in the kernel; every access through it is either
// atomic or a read of bytes the producer no longer writes (a submitted
// record below the consumer position). Moving the pointers to another
// thread changes none of that.
unsafe impl Send for RawRing {}
// SAFETY: as for `Send`: `&RawRing` only allows atomic accesses and reads of
// submitted records.
unsafe impl Sync for RawRing {}

/// The consumer's view of the positions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cursor {
    /// The next record's header position (free-running).
    pub pos: usize,
    /// The producer position as last loaded.
    pub producer: usize,
    /// The consumer position as last stored to the ring.
    pub published: usize,
}

/// What the next position holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// A submitted record: header at `pos`, `len` payload bytes.
    Record { pos: usize, len: u32 },
    /// The consumer has caught up with the producer.
    Empty,
    /// The next record is reserved but not yet submitted.
    Busy,
    /// The header at `pos` claims `len` bytes, beyond the `available` ones.
    Corrupt {
        pos: usize,
        len: u32,
        available: usize,
    },
}

impl RawRing {
    /// # Safety
    ///
    /// The pointers must satisfy the invariants listed on the struct's
    /// fields for as long as the returned value or any copy of it is used,
    /// and `size` must be a power of two.
    pub unsafe fn new(
        consumer_pos: NonNull<usize>,
        producer_pos: NonNull<usize>,
        data: NonNull<u8>,
        size: usize,
    ) -> Self {
        debug_assert!(size.is_power_of_two());
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
        // SAFETY: `consumer_pos` is aligned and valid for atomic accesses
        // while the owner lives (struct invariant), and every access to it
        // from this process is atomic.
        unsafe { AtomicUsize::from_ptr(self.consumer_pos.as_ptr()) }
    }

    #[inline]
    fn producer(&self) -> &AtomicUsize {
        // SAFETY: `producer_pos` is aligned and valid for atomic loads while
        // the owner lives (struct invariant). The kernel maps it read-only;
        // atomic loads (never stores or read-modify-writes) of a `usize` are
        // allowed on read-only memory (`core::sync::atomic`, "Atomic accesses
        // to read-only memory").
        unsafe { AtomicUsize::from_ptr(self.producer_pos.as_ptr()) }
    }

    /// Loads `producer_pos` with Acquire.
    ///
    /// Pairs with the producer's `smp_store_release(&rb->producer_pos)` in
    /// `__bpf_ringbuf_reserve`: the headers of reserved records are written
    /// before it.
    #[inline]
    pub fn load_producer(&self) -> usize {
        self.producer().load(Ordering::Acquire)
    }

    /// Loads the live `consumer_pos` (Acquire; pairs with any earlier
    /// consumer's Release store, so its consumption is visible).
    pub fn load_consumer(&self) -> usize {
        self.consumer().load(Ordering::Acquire)
    }

    /// Stores `pos` into `consumer_pos` with Release.
    ///
    /// Pairs with the producer's `smp_load_acquire(&rb->consumer_pos)` in
    /// `__bpf_ringbuf_reserve`: every read of the released records happens
    /// before the producer may reserve (and overwrite) their space.
    #[inline]
    pub fn store_consumer(&self, pos: usize) {
        self.consumer().store(pos, Ordering::Release);
    }

    /// Loads the `len` word of the header at `pos` with Acquire.
    ///
    /// Pairs with the `xchg(&hdr->len, new_len)` in `bpf_ringbuf_commit`
    /// (a full barrier): the payload written before the commit is visible
    /// once the BUSY bit reads clear.
    #[inline]
    fn load_header(&self, pos: usize) -> u32 {
        let offset = pos & self.mask;
        // SAFETY: `offset <= mask`, so `data + offset` is within the
        // `2 * (mask + 1)` readable bytes (struct invariant).
        let ptr = unsafe { self.data.as_ptr().add(offset) };
        // SAFETY: `ptr` is 4-aligned (headers sit at 8-aligned positions,
        // `data` is 8-aligned, and `pos` is only ever advanced by strides,
        // which are multiples of 8) and valid for atomic loads of 4 bytes
        // while the owner lives. The mapping is read-only, which allows
        // atomic loads (see `producer`). Producers write the header with
        // atomics too.
        let len = unsafe { AtomicU32::from_ptr(ptr.cast::<u32>()) };
        len.load(Ordering::Acquire)
    }

    /// Decodes what is at `cur.pos`, skipping (and consuming) discarded
    /// records. Reloads `producer_pos` only when the cached one is used up.
    #[inline(always)]
    pub fn next(&self, cur: &mut Cursor) -> Next {
        loop {
            if cur.pos == cur.producer {
                cur.producer = self.load_producer();
                if cur.pos == cur.producer {
                    return Next::Empty;
                }
            }
            let available = cur.producer.wrapping_sub(cur.pos);
            let header = self.load_header(cur.pos);
            if header & BPF_RINGBUF_BUSY_BIT != 0 {
                return Next::Busy;
            }
            let len = header & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
            let step = stride(len);
            if step > available || step > self.size() {
                return Next::Corrupt {
                    pos: cur.pos,
                    len,
                    available,
                };
            }
            let pos = cur.pos;
            cur.pos = cur.pos.wrapping_add(step);
            if header & BPF_RINGBUF_DISCARD_BIT == 0 {
                return Next::Record { pos, len };
            }
        }
    }

    /// The payload of the record whose header is at `pos`.
    ///
    /// # Safety
    ///
    /// `pos` and `len` must come from a [`Next::Record`] returned by
    /// [`next`](Self::next) on this ring, the consumer position must not have
    /// been published past `pos` while the slice is alive (so no producer
    /// can reuse the bytes), and the owner must outlive `'a`.
    #[inline]
    pub unsafe fn payload<'a>(&self, pos: usize, len: u32) -> &'a [u8] {
        let offset = (pos & self.mask) + BPF_RINGBUF_HDR_SZ;
        debug_assert!(offset + len as usize <= 2 * self.size());
        // SAFETY: `next` checked `stride(len) <= size`, and `pos & mask <
        // size`, so `offset + len <= 2 * size`: the range is within the
        // readable data area (struct invariant).
        let ptr = unsafe { self.data.as_ptr().add(offset) };
        // SAFETY: `ptr..ptr + len` is readable (above) and, per this
        // function's contract, holds a submitted record that no producer
        // writes until the consumer position passes it, which cannot happen
        // while the slice (`'a`) is alive. The bytes are initialised (the
        // kernel zeroes the ring on allocation; producers write only
        // initialised bytes).
        unsafe { std::slice::from_raw_parts(ptr, len as usize) }
    }

    /// Publishes `pos` as the consumer position if it moved.
    #[inline]
    pub fn publish(&self, cur: &mut Cursor, pos: usize) {
        if cur.published != pos {
            self.store_consumer(pos);
            cur.published = pos;
        }
    }

    /// After publishing everything up to `cur.pos`, decides whether the
    /// consumer may sleep: `true` when nothing can be read without waiting.
    ///
    /// The SeqCst fence orders the Release store of `consumer_pos` before
    /// the loads below. It pairs with the full barrier of the producer's
    /// `xchg(&hdr->len, ...)` in `bpf_ringbuf_commit`, which precedes its
    /// `smp_load_acquire(&rb->consumer_pos)`: either this load sees the
    /// committed record, or the producer sees our position and wakes us.
    pub fn should_sleep(&self, cur: &mut Cursor) -> bool {
        debug_assert_eq!(cur.published, cur.pos);
        atomic::fence(Ordering::SeqCst);
        cur.producer = self.load_producer();
        if cur.pos == cur.producer {
            return true;
        }
        self.load_header(cur.pos) & BPF_RINGBUF_BUSY_BIT != 0
    }

    /// Whether a submitted (or discarded) record is at `cur.pos`, without
    /// consuming it; refreshes the cached producer position.
    pub fn has_record(&self, cur: &mut Cursor) -> bool {
        cur.producer = self.load_producer();
        cur.pos != cur.producer && self.load_header(cur.pos) & BPF_RINGBUF_BUSY_BIT == 0
    }

    /// Bytes between the published consumer position and the producer.
    pub fn available_bytes(&self) -> usize {
        let consumer = self.load_consumer();
        self.load_producer().wrapping_sub(consumer)
    }
}
