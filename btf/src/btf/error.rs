//! Why a BPF object's BTF could not be read.

use std::fmt;

use super::{ElfError, BTF_HEADER_LEN, BTF_MAGIC, BTF_VERSION};
use crate::layout::MAX_RESOLVE_DEPTH;

/// Why a BPF object's BTF could not be read, or a struct not found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BtfError {
    /// The file is not a little-endian ELF64 object, or is malformed.
    Elf {
        source: ElfError,
    },
    NoBtfSection,
    /// `0x9feb` means big-endian BTF.
    BadMagic {
        found: u16,
    },
    UnsupportedVersion {
        version: u8,
    },
    /// `hdr_len` is shorter than version 1's header or longer than the section.
    BadHeaderLength {
        hdr_len: u32,
        section_len: usize,
    },
    /// The header, type area or string table runs past the end of the section.
    AreaOutOfBounds {
        area: &'static str,
        offset: u32,
        len: u32,
        available: usize,
    },
    /// The string table does not start and end with a NUL byte.
    BadStringTable {
        len: u32,
    },
    /// A type record or its trailing data runs past the end of the type area.
    TruncatedType {
        type_id: u32,
        offset: usize,
        type_len: usize,
    },
    UnknownKind {
        type_id: u32,
        kind: u32,
    },
    StringOutOfRange {
        offset: u32,
        len: usize,
    },
    /// A name that is not UTF-8.
    BadString {
        offset: u32,
    },
    TypeIdOutOfRange {
        type_id: u32,
        count: usize,
    },
    /// A chain longer than the kernel's `MAX_RESOLVE_DEPTH` (32).
    TooDeep {
        type_id: u32,
    },
    /// A member of a type without a size: void, a declaration, a function.
    Unsized {
        type_id: u32,
        kind: &'static str,
    },
    SizeOverflow {
        type_id: u32,
    },
    /// The layout expands to more than `limit` members.
    TooManyMembers {
        limit: u64,
    },
    /// Two different structs or unions have the name (objects linked
    /// together); `layouts` summarizes each.
    Ambiguous {
        name: String,
        layouts: Vec<String>,
    },
    /// `available` is sorted and deduplicated.
    StructNotFound {
        name: String,
        available: Vec<String>,
    },
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Elf { source } => source.fmt(f),
            Self::NoBtfSection => {
                write!(
                    f,
                    "the object has no .BTF section (compile it with clang -g)"
                )
            }
            Self::BadMagic { found } => {
                write!(f, "BTF magic is {found:#06x}, not {BTF_MAGIC:#06x}")?;
                if *found == BTF_MAGIC.swap_bytes() {
                    write!(f, " (big-endian BTF is not supported)")?;
                }
                Ok(())
            }
            Self::UnsupportedVersion { version } => {
                write!(
                    f,
                    "BTF version {version} is not supported, only {BTF_VERSION}"
                )
            }
            Self::BadHeaderLength {
                hdr_len,
                section_len,
            } => write!(
                f,
                "BTF header length {hdr_len} is not between {BTF_HEADER_LEN} and the \
                 {section_len}-byte section length"
            ),
            Self::AreaOutOfBounds {
                area,
                offset,
                len,
                available,
            } => write!(
                f,
                "BTF {area} at offset {offset} with length {len} runs past the end of the \
                 {available} bytes that hold it"
            ),
            Self::BadStringTable { len } => write!(
                f,
                "the {len}-byte BTF string table does not start and end with a NUL byte"
            ),
            Self::TruncatedType {
                type_id,
                offset,
                type_len,
            } => write!(
                f,
                "BTF type {type_id} at offset {offset} runs past the end of the {type_len}-byte \
                 type area"
            ),
            Self::UnknownKind { type_id, kind } => {
                write!(f, "BTF type {type_id} has unknown kind {kind}")
            }
            Self::StringOutOfRange { offset, len } => {
                write!(
                    f,
                    "BTF string offset {offset} is outside the {len}-byte string table"
                )
            }
            Self::BadString { offset } => {
                write!(f, "BTF string at offset {offset} is not valid UTF-8")
            }
            Self::TypeIdOutOfRange { type_id, count } => {
                write!(
                    f,
                    "BTF type id {type_id} is out of range: there are {count} types"
                )
            }
            Self::TooDeep { type_id } => write!(
                f,
                "BTF type {type_id} nests more than {MAX_RESOLVE_DEPTH} levels deep (a cycle?)"
            ),
            Self::Unsized { type_id, kind } => write!(f, "BTF type {type_id} ({kind}) has no size"),
            Self::SizeOverflow { type_id } => {
                write!(f, "the size of BTF type {type_id} overflows u32")
            }
            Self::TooManyMembers { limit } => write!(
                f,
                "the layout expands to more than {limit} members (nested and anonymous members \
                 counted once per use); the type graph is too large or crafted"
            ),
            Self::Ambiguous { name, layouts } => write!(
                f,
                "two different structs are named `{name}` (objects linked together?): {}; \
                 rename one in the C source",
                layouts.join(" and ")
            ),
            Self::StructNotFound { name, available } => write!(
                f,
                "no struct or union named `{name}` in the BTF (it has {} names)",
                available.len()
            ),
        }
    }
}

impl std::error::Error for BtfError {}
