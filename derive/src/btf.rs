//! Reader for the `.BTF` section of a compiled BPF object.
//!
//! `clang -target bpf -g` describes every type the program uses in BPF Type
//! Format: a header, a list of type records and a string table
//! (`include/uapi/linux/btf.h`, `Documentation/bpf/btf.rst`). The derive reads
//! it at compile time to learn the C layout of an event struct: its size and
//! each member's offset, size and type.
//!
//! Only what a layout needs is kept, but every record is parsed with its exact
//! trailing data and every offset is bounds-checked, so a corrupt object gives
//! a [`BtfError`], never a panic. Only little-endian ELF64 objects are read:
//! that is what `clang -target bpf` (an alias of `bpfel`) emits on the
//! little-endian hosts the derive runs on.

mod elf;

use std::fmt;

pub(crate) use elf::ElfError;

/// `BTF_MAGIC`, read little-endian.
const BTF_MAGIC: u16 = 0xeb9f;
const BTF_VERSION: u8 = 1;
/// Size of version 1's `struct btf_header`.
const BTF_HEADER_LEN: usize = 24;
/// The kernel's `MAX_RESOLVE_DEPTH`: the longest chain of typedefs,
/// qualifiers, array dimensions or anonymous members followed before the
/// type graph is taken to be cyclic.
const MAX_RESOLVE_DEPTH: u32 = 32;
/// Pointer size on the BPF target; BTF does not record it.
const BPF_POINTER_SIZE: u32 = 8;

/// Why a BPF object's BTF could not be read, or a struct not found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BtfError {
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
    /// A chain longer than [`MAX_RESOLVE_DEPTH`].
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
            Self::StructNotFound { name, available } => {
                write!(f, "no struct or union named `{name}` in the BTF; ")?;
                match available.as_slice() {
                    [] => write!(f, "it has none")?,
                    names => write!(f, "it has: {}", names.join(", "))?,
                }
                // DESIGN.md section 4: a fact found with clang 14.
                write!(
                    f,
                    " (clang leaves out a struct used only through a local pointer: keep a \
                     global of its type)"
                )
            }
        }
    }
}

impl std::error::Error for BtfError {}

/// Whether a composite type is a `struct` or a `union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompositeKind {
    Struct,
    Union,
}

impl fmt::Display for CompositeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Struct => "struct",
            Self::Union => "union",
        })
    }
}

/// The C layout of a struct or union, as BTF records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StructLayout {
    /// The name looked up: the struct's tag, or a typedef naming it.
    pub(crate) name: String,
    pub(crate) kind: CompositeKind,
    /// `sizeof`, tail padding included.
    pub(crate) size: u32,
    /// Direct members in declaration order; see [`StructLayout::flattened`].
    pub(crate) members: Vec<Member>,
}

impl StructLayout {
    /// The members with each anonymous struct or union member replaced by its
    /// own members (recursively), their offsets made relative to this struct.
    ///
    /// This is how C code names them: `ev.addr` for a member of an anonymous
    /// union inside `ev`. Other unnamed members (bitfields) are kept.
    pub(crate) fn flattened(&self) -> Vec<Member> {
        fn push(out: &mut Vec<Member>, members: &[Member], base_bits: u32) {
            for member in members {
                let bit_offset = base_bits.saturating_add(member.bit_offset);
                if member.anonymous_members.is_empty() {
                    let byte_offset = bit_offset / 8;
                    out.push(Member {
                        byte_offset,
                        bit_offset,
                        ..member.clone()
                    });
                } else {
                    push(out, &member.anonymous_members, bit_offset);
                }
            }
        }
        let mut out = Vec::new();
        push(&mut out, &self.members, 0);
        out
    }
}

/// One member of a [`StructLayout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// Empty for anonymous struct/union members and unnamed bitfields.
    pub(crate) name: String,
    /// `bit_offset / 8`: the byte that holds the member's first bit.
    pub(crate) byte_offset: u32,
    /// Offset of the first bit from the start of the enclosing struct.
    pub(crate) bit_offset: u32,
    /// The width in bits when the member is a bitfield.
    pub(crate) bitfield_size: Option<u32>,
    /// Byte size of the member's type (for a bitfield, of its declared type).
    pub(crate) size: u32,
    /// The type as C spells it, for messages: `__u32`, `char[16]`,
    /// `struct inner`, `const char *`.
    pub(crate) type_name: String,
    /// For an anonymous struct or union member, its members with offsets
    /// relative to it; empty otherwise.
    pub(crate) anonymous_members: Vec<Member>,
}

/// A parsed `.BTF` section.
#[derive(Debug, Clone)]
pub(crate) struct Btf {
    /// Indexed by type id; id 0 is `void`.
    types: Vec<Type>,
}

#[derive(Debug, Clone)]
struct Type {
    name: String,
    kind: Kind,
}

/// A BTF type with what a layout needs of it. The ids it holds are checked
/// when followed: BTF may refer forward.
///
/// `Other` is a type with no size that no member has (void, FUNC, VAR,
/// DATASEC, DECL_TAG), named for messages; `Ptr` holds the pointee; `Enum`
/// (ENUM and ENUM64) and `Float` their size; `Alias` a typedef, qualifier or
/// type tag and the type it applies to.
#[derive(Debug, Clone)]
enum Kind {
    Other(&'static str),
    Int {
        size: u32,
        bits_offset: u32,
        bits: u32,
    },
    Ptr(u32),
    Array {
        elem: u32,
        nelems: u32,
    },
    Composite {
        kind: CompositeKind,
        size: u32,
        members: Vec<RawMember>,
    },
    Enum(u32),
    Float(u32),
    Fwd(CompositeKind),
    Alias(Alias, u32),
    FuncProto {
        ret: u32,
        params: Vec<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alias {
    Typedef,
    Volatile,
    Const,
    Restrict,
    TypeTag,
}

/// A `btf_member` with its name and decoded offset: the bit offset and, with
/// the struct's `kind_flag`, the bitfield width (0 when not a bitfield).
#[derive(Debug, Clone)]
struct RawMember {
    name: String,
    type_id: u32,
    bit_offset: u32,
    bitfield_size: u32,
}

impl Btf {
    /// Parses the `.BTF` section of a little-endian ELF64 BPF object.
    ///
    /// # Errors
    ///
    /// When the file is not such an object, has no `.BTF` section, or the
    /// section is malformed.
    pub(crate) fn from_elf(bytes: &[u8]) -> Result<Self, BtfError> {
        let section = elf::section(bytes, ".BTF").map_err(|source| BtfError::Elf { source })?;
        Self::parse(section.ok_or(BtfError::NoBtfSection)?)
    }

    /// Parses raw BTF: header, type area and string table.
    ///
    /// # Errors
    ///
    /// When the header is wrong, an area or record runs out of bounds, a kind
    /// is unknown or a name lies outside the string table.
    pub(crate) fn parse(data: &[u8]) -> Result<Self, BtfError> {
        let field = |at| read_u32(data, at).unwrap_or_default();
        if data.len() < BTF_HEADER_LEN {
            let (area, available) = ("header", data.len());
            return Err(BtfError::AreaOutOfBounds {
                area,
                offset: 0,
                len: 24,
                available,
            });
        }
        let magic = u16::from_le_bytes([data[0], data[1]]);
        if magic != BTF_MAGIC {
            return Err(BtfError::BadMagic { found: magic });
        }
        if data[2] != BTF_VERSION {
            return Err(BtfError::UnsupportedVersion { version: data[2] });
        }
        let hdr_len = field(4);
        let rest = usize::try_from(hdr_len)
            .ok()
            .filter(|&len| len >= BTF_HEADER_LEN)
            .and_then(|len| data.get(len..))
            .ok_or(BtfError::BadHeaderLength {
                hdr_len,
                section_len: data.len(),
            })?;
        let area = |area, offset: u32, len: u32| {
            let available = rest.len();
            slice(rest, offset.into(), len.into()).ok_or(BtfError::AreaOutOfBounds {
                area,
                offset,
                len,
                available,
            })
        };
        let type_area = area("type area", field(8), field(12))?;
        let strings = Strings(area("string table", field(16), field(20))?);
        if strings.0.first() != Some(&0) || strings.0.last() != Some(&0) {
            return Err(BtfError::BadStringTable { len: field(20) });
        }

        let mut types = vec![Type {
            name: String::new(),
            kind: Kind::Other("void"),
        }];
        let mut record = Record {
            area: type_area,
            offset: 0,
            type_id: 0,
        };
        while record.offset < type_area.len() {
            record.type_id = u32::try_from(types.len()).unwrap_or(u32::MAX);
            types.push(record.parse_type(&strings)?);
        }
        Ok(Self { types })
    }

    /// The layout of the struct or union named `name`, or of the struct or
    /// union that a typedef named `name` stands for.
    ///
    /// # Errors
    ///
    /// [`BtfError::StructNotFound`], listing the names the object has, when
    /// there is no such type; another error when a member's type is malformed.
    pub(crate) fn struct_layout(&self, name: &str) -> Result<StructLayout, BtfError> {
        let named = |kind: fn(&Kind) -> bool| {
            let mut ids = (0..).zip(&self.types);
            ids.find_map(|(id, ty)| (ty.name == name && kind(&ty.kind)).then_some(id))
        };
        let by_tag = named(|kind| matches!(kind, Kind::Composite { .. }));
        let by_typedef = || named(|kind| matches!(kind, Kind::Alias(Alias::Typedef, _)));
        let found = by_tag.or_else(by_typedef).filter(|_| !name.is_empty());
        let Some((type_id, kind, size)) = found.and_then(|id| self.composite_behind(id)) else {
            let available = self.composite_names();
            return Err(BtfError::StructNotFound {
                name: name.to_owned(),
                available,
            });
        };
        let members = self.members(type_id, 0)?;
        Ok(StructLayout {
            name: name.to_owned(),
            kind,
            size,
            members,
        })
    }

    /// Sorted, deduplicated names of the structs and unions, and of the
    /// typedefs that stand for one.
    fn composite_names(&self) -> Vec<String> {
        let mut names: Vec<String> = (0..)
            .zip(&self.types)
            .filter(|(id, ty)| !ty.name.is_empty() && self.composite_behind(*id).is_some())
            .map(|(_, ty)| ty.name.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The id, kind and size of the struct or union that `type_id` is, or
    /// names through typedefs and qualifiers.
    fn composite_behind(&self, type_id: u32) -> Option<(u32, CompositeKind, u32)> {
        let id = self.strip(type_id, Kind::alias_target).ok()?;
        match self.get(id).ok()?.kind {
            Kind::Composite { kind, size, .. } => Some((id, kind, size)),
            _ => None,
        }
    }

    fn get(&self, type_id: u32) -> Result<&Type, BtfError> {
        let count = self.types.len();
        let ty = usize::try_from(type_id)
            .ok()
            .and_then(|id| self.types.get(id));
        ty.ok_or(BtfError::TypeIdOutOfRange { type_id, count })
    }

    /// Follows `next` from `type_id` while it returns a type id, at most
    /// [`MAX_RESOLVE_DEPTH`] times.
    fn strip(
        &self,
        type_id: u32,
        mut next: impl FnMut(&Kind) -> Option<u32>,
    ) -> Result<u32, BtfError> {
        let mut id = type_id;
        for _ in 0..MAX_RESOLVE_DEPTH {
            match next(&self.get(id)?.kind) {
                Some(target) => id = target,
                None => return Ok(id),
            }
        }
        Err(BtfError::TooDeep { type_id })
    }

    /// The members of struct or union `type_id`, `depth` anonymous members
    /// deep.
    fn members(&self, type_id: u32, depth: u32) -> Result<Vec<Member>, BtfError> {
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(BtfError::TooDeep { type_id });
        }
        let Kind::Composite { members, .. } = &self.get(type_id)?.kind else {
            return Ok(Vec::new());
        };
        let member = |raw: &RawMember| {
            let resolved = self.strip(raw.type_id, Kind::alias_target)?;
            let mut bit_offset = raw.bit_offset;
            let mut bitfield_size = Some(raw.bitfield_size).filter(|&bits| bits != 0);
            let mut anonymous_members = Vec::new();
            match self.get(resolved)?.kind {
                // Without kind_flag, the INT type itself carries the width.
                Kind::Int {
                    size,
                    bits_offset,
                    bits,
                } if bitfield_size.is_none()
                    && (bits_offset != 0 || u64::from(bits) < u64::from(size) * 8) =>
                {
                    bit_offset = bit_offset.saturating_add(bits_offset);
                    bitfield_size = Some(bits);
                }
                Kind::Composite { .. } if raw.name.is_empty() => {
                    anonymous_members = self.members(resolved, depth + 1)?;
                }
                _ => {}
            }
            Ok(Member {
                name: raw.name.clone(),
                byte_offset: bit_offset / 8,
                bit_offset,
                bitfield_size,
                size: self.size_of(raw.type_id)?,
                type_name: self.spell(raw.type_id, 0)?,
                anonymous_members,
            })
        };
        members.iter().map(member).collect()
    }

    /// `sizeof` the type.
    fn size_of(&self, type_id: u32) -> Result<u32, BtfError> {
        let mut count: u32 = 1;
        let mut overflow = false;
        let id = self.strip(type_id, |kind| match *kind {
            Kind::Array { elem, nelems } => {
                count = count.checked_mul(nelems).unwrap_or_else(|| {
                    overflow = true;
                    0
                });
                Some(elem)
            }
            _ => kind.alias_target(),
        })?;
        let size = match self.get(id)?.kind {
            Kind::Int { size, .. }
            | Kind::Composite { size, .. }
            | Kind::Enum(size)
            | Kind::Float(size) => size,
            Kind::Ptr(_) => BPF_POINTER_SIZE,
            ref other => {
                return Err(BtfError::Unsized {
                    type_id: id,
                    kind: other.describe(),
                })
            }
        };
        let size = size.checked_mul(count).filter(|_| !overflow);
        size.ok_or(BtfError::SizeOverflow { type_id })
    }

    /// The type as C spells it, for messages; `depth` counts the types
    /// already entered.
    fn spell(&self, type_id: u32, depth: u32) -> Result<String, BtfError> {
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(BtfError::TooDeep { type_id });
        }
        let ty = self.get(type_id)?;
        let inner = |target| self.spell(target, depth + 1);
        let tagged = |keyword: &dyn fmt::Display| match ty.name.as_str() {
            "" => format!("{keyword} <anonymous>"),
            name => format!("{keyword} {name}"),
        };
        Ok(match &ty.kind {
            Kind::Composite { kind, .. } | Kind::Fwd(kind) => tagged(kind),
            Kind::Enum(_) => tagged(&"enum"),
            Kind::Ptr(target) => match &self.get(*target)?.kind {
                Kind::FuncProto { ret, params } => {
                    let params = params.iter().map(|&param| match param {
                        0 => Ok("...".to_owned()),
                        param => inner(param),
                    });
                    let params = params.collect::<Result<Vec<_>, _>>()?.join(", ");
                    format!("{} (*)({params})", inner(*ret)?)
                }
                _ => qualify("*", &inner(*target)?),
            },
            Kind::Array { .. } => {
                // `int[2][3]` is 2 arrays of 3 ints: the outer dimension first.
                let mut dims = String::new();
                let elem = self.strip(type_id, |kind| match *kind {
                    Kind::Array { elem, nelems } => {
                        dims.push_str(&format!("[{nelems}]"));
                        Some(elem)
                    }
                    _ => None,
                })?;
                format!("{}{dims}", inner(elem)?)
            }
            Kind::Alias(Alias::Const, target) => qualify("const", &inner(*target)?),
            Kind::Alias(Alias::Volatile, target) => qualify("volatile", &inner(*target)?),
            Kind::Alias(Alias::Restrict, target) => qualify("restrict", &inner(*target)?),
            Kind::Alias(Alias::TypeTag, target) => inner(*target)?,
            Kind::Other("void") => "void".to_owned(),
            Kind::FuncProto { .. } => "function".to_owned(),
            Kind::Int { .. } | Kind::Float(_) | Kind::Alias(Alias::Typedef, _) | Kind::Other(_) => {
                ty.name.clone()
            }
        })
    }
}

impl Kind {
    /// What a typedef, qualifier or type tag applies to.
    fn alias_target(&self) -> Option<u32> {
        match *self {
            Self::Alias(_, target) => Some(target),
            _ => None,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::Other(name) => name,
            Self::Int { .. } => "int",
            Self::Ptr(_) => "pointer",
            Self::Array { .. } => "array",
            Self::Composite {
                kind: CompositeKind::Struct,
                ..
            } => "struct",
            Self::Composite { .. } => "union",
            Self::Enum(_) => "enum",
            Self::Float(_) => "float",
            Self::Fwd(_) => "forward declaration",
            Self::Alias(..) => "typedef or qualifier",
            Self::FuncProto { .. } => "function prototype",
        }
    }
}

/// `T *`, `const T`, `T *const`: a pointer or a qualifier applied to `T`,
/// written `char **` rather than `char * *`.
fn qualify(qualifier: &str, target: &str) -> String {
    match (target.ends_with('*'), qualifier) {
        (true, _) => format!("{target}{qualifier}"),
        (false, "*") => format!("{target} *"),
        (false, _) => format!("{qualifier} {target}"),
    }
}

/// The string table, which [`Btf::parse`] checked starts and ends with NUL.
struct Strings<'a>(&'a [u8]);

impl Strings<'_> {
    fn get(&self, offset: u32) -> Result<String, BtfError> {
        let tail = usize::try_from(offset)
            .ok()
            .and_then(|offset| self.0.get(offset..));
        let tail = tail.filter(|tail| !tail.is_empty());
        let tail = tail.ok_or(BtfError::StringOutOfRange {
            offset,
            len: self.0.len(),
        })?;
        let name = tail.split(|&byte| byte == 0).next().unwrap_or_default();
        String::from_utf8(name.to_vec()).map_err(|_| BtfError::BadString { offset })
    }
}

/// A cursor over the type area.
struct Record<'a> {
    area: &'a [u8],
    offset: usize,
    /// The id of the type being read.
    type_id: u32,
}

impl Record<'_> {
    fn truncated(&self) -> BtfError {
        let (type_id, offset, type_len) = (self.type_id, self.offset, self.area.len());
        BtfError::TruncatedType {
            type_id,
            offset,
            type_len,
        }
    }

    fn u32(&mut self) -> Result<u32, BtfError> {
        let value = read_u32(self.area, self.offset).ok_or_else(|| self.truncated())?;
        self.offset += 4;
        Ok(value)
    }

    /// Reads `count` entries of `N` u32s each.
    fn entries<const N: usize>(&mut self, count: u32) -> Result<Vec<[u32; N]>, BtfError> {
        // Checked before allocating, so a huge vlen cannot exhaust memory.
        let needed = usize::try_from(count)
            .unwrap_or(usize::MAX)
            .saturating_mul(N * 4);
        if self.area.len().saturating_sub(self.offset) < needed {
            return Err(self.truncated());
        }
        let mut entry = || -> Result<[u32; N], BtfError> {
            let mut words = [0; N];
            for word in &mut words {
                *word = self.u32()?;
            }
            Ok(words)
        };
        (0..count).map(|_| entry()).collect()
    }

    /// Reads `count` entries whose first word is a name offset, and checks
    /// those offsets.
    fn named_entries<const N: usize>(
        &mut self,
        count: u32,
        strings: &Strings<'_>,
    ) -> Result<Vec<[u32; N]>, BtfError> {
        let entries = self.entries::<N>(count)?;
        for entry in &entries {
            strings.get(entry.first().copied().unwrap_or_default())?;
        }
        Ok(entries)
    }

    /// Parses one `struct btf_type` and its kind's trailing data.
    fn parse_type(&mut self, strings: &Strings<'_>) -> Result<Type, BtfError> {
        let name = strings.get(self.u32()?)?;
        let info = self.u32()?;
        let size_or_type = self.u32()?;
        let vlen = info & 0xffff;
        let kind_flag = info >> 31 == 1;
        let union_if = |union| {
            if union {
                CompositeKind::Union
            } else {
                CompositeKind::Struct
            }
        };
        let kind = match (info >> 24) & 0x1f {
            1 => {
                let int = self.u32()?;
                let (bits_offset, bits) = ((int >> 16) & 0xff, int & 0xff);
                Kind::Int {
                    size: size_or_type,
                    bits_offset,
                    bits,
                }
            }
            2 => Kind::Ptr(size_or_type),
            3 => {
                let (elem, _index_type, nelems) = (self.u32()?, self.u32()?, self.u32()?);
                Kind::Array { elem, nelems }
            }
            kind @ (4 | 5) => {
                let member = |[name_off, type_id, offset]: [u32; 3]| {
                    let name = strings.get(name_off)?;
                    let (bit_offset, bitfield_size) = if kind_flag {
                        (offset & 0xff_ffff, offset >> 24)
                    } else {
                        (offset, 0)
                    };
                    Ok(RawMember {
                        name,
                        type_id,
                        bit_offset,
                        bitfield_size,
                    })
                };
                let members = self.entries::<3>(vlen)?.into_iter().map(member); // btf_member
                let members = members.collect::<Result<_, BtfError>>()?;
                Kind::Composite {
                    kind: union_if(kind == 5),
                    size: size_or_type,
                    members,
                }
            }
            6 => {
                self.named_entries::<2>(vlen, strings)?; // btf_enum: name, value
                Kind::Enum(size_or_type)
            }
            7 => Kind::Fwd(union_if(kind_flag)),
            8 => Kind::Alias(Alias::Typedef, size_or_type),
            9 => Kind::Alias(Alias::Volatile, size_or_type),
            10 => Kind::Alias(Alias::Const, size_or_type),
            11 => Kind::Alias(Alias::Restrict, size_or_type),
            12 => Kind::Other("function"),
            13 => {
                let params = self.named_entries::<2>(vlen, strings)?; // btf_param
                let params = params.iter().map(|[_, type_id]| *type_id).collect();
                Kind::FuncProto {
                    ret: size_or_type,
                    params,
                }
            }
            14 => {
                self.u32()?; // linkage
                Kind::Other("variable")
            }
            15 => {
                self.entries::<3>(vlen)?; // btf_var_secinfo: type, offset, size
                Kind::Other("data section")
            }
            16 => Kind::Float(size_or_type),
            17 => {
                self.u32()?; // component_idx
                Kind::Other("declaration tag")
            }
            18 => Kind::Alias(Alias::TypeTag, size_or_type),
            19 => {
                self.named_entries::<3>(vlen, strings)?; // btf_enum64: name, value lo, hi
                Kind::Enum(size_or_type)
            }
            kind => {
                return Err(BtfError::UnknownKind {
                    type_id: self.type_id,
                    kind,
                })
            }
        };
        Ok(Type { name, kind })
    }
}

/// The `len` bytes at `offset`, if they all lie in `bytes`.
fn slice(bytes: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let bytes = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built from `tests/btf/layouts.bpf.c` by the repository's `build-bpf.sh`.
    const LAYOUTS: &[u8] = include_bytes!("../tests/btf/layouts.bpf.o");

    fn layout(name: &str) -> StructLayout {
        let btf = Btf::from_elf(LAYOUTS).expect("layouts.bpf.o parses");
        btf.struct_layout(name).expect("struct is in layouts.bpf.o")
    }

    /// `(name, byte_offset, size, type_name)` of each member.
    fn summary(members: &[Member]) -> Vec<(&str, u32, u32, &str)> {
        members
            .iter()
            .map(|m| (m.name.as_str(), m.byte_offset, m.size, m.type_name.as_str()))
            .collect()
    }

    fn plain(name: &str, byte_offset: u32, size: u32, type_name: &str) -> Member {
        Member {
            name: name.to_owned(),
            byte_offset,
            bit_offset: byte_offset * 8,
            bitfield_size: None,
            size,
            type_name: type_name.to_owned(),
            anonymous_members: Vec::new(),
        }
    }

    #[test]
    fn exec_event_layout() {
        let exec = layout("exec_event");
        assert_eq!(exec.name, "exec_event");
        assert_eq!(exec.kind, CompositeKind::Struct);
        assert_eq!(exec.size, 296);
        assert_eq!(
            exec.members,
            [
                plain("pid", 0, 4, "__u32"),
                plain("ppid", 4, 4, "__u32"),
                plain("uid", 8, 4, "__u32"),
                plain("pad", 12, 4, "__u32"),
                plain("comm", 16, 16, "char[16]"),
                plain("filename", 32, 256, "char[256]"),
                plain("ts", 288, 8, "__u64"),
            ]
        );
        assert_eq!(exec.flattened(), exec.members);
    }

    #[test]
    fn implicit_padding() {
        let padded = layout("padded");
        assert_eq!(padded.size, 16);
        assert_eq!(
            summary(&padded.members),
            [("a", 0, 4, "__u32"), ("b", 8, 8, "__u64")]
        );
    }

    #[test]
    fn bitfields_with_kind_flag() {
        let bits = layout("bitfields");
        assert_eq!(bits.size, 24);
        let found: Vec<_> = bits
            .members
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.byte_offset,
                    m.bit_offset,
                    m.bitfield_size,
                    m.size,
                )
            })
            .collect();
        // clang 14 leaves the unnamed `unsigned int : 4` out of BTF, and
        // `big` does not fit the 8-byte unit `count` ends in, so it starts a
        // new one at bit 64.
        assert_eq!(
            found,
            [
                ("kind", 0, 0, None, 1),
                ("flag", 1, 8, Some(1), 4),
                ("level", 1, 9, Some(3), 4),
                ("count", 2, 16, Some(10), 2),
                ("big", 8, 64, Some(40), 8),
                ("tail", 16, 128, None, 4),
            ]
        );
        assert_eq!(bits.members[1].type_name, "unsigned int");
    }

    #[test]
    fn packed_struct() {
        let packed = layout("packed");
        assert_eq!(packed.size, 15);
        assert_eq!(
            summary(&packed.members),
            [
                ("tag", 0, 1, "__u8"),
                ("value", 1, 4, "__u32"),
                ("wide", 5, 8, "__u64"),
                ("last", 13, 2, "__u16"),
            ]
        );
    }

    #[test]
    fn int128_fields_are_16_bytes_and_16_aligned() {
        let wide = layout("wide");
        assert_eq!(wide.size, 48);
        assert_eq!(
            summary(&wide.members),
            [
                ("tag", 0, 1, "__u8"),
                ("s", 16, 16, "__int128"),
                ("u", 32, 16, "unsigned __int128")
            ]
        );
    }

    #[test]
    fn nested_structs_and_arrays() {
        let nested = layout("nested");
        assert_eq!(nested.size, 80);
        assert_eq!(
            summary(&nested.members),
            [
                ("tag", 0, 1, "__u8"),
                ("one", 4, 8, "struct inner"),
                ("many", 12, 24, "struct inner[3]"),
                ("grid", 36, 24, "__u32[2][3]"),
                ("argv", 64, 16, "char *[2]"),
            ]
        );
        // Named nested structs stay whole when flattened.
        assert_eq!(nested.flattened(), nested.members);
        let inner = layout("inner");
        assert_eq!(
            summary(&inner.members),
            [("x", 0, 2, "__u16"), ("y", 4, 4, "__u32")]
        );
    }

    #[test]
    fn anonymous_union_flattens() {
        let tagged = layout("tagged");
        assert_eq!(tagged.size, 24);
        assert_eq!(
            summary(&tagged.members),
            [
                ("kind", 0, 4, "__u32"),
                ("", 8, 8, "union <anonymous>"),
                ("state", 16, 4, "enum state")
            ]
        );
        assert_eq!(
            summary(&tagged.members[1].anonymous_members),
            [("addr", 0, 8, "__u64"), ("", 0, 4, "struct <anonymous>")]
        );
        assert_eq!(
            tagged.flattened(),
            [
                plain("kind", 0, 4, "__u32"),
                plain("addr", 8, 8, "__u64"),
                plain("port", 8, 2, "__u16"),
                plain("proto", 10, 1, "__u8"),
                plain("state", 16, 4, "enum state"),
            ]
        );
    }

    #[test]
    fn union_layout() {
        let value = layout("value");
        assert_eq!(value.kind, CompositeKind::Union);
        assert_eq!(value.kind.to_string(), "union");
        assert_eq!(value.size, 16);
        assert_eq!(
            summary(&value.members),
            [
                ("u", 0, 4, "__u32"),
                ("s", 0, 8, "__s64"),
                ("bytes", 0, 12, "char[12]")
            ]
        );
    }

    #[test]
    fn qualifiers_typedefs_pointers_and_tags() {
        let qualified = layout("qualified");
        assert_eq!(qualified.size, 72);
        assert_eq!(
            summary(&qualified.members),
            [
                ("c", 0, 4, "const __u32"),
                ("v", 4, 2, "volatile __u16"),
                ("ts", 8, 8, "cv_stamp_t"),
                ("name", 16, 8, "const char *"),
                ("out", 24, 8, "__u64 *restrict"),
                ("ctx", 32, 8, "void *"),
                ("callback", 40, 8, "int (*)(int, char *)"),
                ("ratio", 48, 8, "double"),
                ("tagged", 56, 4, "__u32"),
                ("user_ptr", 64, 8, "__u64 *"),
            ]
        );
    }

    #[test]
    fn typedef_names_an_anonymous_struct() {
        let pair = layout("pair_t");
        assert_eq!(pair.name, "pair_t");
        assert_eq!(pair.size, 8);
        assert_eq!(
            summary(&pair.members),
            [("lo", 0, 4, "__u32"), ("hi", 4, 4, "__u32")]
        );
    }

    #[test]
    fn missing_struct_lists_what_is_there() {
        let btf = Btf::from_elf(LAYOUTS).unwrap();
        let err = btf.struct_layout("exec_evnet").unwrap_err();
        let names = [
            "bitfields",
            "exec_event",
            "inner",
            "nested",
            "packed",
            "padded",
            "pair_t",
            "qualified",
            "tagged",
            "value",
            "wide",
        ];
        assert_eq!(
            err,
            BtfError::StructNotFound {
                name: "exec_evnet".to_owned(),
                available: names.map(str::to_owned).to_vec()
            }
        );
        let message = err.to_string();
        assert!(message.starts_with("no struct or union named `exec_evnet` in the BTF; it has: "));
        assert!(message.contains(&names.join(", ")), "{message}");
        // Neither typedefs of scalars nor other kinds count as structs.
        assert!(btf.struct_layout("__u32").is_err());
        assert!(btf.struct_layout("events").is_err());
        assert!(btf.struct_layout("").is_err());
    }

    /// A copy of [`LAYOUTS`] and the range of its `.BTF` section.
    fn layouts_with_btf_range() -> (Vec<u8>, std::ops::Range<usize>) {
        let section = elf::section(LAYOUTS, ".BTF").unwrap().unwrap();
        let start = section.as_ptr() as usize - LAYOUTS.as_ptr() as usize;
        (LAYOUTS.to_vec(), start..start + section.len())
    }

    pub(super) fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
        bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
    }

    /// Parses `LAYOUTS` with `edit` applied to its `.BTF` section.
    fn parse_edited(edit: impl FnOnce(&mut [u8])) -> Result<Btf, BtfError> {
        let (mut file, range) = layouts_with_btf_range();
        edit(&mut file[range]);
        Btf::from_elf(&file)
    }

    #[test]
    fn corrupt_btf_header() {
        assert_eq!(
            parse_edited(|btf| btf[0] = 0).unwrap_err(),
            BtfError::BadMagic { found: 0xeb00 }
        );
        let err = parse_edited(|btf| btf.swap(0, 1)).unwrap_err();
        assert_eq!(err, BtfError::BadMagic { found: 0x9feb });
        assert!(err.to_string().contains("big-endian"), "{err}");
        assert_eq!(
            parse_edited(|btf| btf[2] = 2).unwrap_err(),
            BtfError::UnsupportedVersion { version: 2 }
        );
        let err = parse_edited(|btf| put_u32(btf, 4, 8)).unwrap_err();
        assert!(
            matches!(err, BtfError::BadHeaderLength { hdr_len: 8, .. }),
            "{err}"
        );
        let err = parse_edited(|btf| put_u32(btf, 4, u32::MAX)).unwrap_err();
        assert!(matches!(err, BtfError::BadHeaderLength { .. }), "{err}");
        assert_eq!(
            Btf::parse(&[0x9f, 0xeb, 1]).unwrap_err(),
            BtfError::AreaOutOfBounds {
                area: "header",
                offset: 0,
                len: 24,
                available: 3
            }
        );
    }

    #[test]
    fn areas_past_the_end() {
        let (_, range) = layouts_with_btf_range();
        let available = range.len() - BTF_HEADER_LEN;
        // type_len pointing past the end of the section.
        let err = parse_edited(|btf| put_u32(btf, 12, 1 << 20)).unwrap_err();
        assert_eq!(
            err,
            BtfError::AreaOutOfBounds {
                area: "type area",
                offset: 0,
                len: 1 << 20,
                available
            }
        );
        assert!(err.to_string().contains("runs past"), "{err}");
        // str_off + str_len overflowing u32 arithmetic.
        let err = parse_edited(|btf| put_u32(btf, 16, u32::MAX)).unwrap_err();
        assert!(
            matches!(
                err,
                BtfError::AreaOutOfBounds {
                    area: "string table",
                    ..
                }
            ),
            "{err}"
        );
        // A type area cut short in the middle of a record.
        let err = parse_edited(|btf| put_u32(btf, 12, 2016 - 4)).unwrap_err();
        assert!(matches!(err, BtfError::TruncatedType { .. }), "{err}");
    }

    #[test]
    fn truncated_section_or_file() {
        let (file, range) = layouts_with_btf_range();
        // A file cut inside the .BTF section.
        let err = Btf::from_elf(&file[..range.start + 100]).unwrap_err();
        assert!(
            matches!(
                err,
                BtfError::Elf {
                    source: ElfError::OutOfBounds { .. }
                }
            ),
            "{err}"
        );
        // A section header claiming fewer bytes than the header says.
        assert_eq!(
            Btf::parse(&LAYOUTS[range.start..range.start + 100]).unwrap_err(),
            BtfError::AreaOutOfBounds {
                area: "type area",
                offset: 0,
                len: 2016,
                available: 100 - BTF_HEADER_LEN
            }
        );
        for len in 0..range.len() {
            assert!(Btf::parse(&LAYOUTS[range.start..range.start + len]).is_err());
        }
    }

    #[test]
    fn strings_out_of_range_or_unterminated() {
        let str_len = 783;
        let type_area = BTF_HEADER_LEN;
        // name_off of type 1.
        let err = parse_edited(|btf| put_u32(btf, type_area, str_len)).unwrap_err();
        assert_eq!(
            err,
            BtfError::StringOutOfRange {
                offset: str_len,
                len: str_len as usize
            }
        );
        assert!(
            err.to_string()
                .contains("outside the 783-byte string table"),
            "{err}"
        );
        let err = parse_edited(|btf| put_u32(btf, type_area, u32::MAX)).unwrap_err();
        assert!(matches!(err, BtfError::StringOutOfRange { .. }), "{err}");
        let err = parse_edited(|btf| {
            let last = btf.len() - 1;
            btf[last] = b'x';
        })
        .unwrap_err();
        assert_eq!(err, BtfError::BadStringTable { len: str_len });
        let strings = BTF_HEADER_LEN + 2016;
        let err = parse_edited(|btf| btf[strings + 1] = 0xff).unwrap_err();
        assert!(matches!(err, BtfError::BadString { offset: 1 }), "{err}");
    }

    #[test]
    fn elf_errors_and_missing_section() {
        let err = Btf::from_elf(b"BTF").unwrap_err();
        assert_eq!(
            err,
            BtfError::Elf {
                source: ElfError::NotElf { len: 3 }
            }
        );
        assert_eq!(err.to_string(), "the 3-byte file is not an ELF object");
        let file = elf::tests::elf_with(&[(".BTF.ext", &[0; 8])]);
        let err = Btf::from_elf(&file).unwrap_err();
        assert_eq!(err, BtfError::NoBtfSection);
        assert!(err.to_string().contains("clang -g"), "{err}");
    }

    /// Builds raw BTF type by type.
    struct Builder {
        types: Vec<u8>,
        strings: Vec<u8>,
        count: u32,
    }

    impl Builder {
        fn new() -> Self {
            Self {
                types: Vec::new(),
                strings: vec![0],
                count: 0,
            }
        }

        fn name(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            let offset = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            offset
        }

        /// Adds a type and returns its id.
        fn add(
            &mut self,
            name: &str,
            kind: u32,
            vlen: u32,
            size_or_type: u32,
            tail: &[u32],
        ) -> u32 {
            self.add_flagged(name, kind, false, vlen, size_or_type, tail)
        }

        fn add_flagged(
            &mut self,
            name: &str,
            kind: u32,
            kind_flag: bool,
            vlen: u32,
            size_or_type: u32,
            tail: &[u32],
        ) -> u32 {
            let name = self.name(name);
            let info = u32::from(kind_flag) << 31 | kind << 24 | vlen;
            for word in [name, info, size_or_type].iter().chain(tail) {
                self.types.extend_from_slice(&word.to_le_bytes());
            }
            self.count += 1;
            self.count
        }

        fn finish(&self) -> Vec<u8> {
            let mut btf = vec![0x9f, 0xeb, 1, 0];
            let type_len = self.types.len() as u32;
            for word in [24, 0, type_len, type_len, self.strings.len() as u32] {
                btf.extend_from_slice(&word.to_le_bytes());
            }
            btf.extend_from_slice(&self.types);
            btf.extend_from_slice(&self.strings);
            btf
        }
    }

    #[test]
    fn every_kind_and_old_style_bitfields() {
        let mut b = Builder::new();
        let int = b.add("int", 1, 0, 4, &[0x0100_0020]); // signed, 32 bits
        let flags3 = b.add("unsigned int", 1, 0, 4, &[(4 << 16) | 3]); // bits 4..7
        let ptr = b.add("", 2, 0, int, &[]);
        let arr = b.add("", 3, 0, 0, &[int, int, 4]);
        let (red, blue, huge) = (b.name("RED"), b.name("BLUE"), b.name("HUGE"));
        let e32 = b.add("color", 6, 2, 4, &[red, 0, blue, 1]);
        let e64 = b.add("big", 19, 1, 8, &[huge, 0, 1]);
        let fwd = b.add_flagged("later", 7, true, 0, 0, &[]);
        let fwd_ptr = b.add("", 2, 0, fwd, &[]);
        let typedef = b.add("i32", 8, 0, int, &[]);
        let volatile = b.add("", 9, 0, typedef, &[]);
        let restrict = b.add("", 11, 0, ptr, &[]);
        let param = b.name("a");
        let proto = b.add("", 13, 2, int, &[param, int, 0, 0]); // (int a, ...)
        b.add("f", 12, 0, proto, &[]);
        let float = b.add("float", 16, 0, 4, &[]);
        let tag = b.add("user", 18, 0, int, &[]);
        let mut members = Vec::new();
        let fields = [
            ("e32", e32, 0),
            ("e64", e64, 64),
            ("flags", flags3, 128),
            ("arr", arr, 160),
            ("p", restrict, 320),
            ("fp", fwd_ptr, 384),
            ("v", volatile, 448),
            ("fl", float, 480),
            ("t", tag, 512),
        ];
        for (field, ty, offset) in fields {
            members.extend([b.name(field), ty, offset]);
        }
        let s = b.add("s", 4, fields.len() as u32, 72, &members);
        let var = b.add("g", 14, 0, s, &[1]);
        b.add(".bss", 15, 1, 0, &[var, 0, 72]);
        b.add("tag", 17, 0, s, &[u32::MAX]);
        let raw = b.finish();

        let btf = Btf::parse(&raw).unwrap();
        let direct = Btf::from_elf(&elf::tests::elf_with(&[(".BTF", &raw)])).unwrap();
        assert_eq!(direct.types.len(), btf.types.len());
        let s = btf.struct_layout("s").unwrap();
        assert_eq!(
            summary(&s.members),
            [
                ("e32", 0, 4, "enum color"),
                ("e64", 8, 8, "enum big"),
                ("flags", 16, 4, "unsigned int"),
                ("arr", 20, 16, "int[4]"),
                ("p", 40, 8, "int *restrict"),
                ("fp", 48, 8, "union later *"),
                ("v", 56, 4, "volatile i32"),
                ("fl", 60, 4, "float"),
                ("t", 64, 4, "int"),
            ]
        );
        // Without kind_flag, the INT's own offset and width make a bitfield.
        assert_eq!(s.members[2].bit_offset, 128 + 4);
        assert_eq!(s.members[2].bitfield_size, Some(3));
        assert!(s
            .members
            .iter()
            .filter(|m| m.name != "flags")
            .all(|m| m.bitfield_size.is_none()));
        assert_eq!(btf.spell(proto, 0).unwrap(), "function");
        assert!(matches!(
            btf.size_of(fwd),
            Err(BtfError::Unsized {
                kind: "forward declaration",
                ..
            })
        ));
        assert!(matches!(
            btf.size_of(0),
            Err(BtfError::Unsized { kind: "void", .. })
        ));
    }

    #[test]
    fn malformed_types() {
        let mut b = Builder::new();
        b.add("x", 20, 0, 0, &[]);
        let err = Btf::parse(&b.finish()).unwrap_err();
        assert_eq!(
            err,
            BtfError::UnknownKind {
                type_id: 1,
                kind: 20
            }
        );
        assert_eq!(err.to_string(), "BTF type 1 has unknown kind 20");

        // A vlen of 65535 members with no data behind it.
        let mut b = Builder::new();
        b.add("s", 4, 0xffff, 8, &[]);
        let err = Btf::parse(&b.finish()).unwrap_err();
        assert!(
            matches!(err, BtfError::TruncatedType { type_id: 1, .. }),
            "{err}"
        );

        // A member of a type id that does not exist.
        let mut b = Builder::new();
        let member = b.name("m");
        b.add("s", 4, 1, 8, &[member, 99, 0]);
        let err = Btf::parse(&b.finish())
            .unwrap()
            .struct_layout("s")
            .unwrap_err();
        assert_eq!(
            err,
            BtfError::TypeIdOutOfRange {
                type_id: 99,
                count: 2
            }
        );

        // A typedef cycle and an array of itself.
        let mut b = Builder::new();
        let member = b.name("m");
        b.add("loop", 8, 0, 1, &[]);
        b.add("s", 4, 1, 8, &[member, 1, 0]);
        b.add("", 3, 0, 0, &[3, 3, 1]);
        b.add("t", 4, 1, 8, &[member, 3, 0]);
        let btf = Btf::parse(&b.finish()).unwrap();
        let err = btf.struct_layout("s").unwrap_err();
        assert_eq!(err, BtfError::TooDeep { type_id: 1 });
        assert!(matches!(
            btf.struct_layout("t"),
            Err(BtfError::TooDeep { .. })
        ));

        // A struct that is its own anonymous member.
        let mut b = Builder::new();
        b.add("self", 4, 1, 8, &[0, 1, 0]);
        let btf = Btf::parse(&b.finish()).unwrap();
        assert!(matches!(
            btf.struct_layout("self"),
            Err(BtfError::TooDeep { .. })
        ));

        // An array whose size overflows u32.
        let mut b = Builder::new();
        let member = b.name("m");
        b.add("long", 1, 0, 8, &[64]);
        b.add("", 3, 0, 0, &[1, 1, u32::MAX]);
        b.add("s", 4, 1, 8, &[member, 2, 0]);
        let err = Btf::parse(&b.finish())
            .unwrap()
            .struct_layout("s")
            .unwrap_err();
        assert_eq!(err, BtfError::SizeOverflow { type_id: 2 });
    }

    /// Random byte edits of the real object never panic.
    #[test]
    fn mutations_never_panic() {
        let (file, range) = layouts_with_btf_range();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let rounds = if cfg!(miri) { 20 } else { 3000 };
        for _ in 0..rounds {
            let mut file = file.clone();
            for _ in 0..1 + next() % 4 {
                // Mostly the BTF, sometimes anywhere (ELF headers included).
                let at = match next() % 4 {
                    0 => next() as usize % file.len(),
                    _ => range.start + next() as usize % range.len(),
                };
                file[at] = match next() % 3 {
                    0 => next() as u8,
                    1 => 0xff,
                    _ => 0,
                };
            }
            if let Ok(btf) = Btf::from_elf(&file) {
                for name in btf.composite_names() {
                    if let Ok(layout) = btf.struct_layout(&name) {
                        layout.flattened();
                    }
                }
            }
        }
    }
}
