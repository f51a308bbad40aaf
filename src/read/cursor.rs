//! Positions, header decoding and publishing: every atomic access to the
//! shared ring lives in this file.
//!
//! The kernel side cited below is `kernel/bpf/ringbuf.c` at Linux v6.18
//! (`__bpf_ringbuf_reserve`, `bpf_ringbuf_commit`, `ringbuf_map_poll_kern`).

use std::cell::Cell;
use std::ops::ControlFlow;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicU32, AtomicUsize, Ordering};

use super::copy::copy_volatile;
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
        assert!(size.is_power_of_two() && size >= 8);
        assert!(data.as_ptr().addr().is_multiple_of(8));
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

    /// The pointers, for an observer that reads the same memory without
    /// consuming it (`read/observer.rs`): `(consumer_pos, producer_pos,
    /// data)`, with the invariants listed on the struct's fields.
    pub fn parts(&self) -> (NonNull<usize>, NonNull<usize>, NonNull<u8>) {
        (self.consumer_pos, self.producer_pos, self.data)
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
    fn load_producer(&self) -> usize {
        self.producer().load(Ordering::Acquire)
    }

    /// Loads the live `consumer_pos` (Acquire; pairs with any earlier
    /// consumer's Release store, so its consumption is visible).
    #[inline]
    pub fn load_consumer(&self) -> usize {
        self.consumer().load(Ordering::Acquire)
    }

    /// Moves `consumer_pos` from `from` to `to` if it still holds `from`,
    /// else returns what it holds: never moves it backwards past another
    /// consumer's progress.
    ///
    /// Success is Release: pairs with the producer's
    /// `smp_load_acquire(&rb->consumer_pos)` in `__bpf_ringbuf_reserve`, so
    /// every read of the released records happens before the producer may
    /// reserve (and overwrite) their space. Failure is Relaxed: nothing is
    /// read on the strength of it.
    #[inline]
    fn publish_consumer(&self, from: usize, to: usize) -> Result<(), usize> {
        self.consumer()
            .compare_exchange(from, to, Ordering::Release, Ordering::Relaxed)
            .map(drop)
    }

    /// Where the header of the record at `pos` is in the mapping.
    #[inline(always)]
    fn header_at(&self, pos: usize) -> NonNull<u8> {
        let offset = pos & self.mask;
        // SAFETY: `offset <= mask`, so `data + offset` is within the
        // `2 * (mask + 1)` readable bytes (struct invariant) and not null.
        unsafe { self.data.add(offset) }
    }

    /// Loads the `len` word of the header at `at` (from
    /// [`header_at`](Self::header_at)) with Acquire.
    ///
    /// Pairs with the `xchg(&hdr->len, new_len)` in `bpf_ringbuf_commit`
    /// (a full barrier): the payload written before the commit is visible
    /// once the BUSY bit reads clear.
    #[inline(always)]
    fn load_header(&self, at: NonNull<u8>) -> u32 {
        // SAFETY: `at` is 4-aligned (headers sit at 8-aligned positions,
        // `data` is 8-aligned, and positions are only ever advanced by
        // strides, which are multiples of 8) and valid for atomic loads of
        // 4 bytes while the owner lives (`header_at` keeps it within the
        // data area). The mapping is read-only, which allows atomic loads
        // (see `producer`). Producers write the header with atomics too.
        let len = unsafe { AtomicU32::from_ptr(at.as_ptr().cast::<u32>()) };
        len.load(Ordering::Acquire)
    }

    /// Bytes between the published consumer position and the producer.
    pub fn available_bytes(&self) -> usize {
        let consumer = self.load_consumer();
        self.load_producer().wrapping_sub(consumer)
    }

    /// Decodes the header at `pos`, with `producer` the producer position
    /// as last loaded: the one decoder every loop of the cursor shares.
    #[inline(always)]
    fn decode(&self, pos: usize, producer: usize) -> Header {
        if pos == producer {
            return Header::Empty;
        }
        let at = self.header_at(pos);
        let header = self.load_header(at);
        if header & BPF_RINGBUF_BUSY_BIT != 0 {
            return Header::Busy;
        }
        let len = header & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        let step = stride(len);
        let available = producer.wrapping_sub(pos);
        if step > available {
            return Header::Corrupt(Fault::Corrupt {
                pos,
                len,
                available,
            });
        }
        let end = pos.wrapping_add(step);
        if header & BPF_RINGBUF_DISCARD_BIT != 0 {
            return Header::Discarded { end };
        }
        Header::Record { len, end, at }
    }
}

/// What [`RawRing::decode`] found at a position.
#[derive(Debug, Clone, Copy)]
enum Header {
    /// A submitted record of `len` payload bytes, its header at `at`; the
    /// next one is at `end`.
    Record {
        len: u32,
        end: usize,
        at: NonNull<u8>,
    },
    /// A discarded record, consumed without being handed out.
    Discarded { end: usize },
    /// The position is the producer position as last loaded.
    Empty,
    /// A record still BUSY.
    Busy,
    /// A header that claims more than was published.
    Corrupt(Fault),
}

/// A record the [`Cursor`] decoded: its payload, valid while the cursor is
/// borrowed. Only the cursor builds one, so reading a payload needs no
/// `unsafe` anywhere else.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decoded<'a> {
    bytes: &'a [u8],
    /// The position after the record.
    end: usize,
    /// Bytes the producer had published after the record when it was read.
    remaining: usize,
}

impl<'a> Decoded<'a> {
    /// The payload, exactly as long as the producer submitted it, and
    /// 8-aligned.
    #[inline(always)]
    pub fn bytes(&self) -> &'a [u8] {
        // SAFETY: only the cursor builds a `Decoded`, from a header at
        // `data + (pos & mask)`: `data` is 8-aligned (`RawRing` invariant),
        // `pos` a multiple of 8 (`Cursor` invariant), and the payload
        // starts 8 bytes after the header. Telling the compiler lets it
        // prove a typed view's alignment check true instead of testing it
        // per record.
        unsafe { std::hint::assert_unchecked(self.bytes.as_ptr().addr().is_multiple_of(8)) };
        self.bytes
    }

    /// The position after the record: releasing up to here releases it.
    #[inline(always)]
    pub fn end(&self) -> usize {
        self.end
    }

    /// Bytes the producer had published after the record.
    #[inline(always)]
    pub fn remaining(&self) -> usize {
        self.remaining
    }
}

/// A submitted record at the cursor, not yet taken: [`Cursor::take`] turns
/// it into a [`Decoded`]. Carries no borrow, so a caller may wait (which
/// needs the consumer mutably) between finding and taking it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ready {
    pos: usize,
    len: u32,
    end: usize,
    /// The record's header in the mapping (see [`RawRing::header_at`]).
    at: NonNull<u8>,
}

/// What [`Cursor::find`] found at the cursor.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Found {
    /// A submitted record.
    Ready(Ready),
    /// A record still BUSY.
    Busy,
    /// The cached producer position is used up: [`Cursor::refill`], then
    /// look again.
    Refill,
    /// A header that cannot be decoded.
    Corrupt(Fault),
}

/// What [`Cursor::step`] found at the cursor.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step<'a> {
    /// A submitted record, taken.
    Record(Decoded<'a>),
    /// A record still BUSY.
    Busy,
    /// As [`Found::Refill`].
    Refill,
    /// A header that cannot be decoded.
    Corrupt(Fault),
}

/// Why [`Cursor::take_while`] stopped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stop {
    /// A record still BUSY.
    Busy,
    /// Nothing more was published.
    Refill,
    /// A header that cannot be decoded.
    Corrupt(Fault),
}

/// The cursor went wrong in a way only another consumer of the ring (or
/// memory that is not a ring) explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The live `consumer_pos` is not what this cursor last published.
    Moved { published: usize, live: usize },
    /// The producer is more than a ring ahead of the cursor.
    Lapped { pos: usize, producer: usize },
    /// A header claims more bytes than were published.
    Corrupt {
        pos: usize,
        len: u32,
        available: usize,
    },
}

/// The one consumer cursor of a ring: where the next record is, what the
/// caller is done with, and what the producers were told.
///
/// Positions only move forward except by [`rewind`](Self::rewind), which
/// takes back records that were read but not released. Reading (through
/// `&self`) never publishes; publishing needs `&mut self`, so no
/// [`Decoded`] payload is alive when the consumer position passes it.
#[derive(Debug)]
pub(crate) struct Cursor {
    raw: RawRing,
    // INVARIANTS, in the ring's wrapping order (each at most a ring apart):
    // `published <= released <= pos <= producer`;
    // - all four are multiples of 8: the first comes from `new`, which
    //   refuses anything else, `producer` is rounded down at each refill,
    //   and strides are multiples of 8;
    // - `pos` is only advanced past records decoded by `find` or `step`,
    //   so every position in `released..pos` starts a submitted record or
    //   follows one;
    // - `published` is the value this cursor last stored to (or found in)
    //   `consumer_pos`: no producer reuses space at or after it;
    // - `pos <= held_producer` while it is `Some`, and every record below
    //   it is submitted or discarded (it is a `producer` a checkpoint set
    //   aside, and `pos` cannot move past an emptied cache).
    /// The next record's header.
    pos: Cell<usize>,
    /// `producer_pos` as last loaded.
    producer: Cell<usize>,
    /// Everything before this is released by the caller.
    released: Cell<usize>,
    /// The consumer position as last published.
    published: usize,
    /// How many released bytes [`publish_lazily`](Self::publish_lazily)
    /// lets pile up before it publishes.
    publish_every: usize,
    /// `published + publish_every`: the released position from which
    /// `publish_lazily` publishes.
    publish_at: usize,
    /// How many released bytes pass between two checkpoints of a reader
    /// that hands its thread back now and then (the async ones, see
    /// [`set_checkpoint_every`](Self::set_checkpoint_every)); 0 for none.
    checkpoint_every: usize,
    /// The released position from which the next checkpoint is due.
    checkpoint_at: usize,
    /// The cached producer position a checkpoint emptied, until
    /// [`take_checkpoint`](Self::take_checkpoint) puts it back; a refill
    /// (or a failed publish) forgets it. `Some` says a checkpoint passed.
    held_producer: Cell<Option<usize>>,
    /// The earlier of `publish_at` and (with checkpoints) `checkpoint_at`:
    /// the released position from which `publish_lazily` leaves its fast
    /// path (one compare per record).
    check_at: usize,
    /// The last record rejected by a typed view: `(pos, len)`.
    rejected: Cell<Option<(usize, u32)>>,
}

impl Cursor {
    /// A cursor at the live consumer position: the ring may have been
    /// consumed before (a pinned map, an earlier reader).
    ///
    /// # Errors
    ///
    /// The live position, when it is not 8-aligned (no consumer stores
    /// such a position, so another writer of the consumer page did).
    pub fn new(raw: RawRing) -> Result<Self, usize> {
        let pos = raw.load_consumer();
        if !pos.is_multiple_of(8) {
            return Err(pos);
        }
        Ok(Self {
            raw,
            pos: Cell::new(pos),
            producer: Cell::new(pos),
            released: Cell::new(pos),
            published: pos,
            publish_every: 0,
            publish_at: pos,
            checkpoint_every: 0,
            checkpoint_at: pos,
            held_producer: Cell::new(None),
            check_at: pos,
            rejected: Cell::new(None),
        })
    }

    /// The size of the data area in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        self.raw.size()
    }

    /// The next record's position.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos.get()
    }

    /// The position up to which records are released.
    #[inline]
    pub fn released(&self) -> usize {
        self.released.get()
    }

    /// The producer position as last loaded.
    #[inline]
    pub fn producer(&self) -> usize {
        self.producer.get()
    }

    /// Loads the live producer position (Acquire, see
    /// [`RawRing::load_producer`]).
    pub fn live_producer(&self) -> usize {
        self.raw.load_producer()
    }

    /// Loads the live consumer position.
    pub fn live_consumer(&self) -> usize {
        self.raw.load_consumer()
    }

    /// Finds the submitted record at the cursor, skipping (and consuming)
    /// discarded ones, without taking it. Never loads `producer_pos`: when
    /// the cached one is used up, says so ([`Found::Refill`]).
    #[inline(always)]
    pub fn find(&self) -> Found {
        let mut pos = self.pos.get();
        let producer = self.producer.get();
        let found = loop {
            match self.raw.decode(pos, producer) {
                Header::Record { len, end, at } => break Found::Ready(Ready { pos, len, end, at }),
                Header::Discarded { end } => pos = end,
                Header::Empty => break Found::Refill,
                Header::Busy => break Found::Busy,
                Header::Corrupt(fault) => break Found::Corrupt(fault),
            }
        };
        self.pos.set(pos);
        found
    }

    /// [`find`](Self::find) and [`take`](Self::take) in one: the next
    /// record, taken.
    #[inline(always)]
    pub fn step(&self) -> Step<'_> {
        let mut pos = self.pos.get();
        let producer = self.producer.get();
        let step = loop {
            match self.raw.decode(pos, producer) {
                Header::Record { len, end, at } => {
                    let record = Decoded {
                        bytes: self.payload_at(at, len),
                        end,
                        remaining: producer.wrapping_sub(end),
                    };
                    pos = end;
                    break Step::Record(record);
                }
                Header::Discarded { end } => pos = end,
                Header::Empty => break Step::Refill,
                Header::Busy => break Step::Busy,
                Header::Corrupt(fault) => break Step::Corrupt(fault),
            }
        };
        self.pos.set(pos);
        step
    }

    /// Takes records one after another and hands each to `f`, until `f`
    /// breaks or the decoder stops at what [`Stop`] says. When the cached
    /// producer position is used up it calls `refill` (which reloads it,
    /// see [`refill`](Self::refill)) and goes on if that found more. Keeps
    /// the positions in locals while it runs (the cursor's position is
    /// stored once per refill): the loop of callback readers.
    ///
    /// If `f` panics, the cursor's position is left where it was at the
    /// last refill; the caller rewinds it.
    #[inline(always)]
    pub fn take_while<B, E>(
        &self,
        mut f: impl FnMut(Decoded<'_>) -> ControlFlow<B>,
        mut refill: impl FnMut() -> Result<bool, E>,
    ) -> Result<ControlFlow<B, Stop>, E> {
        let raw = self.raw;
        let mut pos = self.pos.get();
        let mut producer = self.producer.get();
        let flow = loop {
            match raw.decode(pos, producer) {
                Header::Record { len, end, at } => {
                    let record = Decoded {
                        bytes: self.payload_at(at, len),
                        end,
                        remaining: producer.wrapping_sub(end),
                    };
                    pos = end;
                    if let ControlFlow::Break(b) = f(record) {
                        break ControlFlow::Break(b);
                    }
                }
                Header::Discarded { end } => pos = end,
                Header::Empty => {
                    self.pos.set(pos);
                    if !refill()? {
                        return Ok(ControlFlow::Continue(Stop::Refill));
                    }
                    producer = self.producer.get();
                }
                Header::Busy => break ControlFlow::Continue(Stop::Busy),
                Header::Corrupt(fault) => break ControlFlow::Continue(Stop::Corrupt(fault)),
            }
        };
        self.pos.set(pos);
        Ok(flow)
    }

    /// Reloads `producer_pos` and checks that no other consumer moved the
    /// consumer position or let the producer lap this cursor: one more load
    /// of `consumer_pos`, a cache line this consumer itself writes, per
    /// refill (not per record). Returns whether a record (or a reservation)
    /// is now at the cursor.
    ///
    /// # Errors
    ///
    /// A [`Fault`]; the cursor does not move.
    #[inline]
    pub fn refill(&self) -> Result<bool, Fault> {
        // Producers only ever move `producer_pos` by strides (multiples of
        // 8); rounding down keeps a position written by anything else from
        // ever making the cursor's position unaligned (see
        // `skip_to_producer`), at no cost for a real ring.
        let producer = self.raw.load_producer() & !7;
        // What a checkpoint held back is older than this.
        self.held_producer.set(None);
        self.check(producer)?;
        self.producer.set(producer);
        Ok(producer != self.pos.get())
    }

    /// Whether the live positions are consistent with this cursor being the
    /// ring's only consumer.
    fn check(&self, producer: usize) -> Result<(), Fault> {
        let live = self.raw.load_consumer();
        if live != self.published {
            return Err(Fault::Moved {
                published: self.published,
                live,
            });
        }
        // The kernel never lets the producer get more than a ring ahead of
        // the published position (`__bpf_ringbuf_reserve` fails when
        // `new_prod_pos - cons_pos > rb->mask`). Checked against the
        // published position, not the read one: every position the cursor
        // can take until the next refill (a batch rewinds as far back as the
        // released position) is at or after it, so no header decoded before
        // the next refill can claim more than a ring's worth of bytes.
        if producer.wrapping_sub(self.published) > self.raw.size() {
            return Err(Fault::Lapped {
                pos: self.pos.get(),
                producer,
            });
        }
        Ok(())
    }

    /// The payload of the record whose header is at `pos`.
    ///
    /// Only for a record that [`find`](Self::find) or [`step`](Self::step)
    /// decoded at `pos`, with `len` from its header.
    #[inline]
    fn payload(&self, pos: usize, len: u32) -> &[u8] {
        self.payload_at(self.raw.header_at(pos), len)
    }

    /// Where the payload of the record whose header is at `at` starts,
    /// for a record that [`find`](Self::find) or [`step`](Self::step)
    /// decoded there with `len` from its header: its `round_up(len, 8)`
    /// bytes are readable.
    #[inline(always)]
    fn payload_ptr(&self, at: NonNull<u8>, len: u32) -> NonNull<u8> {
        debug_assert!({
            let start = at.as_ptr() as usize - self.raw.data.as_ptr() as usize;
            start + stride(len) <= 2 * self.raw.size()
        });
        // SAFETY: `at` is `data + (pos & mask)` for the record's `pos`, and
        // the decoder found `stride(len) <= available <= size` (`refill`
        // refuses a producer more than a ring ahead of the published
        // position, which is at or before every position the cursor takes,
        // a batch's rewind included, as a `Fault::Lapped`), with
        // `pos & mask < size`: the record's `stride(len)` bytes from `at`,
        // and so `at + BPF_RINGBUF_HDR_SZ`, stay within the `2 * size`
        // readable bytes of the data area (`RawRing` invariant).
        unsafe { at.add(BPF_RINGBUF_HDR_SZ) }
    }

    /// [`payload`](Self::payload), from the header's place in the mapping
    /// (which the decoder already computed).
    #[inline(always)]
    fn payload_at(&self, at: NonNull<u8>, len: u32) -> &[u8] {
        let ptr = self.payload_ptr(at, len);
        // SAFETY: `ptr..ptr + len` is readable (`payload_ptr`: within the
        // record's stride), and holds a record whose header the decoder
        // loaded (Acquire) with BUSY clear, so its producer finished
        // writing it. No producer writes it again until
        // `consumer_pos` passes `pos`: this cursor publishes only with
        // `&mut self`, which the returned borrow of `self` excludes, and no
        // other consumer moves `consumer_pos` (the readers' claim in this
        // process, `UnsafeReader::new`'s contract outside it). The ring
        // outlives `self` (the `RingBuf` owning it is dropped after the
        // cursor). The bytes are initialised: the kernel zeroes the ring on
        // allocation and producers write only initialised bytes.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len as usize) }
    }

    /// Takes the record `ready` found: the cursor moves past it.
    ///
    /// # Panics
    ///
    /// If the cursor moved since `ready` was found (a bug in this crate,
    /// never a property of the ring's contents).
    #[inline(always)]
    pub fn take(&self, ready: Ready) -> Decoded<'_> {
        let record = self.decoded(ready);
        self.pos.set(record.end);
        record
    }

    /// Copies the record `ready` found into `dst` and releases it, for the
    /// copying reader, which promises nothing about other consumers: the
    /// bytes may be another consumer's to release, and a producer's to
    /// write, while they are copied. So they are copied with machine loads
    /// (never through a `&[u8]`: see `read/copy.rs`), and the copy is kept
    /// only if the live `consumer_pos` is still the one this cursor last
    /// published: no other consumer released the record, so no producer
    /// could have reused its space during the copy. Returns the bytes the
    /// producer had published after the record.
    ///
    /// # Errors
    ///
    /// [`Fault::Moved`] when another consumer moved the consumer position:
    /// the copy may be torn. `dst` is then empty, and the record is neither
    /// taken nor released.
    ///
    /// # Panics
    ///
    /// As [`take`](Self::take).
    #[inline(always)]
    pub fn copy_and_release(&self, ready: Ready, dst: &mut Vec<u8>) -> Result<usize, Fault> {
        let Ready { pos, len, end, at } = ready;
        assert_eq!(pos, self.pos.get(), "a record is taken where it was found");
        let payload = self.payload_ptr(at, len);
        // SAFETY: `payload` is 8-aligned (the data area is, and positions
        // and the header's size are multiples of 8) and readable for the
        // record's `round_up(len, 8)` bytes (`payload_ptr`), initialised (a
        // ring's bytes are: the kernel zeroes its pages, and producers
        // write initialised bytes); `dst` is the caller's own buffer, not
        // the ring's memory.
        unsafe { copy_volatile(payload, len as usize, dst) };
        // Acquire: the copy's loads above happen before the load of
        // `consumer_pos` below. A producer reuses the record's space only
        // after loading (`smp_load_acquire` in `__bpf_ringbuf_reserve`) a
        // `consumer_pos` past it, stored by the consumer that released it;
        // so if the copy saw any byte of such a reuse, this load sees that
        // store, and the copy is discarded.
        atomic::fence(Ordering::Acquire);
        let live = self.raw.load_consumer();
        if live != self.published {
            dst.clear();
            return Err(Fault::Moved {
                published: self.published,
                live,
            });
        }
        self.pos.set(end);
        self.release(end);
        Ok(self.producer.get().wrapping_sub(end))
    }

    /// The record `ready` found, without moving the cursor.
    ///
    /// # Panics
    ///
    /// As [`take`](Self::take).
    #[inline(always)]
    fn decoded(&self, ready: Ready) -> Decoded<'_> {
        let Ready { pos, len, end, at } = ready;
        assert_eq!(pos, self.pos.get(), "a record is taken where it was found");
        Decoded {
            bytes: self.payload_at(at, len),
            end,
            remaining: self.producer.get().wrapping_sub(end),
        }
    }

    /// Marks everything before `end` as released (a decoded record's end,
    /// or [`pos`](Self::pos)). Nothing is published.
    #[inline(always)]
    pub fn release(&self, end: usize) {
        debug_assert!(end.wrapping_sub(self.released.get()) <= self.raw.size());
        self.released.set(end);
    }

    /// Moves the cursor past everything published so far, past a header
    /// that cannot be decoded.
    #[cold]
    pub fn skip_to_producer(&self) {
        self.pos.set(self.producer.get());
    }

    /// Moves the cursor back to the released position: the records read
    /// since are read again.
    #[inline]
    pub fn rewind(&self) {
        self.pos.set(self.released.get());
    }

    /// Remembers `record` as rejected by a typed view: its bytes stay
    /// reachable through [`rejected`](Self::rejected) until it is released.
    #[cold]
    pub fn reject(&self, record: &Decoded<'_>) {
        let len = record.bytes.len() as u32;
        self.rejected
            .set(Some((record.end.wrapping_sub(stride(len)), len)));
    }

    /// The last rejected record, while it is read and not yet released.
    pub fn rejected(&self) -> Option<Decoded<'_>> {
        let (pos, len) = self.rejected.get()?;
        let released = self.released.get();
        // Free-running positions: "released <= pos < self.pos" in wrapping
        // order.
        if pos.wrapping_sub(released) >= self.pos.get().wrapping_sub(released) {
            return None;
        }
        // The record lies between `released` and `pos`: decoded and taken,
        // not released, so never published past.
        let end = pos.wrapping_add(stride(len));
        Some(Decoded {
            bytes: self.payload(pos, len),
            end,
            remaining: self.producer.get().wrapping_sub(end),
        })
    }

    /// Publishes the released position, if it moved, with one store.
    ///
    /// If another consumer moved `consumer_pos`, nothing is stored (it is
    /// never moved backwards); the next refill reports the move.
    #[inline]
    pub fn publish(&mut self) {
        let to = self.released.get();
        if to != self.published {
            match self.raw.publish_consumer(self.published, to) {
                Ok(()) => {
                    self.published = to;
                    self.publish_at = to.wrapping_add(self.publish_every);
                    self.check_at = self.publish_at;
                    if self.checkpoint_every != 0 {
                        self.check_checkpoint(to);
                    }
                }
                Err(_) => {
                    // Make the next `find` refill, so it sees the move.
                    self.producer.set(self.pos.get());
                    self.held_producer.set(None);
                }
            }
        }
    }

    /// Sets how many released bytes [`publish_lazily`](Self::publish_lazily)
    /// lets pile up: at most half the ring.
    pub fn set_publish_every(&mut self, bytes: usize) {
        debug_assert!(bytes <= self.size() / 2);
        self.publish_every = bytes;
        self.publish_at = self.published.wrapping_add(bytes);
        self.update_check_at();
    }

    /// Sets how many released bytes pass between two checkpoints (0 for
    /// none, the default). A checkpoint passes at the first
    /// [`publish_lazily`] or publish after that many more bytes are
    /// released: it sets the cached producer position aside and empties
    /// the cache, so the reader's next look takes its slow path, and
    /// [`take_checkpoint`] says so once and puts the position back. That is how the async readers look
    /// at the clock every so many bytes without a counter on their fast
    /// path.
    ///
    /// [`publish_lazily`]: Self::publish_lazily
    /// [`take_checkpoint`]: Self::take_checkpoint
    pub fn set_checkpoint_every(&mut self, bytes: usize) {
        // At most `isize::MAX`, so a checkpoint just passed is never due.
        self.checkpoint_every = bytes.min(isize::MAX as usize);
        self.checkpoint_at = self.released.get().wrapping_add(self.checkpoint_every);
        self.held_producer.set(None);
        self.update_check_at();
    }

    /// Whether a checkpoint passed since the last call; if so, puts back
    /// the cached producer position it emptied, so the records it covered
    /// are found again without a refill (a load of `producer_pos`, whose
    /// line the producer keeps writing).
    pub fn take_checkpoint(&mut self) -> bool {
        let Some(held) = self.held_producer.take() else {
            return false;
        };
        // `held` was a refilled position at or after `pos` when the
        // checkpoint emptied the cache, and since then `pos` has not moved
        // forward (nothing is found in an empty cache) and nothing refilled
        // (which forgets `held`): so `pos <= held` holds, and every record
        // below `held` is still submitted or discarded.
        debug_assert!(held.wrapping_sub(self.pos.get()) <= self.size());
        self.producer.set(held);
        true
    }

    /// Sets `check_at` after `publish_at` or `checkpoint_at` moved: the
    /// nearer of the two, measured from the released position, after
    /// passing a checkpoint that is due. Called whenever one of them moves,
    /// so a publish by any path (a batch's commit included) passes a due
    /// checkpoint.
    #[inline(always)]
    fn update_check_at(&mut self) {
        if self.checkpoint_every == 0 {
            self.check_at = self.publish_at;
            return;
        }
        let released = self.released.get();
        let to_checkpoint = self.checkpoint_at.wrapping_sub(released);
        if to_checkpoint as isize <= 0 {
            self.pass_checkpoint();
            return;
        }
        // Unsigned: a publish that failed (another consumer moved the
        // position) leaves `publish_at` behind, and the next checkpoint
        // tries again; the refill it forced reports the move meanwhile.
        let to_publish = self.publish_at.wrapping_sub(released);
        self.check_at = released.wrapping_add(to_publish.min(to_checkpoint));
    }

    /// [`update_check_at`](Self::update_check_at) after a publish to
    /// `released`, which set `check_at` to `publish_at`: the same, in fewer
    /// steps for the eager policy (whose next publish is due at once).
    #[inline(always)]
    fn check_checkpoint(&mut self, released: usize) {
        let to_checkpoint = self.checkpoint_at.wrapping_sub(released);
        if to_checkpoint as isize <= 0 {
            self.pass_checkpoint();
        } else if to_checkpoint < self.publish_every {
            self.check_at = self.checkpoint_at;
        }
    }

    /// Passes a due checkpoint: empties the cached producer position, so
    /// the reader's next look takes its slow path, and says so to
    /// [`take_checkpoint`](Self::take_checkpoint).
    #[cold]
    #[inline(never)]
    fn pass_checkpoint(&mut self) {
        let released = self.released.get();
        self.checkpoint_at = released.wrapping_add(self.checkpoint_every);
        // The next `find` says `Refill`, and nothing is lost: the slow path
        // puts the position back (`take_checkpoint`) or reloads it, and
        // `pos <= producer` still holds. A checkpoint not yet taken keeps
        // the position it held.
        if self.held_producer.get().is_none() {
            self.held_producer.set(Some(self.producer.get()));
        }
        self.producer.set(self.pos.get());
        self.update_check_at();
    }

    /// Publishes the released position if at least `publish_every` bytes
    /// are released but unpublished.
    ///
    /// In wrapping order, `released - published` is at most a ring and
    /// `publish_every` at most half of one, so the difference
    /// `released - publish_at` is negative exactly when fewer bytes are
    /// unpublished: a sign test against a position kept ready, instead of a
    /// subtraction and a compare against the threshold. With checkpoints,
    /// the position kept ready is the nearer of the next publish and the
    /// next checkpoint, so the test stays one compare.
    #[inline(always)]
    pub fn publish_lazily(&mut self) {
        let released = self.released.get();
        if released.wrapping_sub(self.check_at) as isize >= 0 {
            if released.wrapping_sub(self.publish_at) as isize >= 0 {
                self.publish();
            } else {
                // Only with checkpoints is `check_at` before `publish_at`.
                self.update_check_at();
            }
        }
    }

    /// After publishing everything released, decides whether the consumer
    /// may sleep: `Ok(true)` when nothing can be read without waiting.
    /// Refills, so it also reports a [`Fault`].
    ///
    /// The SeqCst fence orders the Release store of `consumer_pos` before
    /// the loads below. It pairs with the full barrier of the producer's
    /// `xchg(&hdr->len, ...)` in `bpf_ringbuf_commit`, which precedes its
    /// `smp_load_acquire(&rb->consumer_pos)`: either this load sees the
    /// committed record, or the producer sees our position and wakes us.
    ///
    /// # Errors
    ///
    /// A [`Fault`] found by the refill.
    pub fn should_sleep(&self) -> Result<bool, Fault> {
        debug_assert_eq!(self.released.get(), self.pos.get());
        atomic::fence(Ordering::SeqCst);
        Ok(!self.has_record()?)
    }

    /// Whether a submitted (or discarded) record is at the cursor, without
    /// taking it; refreshes the cached producer position.
    ///
    /// # Errors
    ///
    /// A [`Fault`] found by the refill.
    pub fn has_record(&self) -> Result<bool, Fault> {
        Ok(self.refill()?
            && self.raw.load_header(self.raw.header_at(self.pos.get())) & BPF_RINGBUF_BUSY_BIT == 0)
    }
}
