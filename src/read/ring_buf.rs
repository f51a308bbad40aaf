//! [`RingBuf`]: one mapped `BPF_MAP_TYPE_RINGBUF`.

use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use crate::error::RingBufError;
use crate::kernel::bpf::{self, MapOrigin};
use crate::kernel::mmap::{self, Mapping};
use crate::read::cursor::RawRing;
use crate::ring_id::RingId;
use crate::uapi::{BPF_MAP_TYPE_RINGBUF, BPF_RINGBUF_HDR_SZ};

/// One BPF ring buffer, mapped into this process.
///
/// Owns the consumer page (read-write), the producer page and the data
/// pages mapped twice (read-only), and a duplicate of the map's descriptor.
/// Read it with a [`Reader`](crate::Reader) (copying, safe) or an
/// [`UnsafeReader`](crate::UnsafeReader) (zero-copy views).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::{Reader, RingBuf};
///
/// let ring = RingBuf::from_pinned("/sys/fs/bpf/events")?;
/// println!("{} bytes, {} unread", ring.buffer_size(), ring.available_bytes());
/// let mut reader = Reader::new(ring)?;
/// let record = reader.read()?;
/// println!("{} bytes", record.sample.len());
/// # Ok(())
/// # }
/// ```
#[doc(alias = "BPF_MAP_TYPE_RINGBUF")]
#[derive(Debug)]
pub struct RingBuf {
    /// INVARIANT: points into memory that `backing` keeps alive
    /// (`backing.raw()`, copied here so the readers reach it without a
    /// virtual call).
    raw: RawRing,
    backing: Arc<dyn RingBacking>,
}

/// What a ring is made of, to the readers: its memory, laid out as the
/// kernel's ring, and a descriptor that signals new records. The one seam
/// through which a ring plugs into the readers: a kernel map's mappings
/// ([`KernelRing`]) are one backing, an in-memory ring
/// ([`testing::MemoryRing`](crate::testing::MemoryRing)) another.
///
/// # Safety
///
/// - [`raw`](Self::raw) returns the same `RawRing` every time, pointing
///   into memory that stays mapped, laid out as a ring of that size, for as
///   long as the backing lives.
/// - [`id`](Self::id) is the same for every backing of one ring and
///   different for every other ring alive (the per-process claim keys on
///   it, so a second consumer of the same memory is refused).
/// - [`map_flags`](Self::map_flags) are the ring's true creation flags
///   (`BPF_F_RB_OVERWRITE` is refused by the zero-copy reader on them).
pub(crate) unsafe trait RingBacking: fmt::Debug + Send + Sync {
    /// The ring's memory.
    fn raw(&self) -> RawRing;
    /// The map's creation flags (`map_flags`).
    fn map_flags(&self) -> u32;
    /// Which ring this is.
    fn id(&self) -> RingId;
    /// Readable when a producer signals new records.
    fn descriptor(&self) -> BorrowedFd<'_>;
}

/// A kernel map's ring: a duplicate of the map's descriptor and its
/// mappings.
#[derive(Debug)]
struct KernelRing {
    fd: OwnedFd,
    /// INVARIANT: `raw` points into `_mapping`.
    raw: RawRing,
    map_flags: u32,
    id: RingId,
    _mapping: Mapping,
}

// SAFETY: `raw` points into `_mapping`, which this value owns and unmaps
// only on drop, and never changes.
unsafe impl RingBacking for KernelRing {
    fn raw(&self) -> RawRing {
        self.raw
    }

    fn map_flags(&self) -> u32 {
        self.map_flags
    }

    fn id(&self) -> RingId {
        self.id
    }

    fn descriptor(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl RingBuf {
    /// Maps the ring behind any map descriptor: aya's `MapData` or `RingBuf`,
    /// libbpf-rs's `Map`, an `OwnedFd`, a `BorrowedFd`. The descriptor is
    /// duplicated; the caller keeps its own.
    ///
    /// # Errors
    ///
    /// [`RingBufError::NotAMap`] when the descriptor is not a BPF map,
    /// [`RingBufError::WrongMapType`] for any map other than
    /// `BPF_MAP_TYPE_RINGBUF`, [`RingBufError::Syscall`] when duplicating,
    /// querying or mapping it fails (a closed descriptor fails here with
    /// `EBADF`).
    pub fn new<F: AsFd>(map: F) -> Result<Self, RingBufError> {
        Self::open(MapOrigin::Fd(map.as_fd()))
    }

    /// Opens a ring pinned in a BPF filesystem (`BPF_OBJ_GET`).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), plus [`RingBufError::Pinned`] when nothing
    /// is pinned at `path`, the path is not on a BPF filesystem, or this
    /// process lacks the permission, and [`RingBufError::PinnedNotAMap`]
    /// for a pinned program or link.
    pub fn from_pinned<P: AsRef<Path>>(path: P) -> Result<Self, RingBufError> {
        Self::open(MapOrigin::Pinned(path.as_ref()))
    }

    /// Opens a ring by its map id (`BPF_MAP_GET_FD_BY_ID`).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new), plus [`RingBufError::MapId`] when no map has
    /// this id or this process lacks CAP_SYS_ADMIN.
    pub fn from_map_id(id: u32) -> Result<Self, RingBufError> {
        Self::open(MapOrigin::Id(id))
    }

    fn open(origin: MapOrigin<'_>) -> Result<Self, RingBufError> {
        let (fd, info) = bpf::open_map(origin, BPF_MAP_TYPE_RINGBUF)?;
        let (size, page_size) = mmap::ring_size(info.max_entries)?;
        let (mapping, at) = Mapping::new(fd.as_fd(), size, page_size)?;
        // SAFETY: `at.consumer_pos` and `at.producer_pos` are page-aligned
        // words of live mappings of the consumer page (read-write) and
        // producer page (read-only); `at.data` is page-aligned and readable
        // for `2 * size` bytes, the second half mapping the same pages as
        // the first; both mappings are owned by `mapping`, which the
        // `KernelRing` below keeps for as long as it hands out the
        // `RawRing`; `size` is a power of two (checked above).
        let raw = unsafe { RawRing::new(at.consumer_pos, at.producer_pos, at.data, size) };
        Ok(Self::from_backing(Arc::new(KernelRing {
            fd,
            raw,
            map_flags: info.map_flags,
            id: RingId::Map(info.id),
            _mapping: mapping,
        })))
    }

    /// A ring over any backing (a kernel map's, or an in-memory ring's).
    pub(crate) fn from_backing(backing: Arc<dyn RingBacking>) -> Self {
        Self {
            raw: backing.raw(),
            backing,
        }
    }

    /// The size of the data area in bytes (the map's `max_entries`).
    pub fn buffer_size(&self) -> usize {
        self.raw.size()
    }

    /// The largest payload one record of this ring can carry: the buffer
    /// size less 16 bytes.
    ///
    /// A record takes `round_up(len + 8, 8)` bytes (its 8-byte header, then
    /// the payload padded to 8), and the kernel never lets the producer
    /// position run a whole ring ahead of the consumer position
    /// (`__bpf_ringbuf_reserve`), so even an empty ring takes at most
    /// `buffer_size() - 8` bytes of record, header included.
    ///
    /// # Examples
    ///
    /// ```
    /// let ring = ringview::testing::MemoryRing::new(4096)?;
    /// assert_eq!(ring.ring_buf().max_record_len(), 4080);
    /// # Ok::<(), ringview::RingBufError>(())
    /// ```
    pub fn max_record_len(&self) -> usize {
        // The stride `round_up(len + 8, 8)` must be at most `mask` (the
        // kernel's `new_prod_pos - cons_pos > rb->mask` check), so at most
        // `size - 8`: a header and at most `size - 16` bytes of payload.
        self.buffer_size().saturating_sub(2 * BPF_RINGBUF_HDR_SZ)
    }

    /// Bytes between the published consumer position and the producer
    /// position: records not yet consumed, including reserved ones.
    pub fn available_bytes(&self) -> usize {
        self.raw.available_bytes()
    }

    /// The map's creation flags (`map_flags`).
    pub fn map_flags(&self) -> u32 {
        self.backing.map_flags()
    }

    /// Which ring this maps: the kernel's map id, or an in-memory ring's
    /// number. Every `RingBuf` of one map has the same id.
    pub fn id(&self) -> RingId {
        self.backing.id()
    }

    pub(crate) fn raw(&self) -> RawRing {
        self.raw
    }
}

impl AsFd for RingBuf {
    /// The map's descriptor; for an in-memory ring, the eventfd its
    /// producer signals.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.backing.descriptor()
    }
}
