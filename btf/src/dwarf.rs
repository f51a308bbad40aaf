//! The DWARF fallback: struct layouts from `.debug_info`.
//!
//! clang leaves out of BTF a struct that the program uses only as a local
//! variable or through a local pointer, which is how most BPF tools write
//! their events; `-g` still describes it in DWARF. This reads the DWARF with
//! `gimli` (read-only) into the same [`StructLayout`] the BTF reader gives,
//! so the checks cannot tell the two apart.
//!
//! The object is not linked, so its `.rel.debug_*` sections are not applied:
//! BPF objects use REL relocations whose addends sit in place against section
//! symbols, so string and string-offset values read as they are already
//! point at the right bytes. Every entry is copied into a small arena first,
//! then layouts are resolved from it with the depth and member limits the
//! BTF reader uses.

use std::collections::HashMap;
use std::fmt;

use gimli::{constants as dw, AttributeValue, EndianSlice, LittleEndian, SectionId};

use crate::btf::elf;
use crate::layout::{
    summarize, Budget, CompositeKind, Enumerator, Member, OtherType, Scalar, Shape, StructLayout,
    MAX_MEMBERS, MAX_RESOLVE_DEPTH,
};

/// Pointer size on the BPF target.
const BPF_POINTER_SIZE: u32 = 8;

/// Why the DWARF could not be read or has no such struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DwarfError {
    /// The object has no `.debug_info` (`bpftool gen object` strips it).
    NoDebugInfo,
    Elf(elf::ElfError),
    /// gimli's description of what is malformed.
    Malformed(String),
    TooDeep,
    TooManyMembers,
    StructNotFound {
        available: Vec<String>,
    },
    Ambiguous {
        name: String,
        layouts: Vec<String>,
    },
}

impl fmt::Display for DwarfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDebugInfo => f.write_str("the object has no DWARF (.debug_info)"),
            Self::Elf(e) => e.fmt(f),
            Self::Malformed(e) => write!(f, "the DWARF is malformed: {e}"),
            Self::TooDeep => write!(
                f,
                "a DWARF type nests more than {MAX_RESOLVE_DEPTH} levels deep (a cycle?)"
            ),
            Self::TooManyMembers => write!(
                f,
                "the DWARF layout expands to more than {MAX_MEMBERS} members"
            ),
            Self::StructNotFound { available } => write!(
                f,
                "no struct or union of that name in the DWARF either ({} names)",
                available.len()
            ),
            Self::Ambiguous { name, layouts } => write!(
                f,
                "two different structs are named `{name}` in the DWARF (objects linked \
                 together?): {}; rename one in the C source",
                layouts.join(" and ")
            ),
        }
    }
}

impl From<gimli::Error> for DwarfError {
    fn from(e: gimli::Error) -> Self {
        Self::Malformed(e.to_string())
    }
}

/// One debugging information entry, with what a layout needs of it.
#[derive(Debug, Default)]
struct Die {
    tag: u16,
    name: String,
    byte_size: Option<u64>,
    /// `DW_AT_type`, as an index into [`Unit::dies`].
    ty: Option<usize>,
    member_location: Option<u64>,
    data_bit_offset: Option<u64>,
    /// DWARF 2/3's `DW_AT_bit_offset` (which clang still emits for BPF):
    /// the bits before the field's most significant bit in its storage
    /// unit of `byte_size` bytes at `member_location`.
    bit_offset_from_msb: Option<u64>,
    bit_size: Option<u64>,
    encoding: Option<u8>,
    count: Option<u64>,
    /// An enumerator's `DW_AT_const_value`, as 64 bits.
    const_value: Option<u64>,
    /// Whether that value was written signed and negative (`DW_FORM_sdata`).
    const_negative: bool,
    declaration: bool,
    children: Vec<usize>,
}

/// The entries of one compilation unit.
#[derive(Debug, Default)]
struct Unit {
    dies: Vec<Die>,
}

/// The DWARF of an object, copied into arenas.
#[derive(Debug, Default)]
pub struct Dwarf {
    units: Vec<Unit>,
}

impl Dwarf {
    /// Reads `.debug_info` and what it refers to.
    ///
    /// # Errors
    ///
    /// [`DwarfError::NoDebugInfo`] when there is none; another error when the
    /// ELF or the DWARF is malformed.
    pub fn from_elf(file: &[u8]) -> Result<Self, DwarfError> {
        let section = |id: SectionId| -> Result<EndianSlice<'_, LittleEndian>, DwarfError> {
            let bytes = elf::section(file, id.name()).map_err(DwarfError::Elf)?;
            Ok(EndianSlice::new(bytes.unwrap_or_default(), LittleEndian))
        };
        if elf::section(file, ".debug_info")
            .map_err(DwarfError::Elf)?
            .is_none_or(<[u8]>::is_empty)
        {
            return Err(DwarfError::NoDebugInfo);
        }
        let dwarf = gimli::Dwarf::load(section)?;
        let mut units = Vec::new();
        let mut headers = dwarf.units();
        while let Some(header) = headers.next()? {
            let unit = dwarf.unit(header)?;
            units.push(read_unit(&dwarf, &unit)?);
        }
        Ok(Self { units })
    }

    /// The layout of the struct or union (or typedef of one) named `name`.
    ///
    /// # Errors
    ///
    /// [`DwarfError::StructNotFound`] with the names there are;
    /// [`DwarfError::Ambiguous`] when two different layouts have the name.
    pub fn struct_layout(&self, name: &str) -> Result<StructLayout, DwarfError> {
        let mut layouts: Vec<StructLayout> = Vec::new();
        for unit in &self.units {
            for (index, die) in unit.dies.iter().enumerate() {
                if die.name != name || die.declaration || name.is_empty() {
                    continue;
                }
                let target = match die.tag {
                    t if t == dw::DW_TAG_structure_type.0 || t == dw::DW_TAG_union_type.0 => {
                        Some(index)
                    }
                    t if t == dw::DW_TAG_typedef.0 => unit.strip(index, 0)?,
                    _ => None,
                };
                let Some(target) = target.filter(|&t| unit.is_composite(t)) else {
                    continue;
                };
                let mut budget = Budget::default();
                let mut layout = unit.layout(target, 0, &mut budget)?;
                layout.name = name.to_owned();
                if !layouts.contains(&layout) {
                    layouts.push(layout);
                }
            }
        }
        if layouts.len() > 1 {
            let layouts = layouts.iter().map(summarize).collect();
            let name = name.to_owned();
            return Err(DwarfError::Ambiguous { name, layouts });
        }
        layouts.pop().ok_or_else(|| DwarfError::StructNotFound {
            available: self.composite_names(),
        })
    }

    /// What a type named `name` that is no struct or union (nor a typedef
    /// of one) is: an enum, or a typedef of what C spells.
    pub fn other_type(&self, name: &str) -> Option<OtherType> {
        if name.is_empty() {
            return None;
        }
        self.units.iter().find_map(|unit| {
            unit.dies.iter().enumerate().find_map(|(index, die)| {
                if die.name != name || die.declaration || unit.is_composite(index) {
                    return None;
                }
                if die.tag == dw::DW_TAG_enumeration_type.0 {
                    Some(OtherType::Enum)
                } else if die.tag == dw::DW_TAG_typedef.0 {
                    let target = unit.strip(index, 0).ok().flatten();
                    if target.is_some_and(|t| unit.is_composite(t)) {
                        return None;
                    }
                    Some(OtherType::Typedef(unit.spell(die.ty, 1).ok()?))
                } else {
                    None
                }
            })
        })
    }

    /// Sorted, deduplicated names of the structs and unions (and typedefs of
    /// them) described.
    pub fn composite_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for unit in &self.units {
            for (index, die) in unit.dies.iter().enumerate() {
                let composite = unit.is_composite(index)
                    || (die.tag == dw::DW_TAG_typedef.0
                        && unit
                            .strip(index, 0)
                            .ok()
                            .flatten()
                            .is_some_and(|t| unit.is_composite(t)));
                if composite && !die.name.is_empty() {
                    names.push(die.name.clone());
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Copies the entries of `unit` into an arena.
fn read_unit(
    dwarf: &gimli::Dwarf<EndianSlice<'_, LittleEndian>>,
    unit: &gimli::Unit<EndianSlice<'_, LittleEndian>>,
) -> Result<Unit, DwarfError> {
    let mut dies: Vec<Die> = Vec::new();
    let mut by_offset: HashMap<usize, usize> = HashMap::new();
    // (index of the entry, its type's unit offset)
    let mut type_refs: Vec<(usize, usize)> = Vec::new();
    // The open parents: (depth, index).
    let mut parents: Vec<(isize, usize)> = Vec::new();
    let mut entries = unit.entries();
    while let Some(entry) = entries.next_dfs()? {
        let depth = entry.depth();
        while parents.last().is_some_and(|&(d, _)| d >= depth) {
            parents.pop();
        }
        let index = dies.len();
        if let Some(&(_, parent)) = parents.last() {
            if let Some(parent) = dies.get_mut(parent) {
                parent.children.push(index);
            }
        }
        by_offset.insert(entry.offset().0, index);
        let mut die = Die {
            tag: entry.tag().0,
            ..Die::default()
        };
        for attr in entry.attrs() {
            let value = attr.value();
            match attr.name() {
                dw::DW_AT_name => {
                    let name = dwarf.attr_string(unit, value)?;
                    die.name = String::from_utf8_lossy(name.slice()).into_owned();
                }
                dw::DW_AT_type => match value {
                    AttributeValue::UnitRef(offset) => type_refs.push((index, offset.0)),
                    _ => {
                        return Err(DwarfError::Malformed(
                            "a type reference outside its unit".to_owned(),
                        ))
                    }
                },
                dw::DW_AT_byte_size => die.byte_size = attr.udata_value(),
                dw::DW_AT_data_member_location => die.member_location = attr.udata_value(),
                dw::DW_AT_data_bit_offset => die.data_bit_offset = attr.udata_value(),
                dw::DW_AT_bit_offset => die.bit_offset_from_msb = attr.udata_value(),
                dw::DW_AT_bit_size => die.bit_size = attr.udata_value(),
                dw::DW_AT_encoding => {
                    if let AttributeValue::Encoding(e) = value {
                        die.encoding = Some(e.0);
                    }
                }
                dw::DW_AT_count => die.count = attr.udata_value(),
                dw::DW_AT_upper_bound => die.count = attr.udata_value().map(|u| u + 1),
                dw::DW_AT_declaration => die.declaration = true,
                dw::DW_AT_const_value => {
                    die.const_value = match value {
                        AttributeValue::Sdata(v) => {
                            die.const_negative = v < 0;
                            Some(v as u64)
                        }
                        AttributeValue::Udata(v) | AttributeValue::Data8(v) => Some(v),
                        AttributeValue::Data1(v) => Some(v.into()),
                        AttributeValue::Data2(v) => Some(v.into()),
                        AttributeValue::Data4(v) => Some(v.into()),
                        _ => None,
                    }
                }
                _ => {}
            }
        }
        dies.push(die);
        if entry.has_children() {
            parents.push((depth, index));
        }
    }
    for (index, offset) in type_refs {
        let target = by_offset.get(&offset).copied().ok_or_else(|| {
            DwarfError::Malformed(format!("a type reference to missing entry {offset:#x}"))
        })?;
        dies[index].ty = Some(target);
    }
    Ok(Unit { dies })
}

impl Unit {
    fn die(&self, index: usize) -> Result<&Die, DwarfError> {
        self.dies
            .get(index)
            .ok_or_else(|| DwarfError::Malformed(format!("no entry {index}")))
    }

    fn is_composite(&self, index: usize) -> bool {
        self.dies.get(index).is_some_and(|d| {
            !d.declaration
                && (d.tag == dw::DW_TAG_structure_type.0 || d.tag == dw::DW_TAG_union_type.0)
        })
    }

    /// Follows typedefs and qualifiers; `None` for `void`.
    fn strip(&self, index: usize, depth: u32) -> Result<Option<usize>, DwarfError> {
        let mut index = index;
        for _ in depth..MAX_RESOLVE_DEPTH {
            let die = self.die(index)?;
            let alias = [
                dw::DW_TAG_typedef,
                dw::DW_TAG_const_type,
                dw::DW_TAG_volatile_type,
                dw::DW_TAG_restrict_type,
                dw::DW_TAG_atomic_type,
            ];
            if !alias.iter().any(|t| t.0 == die.tag) {
                return Ok(Some(index));
            }
            match die.ty {
                Some(next) => index = next,
                None => return Ok(None),
            }
        }
        Err(DwarfError::TooDeep)
    }

    fn layout(
        &self,
        index: usize,
        depth: u32,
        budget: &mut Budget,
    ) -> Result<StructLayout, DwarfError> {
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(DwarfError::TooDeep);
        }
        let die = self.die(index)?;
        let kind = if die.tag == dw::DW_TAG_union_type.0 {
            CompositeKind::Union
        } else {
            CompositeKind::Struct
        };
        let mut members = Vec::new();
        for &child in &die.children {
            let m = self.die(child)?;
            if m.tag != dw::DW_TAG_member.0 {
                continue;
            }
            if !budget.take(1) {
                return Err(DwarfError::TooManyMembers);
            }
            let ty =
                m.ty.ok_or_else(|| DwarfError::Malformed("a member without a type".into()))?;
            let location_bits = m.member_location.unwrap_or(0).saturating_mul(8);
            let bit_offset = match (m.data_bit_offset, m.bit_offset_from_msb) {
                (Some(bits), _) => bits,
                // Little-endian (the reader's only byte order): the storage
                // unit's bits count up from its least significant one.
                (None, Some(from_msb)) => {
                    let unit_bits = match m.byte_size {
                        Some(size) => size.saturating_mul(8),
                        None => u64::from(self.size_of(ty, depth)?) * 8,
                    };
                    let width = m.bit_size.unwrap_or(0);
                    let from_lsb = unit_bits
                        .checked_sub(from_msb)
                        .and_then(|b| b.checked_sub(width))
                        .ok_or_else(|| {
                            DwarfError::Malformed("a bitfield outside its storage unit".into())
                        })?;
                    location_bits.saturating_add(from_lsb)
                }
                (None, None) => location_bits,
            };
            let bit_offset = u32::try_from(bit_offset)
                .map_err(|_| DwarfError::Malformed("a member offset over 4 GiB".into()))?;
            members.push(Member {
                name: m.name.clone(),
                byte_offset: bit_offset / 8,
                bit_offset,
                bitfield_size: m.bit_size.and_then(|b| u32::try_from(b).ok()),
                size: self.size_of(ty, depth)?,
                type_name: self.spell(Some(ty), depth)?,
                shape: self.shape(ty, depth, budget)?,
                scalar: self.scalar_of(ty, depth)?,
            });
        }
        Ok(StructLayout {
            name: self.spell(Some(index), depth)?,
            kind,
            size: self.size_of(index, depth)?,
            members,
        })
    }

    /// How to read the scalar that `index` is, or that each element of the
    /// array it is holds.
    fn scalar_of(&self, index: usize, depth: u32) -> Result<Option<Scalar>, DwarfError> {
        let mut index = index;
        for depth in depth..MAX_RESOLVE_DEPTH {
            let Some(stripped) = self.strip(index, depth)? else {
                return Ok(None);
            };
            let die = self.die(stripped)?;
            if die.tag != dw::DW_TAG_array_type.0 {
                return self.scalar_here(stripped, depth);
            }
            match die.ty {
                Some(elem) => index = elem,
                None => return Ok(None),
            }
        }
        Err(DwarfError::TooDeep)
    }

    /// The scalar that entry `index` (a type, typedefs stripped) is.
    fn scalar_here(&self, index: usize, depth: u32) -> Result<Option<Scalar>, DwarfError> {
        let die = self.die(index)?;
        let size = || u32::try_from(die.byte_size.unwrap_or(0)).unwrap_or(0);
        let signed_encoding = |e: Option<u8>| {
            e.is_some_and(|e| e == dw::DW_ATE_signed.0 || e == dw::DW_ATE_signed_char.0)
        };
        Ok(if die.tag == dw::DW_TAG_base_type.0 {
            let float = [dw::DW_ATE_float.0, dw::DW_ATE_complex_float.0];
            if die.encoding.is_some_and(|e| float.contains(&e)) {
                Some(Scalar::Float { size: size() })
            } else {
                Some(Scalar::Int {
                    size: size(),
                    signed: signed_encoding(die.encoding),
                    is_char: die.name == "char",
                    is_bool: die.encoding == Some(dw::DW_ATE_boolean.0),
                })
            }
        } else if die.tag == dw::DW_TAG_pointer_type.0 {
            Some(Scalar::Pointer)
        } else if die.tag == dw::DW_TAG_enumeration_type.0 {
            // Signed when the underlying type is, or a value is negative.
            let underlying = match die.ty {
                Some(ty) => self.strip(ty, depth)?.map(|t| self.die(t)).transpose()?,
                None => None,
            };
            let mut signed = underlying.is_some_and(|u| signed_encoding(u.encoding));
            let mut enumerators = Vec::new();
            for &child in &die.children {
                let e = self.die(child)?;
                if e.tag == dw::DW_TAG_enumerator.0 {
                    signed |= e.const_negative;
                    enumerators.push((e.name.clone(), e.const_value.unwrap_or(0)));
                }
            }
            let size = size();
            let values = enumerators
                .into_iter()
                .map(|(name, value)| Enumerator::new(name, value, size, signed))
                .collect();
            Some(Scalar::Enum {
                size,
                signed,
                values,
            })
        } else {
            None
        })
    }

    fn size_of(&self, index: usize, depth: u32) -> Result<u32, DwarfError> {
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(DwarfError::TooDeep);
        }
        let Some(index) = self.strip(index, depth)? else {
            return Err(DwarfError::Malformed("a member of type void".into()));
        };
        let die = self.die(index)?;
        let size = if die.tag == dw::DW_TAG_pointer_type.0 {
            u64::from(BPF_POINTER_SIZE)
        } else if die.tag == dw::DW_TAG_array_type.0 {
            let elem = die
                .ty
                .ok_or_else(|| DwarfError::Malformed("an array without a type".into()))?;
            let mut count: u64 = 1;
            for &child in &die.children {
                let sub = self.die(child)?;
                if sub.tag == dw::DW_TAG_subrange_type.0 {
                    count = count.saturating_mul(sub.count.unwrap_or(0));
                }
            }
            u64::from(self.size_of(elem, depth + 1)?).saturating_mul(count)
        } else {
            die.byte_size
                .ok_or_else(|| DwarfError::Malformed(format!("type `{}` has no size", die.name)))?
        };
        u32::try_from(size).map_err(|_| DwarfError::Malformed("a size over 4 GiB".into()))
    }

    /// What type `index` holds, nested layouts included; each type is
    /// expanded once per depth (see [`Budget::memoized`]).
    fn shape(&self, index: usize, depth: u32, budget: &mut Budget) -> Result<Shape, DwarfError> {
        let key = u64::try_from(index).unwrap_or(u64::MAX);
        budget.memoized(
            key,
            depth,
            || DwarfError::TooManyMembers,
            |budget| self.expand_shape(index, depth, budget),
        )
    }

    fn expand_shape(
        &self,
        index: usize,
        depth: u32,
        budget: &mut Budget,
    ) -> Result<Shape, DwarfError> {
        let Some(index) = self.strip(index, depth)? else {
            return Ok(Shape::Other);
        };
        let die = self.die(index)?;
        let tag = die.tag;
        Ok(if tag == dw::DW_TAG_array_type.0 {
            let mut dims = Vec::new();
            for &child in &die.children {
                let sub = self.die(child)?;
                if sub.tag == dw::DW_TAG_subrange_type.0 {
                    dims.push(u32::try_from(sub.count.unwrap_or(0)).unwrap_or(u32::MAX));
                }
            }
            let elem = die
                .ty
                .ok_or_else(|| DwarfError::Malformed("an array without a type".into()))?;
            match self.shape(elem, depth + 1, budget)? {
                Shape::Array {
                    dims: inner,
                    elem_size,
                    elem,
                } => {
                    dims.extend(inner);
                    Shape::Array {
                        dims,
                        elem_size,
                        elem,
                    }
                }
                shape => Shape::Array {
                    dims,
                    elem_size: self.size_of(elem, depth + 1)?,
                    elem: Box::new(shape),
                },
            }
        } else if tag == dw::DW_TAG_base_type.0 {
            let float = [dw::DW_ATE_float.0, dw::DW_ATE_complex_float.0];
            if die.encoding.is_some_and(|e| float.contains(&e)) {
                Shape::Float
            } else {
                Shape::Int
            }
        } else if tag == dw::DW_TAG_pointer_type.0 || tag == dw::DW_TAG_enumeration_type.0 {
            Shape::Int
        } else if self.is_composite(index) {
            Shape::Composite(Box::new(self.layout(index, depth + 1, budget)?))
        } else {
            Shape::Other
        })
    }

    /// The type as C spells it, close enough for messages.
    fn spell(&self, index: Option<usize>, depth: u32) -> Result<String, DwarfError> {
        if depth >= MAX_RESOLVE_DEPTH {
            return Err(DwarfError::TooDeep);
        }
        let Some(index) = index else {
            return Ok("void".to_owned());
        };
        let die = self.die(index)?;
        let tag = die.tag;
        let inner = |next: Option<usize>| self.spell(next, depth + 1);
        let tagged = |keyword: &str| match die.name.as_str() {
            "" => format!("{keyword} <anonymous>"),
            name => format!("{keyword} {name}"),
        };
        Ok(if tag == dw::DW_TAG_structure_type.0 {
            tagged("struct")
        } else if tag == dw::DW_TAG_union_type.0 {
            tagged("union")
        } else if tag == dw::DW_TAG_enumeration_type.0 {
            tagged("enum")
        } else if tag == dw::DW_TAG_pointer_type.0 {
            let target = inner(die.ty)?;
            if target.ends_with('*') {
                format!("{target}*")
            } else {
                format!("{target} *")
            }
        } else if tag == dw::DW_TAG_const_type.0 {
            format!("const {}", inner(die.ty)?)
        } else if tag == dw::DW_TAG_volatile_type.0 {
            format!("volatile {}", inner(die.ty)?)
        } else if tag == dw::DW_TAG_array_type.0 {
            let mut dims = String::new();
            for &child in &die.children {
                let sub = self.die(child)?;
                if sub.tag == dw::DW_TAG_subrange_type.0 {
                    dims.push_str(&format!("[{}]", sub.count.unwrap_or(0)));
                }
            }
            format!("{}{dims}", inner(die.ty)?)
        } else if tag == dw::DW_TAG_subroutine_type.0 {
            "function".to_owned()
        } else if die.name.is_empty() {
            inner(die.ty)?
        } else {
            die.name.clone()
        })
    }
}

#[cfg(test)]
mod tests;
