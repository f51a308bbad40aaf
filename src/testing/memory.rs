//! Process memory laid out as a ring buffer map: `consumer_pos` and
//! `producer_pos`, each on its own 128-byte line as the kernel keeps them on
//! their own pages, then a data area of twice the ring's size, which its
//! owner keeps mirrored as the kernel's double mapping is. The in-memory
//! kernel-to-user ring (`testing::ring`) and user ring (`testing::user_ring`)
//! both live in one.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicUsize};

/// Word offsets in the allocation.
const CONSUMER_WORD: usize = 0;
const PRODUCER_WORD: usize = 16;
const DATA_WORD: usize = 32;

/// One zeroed allocation holding a ring's positions and data area, freed on
/// drop. Not `Send` or `Sync` by itself: its owner says how the memory is
/// shared, and implements both.
#[derive(Debug)]
pub(crate) struct RingMemory {
    // INVARIANTS: `words` is the unique owner of a zeroed `Box<[u64]>` of
    // `nwords` elements (from `Box::into_raw`), freed in `Drop`; `nwords ==
    // DATA_WORD + 2 * size / 8`; `size` is a power of two of at least 16; the
    // allocation is accessed only through raw pointers and atomics, never
    // through references to the whole of it.
    words: NonNull<u64>,
    nwords: usize,
    size: usize,
}

impl Drop for RingMemory {
    fn drop(&mut self) {
        let slice = std::ptr::slice_from_raw_parts_mut(self.words.as_ptr(), self.nwords);
        // SAFETY: `words`/`nwords` came from `Box::into_raw` of a boxed slice
        // (struct invariant) and nothing uses them after `drop`.
        drop(unsafe { Box::from_raw(slice) });
    }
}

impl RingMemory {
    /// Zeroed memory for a ring of `size` data bytes.
    ///
    /// # Panics
    ///
    /// If `size` is not a power of two of at least 16 (the owners refuse
    /// such sizes with an error first).
    pub fn new(size: usize) -> Self {
        assert!(size.is_power_of_two() && size >= 16, "ring size {size}");
        let nwords = DATA_WORD + 2 * size / 8;
        let words = Box::into_raw(vec![0u64; nwords].into_boxed_slice());
        let words = NonNull::new(words.cast::<u64>()).expect("Box::into_raw is never null");
        Self {
            words,
            nwords,
            size,
        }
    }

    /// The ring's data size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    fn word(&self, index: usize) -> NonNull<u64> {
        assert!(index < self.nwords);
        // SAFETY: `index < nwords`, within the allocation.
        unsafe { self.words.add(index) }
    }

    /// The `consumer_pos` word: 8-aligned, live as long as `self`.
    pub fn consumer_word(&self) -> NonNull<usize> {
        self.word(CONSUMER_WORD).cast()
    }

    /// The `producer_pos` word: 8-aligned, live as long as `self`.
    pub fn producer_word(&self) -> NonNull<usize> {
        self.word(PRODUCER_WORD).cast()
    }

    /// The start of the data area: 8-aligned, `2 * size` bytes, live as
    /// long as `self`.
    pub fn data(&self) -> NonNull<u8> {
        self.word(DATA_WORD).cast()
    }

    /// `consumer_pos`, for atomic access.
    pub fn consumer_pos(&self) -> &AtomicUsize {
        // SAFETY: the word is aligned for `usize`, lives as long as `self`,
        // and every access to it (here and through the owners' raw rings) is
        // atomic.
        unsafe { AtomicUsize::from_ptr(self.consumer_word().as_ptr()) }
    }

    /// `producer_pos`, for atomic access.
    pub fn producer_pos(&self) -> &AtomicUsize {
        // SAFETY: as `consumer_pos`, for the producer word.
        unsafe { AtomicUsize::from_ptr(self.producer_word().as_ptr()) }
    }

    /// The `len` word of the header at `pos` (any position; its offset in
    /// the ring must be 8-aligned, as every header's is).
    pub fn header(&self, pos: usize) -> &AtomicU32 {
        let offset = pos & (self.size - 1);
        debug_assert_eq!(offset % 8, 0);
        let ptr = self.word(DATA_WORD + offset / 8).cast::<u32>();
        // SAFETY: `ptr` is 8-aligned, inside the data area, and lives as long
        // as `self`. Headers are accessed atomically by producers and
        // consumers alike; both owners write a header's bytes non-atomically
        // only as the payload of a record reserved beyond every consumer's
        // read position, where no header is being read (the kernel's space
        // rules, which both owners follow, order those writes after the
        // consumer's Release store of its position).
        unsafe { AtomicU32::from_ptr(ptr.as_ptr()) }
    }

    /// `len` bytes of the data area from `offset` (`0..2 * size`).
    ///
    /// # Panics
    ///
    /// If the range leaves the data area.
    pub fn data_at(&self, offset: usize, len: usize) -> NonNull<u8> {
        assert!(
            offset
                .checked_add(len)
                .is_some_and(|end| end <= 2 * self.size),
            "{len} bytes at {offset} outside a {}-byte data area",
            2 * self.size
        );
        // SAFETY: `offset <= 2 * size`, within (or one past) the data area
        // of the allocation.
        unsafe { self.data().add(offset) }
    }
}
