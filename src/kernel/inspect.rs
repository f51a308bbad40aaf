//! Looking at the BPF objects of the whole host: every map and program by
//! id, what the kernel says of each, and the BTF it holds for them.
//!
//! This is what `bpftool map show` and `bpftool prog show` are made of:
//! `BPF_MAP_GET_NEXT_ID` and `BPF_PROG_GET_NEXT_ID` walk the ids,
//! `BPF_MAP_GET_FD_BY_ID`, `BPF_PROG_GET_FD_BY_ID` and
//! `BPF_BTF_GET_FD_BY_ID` open one, and `BPF_OBJ_GET_INFO_BY_FD` describes
//! it. Walking and opening by id need CAP_SYS_ADMIN.
//!
//! The attribute and info layouts are those of `include/uapi/linux/bpf.h`
//! (Linux v6.18); an info struct shorter than the kernel's is fine, the
//! kernel copies at most `info_len` bytes.
//!
//! # Examples
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ringview::inspect;
//!
//! for id in inspect::map_ids() {
//!     let info = inspect::map_info(id?)?;
//!     if info.is_ring() {
//!         println!("{} {} {} bytes", info.id, info.name, info.max_entries);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::os::fd::{AsFd, BorrowedFd};

use crate::cstr::cstr;
use crate::error::{map_type_name, SyscallError};
use crate::kernel::bpf::{bpf, fd_by_id, obj_info, FdById, IdAttr};
use crate::uapi::{
    BPF_MAP_GET_NEXT_ID, BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_USER_RINGBUF, BPF_PROG_GET_NEXT_ID,
};

/// The most map ids one program's info is asked for: the verifier allows
/// at most 64 maps per program (`MAX_USED_MAPS`); this leaves room.
const MAX_PROG_MAPS: u32 = 1024;

/// The largest BTF read from the kernel (vmlinux's is about 6 MiB).
const MAX_BTF_SIZE: u32 = 256 << 20;

/// What the kernel says of a map (`struct bpf_map_info`).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::inspect;
///
/// // Every ring on the host, with its type, size and BTF (walking the ids
/// // needs CAP_SYS_ADMIN).
/// for id in inspect::map_ids() {
///     let info = inspect::map_info(id?)?;
///     if info.is_ring() {
///         println!(
///             "{:>6} {:<16} {} {} bytes, btf {}",
///             info.id,
///             info.name,
///             info.type_name(),
///             info.max_entries,
///             info.btf_id
///         );
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapInfo {
    /// The map id (`bpftool map show id N`).
    pub id: u32,
    /// `enum bpf_map_type`: [`BPF_MAP_TYPE_RINGBUF`] is 27.
    pub map_type: u32,
    /// The map's name, as the loader gave it (at most 15 bytes).
    pub name: String,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// For a ring, its data size in bytes.
    pub max_entries: u32,
    /// The creation flags (`BPF_F_*`).
    pub map_flags: u32,
    /// The id of the BTF the map was created with, 0 for none.
    pub btf_id: u32,
    /// The key's type in that BTF, 0 for none.
    pub btf_key_type_id: u32,
    /// The value's type in that BTF, 0 for none (rings usually have none).
    pub btf_value_type_id: u32,
}

impl MapInfo {
    /// Whether the map is a `BPF_MAP_TYPE_RINGBUF` or a
    /// `BPF_MAP_TYPE_USER_RINGBUF`.
    pub fn is_ring(&self) -> bool {
        matches!(
            self.map_type,
            BPF_MAP_TYPE_RINGBUF | BPF_MAP_TYPE_USER_RINGBUF
        )
    }

    /// The uapi name of the map's type: `BPF_MAP_TYPE_RINGBUF`.
    pub fn type_name(&self) -> &'static str {
        map_type_name(self.map_type)
    }
}

/// What the kernel says of a program (`struct bpf_prog_info`).
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::inspect;
///
/// // Which programs write to which rings.
/// for id in inspect::prog_ids() {
///     let prog = inspect::prog_info(id?)?;
///     for &map_id in &prog.map_ids {
///         let map = inspect::map_info(map_id)?;
///         if map.is_ring() {
///             println!("prog {} ({}) -> ring {} ({})", prog.id, prog.name, map.id, map.name);
///         }
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgInfo {
    /// The program id (`bpftool prog show id N`).
    pub id: u32,
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// The program's name (at most 15 bytes).
    pub name: String,
    /// The id of the BTF the program was loaded with, 0 for none.
    pub btf_id: u32,
    /// The maps the program uses.
    pub map_ids: Vec<u32>,
}

/// The prefix of `struct bpf_map_info` (v6.18) up to `map_extra`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct RawMapInfo {
    map_type: u32,
    id: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    name: [u8; 16],
    ifindex: u32,
    btf_vmlinux_value_type_id: u32,
    netns_dev: u64,
    netns_ino: u64,
    btf_id: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_id: u32,
    map_extra: u64,
}

/// The prefix of `struct bpf_prog_info` (v6.18) up to `btf_id`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct RawProgInfo {
    prog_type: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
    name: [u8; 16],
    ifindex: u32,
    gpl_compatible: u32,
    netns_dev: u64,
    netns_ino: u64,
    nr_jited_ksyms: u32,
    nr_jited_func_lens: u32,
    jited_ksyms: u64,
    jited_func_lens: u64,
    btf_id: u32,
    _pad: u32,
}

/// The prefix of `struct bpf_btf_info` (v6.18).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct RawBtfInfo {
    btf: u64,
    btf_size: u32,
    id: u32,
    name: u64,
    name_len: u32,
    kernel_btf: u32,
}

/// Which kind of object an id walk visits.
#[derive(Debug, Clone, Copy)]
enum Walk {
    Maps,
    Progs,
}

/// The ids of every map (or program) on the host, in increasing order;
/// from [`map_ids`] and [`prog_ids`].
///
/// An object freed during the walk is simply not seen; one created during
/// it is seen if its id is above the last one returned. The first error
/// (usually `EPERM`: the walk needs CAP_SYS_ADMIN) ends the walk.
///
/// # Examples
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use ringview::inspect;
///
/// // The first error (EPERM without CAP_SYS_ADMIN) ends the walk.
/// let maps: Vec<u32> = inspect::map_ids().collect::<Result<_, _>>()?;
/// let progs = inspect::prog_ids().count();
/// println!("{} maps, {progs} programs", maps.len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Ids {
    walk: Walk,
    last: u32,
    done: bool,
}

/// Every map id on the host (`BPF_MAP_GET_NEXT_ID`).
pub fn map_ids() -> Ids {
    Ids {
        walk: Walk::Maps,
        last: 0,
        done: false,
    }
}

/// Every program id on the host (`BPF_PROG_GET_NEXT_ID`).
pub fn prog_ids() -> Ids {
    Ids {
        walk: Walk::Progs,
        last: 0,
        done: false,
    }
}

impl Iterator for Ids {
    type Item = Result<u32, SyscallError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (cmd, call) = match self.walk {
            Walk::Maps => (BPF_MAP_GET_NEXT_ID, "bpf(BPF_MAP_GET_NEXT_ID)"),
            Walk::Progs => (BPF_PROG_GET_NEXT_ID, "bpf(BPF_PROG_GET_NEXT_ID)"),
        };
        let mut attr = IdAttr {
            start_id: self.last,
            next_id: 0,
            open_flags: 0,
            _pad: 0,
        };
        // SAFETY: the attribute carries no pointers.
        match unsafe { bpf(cmd, &mut attr, call) } {
            Ok(_) => {
                self.last = attr.next_id;
                Some(Ok(attr.next_id))
            }
            Err(e) => {
                self.done = true;
                // ENOENT: no id above `start_id`, the end of the walk.
                (e.io_error.raw_os_error() != Some(libc::ENOENT)).then_some(Err(e))
            }
        }
    }
}

/// The name in a `char name[16]`, up to its NUL.
fn name_of(raw: &[u8; 16]) -> String {
    cstr(raw).to_string_lossy().into_owned()
}

/// What the kernel says of the map behind `fd`.
///
/// # Errors
///
/// When `fd` is not a BPF map, or `BPF_OBJ_GET_INFO_BY_FD` fails.
pub fn map_info_of(fd: BorrowedFd<'_>) -> Result<MapInfo, SyscallError> {
    let mut raw = RawMapInfo::default();
    // SAFETY: `bpf_map_info` has no pointer fields.
    unsafe { obj_info(fd, &mut raw)? };
    Ok(MapInfo {
        id: raw.id,
        map_type: raw.map_type,
        name: name_of(&raw.name),
        key_size: raw.key_size,
        value_size: raw.value_size,
        max_entries: raw.max_entries,
        map_flags: raw.map_flags,
        btf_id: raw.btf_id,
        btf_key_type_id: raw.btf_key_type_id,
        btf_value_type_id: raw.btf_value_type_id,
    })
}

/// What the kernel says of map `id` (`BPF_MAP_GET_FD_BY_ID`, then
/// `BPF_OBJ_GET_INFO_BY_FD`).
///
/// # Errors
///
/// `ENOENT` when no map has this id (it may have been freed since the walk
/// saw it), `EPERM` without CAP_SYS_ADMIN.
pub fn map_info(id: u32) -> Result<MapInfo, SyscallError> {
    let fd = fd_by_id(FdById::Map, id)?;
    map_info_of(fd.as_fd())
}

/// What the kernel says of program `id`, with the ids of the maps it uses.
///
/// # Errors
///
/// `ENOENT` when no program has this id, `EPERM` without CAP_SYS_ADMIN.
pub fn prog_info(id: u32) -> Result<ProgInfo, SyscallError> {
    let fd = fd_by_id(FdById::Prog, id)?;
    let mut raw = RawProgInfo::default();
    // SAFETY: every pointer field of `raw` is 0 (`nr_map_ids` too: this
    // asks for the count).
    unsafe { obj_info(fd.as_fd(), &mut raw)? };
    let mut map_ids = vec![0u32; raw.nr_map_ids.min(MAX_PROG_MAPS) as usize];
    if !map_ids.is_empty() {
        let mut with_maps = RawProgInfo {
            nr_map_ids: map_ids.len() as u32,
            map_ids: map_ids.as_mut_ptr() as u64,
            ..RawProgInfo::default()
        };
        // SAFETY: `with_maps.map_ids` points at `map_ids`, writable for
        // `nr_map_ids` u32s and alive for the call; the other pointer
        // fields are 0.
        unsafe { obj_info(fd.as_fd(), &mut with_maps)? };
        map_ids.truncate(with_maps.nr_map_ids as usize);
    }
    Ok(ProgInfo {
        id: raw.id,
        prog_type: raw.prog_type,
        name: name_of(&raw.name),
        btf_id: raw.btf_id,
        map_ids,
    })
}

/// The raw BTF (header, types, strings) the kernel holds under `id`: what
/// a program or map was loaded with. `ringview_btf::btf::Btf::parse` reads
/// it.
///
/// # Errors
///
/// `ENOENT` when no BTF has this id, `EPERM` without CAP_SYS_ADMIN.
pub fn btf(id: u32) -> Result<Vec<u8>, SyscallError> {
    let fd = fd_by_id(FdById::Btf, id)?;
    let mut info = RawBtfInfo::default();
    // SAFETY: the pointer fields of `info` are 0: this asks for the size.
    unsafe { obj_info(fd.as_fd(), &mut info)? };
    if info.btf_size > MAX_BTF_SIZE {
        return Err(SyscallError {
            call: "bpf(BPF_OBJ_GET_INFO_BY_FD)",
            io_error: std::io::Error::other(format!(
                "BTF id {id} is {} bytes, more than the {MAX_BTF_SIZE} read",
                info.btf_size
            )),
        });
    }
    let mut bytes = vec![0u8; info.btf_size as usize];
    let mut with_bytes = RawBtfInfo {
        btf: bytes.as_mut_ptr() as u64,
        btf_size: info.btf_size,
        ..RawBtfInfo::default()
    };
    // SAFETY: `with_bytes.btf` points at `bytes`, writable for `btf_size`
    // bytes and alive for the call; `name` is 0.
    unsafe { obj_info(fd.as_fd(), &mut with_bytes)? };
    bytes.truncate(with_bytes.btf_size.min(info.btf_size) as usize);
    Ok(bytes)
}
