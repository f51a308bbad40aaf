//! `bpf(2)` calls: object info, pinned-object get, fd by id.
//!
//! The attribute layouts below are prefixes of `union bpf_attr` and
//! `struct bpf_map_info` from `include/uapi/linux/bpf.h`; the kernel accepts
//! a shorter attribute (zero-extended) and copies at most `info_len` bytes of
//! map info, so only the fields used are declared.

use std::ffi::CString;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::error::{OpenError, SyscallError};
use crate::kernel::epoll::dup;
use crate::uapi::{
    BPF_BTF_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID, BPF_OBJ_GET, BPF_OBJ_GET_INFO_BY_FD,
    BPF_PROG_GET_FD_BY_ID,
};

/// The prefix of `struct bpf_map_info` that ringview reads.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MapInfo {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; 16],
}

/// `bpf_attr.info` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C, align(8))]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `bpf_attr` for `BPF_OBJ_GET`.
#[repr(C, align(8))]
struct ObjGetAttr {
    pathname: u64,
    bpf_fd: u32,
    file_flags: u32,
    path_fd: i32,
    _pad: u32,
}

/// `bpf_attr` for the `*_GET_NEXT_ID` and `*_GET_FD_BY_ID` commands
/// (`start_id` shares its place with `map_id`, `prog_id` and `btf_id`).
#[repr(C, align(8))]
pub(crate) struct IdAttr {
    pub(crate) start_id: u32,
    pub(crate) next_id: u32,
    pub(crate) open_flags: u32,
    pub(crate) _pad: u32,
}

/// Calls `bpf(cmd, attr, size_of::<A>())`, retrying on `EINTR`.
///
/// # Safety
///
/// `attr` must be a valid attribute for `cmd`: every pointer it carries must
/// be valid for the access the kernel makes through it (for `cmd`) for the
/// duration of the call.
pub(crate) unsafe fn bpf<A>(
    cmd: libc::c_long,
    attr: &mut A,
    call: &'static str,
) -> Result<i64, SyscallError> {
    loop {
        // SAFETY: `attr` is a live, exclusive reference of `size_of::<A>()`
        // bytes, which the kernel reads and may write back; the pointers
        // inside it are valid by this function's contract.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd,
                attr as *mut A,
                mem::size_of::<A>() as libc::c_uint,
            )
        };
        if ret >= 0 {
            #[allow(
                clippy::useless_conversion,
                reason = "`c_long` is `i64` on 64-bit targets only"
            )]
            return Ok(i64::from(ret));
        }
        let err = SyscallError::last(call);
        if err.io_error.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Wraps a descriptor that `bpf(2)` just returned.
///
/// # Safety
///
/// `ret` is a descriptor this process owns and nothing else will close:
/// the return of a `bpf(2)` command that returns a new descriptor
/// (`BPF_OBJ_GET`, `BPF_*_GET_FD_BY_ID`).
pub(crate) unsafe fn owned_fd(ret: i64) -> OwnedFd {
    let raw = ret as i32;
    debug_assert!(raw >= 0 && i64::from(raw) == ret);
    // SAFETY: `raw` is a descriptor this process owns and nothing else will
    // close, by this function's contract; this is its only owner.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// `BPF_OBJ_GET_INFO_BY_FD` into `info`.
///
/// # Safety
///
/// Every pointer field of `info` (an info struct of the object's kind) is
/// 0 or valid for the writes its length field allows, for the call.
pub(crate) unsafe fn obj_info<T>(fd: BorrowedFd<'_>, info: &mut T) -> Result<(), SyscallError> {
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: mem::size_of::<T>() as u32,
        info: info as *mut T as u64,
    };
    // SAFETY: `attr.info` points at `info`, writable for `attr.info_len`
    // bytes and alive for the call; the pointers inside `info` are valid by
    // this function's contract.
    unsafe {
        bpf(
            BPF_OBJ_GET_INFO_BY_FD,
            &mut attr,
            "bpf(BPF_OBJ_GET_INFO_BY_FD)",
        )?
    };
    Ok(())
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a map.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfo, SyscallError> {
    let mut info = MapInfo::default();
    // SAFETY: `MapInfo` has no pointer fields.
    unsafe { obj_info(fd, &mut info)? };
    Ok(info)
}

/// `BPF_OBJ_GET`: opens a pinned object.
pub fn obj_get(path: &Path) -> Result<OwnedFd, SyscallError> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| SyscallError {
        call: "bpf(BPF_OBJ_GET)",
        io_error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path contains a NUL byte"),
    })?;
    let mut attr = ObjGetAttr {
        pathname: c_path.as_ptr() as u64,
        bpf_fd: 0,
        file_flags: 0,
        path_fd: 0,
        _pad: 0,
    };
    // SAFETY: `attr.pathname` points at a NUL-terminated string that lives
    // until `c_path` drops, after the call.
    let ret = unsafe { bpf(BPF_OBJ_GET, &mut attr, "bpf(BPF_OBJ_GET)")? };
    // SAFETY: `BPF_OBJ_GET` returns a new descriptor, which this process
    // owns and nothing else will close.
    Ok(unsafe { owned_fd(ret) })
}

/// The kinds of object a `*_GET_FD_BY_ID` command opens.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FdById {
    /// `BPF_MAP_GET_FD_BY_ID`.
    Map,
    /// `BPF_PROG_GET_FD_BY_ID`.
    Prog,
    /// `BPF_BTF_GET_FD_BY_ID`.
    Btf,
}

/// `BPF_MAP_GET_FD_BY_ID`, `BPF_PROG_GET_FD_BY_ID` or
/// `BPF_BTF_GET_FD_BY_ID`: opens the object of that kind with id `id`.
pub(crate) fn fd_by_id(kind: FdById, id: u32) -> Result<OwnedFd, SyscallError> {
    let (cmd, call) = match kind {
        FdById::Map => (BPF_MAP_GET_FD_BY_ID, "bpf(BPF_MAP_GET_FD_BY_ID)"),
        FdById::Prog => (BPF_PROG_GET_FD_BY_ID, "bpf(BPF_PROG_GET_FD_BY_ID)"),
        FdById::Btf => (BPF_BTF_GET_FD_BY_ID, "bpf(BPF_BTF_GET_FD_BY_ID)"),
    };
    let mut attr = IdAttr {
        start_id: id,
        next_id: 0,
        open_flags: 0,
        _pad: 0,
    };
    // SAFETY: the attribute carries no pointers.
    let ret = unsafe { bpf(cmd, &mut attr, call)? };
    // SAFETY: the `*_GET_FD_BY_ID` commands return a new descriptor, which
    // this process owns and nothing else will close.
    Ok(unsafe { owned_fd(ret) })
}

/// How the caller named a map, so that the errors of opening it name what
/// the caller passed (not the library's own duplicate descriptor).
#[derive(Debug, Clone, Copy)]
pub enum MapOrigin<'a> {
    /// A descriptor the caller owns.
    Fd(BorrowedFd<'a>),
    /// A path in a BPF filesystem.
    Pinned(&'a Path),
    /// A map id.
    Id(u32),
}

/// Opens the map `origin` names: a descriptor of this process's own (a
/// duplicate of the caller's, or a new one), checked to be a BPF map of type
/// `expected`, with its info.
pub fn open_map(origin: MapOrigin<'_>, expected: u32) -> Result<(OwnedFd, MapInfo), OpenError> {
    let fd = match origin {
        MapOrigin::Fd(fd) => dup(fd)?,
        MapOrigin::Pinned(path) => obj_get(path).map_err(|e| OpenError::Pinned {
            path: path.to_path_buf(),
            error: e.io_error,
        })?,
        MapOrigin::Id(id) => fd_by_id(FdById::Map, id).map_err(|e| OpenError::MapId {
            id,
            error: e.io_error,
        })?,
    };
    if let Some(target) = fd_target(fd.as_fd()) {
        if target != "anon_inode:bpf-map" {
            return Err(match origin {
                MapOrigin::Fd(caller) => OpenError::NotAMap {
                    fd: caller.as_raw_fd(),
                    target,
                },
                MapOrigin::Pinned(path) => OpenError::PinnedNotAMap {
                    path: path.to_path_buf(),
                    target,
                },
                // `BPF_MAP_GET_FD_BY_ID` returns map descriptors only.
                MapOrigin::Id(_) => OpenError::NotAMap {
                    fd: fd.as_raw_fd(),
                    target,
                },
            });
        }
    }
    let info = map_info(fd.as_fd())?;
    if info.map_type != expected {
        return Err(OpenError::WrongMapType {
            found: info.map_type,
            expected,
        });
    }
    Ok((fd, info))
}

/// What `/proc/self/fd/N` links to (`anon_inode:bpf-map` for a map), or
/// `None` when `/proc` is not mounted.
pub fn fd_target(fd: BorrowedFd<'_>) -> Option<String> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}
