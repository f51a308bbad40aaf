//! [`UserRingBuf`]: the producer side of a `BPF_MAP_TYPE_USER_RINGBUF`,
//! writing typed records in place, and [`Reserved`], its record guard.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Instant;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::error::{ReserveError, SyscallError, UserRingBufError};
use crate::event::RingEvent;
use crate::kernel::bpf::{self, MapOrigin};
use crate::kernel::claim::{Claim, Role};
use crate::kernel::mmap::{self, Mapping};
use crate::ring_id::RingId;
use crate::uapi::BPF_MAP_TYPE_USER_RINGBUF;
use crate::write::protocol::{
    max_record_len, stride, BusyProbe, ConsumerPos, RawUserRing, RecordHeader, DYNPTR_MAX_SIZE,
};
use crate::write::wait::EdgeWaiter;

/// A BPF user ring buffer (`BPF_MAP_TYPE_USER_RINGBUF`), mapped into this
/// process as its producer: records written here are drained by a BPF
/// program with `bpf_user_ringbuf_drain`.
///
/// [`reserve::<T>()`](Self::reserve) places a zeroed `T` directly in the
/// ring and hands it out as `&mut T` through a [`Reserved`] guard;
/// [`submit`](Reserved::submit) publishes it, and dropping the guard
/// discards it. [`push`](Self::push) copies a whole value in.
/// [`reserve_bytes`](Self::reserve_bytes) and
/// [`reserve_with_tail`](Self::reserve_with_tail) cover raw and
/// variable-size records. When the ring is full, `reserve` fails with
/// [`ReserveError::Full`] and [`reserve_blocking`](Self::reserve_blocking)
/// sleeps until the BPF side drains.
///
/// A map has at most one `UserRingBuf` in this process at a time.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{RingEvent, UserRingBuf};
/// use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
///
/// #[derive(FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Command {
///     op: u32,
///     pid: u32,
/// }
///
/// // SAFETY: no other process produces into this map.
/// let mut ring = unsafe { UserRingBuf::from_pinned("/sys/fs/bpf/commands")? };
/// let mut command = ring.reserve::<Command>()?;
/// command.op = 1;
/// command.pid = 4242;
/// command.submit();
/// # Ok(())
/// # }
/// ```
#[doc(alias = "BPF_MAP_TYPE_USER_RINGBUF")]
pub struct UserRingBuf {
    raw: RawUserRing,
    /// This producer's position: `producer_pos` as last stored.
    pos: usize,
    /// `consumer_pos` as last loaded, plus the ring's size: the end of the
    /// space this producer may write. INVARIANT: `limit - pos` (wrapping)
    /// is at most the ring's size, the free space as last seen.
    limit: usize,
    max_len: usize,
    id: RingId,
    /// Orphaned reservations discarded when this producer opened the ring.
    recovered: usize,
    waiter: Option<EdgeWaiter>,
    /// INVARIANT: keeps alive the memory `raw` points into.
    backing: Arc<dyn UserRingBacking>,
    _claim: Claim,
}

/// What a user ring is made of, to its producer: its memory, laid out as
/// the kernel's user ring, and a descriptor that signals room. The one seam
/// through which a user ring plugs into [`UserRingBuf`]: a kernel map's
/// mappings ([`KernelUserRing`]) are one backing, an in-memory user ring
/// ([`testing::MemoryUserRing`](crate::testing::MemoryUserRing)) another.
///
/// # Safety
///
/// - [`raw`](Self::raw) returns the same `RawUserRing` every time, pointing
///   into memory that stays mapped, laid out as a user ring of that size,
///   for as long as the backing lives.
/// - [`id`](Self::id) is the same for every backing of one ring and
///   different for every other ring alive (the per-process producer claim
///   keys on it, so a second producer of the same memory is refused).
pub(crate) unsafe trait UserRingBacking: fmt::Debug + Send + Sync {
    /// The ring's memory.
    fn raw(&self) -> RawUserRing;
    /// Which ring this is.
    fn id(&self) -> RingId;
    /// Signals room after a drain consumed records.
    fn descriptor(&self) -> BorrowedFd<'_>;
    /// The epoll events [`descriptor`](Self::descriptor) reports room with.
    fn room_events(&self) -> i32;
}

/// A kernel map's user ring: a duplicate of the map's descriptor and its
/// mappings.
#[derive(Debug)]
struct KernelUserRing {
    fd: OwnedFd,
    /// INVARIANT: `raw` points into `_mapping`.
    raw: RawUserRing,
    id: RingId,
    _mapping: Mapping,
}

// SAFETY: `raw` points into `_mapping`, which this value owns and unmaps
// only on drop, and never changes.
unsafe impl UserRingBacking for KernelUserRing {
    fn raw(&self) -> RawUserRing {
        self.raw
    }

    fn id(&self) -> RingId {
        self.id
    }

    fn descriptor(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn room_events(&self) -> i32 {
        // `ringbuf_map_poll_user` reports EPOLLOUT while the ring has room.
        libc::EPOLLOUT
    }
}

impl fmt::Debug for UserRingBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRingBuf")
            .field("id", &self.id)
            .field("size", &self.raw.size())
            .field("producer_pos", &self.pos)
            .field("consumer_pos", &self.limit.wrapping_sub(self.raw.size()))
            .finish_non_exhaustive()
    }
}

impl UserRingBuf {
    /// Maps the user ring behind any map descriptor (aya's `MapData`,
    /// libbpf-rs's `Map`, an `OwnedFd`, a `BorrowedFd`) as its producer. The
    /// descriptor is duplicated; the caller keeps its own.
    ///
    /// # Safety
    ///
    /// No producer outside this process may write this map while the
    /// returned value lives. Within this process the library enforces one
    /// producer per map; another process writing the same records would
    /// change the bytes of a [`Reserved`] guard under its `&mut T`.
    ///
    /// # Errors
    ///
    /// [`UserRingBufError::NotAMap`], [`UserRingBufError::WrongMapType`] for
    /// any map but `BPF_MAP_TYPE_USER_RINGBUF`,
    /// [`UserRingBufError::AlreadyProduced`] while another `UserRingBuf` of
    /// the map lives in this process, [`UserRingBufError::BadPositions`] for
    /// a ring a faulty producer left unusable, and
    /// [`UserRingBufError::Syscall`] when duplicating, querying or mapping
    /// fails.
    pub unsafe fn new<F: AsFd>(map: F) -> Result<Self, UserRingBufError> {
        Self::open(MapOrigin::Fd(map.as_fd()))
    }

    /// Opens a user ring pinned in a BPF filesystem (`BPF_OBJ_GET`).
    ///
    /// # Safety
    ///
    /// As for [`new`](Self::new).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), plus [`UserRingBufError::Pinned`] and
    /// [`UserRingBufError::PinnedNotAMap`].
    pub unsafe fn from_pinned<P: AsRef<Path>>(path: P) -> Result<Self, UserRingBufError> {
        Self::open(MapOrigin::Pinned(path.as_ref()))
    }

    /// Opens a user ring by its map id (`BPF_MAP_GET_FD_BY_ID`).
    ///
    /// # Safety
    ///
    /// As for [`new`](Self::new).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), plus [`UserRingBufError::MapId`].
    pub unsafe fn from_map_id(id: u32) -> Result<Self, UserRingBufError> {
        Self::open(MapOrigin::Id(id))
    }

    fn open(origin: MapOrigin<'_>) -> Result<Self, UserRingBufError> {
        let (fd, info) = bpf::open_map(origin, BPF_MAP_TYPE_USER_RINGBUF)?;
        let (size, page_size) = mmap::ring_size(info.max_entries)?;
        // Claim before mapping, so a second producer fails without touching
        // the ring.
        let id = RingId::Map(info.id);
        let claim = Claim::new(id, Role::Producer)
            .map_err(|ring| UserRingBufError::AlreadyProduced { ring })?;
        let (mapping, at) = Mapping::new_user(fd.as_fd(), size, page_size)?;
        // SAFETY: `at.consumer_pos` is the page-aligned first word of a live
        // read-only mapping of the consumer page; `at.producer_pos` the
        // page-aligned first word of a live read-write mapping of the
        // producer page; `at.data` is page-aligned, readable and writable
        // for `2 * size` bytes (the kernel zeroes the pages at map creation,
        // so they are initialised); both mappings are owned by `mapping`,
        // which the `KernelUserRing` below keeps for as long as it hands out
        // the `RawUserRing`; `size` is a power of two multiple of the page
        // size (checked above), so at least 16.
        let raw = unsafe { RawUserRing::new(at.consumer_pos, at.producer_pos, at.data, size) };
        Self::with_ring(
            Arc::new(KernelUserRing {
                fd,
                raw,
                id,
                _mapping: mapping,
            }),
            claim,
        )
    }

    /// The producer of any backing (a kernel map's, or an in-memory
    /// ring's).
    pub(crate) fn from_backing(
        backing: Arc<dyn UserRingBacking>,
    ) -> Result<Self, UserRingBufError> {
        let claim = Claim::new(backing.id(), Role::Producer)
            .map_err(|ring| UserRingBufError::AlreadyProduced { ring })?;
        Self::with_ring(backing, claim)
    }

    fn with_ring(
        backing: Arc<dyn UserRingBacking>,
        claim: Claim,
    ) -> Result<Self, UserRingBufError> {
        let raw = backing.raw();
        let id = backing.id();
        // Resume where an earlier producer (a pinned map outlives its
        // writers) left the ring.
        let pos = raw.load_producer();
        let consumer = raw.load_consumer();
        if !pos.is_multiple_of(8) || pos.wrapping_sub(consumer) > raw.size() {
            return Err(UserRingBufError::BadPositions {
                producer: pos as u64,
                consumer: consumer as u64,
                size: raw.size() as u64,
            });
        }
        // This is the ring's only producer (the claim in this process, the
        // constructor's contract outside it), so a record an earlier
        // producer reserved and never submitted will never be: it would
        // stop every drain for good. Discard it.
        let orphans = raw.discard_orphans(consumer, pos);
        if orphans.malformed_at.is_some() {
            // The records do not tile the published span: the kernel fails
            // every drain that reaches the bad header, and a reservation
            // here could overlap a sample a drain hands out.
            return Err(UserRingBufError::BadPositions {
                producer: pos as u64,
                consumer: consumer as u64,
                size: raw.size() as u64,
            });
        }
        let recovered = orphans.count;
        Ok(Self {
            raw,
            pos,
            limit: consumer.wrapping_add(raw.size()),
            max_len: max_record_len(raw.size()),
            id,
            recovered,
            waiter: None,
            backing,
            _claim: claim,
        })
    }

    /// The size of the data area in bytes (the map's `max_entries`).
    pub fn buffer_size(&self) -> usize {
        self.raw.size()
    }

    /// The largest record payload this ring accepts: its size less the
    /// 8-byte header, and at most 16 MiB - 1 (the kernel's
    /// `DYNPTR_MAX_SIZE`).
    pub fn max_record_len(&self) -> usize {
        self.max_len
    }

    /// Ring bytes free now (a record of `len` bytes takes
    /// `round_up(len + 8, 8)`).
    pub fn free_bytes(&mut self) -> usize {
        let consumer = self.raw.load_consumer();
        let size = self.raw.size();
        let used = self.pos.wrapping_sub(consumer);
        if used <= size {
            self.limit = consumer.wrapping_add(size);
        }
        size.saturating_sub(used)
    }

    /// Which ring this maps: the kernel's map id, or an in-memory ring's
    /// number.
    pub fn id(&self) -> RingId {
        self.id
    }

    /// How many orphaned reservations this producer discarded when it
    /// opened the ring.
    ///
    /// A record reserved and never submitted stays BUSY, and the kernel's
    /// drain stops there for good. A producer that crashed with a
    /// reservation outstanding (or leaked one with `std::mem::forget`)
    /// leaves such a record behind on a pinned map. Since a `UserRingBuf`
    /// is the ring's only producer (its constructor's contract), every
    /// BUSY record it finds when it opens the ring is such an orphan: it
    /// discards them (the drain skips them) and counts them here.
    ///
    /// Within one live producer, a leaked [`Reserved`] stays BUSY until the
    /// next `UserRingBuf` opens the ring: once the drain reaches it, the
    /// ring fills, and [`ReserveError::Full`] and
    /// [`ReserveError::DeadlineExceeded`] give its position.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringview::testing::MemoryUserRing;
    ///
    /// let ring = MemoryUserRing::new(4096).unwrap();
    /// let mut producer = ring.user_ring_buf().unwrap();
    /// std::mem::forget(producer.reserve_bytes(8).unwrap());
    /// drop(producer);
    /// // The next producer discards the leaked reservation.
    /// let producer = ring.user_ring_buf().unwrap();
    /// assert_eq!(producer.recovered(), 1);
    /// ```
    pub fn recovered(&self) -> usize {
        self.recovered
    }

    /// Whether a record of `len` payload bytes fits; returns the ring space
    /// it takes. Loads the consumer position only when the free space last
    /// seen is too small.
    ///
    /// Nothing here passes `self` to a function that is not inlined, so in
    /// a caller's loop the compiler can keep the producer position in a
    /// register.
    #[inline(always)]
    fn room_for(&mut self, len: usize) -> Result<usize, ReserveError> {
        // Below `DYNPTR_MAX_SIZE`, `stride` cannot overflow; for a typed
        // record the compiler knows the answer. A record longer than the
        // ring's `max_len` (its size less 8, or `DYNPTR_MAX_SIZE`) needs more
        // than the whole ring, so it fails this check and `reload_limit`
        // refuses it as too large.
        if len <= DYNPTR_MAX_SIZE {
            let needed = stride(len);
            // `limit - pos` is the free space as last seen (field invariant);
            // the consumer only moves forward, so at least that much is free.
            if needed <= self.limit.wrapping_sub(self.pos) {
                return Ok(needed);
            }
        }
        self.limit = reload_limit(
            self.raw.consumer_pos(),
            self.raw.busy_probe(),
            self.raw.size(),
            self.pos,
            len,
            self.max_len,
        )?;
        Ok(stride(len))
    }

    /// Reserves `len` payload bytes: writes the BUSY header and publishes
    /// the producer position. Returns the record's header and its payload,
    /// whose padding (up to the next 8-byte boundary) is zeroed, but not
    /// the payload itself.
    #[inline(always)]
    fn claim_record(&mut self, len: usize) -> Result<(RecordHeader, &mut [u8]), ReserveError> {
        let needed = self.room_for(len)?;
        let pos = self.pos;
        let (header, payload) = self.raw.write_busy_header(pos, len);
        self.pos = pos.wrapping_add(needed);
        self.raw.store_producer(self.pos);
        Ok((header, self.payload_mut(payload, len)))
    }

    /// The payload bytes of the record just claimed, from its first byte
    /// `ptr`. The padding after them, up to the next 8-byte boundary, is
    /// zeroed here: it never reaches BPF, but leaving no stale header bytes
    /// in a record also keeps every 8-byte slot of the ring written whole
    /// (Miri's weak-memory model fails on a later atomic header store over
    /// a slot written in part).
    #[inline(always)]
    fn payload_mut(&mut self, ptr: NonNull<u8>, len: usize) -> &mut [u8] {
        debug_assert!(len <= self.max_len);
        let padded = (len + 7) & !7;
        // SAFETY: the payload of a record of at most `max_len` bytes, with
        // its padding (`stride(len) - 8` bytes), lies within the data area,
        // readable and writable while the mapping (owned by `self`, borrowed
        // for the slice's lifetime) lives, and initialised (the kernel
        // zeroes the pages; the in-memory ring allocates them zeroed;
        // producers write only initialised bytes). Nothing else accesses
        // these bytes while the slice lives: the record's header is BUSY, so
        // the kernel stops there; the record is beyond every other
        // reservation, and `&mut self` keeps this producer from reserving
        // again; no other producer exists (the claim in this process,
        // `new`'s contract outside it).
        let bytes = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), padded) };
        let (payload, padding) = bytes.split_at_mut(len);
        padding.fill(0);
        payload
    }

    /// Reserves a record holding a `T`, zeroed, and hands it out in place.
    /// [`Reserved::submit`] publishes it; dropping the guard discards it.
    ///
    /// The zeroing is a second write of every byte the caller then writes;
    /// a caller that writes every field can skip it with
    /// [`reserve_unzeroed`](Self::reserve_unzeroed), or copy a `T` in once
    /// with [`push`](Self::push).
    ///
    /// # Errors
    ///
    /// [`ReserveError::Full`] when the ring has no room now,
    /// [`ReserveError::TooLarge`] when a `T` can never fit,
    /// [`ReserveError::PositionsInconsistent`] if another producer moved
    /// the ring's positions.
    #[inline]
    pub fn reserve<T>(&mut self) -> Result<Reserved<'_, T>, ReserveError>
    where
        T: RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        self.reserve_with_tail(0)
    }

    /// Reserves a record of a `T` header followed by `tail_len` bytes,
    /// zeroed: a variable-size record. The guard derefs to the header;
    /// [`Reserved::tail_mut`] gives the tail.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    #[inline]
    pub fn reserve_with_tail<T>(&mut self, tail_len: usize) -> Result<Reserved<'_, T>, ReserveError>
    where
        T: RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        self.reserve_typed(tail_len, true)
    }

    /// Reserves a record holding a `T` and hands it out in place **as the
    /// ring's bytes are**, not zeroed: the write-once path for callers that
    /// write every field (or assign a whole `T`), so that no byte is
    /// written twice. The bytes are whatever this ring held there before
    /// (zeroes, or an older record of this producer): initialised memory,
    /// which any `T: FromBytes` accepts, so this is safe; a field left
    /// unwritten reaches the BPF side with its stale value.
    ///
    /// [`push`](Self::push) is the other write-once path, for a `T` that
    /// already exists.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringview::testing::MemoryUserRing;
    /// use ringview::RingEvent;
    /// use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
    ///
    /// #[derive(FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
    /// #[repr(C)]
    /// struct Command {
    ///     op: u32,
    ///     arg: u32,
    /// }
    ///
    /// let ring = MemoryUserRing::new(4096).unwrap();
    /// let mut producer = ring.user_ring_buf().unwrap();
    /// let mut record = producer.reserve_unzeroed::<Command>().unwrap();
    /// // Every field written: nothing stale is sent.
    /// *record = Command { op: 1, arg: 7 };
    /// record.submit();
    /// ```
    #[inline]
    pub fn reserve_unzeroed<T>(&mut self) -> Result<Reserved<'_, T>, ReserveError>
    where
        T: RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        self.reserve_typed(0, false)
    }

    /// A record of a `T` and `tail_len` bytes, zeroed if `zero`.
    #[inline(always)]
    fn reserve_typed<T>(
        &mut self,
        tail_len: usize,
        zero: bool,
    ) -> Result<Reserved<'_, T>, ReserveError>
    where
        T: RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        let misaligned = ReserveError::Misaligned {
            align: align_of::<T>(),
            type_name: T::C_NAME,
        };
        if align_of::<T>() > 8 {
            return Err(misaligned);
        }
        let len = size_of::<T>().saturating_add(tail_len);
        let (header, bytes) = self.claim_record(len)?;
        // The payload is 8-aligned and `len >= size_of::<T>()`, so the cast
        // cannot fail; should it, the record is discarded, never half-made.
        match T::mut_from_prefix(bytes) {
            Ok((value, tail)) => {
                if zero {
                    // Zeroed after the cast, through the `T`: when the
                    // caller then assigns a whole `T`, the compiler can see
                    // the zeroes overwritten before anyone reads them and
                    // skip them.
                    value.zero();
                    tail.fill(0);
                }
                Ok(Reserved {
                    header,
                    len,
                    value,
                    tail,
                })
            }
            Err(_) => {
                header.commit(len, true);
                Err(misaligned)
            }
        }
    }

    /// Reserves a record of `len` raw bytes, zeroed.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    #[inline]
    pub fn reserve_bytes(&mut self, len: usize) -> Result<Reserved<'_, [u8]>, ReserveError> {
        let (header, bytes) = self.claim_record(len)?;
        bytes.fill(0);
        Ok(Reserved {
            header,
            len,
            value: bytes,
            tail: &mut [],
        })
    }

    /// Copies `value` into a new record and submits it: one copy, the
    /// write-once path for a `T` that already exists. Every byte is
    /// written (`IntoBytes` types have no padding), so nothing is zeroed
    /// first.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    #[inline]
    pub fn push<T>(&mut self, value: &T) -> Result<(), ReserveError>
    where
        T: RingEvent + IntoBytes + Immutable,
    {
        self.push_bytes(value.as_bytes())
    }

    /// Copies `bytes` into a new record and submits it.
    ///
    /// # Errors
    ///
    /// As [`reserve`](Self::reserve).
    #[inline]
    pub fn push_bytes(&mut self, bytes: &[u8]) -> Result<(), ReserveError> {
        let len = bytes.len();
        let (header, payload) = self.claim_record(len)?;
        payload.copy_from_slice(bytes);
        header.commit(len, false);
        Ok(())
    }

    /// As [`reserve`](Self::reserve), but when the ring is full, sleeps
    /// until the BPF side drains enough of it, or until `deadline` (`None`:
    /// no deadline).
    ///
    /// The kernel wakes writers after a drain that consumed samples, unless
    /// the program passed `BPF_RB_NO_WAKEUP` to `bpf_user_ringbuf_drain`;
    /// with that flag only the deadline ends the wait.
    ///
    /// # Errors
    ///
    /// [`ReserveError::DeadlineExceeded`] when the deadline passes first;
    /// [`ReserveError::TooLarge`] at once for a record that can never fit;
    /// [`ReserveError::Syscall`] if epoll fails.
    pub fn reserve_blocking<T>(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Reserved<'_, T>, ReserveError>
    where
        T: RingEvent + FromBytes + IntoBytes + KnownLayout,
    {
        self.wait_for_room(size_of::<T>(), deadline)?;
        self.reserve()
    }

    /// As [`reserve_bytes`](Self::reserve_bytes), blocking as
    /// [`reserve_blocking`](Self::reserve_blocking) does.
    ///
    /// # Errors
    ///
    /// As [`reserve_blocking`](Self::reserve_blocking).
    pub fn reserve_bytes_blocking(
        &mut self,
        len: usize,
        deadline: Option<Instant>,
    ) -> Result<Reserved<'_, [u8]>, ReserveError> {
        self.wait_for_room(len, deadline)?;
        self.reserve_bytes(len)
    }

    /// Whether a record of `len` payload bytes fits now (for the async
    /// producer's wait).
    #[cfg(feature = "tokio")]
    pub(crate) fn has_room(&mut self, len: usize) -> Result<bool, ReserveError> {
        match self.room_for(len) {
            Ok(_) => Ok(true),
            Err(ReserveError::Full { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The descriptor that reports room, and the epoll events it reports
    /// it with (for the async producer).
    #[cfg(feature = "tokio")]
    pub(crate) fn room_descriptor(&self) -> (BorrowedFd<'_>, i32) {
        (self.backing.descriptor(), self.backing.room_events())
    }

    /// Returns once a record of `len` bytes fits. Only this producer
    /// reserves, so the room stays until it does.
    fn wait_for_room(&mut self, len: usize, deadline: Option<Instant>) -> Result<(), ReserveError> {
        loop {
            match self.room_for(len) {
                Ok(_) => return Ok(()),
                Err(ReserveError::Full { .. }) => {}
                Err(err) => return Err(err),
            }
            match &self.waiter {
                Some(waiter) => {
                    if !waiter.wait(deadline)? {
                        // One last look: a drain may have raced the timeout.
                        return match self.room_for(len) {
                            Ok(_) => Ok(()),
                            Err(ReserveError::Full { reserved_at, .. }) => {
                                Err(ReserveError::DeadlineExceeded { len, reserved_at })
                            }
                            Err(err) => Err(err),
                        };
                    }
                }
                // Registered lazily; the loop checks the space again before
                // the first wait, which covers a drain that came before the
                // registration (see `write/wait.rs`).
                None => self.waiter = Some(self.new_waiter()?),
            }
        }
    }

    fn new_waiter(&self) -> Result<EdgeWaiter, SyscallError> {
        EdgeWaiter::new(self.backing.descriptor(), self.backing.room_events())
    }
}

/// The slow half of [`UserRingBuf::room_for`]: checks the record's length,
/// loads the consumer position, and returns the new `limit` if a record of
/// `len` bytes fits at `pos` in a ring of `size` bytes. Out of line and given
/// values and the consumer word alone, not the producer, so that the hot
/// path never lets a pointer to the producer escape: the compiler can then
/// keep the producer position in a register across a caller's loop.
#[cold]
#[inline(never)]
fn reload_limit(
    consumer: ConsumerPos<'_>,
    probe: BusyProbe,
    size: usize,
    pos: usize,
    len: usize,
    max_len: usize,
) -> Result<usize, ReserveError> {
    if len > max_len {
        return Err(ReserveError::TooLarge { len, max: max_len });
    }
    let needed = stride(len);
    let consumer = consumer.load();
    let used = pos.wrapping_sub(consumer);
    if used > size {
        return Err(ReserveError::PositionsInconsistent {
            producer: pos as u64,
            consumer: consumer as u64,
        });
    }
    let free = size - used;
    if needed > free {
        return Err(ReserveError::Full {
            len,
            needed,
            free,
            // The drain stops at a BUSY record; at the consumer position,
            // it is what keeps the ring full.
            reserved_at: probe.reserved_at(consumer).map(|pos| pos as u64),
        });
    }
    Ok(consumer.wrapping_add(size))
}

impl AsFd for UserRingBuf {
    /// The map's descriptor; for an in-memory ring, the eventfd its drain
    /// signals.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.backing.descriptor()
    }
}

/// A record reserved in a [`UserRingBuf`], placed in the ring: derefs to the
/// `T` (or `[u8]`) it holds, zeroed when reserved.
///
/// The record is BUSY, so the BPF side does not see it (nor anything after
/// it) until [`submit`](Self::submit). Dropping the guard without submitting
/// discards the record: the kernel skips it.
///
/// # Examples
///
/// ```
/// use std::ops::ControlFlow;
///
/// use ringview::testing::MemoryUserRing;
/// use ringview::RingEvent;
/// use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
///
/// #[derive(FromBytes, IntoBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Command {
///     op: u32,
///     pid: u32,
/// }
///
/// let ring = MemoryUserRing::new(4096)?;
/// let mut producer = ring.user_ring_buf()?;
/// let mut cmd = producer.reserve::<Command>()?; // zeroed, in the ring
/// cmd.op = 1;
/// cmd.pid = 4242;
/// cmd.submit();
/// producer.reserve::<Command>()?.discard(); // the BPF side skips it
///
/// let mut seen = Vec::new();
/// ring.drain(0, |bytes| {
///     seen.push(bytes.to_vec());
///     ControlFlow::Continue(())
/// })?;
/// assert_eq!(seen, [Command { op: 1, pid: 4242 }.as_bytes()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a reserved record is discarded unless submitted"]
pub struct Reserved<'a, T: ?Sized> {
    header: RecordHeader,
    len: usize,
    value: &'a mut T,
    tail: &'a mut [u8],
}

impl<T: ?Sized> Reserved<'_, T> {
    /// Publishes the record to the BPF side.
    #[inline]
    pub fn submit(self) {
        let this = ManuallyDrop::new(self);
        this.header.commit(this.len, false);
    }

    /// Discards the record, as dropping the guard does.
    #[inline]
    pub fn discard(self) {
        drop(self);
    }

    /// The record's payload length: the header's size plus the tail's.
    #[inline]
    #[expect(
        clippy::len_without_is_empty,
        reason = "a record's length, not a collection's"
    )]
    pub fn len(&self) -> usize {
        self.len
    }

    /// The bytes after the header (empty unless reserved with
    /// [`UserRingBuf::reserve_with_tail`]).
    #[inline]
    pub fn tail(&self) -> &[u8] {
        self.tail
    }

    /// The bytes after the header, writable.
    #[inline]
    pub fn tail_mut(&mut self) -> &mut [u8] {
        self.tail
    }

    /// The header and the tail, both writable at once.
    #[inline]
    pub fn split_mut(&mut self) -> (&mut T, &mut [u8]) {
        (self.value, self.tail)
    }
}

impl<T: ?Sized> Deref for Reserved<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.value
    }
}

impl<T: ?Sized> DerefMut for Reserved<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.value
    }
}

impl<T: ?Sized> Drop for Reserved<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.header.commit(self.len, true);
    }
}

impl<T: ?Sized> fmt::Debug for Reserved<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserved")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::time::Duration;

    use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

    use super::*;
    use crate::error::DrainError;
    use crate::testing::MemoryUserRing;

    /// A command as a BPF program would read it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
    #[repr(C)]
    struct Cmd {
        op: u32,
        pid: u32,
        cookie: u64,
    }

    // SAFETY: `__view` casts through zerocopy, which checks size and
    // alignment; `Cmd` is `FromBytes`.
    unsafe impl RingEvent for Cmd {
        const C_NAME: &'static str = "cmd";
        const SIZE: usize = 16;
        type __Layout = crate::event::__private::Proven;

        fn __view(bytes: &[u8]) -> Option<&Self> {
            Self::ref_from_prefix(bytes).ok().map(|(view, _)| view)
        }
    }

    /// 13 bytes: a record whose length is not a multiple of 8.
    #[derive(Debug, FromBytes, IntoBytes, Immutable, KnownLayout)]
    #[repr(C)]
    struct Odd([u8; 13]);

    // SAFETY: as for `Cmd`.
    unsafe impl RingEvent for Odd {
        const C_NAME: &'static str = "odd";
        const SIZE: usize = 13;
        type __Layout = crate::event::__private::Proven;

        fn __view(bytes: &[u8]) -> Option<&Self> {
            Self::ref_from_prefix(bytes).ok().map(|(view, _)| view)
        }
    }

    /// Drains everything, as the BPF side would.
    fn drain_all(ring: &MemoryUserRing) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        ring.drain(0, |s| {
            out.push(s.to_vec());
            ControlFlow::Continue(())
        })
        .expect("the kernel's checks pass");
        out
    }

    fn scale(n: usize) -> usize {
        if cfg!(miri) {
            n.div_ceil(50)
        } else {
            n
        }
    }

    #[test]
    fn typed_record_round_trips_zeroed() {
        let ring = MemoryUserRing::new(256).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        // Leave stale non-zero bytes everywhere in the ring.
        for _ in 0..8 {
            producer.push_bytes(&[0xff; 56]).unwrap();
            drain_all(&ring);
        }
        for i in 0..scale(100) as u32 {
            let mut cmd = producer.reserve::<Cmd>().unwrap();
            assert_eq!(
                *cmd,
                Cmd {
                    op: 0,
                    pid: 0,
                    cookie: 0
                },
                "zeroed"
            );
            cmd.pid = i;
            cmd.submit();
            let got = drain_all(&ring);
            let want = Cmd {
                op: 0,
                pid: i,
                cookie: 0,
            };
            assert_eq!(got, vec![want.as_bytes().to_vec()]);
        }
    }

    /// `reserve_unzeroed` hands out the ring's bytes as they are (here an
    /// earlier record's), and a record whose every field is written
    /// arrives whole; `push` writes a whole `T` in one copy.
    #[test]
    fn unzeroed_records_hold_the_rings_bytes_until_written() {
        let ring = MemoryUserRing::new(256).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        for i in 0..scale(100) as u32 {
            // A record as large as the ring: the next one's payload lands
            // inside its payload.
            producer.push_bytes(&[0xee; 248]).unwrap();
            assert_eq!(drain_all(&ring), vec![vec![0xee; 248]]);
            let mut cmd = producer.reserve_unzeroed::<Cmd>().unwrap();
            assert_eq!(cmd.as_bytes(), [0xee; 16], "not zeroed: the ring's bytes");
            *cmd = Cmd {
                op: 1,
                pid: i,
                cookie: 2,
            };
            cmd.submit();
            let want = Cmd {
                op: 1,
                pid: i,
                cookie: 2,
            };
            assert_eq!(drain_all(&ring), vec![want.as_bytes().to_vec()]);
            producer.push(&want).unwrap();
            assert_eq!(drain_all(&ring), vec![want.as_bytes().to_vec()]);
        }
    }

    #[test]
    fn busy_record_is_not_drained_until_submitted() {
        let ring = MemoryUserRing::new(4096).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        let mut cmd = producer.reserve::<Cmd>().unwrap();
        cmd.op = 7;
        // The producer position already covers it, but it is BUSY.
        assert_eq!(ring.producer_pos(), 24);
        assert!(drain_all(&ring).is_empty());
        assert_eq!(ring.consumer_pos(), 0);
        cmd.submit();
        assert_eq!(drain_all(&ring).len(), 1);
        assert_eq!(ring.consumer_pos(), 24);
    }

    #[test]
    fn dropped_guard_is_discarded() {
        let ring = MemoryUserRing::new(4096).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        let mut cmd = producer.reserve::<Cmd>().unwrap();
        cmd.op = 1;
        drop(cmd);
        producer.reserve_bytes(3).unwrap().discard();
        producer.push_bytes(b"after").unwrap();
        // Both discarded records are consumed but not passed on.
        assert_eq!(drain_all(&ring), vec![b"after".to_vec()]);
        assert_eq!(ring.consumer_pos(), 24 + 16 + 16);
    }

    #[test]
    fn odd_lengths_keep_positions_aligned() {
        let ring = MemoryUserRing::new(1024).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        for len in 0..=40usize {
            let mut record = producer.reserve_bytes(len).unwrap();
            record.iter_mut().for_each(|b| *b = len as u8);
            record.submit();
            assert_eq!(ring.producer_pos() % 8, 0);
            assert_eq!(drain_all(&ring), vec![vec![len as u8; len]]);
        }
        producer.reserve::<Odd>().unwrap().submit();
        assert_eq!(ring.producer_pos() % 8, 0);
        assert_eq!(drain_all(&ring), vec![vec![0; 13]]);
    }

    #[test]
    fn positions_wrap_and_records_stay_whole() {
        // 64 bytes: every few records wrap around the end of the ring.
        let ring = MemoryUserRing::new(64).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        let mut seed = 1u32;
        for i in 0..scale(2000) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let len = (seed >> 16) as usize % 57;
            let bytes: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
            producer.push_bytes(&bytes).unwrap();
            assert_eq!(drain_all(&ring), vec![bytes]);
        }
        assert!(
            ring.producer_pos() > 10 * 64,
            "positions went round many times"
        );
    }

    #[test]
    fn header_and_tail() {
        let ring = MemoryUserRing::new(4096).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        let mut record = producer.reserve_with_tail::<Cmd>(5).unwrap();
        assert_eq!(record.len(), 21);
        let (cmd, tail) = record.split_mut();
        cmd.cookie = 9;
        tail.copy_from_slice(b"hello");
        record.submit();
        let mut want = Cmd {
            op: 0,
            pid: 0,
            cookie: 9,
        }
        .as_bytes()
        .to_vec();
        want.extend_from_slice(b"hello");
        assert_eq!(drain_all(&ring), vec![want]);
    }

    #[test]
    fn full_and_too_large_are_errors() {
        let ring = MemoryUserRing::new(64).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        assert_eq!(producer.max_record_len(), 56);
        assert!(matches!(
            producer.reserve_bytes(57),
            Err(ReserveError::TooLarge { len: 57, max: 56 })
        ));
        // The largest record fills the ring exactly.
        producer.push_bytes(&[1; 56]).unwrap();
        assert_eq!(producer.free_bytes(), 0);
        assert!(matches!(
            producer.reserve::<Cmd>(),
            Err(ReserveError::Full {
                len: 16,
                needed: 24,
                free: 0,
                reserved_at: None,
            })
        ));
        assert_eq!(drain_all(&ring).len(), 1);
        producer
            .push(&Cmd {
                op: 1,
                pid: 2,
                cookie: 3,
            })
            .unwrap();
        producer
            .push(&Cmd {
                op: 1,
                pid: 2,
                cookie: 3,
            })
            .unwrap();
        assert!(matches!(
            producer.reserve::<Cmd>(),
            Err(ReserveError::Full {
                len: 16,
                needed: 24,
                free: 16,
                reserved_at: None,
            })
        ));
    }

    #[test]
    fn lengths_beyond_any_ring_are_too_large_not_an_overflow() {
        let ring = MemoryUserRing::new(64).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        assert!(matches!(
            producer.reserve_bytes(usize::MAX),
            Err(ReserveError::TooLarge {
                len: usize::MAX,
                max: 56
            })
        ));
        assert!(matches!(
            producer.reserve_with_tail::<Cmd>(usize::MAX - 3),
            Err(ReserveError::TooLarge {
                len: usize::MAX,
                max: 56
            })
        ));
        assert!(matches!(
            producer.reserve_bytes(DYNPTR_MAX_SIZE + 1),
            Err(ReserveError::TooLarge { .. })
        ));
        // Nothing was reserved.
        assert_eq!(ring.producer_pos(), 0);
        producer.push_bytes(&[7; 56]).unwrap();
        assert_eq!(drain_all(&ring), vec![vec![7; 56]]);
    }

    #[test]
    fn one_producer_per_ring() {
        let ring = MemoryUserRing::new(4096).unwrap();
        let producer = ring.user_ring_buf().unwrap();
        assert!(matches!(
            ring.user_ring_buf(),
            Err(UserRingBufError::AlreadyProduced { ring: id }) if id == producer.id()
        ));
        drop(producer);
        ring.user_ring_buf().unwrap();
    }

    #[test]
    fn producer_resumes_where_the_last_one_stopped() {
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.user_ring_buf().unwrap().push_bytes(b"one").unwrap();
        ring.user_ring_buf().unwrap().push_bytes(b"two").unwrap();
        assert_eq!(drain_all(&ring), vec![b"one".to_vec(), b"two".to_vec()]);
    }

    #[test]
    fn bad_positions_are_refused() {
        let ring = MemoryUserRing::new(4096).unwrap();
        ring.push_raw(0, 12).unwrap();
        assert!(matches!(
            ring.user_ring_buf(),
            Err(UserRingBufError::BadPositions { producer: 12, .. })
        ));
    }

    /// Without Release stores (header at submit, producer position at
    /// reserve), Miri reports the drain thread's payload reads as racing
    /// with the producer's writes.
    #[test]
    fn concurrent_drain_sees_whole_records() {
        let ring = MemoryUserRing::new(256).unwrap();
        let count = scale(5000);
        let drainer = {
            let ring = ring.clone();
            std::thread::spawn(move || {
                let mut next = 0usize;
                while next < count {
                    let drained = ring.drain(0, |s| {
                        let want = next as u8;
                        assert!(s.len() == next % 40 && s.iter().all(|&b| b == want));
                        next += 1;
                        ControlFlow::Continue(())
                    });
                    assert!(drained.is_ok(), "{drained:?}");
                    std::thread::yield_now();
                }
            })
        };
        let mut producer = ring.user_ring_buf().unwrap();
        for i in 0..count {
            let mut record = producer
                .reserve_bytes_blocking(i % 40, None)
                .expect("the drain makes room");
            record.fill(i as u8);
            record.submit();
        }
        drainer.join().unwrap();
    }

    #[test]
    fn blocking_reserve_times_out_when_nothing_drains() {
        let ring = MemoryUserRing::new(64).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        producer.push_bytes(&[0; 40]).unwrap();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(30);
        assert!(matches!(
            producer.reserve_blocking::<Cmd>(Some(deadline)),
            Err(ReserveError::DeadlineExceeded {
                len: 16,
                reserved_at: None
            })
        ));
        assert!(Instant::now() >= deadline);
        assert!(matches!(
            producer.reserve_bytes_blocking(57, None),
            Err(ReserveError::TooLarge { .. })
        ));
    }

    #[test]
    fn blocking_reserve_is_woken_by_a_drain() {
        let ring = MemoryUserRing::new(64).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        producer.push_bytes(&[0; 40]).unwrap();
        let drainer = {
            let ring = ring.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                ring.drain(0, |_| ControlFlow::Continue(())).unwrap()
            })
        };
        let record = producer
            .reserve_blocking::<Cmd>(Some(Instant::now() + Duration::from_secs(10)))
            .expect("woken by the drain");
        record.submit();
        assert_eq!(drainer.join().unwrap(), 1);
    }

    #[test]
    fn drain_errors_are_the_kernels() {
        // A ring this library filled never fails a drain; one a faulty
        // producer filled does (see `testing::user_ring`'s tests).
        let ring = MemoryUserRing::new(128).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        for len in 0..scale(300) {
            match producer.reserve_bytes(len % 121) {
                Ok(r) if len % 3 == 0 => r.discard(),
                Ok(r) => r.submit(),
                Err(ReserveError::Full { .. }) => {
                    let drained = ring.drain(0, |_| ControlFlow::Break(()));
                    assert!(matches!(drained, Ok(0 | 1)), "{drained:?}");
                }
                Err(err) => assert!(matches!(err, ReserveError::TooLarge { .. })),
            }
        }
        assert_ne!(
            ring.drain(0, |_| ControlFlow::Continue(())),
            Err(DrainError::Busy)
        );
    }

    /// A reservation leaked by one producer is discarded by the next, and
    /// the drain gets everything pushed after it.
    #[test]
    fn the_next_producer_discards_a_leaked_reservation() {
        let ring = MemoryUserRing::new(4096).unwrap();
        let mut producer = ring.user_ring_buf().unwrap();
        assert_eq!(producer.recovered(), 0);
        producer.push_bytes(b"one").unwrap();
        std::mem::forget(producer.reserve_bytes(8).unwrap());
        producer.push_bytes(b"after").unwrap();
        let mut seen = Vec::new();
        let drain = |seen: &mut Vec<Vec<u8>>| {
            ring.drain(0, |s| {
                seen.push(s.to_vec());
                ControlFlow::Continue(())
            })
        };
        assert_eq!(drain(&mut seen), Ok(1), "stops at the leaked record");
        drop(producer);
        let mut producer = ring.user_ring_buf().unwrap();
        assert_eq!(producer.recovered(), 1);
        producer.push_bytes(b"two").unwrap();
        assert_eq!(drain(&mut seen), Ok(2));
        assert_eq!(seen, [&b"one"[..], b"after", b"two"]);
        drop(producer);
        assert_eq!(ring.user_ring_buf().unwrap().recovered(), 0);
    }
}
