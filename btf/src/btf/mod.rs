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

pub(crate) mod elf;
mod error;
mod record;

pub use elf::ElfError;
pub use error::BtfError;
use record::{Record, Strings};

use crate::layout::{
    summarize, Budget, CompositeKind, Member, OtherType, Scalar, Shape, StructLayout, MAX_MEMBERS,
    MAX_RESOLVE_DEPTH,
};

/// `BTF_MAGIC`, read little-endian.
const BTF_MAGIC: u16 = 0xeb9f;
const BTF_VERSION: u8 = 1;
/// Size of version 1's `struct btf_header`.
const BTF_HEADER_LEN: usize = 24;
/// Pointer size on the BPF target; BTF does not record it.
const BPF_POINTER_SIZE: u32 = 8;

/// A parsed `.BTF` section.
#[derive(Debug, Clone)]
pub struct Btf {
    /// Indexed by type id; id 0 is `void`.
    types: Vec<Type>,
}

#[derive(Debug, Clone)]
struct Type {
    name: String,
    kind: Kind,
    /// How to read a value of this type, for INT, PTR, ENUM, ENUM64 and
    /// FLOAT.
    scalar: Option<Scalar>,
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
    pub fn from_elf(bytes: &[u8]) -> Result<Self, BtfError> {
        let section = elf::section(bytes, ".BTF").map_err(|source| BtfError::Elf { source })?;
        Self::parse(section.ok_or(BtfError::NoBtfSection)?)
    }

    /// Parses raw BTF: header, type area and string table.
    ///
    /// # Errors
    ///
    /// When the header is wrong, an area or record runs out of bounds, a kind
    /// is unknown or a name lies outside the string table.
    pub fn parse(data: &[u8]) -> Result<Self, BtfError> {
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
            scalar: None,
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
    /// there is no such type; [`BtfError::Ambiguous`] when two different
    /// structs have that name; another error when a member's type is
    /// malformed or the layout expands to too many members.
    pub fn struct_layout(&self, name: &str) -> Result<StructLayout, BtfError> {
        let named = |kind: fn(&Kind) -> bool| -> Vec<u32> {
            let ids = (0..).zip(&self.types);
            ids.filter(|(_, ty)| ty.name == name && kind(&ty.kind))
                .map(|(id, _)| id)
                .collect()
        };
        let mut ids = named(|kind| matches!(kind, Kind::Composite { .. }));
        if ids.is_empty() {
            ids = named(|kind| matches!(kind, Kind::Alias(Alias::Typedef, _)));
        }
        let found: Vec<_> = ids
            .into_iter()
            .filter(|_| !name.is_empty())
            .filter_map(|id| self.composite_behind(id))
            .collect();
        if found.is_empty() {
            return Err(BtfError::StructNotFound {
                name: name.to_owned(),
                available: self.composite_names(),
            });
        }
        let mut layouts: Vec<StructLayout> = Vec::new();
        for (type_id, kind, size) in found {
            let mut budget = Budget::default();
            let layout = StructLayout {
                name: name.to_owned(),
                kind,
                size,
                members: self.members(type_id, 0, &mut budget)?,
            };
            if !layouts.contains(&layout) {
                layouts.push(layout);
            }
        }
        if layouts.len() > 1 {
            return Err(BtfError::Ambiguous {
                name: name.to_owned(),
                layouts: layouts.iter().map(summarize).collect(),
            });
        }
        Ok(layouts.remove(0))
    }

    /// What a type named `name` that is no struct or union (nor a typedef of
    /// one) is, as C spells it: `enum op`, or a typedef and what it names
    /// (`("path_t", "char[16]")` for `typedef char path_t[16]`).
    pub fn other_type(&self, name: &str) -> Option<OtherType> {
        if name.is_empty() {
            return None;
        }
        (0..).zip(&self.types).find_map(|(id, ty)| {
            if ty.name != name || self.composite_behind(id).is_some() {
                return None;
            }
            match ty.kind {
                Kind::Enum(_) => Some(OtherType::Enum),
                Kind::Alias(Alias::Typedef, target) => {
                    Some(OtherType::Typedef(self.spell(target, 1).ok()?))
                }
                _ => None,
            }
        })
    }

    /// Sorted, deduplicated names of the structs and unions, and of the
    /// typedefs that stand for one.
    pub fn composite_names(&self) -> Vec<String> {
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

    /// The members of struct or union `type_id`, nested `depth` levels
    /// deep, each with its shape: nested structs and arrays expanded all the
    /// way down, within `budget`.
    fn members(
        &self,
        type_id: u32,
        depth: u32,
        budget: &mut Budget,
    ) -> Result<Vec<Member>, BtfError> {
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(BtfError::TooDeep { type_id });
        }
        let Kind::Composite { members, .. } = &self.get(type_id)?.kind else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(members.len());
        for raw in members {
            if !budget.take(1) {
                return Err(BtfError::TooManyMembers { limit: MAX_MEMBERS });
            }
            let resolved = self.strip(raw.type_id, Kind::alias_target)?;
            let mut bit_offset = raw.bit_offset;
            let mut bitfield_size = Some(raw.bitfield_size).filter(|&bits| bits != 0);
            // Without kind_flag, the INT type itself carries the width.
            if let Kind::Int {
                size,
                bits_offset,
                bits,
            } = self.get(resolved)?.kind
            {
                if bitfield_size.is_none()
                    && (bits_offset != 0 || u64::from(bits) < u64::from(size) * 8)
                {
                    bit_offset = bit_offset.saturating_add(bits_offset);
                    bitfield_size = Some(bits);
                }
            }
            out.push(Member {
                name: raw.name.clone(),
                byte_offset: bit_offset / 8,
                bit_offset,
                bitfield_size,
                size: self.size_of(raw.type_id)?,
                type_name: self.spell(raw.type_id, 0)?,
                shape: self.shape(raw.type_id, depth, budget)?,
                scalar: self.scalar_of(raw.type_id)?,
            });
        }
        Ok(out)
    }

    /// How to read the scalar that `type_id` is, or that each element of
    /// the array it is holds.
    fn scalar_of(&self, type_id: u32) -> Result<Option<Scalar>, BtfError> {
        let id = self.strip(type_id, |kind| match *kind {
            Kind::Array { elem, .. } => Some(elem),
            _ => kind.alias_target(),
        })?;
        Ok(self.get(id)?.scalar.clone())
    }

    /// What type `type_id` holds, nested layouts included; each type is
    /// expanded once per depth (see [`Budget::memoized`]).
    fn shape(&self, type_id: u32, depth: u32, budget: &mut Budget) -> Result<Shape, BtfError> {
        let too_many = || BtfError::TooManyMembers { limit: MAX_MEMBERS };
        budget.memoized(type_id.into(), depth, too_many, |budget| {
            self.expand_shape(type_id, depth, budget)
        })
    }

    fn expand_shape(
        &self,
        type_id: u32,
        depth: u32,
        budget: &mut Budget,
    ) -> Result<Shape, BtfError> {
        let mut dims = Vec::new();
        let elem = self.strip(type_id, |kind| match *kind {
            Kind::Array { elem, nelems } => {
                dims.push(nelems);
                Some(elem)
            }
            _ => kind.alias_target(),
        })?;
        let shape = match &self.get(elem)?.kind {
            Kind::Int { .. } | Kind::Enum(_) | Kind::Ptr(_) => Shape::Int,
            Kind::Float(_) => Shape::Float,
            Kind::Composite { kind, size, .. } => Shape::Composite(Box::new(StructLayout {
                name: self.spell(elem, 0)?,
                kind: *kind,
                size: *size,
                members: self.members(elem, depth + 1, budget)?,
            })),
            _ => Shape::Other,
        };
        if dims.is_empty() {
            return Ok(shape);
        }
        Ok(Shape::Array {
            dims,
            elem_size: self.size_of(elem)?,
            elem: Box::new(shape),
        })
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
        let tagged = |keyword: &dyn std::fmt::Display| match ty.name.as_str() {
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

/// The `len` bytes at `offset`, if they all lie in `bytes`.
pub(crate) fn slice(bytes: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

pub(crate) fn read_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let bytes = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests;
