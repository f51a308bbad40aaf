//! [`Observer`]: watching a ring's records without consuming them.
//!
//! An observer maps the ring read-only and never stores to it: not the
//! consumer position, not a header. It follows the producer on its own
//! position, copies each record once its header is no longer BUSY, and
//! only then checks that the copy is intact. The owner of the ring (its
//! consumer) is not disturbed, and nothing is released.
//!
//! The bytes an observer copies are not its own: the owner may consume a
//! record, and the producer reuse its space, at any moment. So, following
//! DESIGN.md ("Reading bytes you do not own"), a record is copied with
//! machine loads, never through `&[u8]` (as the copying reader copies), and
//! after the copy the producer
//! position is loaded again: the bytes at position `p` are only rewritten
//! by a record reserved at `p + size` or later, which moves the producer
//! position past `p + size` before its header is written
//! (`__bpf_ringbuf_reserve`). A copy whose producer position has moved
//! further than one ring from its record's start is thrown away and
//! counted as missed, never handed out.
//!
//! The kernel side cited is `kernel/bpf/ringbuf.c` at Linux v6.18. The
//! atomics of an observer live here rather than in `read/cursor.rs`
//! because an observer is not a consumer: it has no position to publish,
//! and its memory is read-only.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{self, AtomicU32, AtomicUsize, Ordering};

use crate::error::{ObserveError, RingBufError};
use crate::kernel::bpf::{self, MapOrigin};
use crate::kernel::mmap::{self, ReadOnlyMapping};
use crate::read::copy::copy_volatile;
use crate::read::cursor::stride;
use crate::read::ring_buf::RingBuf;
use crate::ring_id::RingId;
use crate::uapi::{
    BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT,
    BPF_RINGBUF_HDR_SZ,
};

/// Watches a ring's records without consuming them: a tap.
///
/// Built on a read-only mapping of a kernel ring map (a
/// `BPF_MAP_TYPE_RINGBUF`, or a `BPF_MAP_TYPE_USER_RINGBUF`, whose records
/// have the same format), or on a [`RingBuf`] this process already has.
/// Any number of observers may watch a ring beside its one consumer; none
/// of them moves the consumer position.
///
/// [`try_copy`](Self::try_copy) copies the next record. An observer that
/// falls more than a ring behind the producer has lost the records in
/// between (the producer wrote over them once the owner consumed them):
/// it says so with [`Observed::Lapped`] and goes on from the owner's
/// consumer position. Records stay readable after the owner consumes them
/// until the producer wraps over them, so an observer that keeps up sees
/// every record.
///
/// A copy is checked after the fact: it is handed out only if the producer
/// is still within one ring of the record. On x86-64 that check is exact.
/// On weakly ordered CPUs (arm64) the kernel orders a BPF program's payload
/// writes after its store of `producer_pos` with no barrier, so a copy that
/// races a lap could, in principle, pass the check torn: treat an
/// observer's records there as a debugging view, not as data to act on.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{Observed, Observer};
///
/// // Beside the ring's owner, which goes on consuming every record.
/// let mut tap = Observer::from_pinned("/sys/fs/bpf/events")?;
/// let mut copy = Vec::new();
/// loop {
///     match tap.try_copy(&mut copy)? {
///         Some(Observed::Record { .. }) => println!("{} bytes", copy.len()),
///         Some(Observed::Lapped { .. }) => println!("missed some"),
///         None => std::thread::sleep(std::time::Duration::from_millis(10)),
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Observer {
    // INVARIANTS (established by the constructors, upheld by `_owner`):
    // - `consumer_pos` and `producer_pos` are aligned for `usize` and valid
    //   for atomic loads while `_owner` lives (never stored to);
    // - `data` is 8-byte aligned and valid for reads of `2 * (mask + 1)`
    //   bytes while `_owner` lives, and byte `i + mask + 1` always holds
    //   the same value as byte `i` (the kernel maps the data pages twice);
    // - `mask + 1` is a power of two of at least 8.
    consumer_pos: NonNull<usize>,
    producer_pos: NonNull<usize>,
    data: NonNull<u8>,
    mask: usize,
    _owner: Owner,
    id: RingId,
    map_type: u32,
    map_flags: u32,
    /// The next record to look at.
    pos: usize,
    missed: u64,
}

/// What keeps an observer's memory mapped.
#[derive(Debug)]
enum Owner {
    /// A read-only mapping of a kernel map, and the map's descriptor.
    Map {
        _fd: OwnedFd,
        _mapping: ReadOnlyMapping,
    },
    /// A ring this process has mapped already.
    Ring { _ring: RingBuf },
}

// SAFETY: the pointers go to memory that `_owner` keeps mapped, shared with
// producers and consumers in other threads, processes or the kernel; the
// observer only loads from it atomically, which any thread may do.
unsafe impl Send for Observer {}
// SAFETY: as for `Send`: `&Observer` only allows atomic loads.
unsafe impl Sync for Observer {}

/// What [`Observer::try_copy`] found.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{Observed, Observer};
///
/// let mut tap = Observer::from_pinned("/sys/fs/bpf/events")?;
/// let mut copy = Vec::new();
/// let mut lost_bytes = 0;
/// while let Some(found) = tap.try_copy(&mut copy)? {
///     match found {
///         Observed::Record { pos } => println!("record at {pos}: {} bytes", copy.len()),
///         // The records in `from..to` were overwritten before they were copied.
///         Observed::Lapped { from, to } => lost_bytes += to - from,
///     }
/// }
/// println!("caught up; {lost_bytes} bytes of records missed in {} laps", tap.missed());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// A record, copied: intact when the copy ended.
    Record {
        /// The position of its header.
        pos: u64,
    },
    /// The producer lapped the observer: the records from `from` on were
    /// overwritten before (or while) they were copied. The observer went on
    /// at `to`, the owner's consumer position (or the producer position,
    /// when the consumer position is not usable); the records in between
    /// are missed.
    Lapped {
        /// Where the observer was.
        from: u64,
        /// Where it goes on.
        to: u64,
    },
}

/// A ring's positions, as an observer sees them.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
///
/// use ringview::Observer;
///
/// let tap = Observer::from_pinned("/sys/fs/bpf/events")?;
/// let before = tap.positions();
/// std::thread::sleep(Duration::from_secs(1));
/// let now = tap.positions();
/// println!(
///     "{} of {} bytes pending; {:?} records produced in the last second",
///     now.pending(),
///     tap.buffer_size(),
///     tap.count_records(before.producer, now.producer),
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservedPositions {
    /// `consumer_pos`: what the ring's consumer has released.
    pub consumer: u64,
    /// `producer_pos`: the end of the last record reserved.
    pub producer: u64,
}

impl ObservedPositions {
    /// Bytes reserved but not yet consumed: the fill level.
    pub fn pending(&self) -> u64 {
        self.producer.wrapping_sub(self.consumer)
    }
}

impl Observer {
    /// Watches the ring map behind any map descriptor (duplicated; the
    /// caller keeps its own). The descriptor must not be read-only: the
    /// kernel refuses to map a `BPF_F_RDONLY` descriptor at all.
    ///
    /// # Errors
    ///
    /// As [`RingBuf::new`]; user ring buffers are accepted too.
    pub fn new<F: AsFd>(map: F) -> Result<Self, RingBufError> {
        Self::open(MapOrigin::Fd(map.as_fd()))
    }

    /// Watches a ring pinned in a BPF filesystem.
    ///
    /// # Errors
    ///
    /// As [`RingBuf::from_pinned`]; user ring buffers are accepted too.
    pub fn from_pinned<P: AsRef<Path>>(path: P) -> Result<Self, RingBufError> {
        Self::open(MapOrigin::Pinned(path.as_ref()))
    }

    /// Watches a ring by its map id (needs CAP_SYS_ADMIN).
    ///
    /// # Errors
    ///
    /// As [`RingBuf::from_map_id`]; user ring buffers are accepted too.
    pub fn from_map_id(id: u32) -> Result<Self, RingBufError> {
        Self::open(MapOrigin::Id(id))
    }

    fn open(origin: MapOrigin<'_>) -> Result<Self, RingBufError> {
        // A user ring is accepted as well; anything else is named as not a
        // BPF_MAP_TYPE_RINGBUF.
        let (fd, info) = match bpf::open_map(origin, BPF_MAP_TYPE_RINGBUF) {
            Err(crate::error::OpenError::WrongMapType { found, .. })
                if found == BPF_MAP_TYPE_USER_RINGBUF =>
            {
                bpf::open_map(origin, BPF_MAP_TYPE_USER_RINGBUF)?
            }
            other => other?,
        };
        let (size, page_size) = mmap::ring_size(info.max_entries)?;
        let (mapping, at) = ReadOnlyMapping::new(fd.as_fd(), size, page_size)?;
        // `at` points into `mapping`, which the observer owns: the
        // positions are page-aligned words, the data `2 * size` readable,
        // page-aligned bytes mapped twice; `size` is a power of two
        // multiple of the page size.
        Ok(Self::from_parts(
            at.consumer_pos,
            at.producer_pos,
            at.data,
            size,
            Owner::Map {
                _fd: fd,
                _mapping: mapping,
            },
            RingId::Map(info.id),
            info.map_type,
            info.map_flags,
        ))
    }

    /// Watches a kernel ring this process has mapped already, as a
    /// [`RingBuf`] (its consumer page is mapped read-write, but the
    /// observer never writes it).
    ///
    /// # Errors
    ///
    /// [`ObserveError::InMemory`] for an in-memory ring
    /// ([`testing::MemoryRing`](crate::testing::MemoryRing)): its producer
    /// writes records with plain stores, which an observer's loads would
    /// race once it is lapped.
    pub fn from_ring_buf(ring: RingBuf) -> Result<Self, ObserveError> {
        if let RingId::Memory(_) = ring.id() {
            return Err(ObserveError::InMemory { ring: ring.id() });
        }
        Ok(Self::of_ring_buf(ring))
    }

    /// [`from_ring_buf`](Self::from_ring_buf) for any ring, in-memory ones
    /// included: for tests that never let the producer write while the
    /// observer copies.
    fn of_ring_buf(ring: RingBuf) -> Self {
        let raw = ring.raw();
        let (consumer_pos, producer_pos, data) = raw.parts();
        let (size, id, flags) = (raw.size(), ring.id(), ring.map_flags());
        // `raw`'s invariants are the observer's (minus the consumer store
        // it never makes), for as long as `ring`, kept below, lives.
        Self::from_parts(
            consumer_pos,
            producer_pos,
            data,
            size,
            Owner::Ring { _ring: ring },
            id,
            BPF_MAP_TYPE_RINGBUF,
            flags,
        )
    }

    /// The one constructor: the caller guarantees the struct's invariants
    /// for the pointers, for as long as `owner` lives.
    #[expect(clippy::too_many_arguments, reason = "private, two callers")]
    fn from_parts(
        consumer_pos: NonNull<usize>,
        producer_pos: NonNull<usize>,
        data: NonNull<u8>,
        size: usize,
        owner: Owner,
        id: RingId,
        map_type: u32,
        map_flags: u32,
    ) -> Self {
        debug_assert!(size.is_power_of_two() && size >= 8);
        let mut observer = Self {
            consumer_pos,
            producer_pos,
            data,
            mask: size - 1,
            _owner: owner,
            id,
            map_type,
            map_flags,
            pos: 0,
            missed: 0,
        };
        observer.pos = observer.load_consumer();
        observer
    }

    fn consumer(&self) -> &AtomicUsize {
        // SAFETY: `consumer_pos` is aligned and valid for atomic loads while
        // `_owner` lives (struct invariant). The mapping may be read-only:
        // atomic loads of a `usize` are allowed there (`core::sync::atomic`,
        // "Atomic accesses to read-only memory"); the observer never stores.
        unsafe { AtomicUsize::from_ptr(self.consumer_pos.as_ptr()) }
    }

    fn producer(&self) -> &AtomicUsize {
        // SAFETY: as `consumer`, for `producer_pos`.
        unsafe { AtomicUsize::from_ptr(self.producer_pos.as_ptr()) }
    }

    /// Loads `consumer_pos` with Acquire: pairs with the consumer's release
    /// store (libbpf's `smp_store_release(r->consumer_pos)`, this crate's
    /// `RawRing::publish_consumer`; for a user ring, the kernel's
    /// `smp_store_release(&rb->consumer_pos)` in `__bpf_user_ringbuf_sample_release`).
    fn load_consumer(&self) -> usize {
        self.consumer().load(Ordering::Acquire)
    }

    /// Loads `producer_pos` with Acquire: pairs with the producer's
    /// `smp_store_release(&rb->producer_pos)` in `__bpf_ringbuf_reserve`
    /// (for a user ring, the user producer's release store), after which
    /// the reserved record's header is visible.
    fn load_producer(&self) -> usize {
        self.producer().load(Ordering::Acquire)
    }

    /// Loads the `len` word of the header at `pos` with Acquire: pairs with
    /// the `xchg(&hdr->len, new_len)` in `bpf_ringbuf_commit`, so the
    /// payload written before the commit is visible once BUSY reads clear.
    fn load_header(&self, pos: usize) -> u32 {
        let offset = pos & self.mask;
        debug_assert!(offset.is_multiple_of(8));
        // SAFETY: `offset <= mask`, within the `2 * (mask + 1)` readable
        // bytes of `data` (struct invariant).
        let at = unsafe { self.data.add(offset) };
        // SAFETY: `at` is 4-aligned (`data` is 8-aligned and `pos` a
        // multiple of 8, checked by `try_copy` before any header is read)
        // and valid for atomic loads of 4 bytes (`offset + 4 <= mask + 1`,
        // as `mask + 1` is a multiple of 8) while `_owner` lives; read-only
        // memory allows atomic loads (see `consumer`).
        let len = unsafe { AtomicU32::from_ptr(at.as_ptr().cast::<u32>()) };
        len.load(Ordering::Acquire)
    }

    /// The ring's positions now.
    pub fn positions(&self) -> ObservedPositions {
        let consumer = self.load_consumer();
        let producer = self.load_producer();
        ObservedPositions {
            consumer: consumer as u64,
            producer: producer as u64,
        }
    }

    /// The size of the data area in bytes (the map's `max_entries`).
    pub fn buffer_size(&self) -> usize {
        self.mask + 1
    }

    /// Which ring this watches.
    pub fn id(&self) -> RingId {
        self.id
    }

    /// The map's type: [`BPF_MAP_TYPE_RINGBUF`] or
    /// [`BPF_MAP_TYPE_USER_RINGBUF`].
    pub fn map_type(&self) -> u32 {
        self.map_type
    }

    /// The map's creation flags (`map_flags`).
    pub fn map_flags(&self) -> u32 {
        self.map_flags
    }

    /// The position of the next record to look at.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// How many times the producer lapped this observer: each time one
    /// record or more was missed.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Skips every record reserved so far: from now on, only new ones.
    pub fn skip_to_producer(&mut self) {
        self.pos = self.load_producer();
    }

    /// Where to go on after a lap: the owner's consumer position, which is
    /// at a record's start and never more than a ring behind the producer;
    /// else (a consumer page that no consumer wrote) the producer position.
    fn resync(&self) -> usize {
        let consumer = self.load_consumer();
        let producer = self.load_producer();
        let ahead = producer.wrapping_sub(consumer);
        if consumer.is_multiple_of(8) && ahead <= self.buffer_size() {
            consumer
        } else {
            producer
        }
    }

    /// Whether bytes read at `pos` before this call were intact: the
    /// producer has not gone further than one ring past `pos`.
    fn still_intact(&self, pos: usize) -> bool {
        // Acquire fence: the loads of the copy (and of its header) before
        // it are not reordered after the load of `producer_pos` below (the
        // reader side of a seqlock). A write of the next lap at `pos`
        // comes after the producer's store of a position past
        // `pos + size` (`__bpf_ringbuf_reserve` stores it before it
        // returns the record to the program); on x86-64 (TSO) a load that
        // saw such a write is followed by a load of that position or a
        // later one. On weakly ordered CPUs the kernel puts no barrier
        // between that store and the program's payload writes, so a copy
        // racing a lap there could, in principle, pass this check torn.
        atomic::fence(Ordering::Acquire);
        self.load_producer().wrapping_sub(pos) <= self.buffer_size()
    }

    /// Copies the next record into `out` (its previous contents replaced)
    /// without consuming it, stepping over discarded records.
    ///
    /// Returns `None` when there is nothing to copy yet: the observer is at
    /// the producer position, or the next record is still BUSY. Never
    /// blocks; poll it (the ring's descriptor reports readable only while
    /// the consumer lags, which says nothing of an observer).
    ///
    /// # Errors
    ///
    /// [`ObserveError::CorruptHeader`] when a header claims more than the
    /// producer published (memory that is not a ring, or a faulty user
    /// producer); [`ObserveError::MisalignedPosition`] when the ring's
    /// positions are not 8-byte aligned. The observer does not move, so
    /// the same error comes back until [`skip_to_producer`](Self::skip_to_producer).
    pub fn try_copy(&mut self, out: &mut Vec<u8>) -> Result<Option<Observed>, ObserveError> {
        // Each round steps over one discarded record; a ring holds at most
        // `size / 8` of them.
        for _ in 0..=self.buffer_size() / 8 {
            let pos = self.pos;
            if !pos.is_multiple_of(8) {
                return Err(ObserveError::MisalignedPosition { pos: pos as u64 });
            }
            let producer = self.load_producer();
            let available = producer.wrapping_sub(pos);
            if available == 0 {
                return Ok(None);
            }
            if available > self.buffer_size() {
                return Ok(Some(self.lapped(pos)));
            }
            let header = self.load_header(pos);
            if header & BPF_RINGBUF_BUSY_BIT != 0 {
                // A BUSY header may also be one of a later lap.
                if !self.still_intact(pos) {
                    return Ok(Some(self.lapped(pos)));
                }
                return Ok(None);
            }
            let len = header & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
            let step = stride(len);
            if step > available {
                if !self.still_intact(pos) {
                    return Ok(Some(self.lapped(pos)));
                }
                return Err(ObserveError::CorruptHeader {
                    pos: pos as u64,
                    len,
                    available: available as u64,
                });
            }
            if header & BPF_RINGBUF_DISCARD_BIT != 0 {
                // The header's length is trusted only if it was intact.
                if !self.still_intact(pos) {
                    return Ok(Some(self.lapped(pos)));
                }
                self.pos = pos.wrapping_add(step);
                continue;
            }
            self.copy_payload(pos, len, out);
            if !self.still_intact(pos) {
                out.clear();
                return Ok(Some(self.lapped(pos)));
            }
            self.pos = pos.wrapping_add(step);
            return Ok(Some(Observed::Record { pos: pos as u64 }));
        }
        // Only discarded records (the loop's bound is the most a ring
        // holds): more may follow next time.
        Ok(None)
    }

    fn lapped(&mut self, from: usize) -> Observed {
        self.missed += 1;
        let to = self.resync();
        self.pos = to;
        Observed::Lapped {
            from: from as u64,
            to: to as u64,
        }
    }

    /// Copies the `len` payload bytes of the record at `pos` into `out`
    /// with machine loads, never through `&[u8]` (`copy_volatile`): the
    /// producer may be writing them (a lap), which the caller checks
    /// afterwards.
    fn copy_payload(&self, pos: usize, len: u32, out: &mut Vec<u8>) {
        let start = (pos & self.mask) + BPF_RINGBUF_HDR_SZ;
        // `start + round_up(len, 8) = (pos & mask) + stride(len) <=
        // mask + 1 + (mask + 1)`: the caller checked `stride(len) <=
        // available <= size`.
        debug_assert!(start + (len as usize).div_ceil(8) * 8 <= 2 * self.buffer_size());
        // SAFETY: within the `2 * size` readable bytes of `data` (the bound
        // above).
        let payload = unsafe { self.data.add(start) };
        // SAFETY: `payload` is 8-aligned (`data` is, and `start` is a
        // multiple of 8: positions are, and so is the header's size), and
        // readable for `round_up(len, 8)` bytes while `_owner` lives (the
        // bound above), initialised (the kernel zeroes a ring's pages);
        // `out` is the caller's own buffer, not the ring's memory. The
        // header's Acquire load ordered the producer's writes before these
        // loads, and `still_intact` orders them before its check.
        unsafe { copy_volatile(payload, len as usize, out) };
    }

    /// How many records (submitted, discarded or BUSY) lie between
    /// positions `from` and `to`, by walking their headers, or `None` when
    /// that cannot be told: the range is not a run of whole records (a
    /// position not at a record's start), longer than the ring, or the
    /// producer has lapped `from` (the headers may be overwritten).
    ///
    /// With two samples of [`positions`](Self::positions), this counts the
    /// records produced (`producer` to `producer`) or consumed (`consumer`
    /// to `consumer`) in between.
    pub fn count_records(&self, from: u64, to: u64) -> Option<u64> {
        let (from, to) = (from as usize, to as usize);
        let span = to.wrapping_sub(from);
        if span > self.buffer_size() || !from.is_multiple_of(8) {
            return None;
        }
        let mut pos = from;
        let mut count = 0u64;
        while pos != to {
            if to.wrapping_sub(pos) > span {
                return None;
            }
            let header = self.load_header(pos);
            let len = header & !(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
            pos = pos.wrapping_add(stride(len));
            count += 1;
        }
        self.still_intact(from).then_some(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryRing;
    use crate::Reader;

    fn record(seq: u32, len: usize) -> Vec<u8> {
        (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
    }

    #[test]
    fn an_in_memory_ring_is_not_observed() {
        let ring = MemoryRing::new(4096).unwrap();
        let err = Observer::from_ring_buf(ring.ring_buf()).unwrap_err();
        assert!(matches!(err, ObserveError::InMemory { .. }), "{err:?}");
    }

    #[test]
    fn copies_without_consuming() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut tap = Observer::of_ring_buf(ring.ring_buf());
        let mut owner = Reader::new(ring.ring_buf()).unwrap();
        let mut out = Vec::new();
        assert_eq!(tap.try_copy(&mut out).unwrap(), None);
        for seq in 0..5 {
            ring.output(&record(seq, 1 + seq as usize * 3), 0).unwrap();
        }
        let before = ring.consumer_pos();
        for seq in 0..5 {
            let found = tap.try_copy(&mut out).unwrap();
            assert!(matches!(found, Some(Observed::Record { .. })), "{found:?}");
            assert_eq!(out, record(seq, 1 + seq as usize * 3));
        }
        assert_eq!(tap.try_copy(&mut out).unwrap(), None);
        assert_eq!(ring.consumer_pos(), before, "the tap moved consumer_pos");
        for seq in 0..5 {
            assert_eq!(
                owner.read().unwrap().sample,
                record(seq, 1 + seq as usize * 3)
            );
        }
        assert_eq!(tap.missed(), 0);
    }

    #[test]
    fn busy_records_wait_and_discarded_ones_are_skipped() {
        let ring = MemoryRing::new(4096).unwrap();
        let mut tap = Observer::of_ring_buf(ring.ring_buf());
        let mut out = Vec::new();
        let busy = ring.reserve(16).unwrap();
        ring.output(b"after", 0).unwrap();
        assert_eq!(tap.try_copy(&mut out).unwrap(), None, "BUSY blocks");
        busy.discard(0);
        assert_eq!(
            tap.try_copy(&mut out).unwrap(),
            Some(Observed::Record { pos: 24 })
        );
        assert_eq!(out, b"after");
    }

    #[test]
    fn a_lapped_record_is_missed_never_handed_out() {
        let ring = MemoryRing::new(256).unwrap();
        let mut tap = Observer::of_ring_buf(ring.ring_buf());
        let mut owner = Reader::new(ring.ring_buf()).unwrap();
        let mut out = Vec::new();
        // 40 records of 56 bytes (stride 64) through a 256-byte ring, the
        // owner keeping up and the tap not.
        for seq in 0..40 {
            ring.output(&record(seq, 56), 0).unwrap();
            assert_eq!(owner.read().unwrap().sample, record(seq, 56));
        }
        let found = tap.try_copy(&mut out).unwrap();
        assert_eq!(
            found,
            Some(Observed::Lapped {
                from: 0,
                to: 40 * 64
            })
        );
        assert_eq!(tap.missed(), 1);
        assert_eq!(tap.try_copy(&mut out).unwrap(), None);
        // Caught up, it sees every later record, and can fall back on
        // records the owner consumed as long as they are not overwritten.
        for seq in 40..43 {
            ring.output(&record(seq, 56), 0).unwrap();
            owner.read().unwrap();
        }
        for seq in 40..43 {
            assert!(matches!(
                tap.try_copy(&mut out).unwrap(),
                Some(Observed::Record { .. })
            ));
            assert_eq!(out, record(seq, 56));
        }
    }

    #[test]
    fn a_lap_during_the_copy_throws_the_copy_away() {
        let ring = MemoryRing::new(256).unwrap();
        let tap = Observer::of_ring_buf(ring.ring_buf());
        let mut owner = Reader::new(ring.ring_buf()).unwrap();
        let mut out = Vec::new();
        ring.output(&record(0, 56), 0).unwrap();
        // Copy by hand, then let the producer lap before the check.
        tap.copy_payload(0, 56, &mut out);
        assert_eq!(out, record(0, 56));
        for seq in 1..6 {
            owner.read().unwrap();
            ring.output(&record(seq, 56), 0).unwrap();
        }
        assert!(!tap.still_intact(0));
        assert!(tap.still_intact(64 * 2));
    }

    #[test]
    fn corrupt_headers_are_errors_not_panics() {
        let mut data = vec![0u8; 64];
        data[..4].copy_from_slice(&1000u32.to_le_bytes());
        let ring = MemoryRing::from_raw_parts(64, 0, 16, &data).unwrap();
        let mut tap = Observer::of_ring_buf(ring.ring_buf());
        let mut out = Vec::new();
        let err = tap.try_copy(&mut out).unwrap_err();
        assert!(matches!(
            err,
            ObserveError::CorruptHeader {
                pos: 0,
                len: 1000,
                available: 16
            }
        ));
        assert!(err.to_string().contains("1000"), "{err}");
        let ring = MemoryRing::from_raw_parts(64, 4, 16, &data).unwrap();
        let mut tap = Observer::of_ring_buf(ring.ring_buf());
        assert!(matches!(
            tap.try_copy(&mut out),
            Err(ObserveError::MisalignedPosition { pos: 4 })
        ));
        tap.skip_to_producer();
        assert_eq!(tap.try_copy(&mut out).unwrap(), None);
    }

    #[test]
    fn counts_records_between_positions() {
        let ring = MemoryRing::new(1024).unwrap();
        let tap = Observer::of_ring_buf(ring.ring_buf());
        let start = tap.positions();
        for seq in 0..7 {
            ring.output(&record(seq, 5 + seq as usize), 0).unwrap();
        }
        let busy = ring.reserve(8).unwrap();
        let now = tap.positions();
        assert_eq!(now.pending(), now.producer - start.producer);
        assert_eq!(tap.count_records(start.producer, now.producer), Some(8));
        drop(busy);
        // Not at a record's start, or longer than the ring.
        assert_eq!(tap.count_records(start.producer + 8, now.producer), None);
        assert_eq!(tap.count_records(0, 4096), None);
        assert_eq!(tap.count_records(now.producer, now.producer), Some(0));
    }
}
