//! [`RingBuf`]: one mapped `BPF_MAP_TYPE_RINGBUF`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use crate::claim::RingId;
use crate::error::RingBufError;
use crate::memory_ring::Shared;
use crate::mmap::Mapping;
use crate::ring::RawRing;
use crate::sys::{self, MapOrigin};
use crate::uapi::BPF_MAP_TYPE_RINGBUF;

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
    raw: RawRing,
    map_flags: u32,
    id: RingId,
    backing: Backing,
}

/// What keeps the memory behind `RingBuf::raw` alive.
#[derive(Debug)]
enum Backing {
    Kernel { fd: OwnedFd, _mapping: Mapping },
    Memory(Arc<Shared>),
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
        let (fd, info) = sys::open_map(origin, BPF_MAP_TYPE_RINGBUF)?;
        let page_size = sys::page_size();
        let size = info.max_entries as usize;
        if !size.is_power_of_two() || !size.is_multiple_of(page_size) {
            return Err(RingBufError::BadSize {
                size: u64::from(info.max_entries),
                page_size,
            });
        }
        let (mapping, raw) = Mapping::new(fd.as_fd(), size, page_size)?;
        Ok(Self {
            raw,
            map_flags: info.map_flags,
            id: RingId::Map(info.id),
            backing: Backing::Kernel {
                fd,
                _mapping: mapping,
            },
        })
    }

    /// A ring over an in-memory ring's shared state.
    pub(crate) fn from_memory(shared: Arc<Shared>) -> Self {
        Self {
            raw: shared.raw(),
            map_flags: shared.map_flags(),
            id: shared.id(),
            backing: Backing::Memory(shared),
        }
    }

    /// The size of the data area in bytes (the map's `max_entries`).
    pub fn buffer_size(&self) -> usize {
        self.raw.size()
    }

    /// Bytes between the published consumer position and the producer
    /// position: records not yet consumed, including reserved ones.
    pub fn available_bytes(&self) -> usize {
        self.raw.available_bytes()
    }

    /// The map's creation flags (`map_flags`).
    pub fn map_flags(&self) -> u32 {
        self.map_flags
    }

    /// Which ring this maps: the kernel's map id, or an in-memory ring's
    /// number. Every `RingBuf` of one map has the same id.
    pub fn id(&self) -> RingId {
        self.id
    }

    pub(crate) fn raw(&self) -> RawRing {
        self.raw
    }
}

impl AsFd for RingBuf {
    /// The map's descriptor; for an in-memory ring, the eventfd its
    /// producer signals.
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.backing {
            Backing::Kernel { fd, .. } => fd.as_fd(),
            Backing::Memory(shared) => shared.eventfd(),
        }
    }
}
