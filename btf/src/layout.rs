//! The C layout of a struct or union, as the BPF object's BTF or DWARF
//! describes it: what the checks compare the Rust struct against. Both
//! readers produce the same model, so a struct is checked the same way
//! whichever one found it.

use std::collections::HashMap;
use std::fmt;

/// The most members (at every depth, anonymous ones included) one layout may
/// expand to. Anonymous members that share one type are expanded once per
/// use, so a crafted object can double the count per level; this bounds the
/// work with a clear error instead.
pub(crate) const MAX_MEMBERS: u64 = 1 << 16;

/// The kernel's `MAX_RESOLVE_DEPTH`: the longest chain of typedefs,
/// qualifiers, array dimensions or nested members followed before the type
/// graph is taken to be cyclic.
pub(crate) const MAX_RESOLVE_DEPTH: u32 = 32;

/// Whether a composite type is a `struct` or a `union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompositeKind {
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

/// The C layout of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// The name looked up: the struct's tag, or a typedef naming it; for a
    /// nested type, how C spells it (`struct inner`, `union <anonymous>`).
    pub name: String,
    pub kind: CompositeKind,
    /// `sizeof`, tail padding included.
    pub size: u32,
    /// Direct members in declaration order.
    pub members: Vec<Member>,
}

impl StructLayout {
    /// `struct exec_event`, `union value`.
    pub fn describe(&self) -> String {
        if self.name.starts_with("struct ") || self.name.starts_with("union ") {
            self.name.clone()
        } else {
            format!("{} {}", self.kind, self.name)
        }
    }
}

/// One member of a [`StructLayout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Empty for anonymous struct/union members and unnamed bitfields.
    pub name: String,
    /// `bit_offset / 8`: the byte that holds the member's first bit.
    pub byte_offset: u32,
    /// Offset of the first bit from the start of the enclosing struct.
    pub bit_offset: u32,
    /// The width in bits when the member is a bitfield.
    pub bitfield_size: Option<u32>,
    /// Byte size of the member's type (for a bitfield, of its declared type).
    pub size: u32,
    /// The type as C spells it, for messages: `__u32`, `char[16]`,
    /// `struct inner`, `const char *`.
    pub type_name: String,
    /// What kind of value the member holds.
    pub shape: Shape,
    /// For a member whose shape is [`Shape::Int`] or [`Shape::Float`], or
    /// an array of them: how to read that scalar (or each element), beyond
    /// its size. `None` for structs, unions and what has no value.
    pub scalar: Option<Scalar>,
}

impl Member {
    /// The members of an anonymous struct or union member, else `None`.
    pub fn anonymous(&self) -> Option<&StructLayout> {
        match &self.shape {
            Shape::Composite(layout) if self.name.is_empty() => Some(layout),
            _ => None,
        }
    }

    /// `member `__u32 pid` (bytes 0..4)`, `bitfield ...`, `anonymous ...`.
    pub fn describe(&self, base_bits: u32) -> String {
        let bits = base_bits.saturating_add(self.bit_offset);
        let start = bits / 8;
        match self.bitfield_size {
            Some(width) => format!(
                "bitfield `{} {}:{width}` (bits {bits}..{})",
                self.type_name,
                self.name,
                bits.saturating_add(width)
            ),
            None if self.name.is_empty() => format!(
                "anonymous member `{}` (bytes {start}..{})",
                self.type_name,
                start.saturating_add(self.size)
            ),
            None => format!(
                "member `{} {}` (bytes {start}..{})",
                self.type_name,
                self.name,
                start.saturating_add(self.size)
            ),
        }
    }
}

/// What a member holds, as far as a Rust field must agree with it beyond its
/// size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// Integers, enums, `_Bool`, pointers: any Rust integer of the same size
    /// (signedness is free: the bits are the same).
    Int,
    Float,
    /// `dims` outermost first; `elem` is what the innermost dimension holds
    /// (never an array), `elem_size` its size.
    Array {
        dims: Vec<u32>,
        elem_size: u32,
        elem: Box<Shape>,
    },
    /// A struct or union, with its own layout.
    Composite(Box<StructLayout>),
    /// A type without a Rust counterpart (a function, void).
    Other,
}

/// How to read the bytes of a scalar: what a decoder needs that [`Shape`]
/// leaves out (signedness, `char`, `_Bool`, enum value names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scalar {
    /// An integer of `size` bytes.
    Int {
        size: u32,
        /// Declared signed (`int`, `__s32`, `long`; C's plain `char` is
        /// signed on the BPF target).
        signed: bool,
        /// C's plain `char` (not `signed char`, `unsigned char` or `__u8`):
        /// an array of it is text.
        is_char: bool,
        /// `_Bool`.
        is_bool: bool,
    },
    /// A floating-point number of `size` bytes.
    Float { size: u32 },
    /// A pointer (8 bytes on the BPF target).
    Pointer,
    /// An enum of `size` bytes, with the values its type names.
    Enum {
        size: u32,
        signed: bool,
        values: Vec<Enumerator>,
    },
}

impl Scalar {
    /// The name of the enumerator whose value is `bits` (the scalar's
    /// bytes as read: sign-extended to 64 bits when signed), if any.
    pub fn enumerator(&self, bits: u64) -> Option<&str> {
        match self {
            Self::Enum { values, .. } => values
                .iter()
                .find(|v| v.value == bits)
                .map(|v| v.name.as_str()),
            _ => None,
        }
    }
}

/// One named value of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enumerator {
    pub name: String,
    /// The value's bits: two's complement, sign-extended to 64 bits when
    /// the enum is signed, else zero-extended.
    pub value: u64,
}

impl Enumerator {
    /// An enumerator of an enum of `size` bytes, its `value` normalized:
    /// sign-extended from `size` bytes when `signed`, else truncated to it.
    pub fn new(name: String, value: u64, size: u32, signed: bool) -> Self {
        Self {
            name,
            value: normalize(value, size, signed),
        }
    }
}

/// `value`'s low `size` bytes, sign-extended to 64 bits when `signed`.
pub fn normalize(value: u64, size: u32, signed: bool) -> u64 {
    let bits = size.saturating_mul(8);
    if bits == 0 || bits >= 64 {
        return value;
    }
    let unused = 64 - bits;
    if signed {
        (((value << unused) as i64) >> unused) as u64
    } else {
        (value << unused) >> unused
    }
}

/// One line per member, for telling two layouts of one name apart.
pub(crate) fn summarize(layout: &StructLayout) -> String {
    let members: Vec<String> = layout
        .members
        .iter()
        .map(|m| format!("{} {} at {}", m.type_name, m.name, m.byte_offset))
        .collect();
    format!("{} bytes {{ {} }}", layout.size, members.join(", "))
}

/// A named type that is no struct or union, found where one was looked
/// for: what the name stands for, so a message can say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtherType {
    /// `enum name`.
    Enum,
    /// `typedef <target> name`, with the target as C spells it (`char[16]`,
    /// `__u32`).
    Typedef(String),
}

/// Counts expanded members against [`MAX_MEMBERS`], and remembers the
/// shapes already expanded.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    used: u64,
    /// Shapes by (type, depth), with the members each cost: a type used by
    /// several members (anonymous members sharing one composite type, at
    /// every level of a crafted object) is expanded once, and each further
    /// use is charged its full cost without redoing the work. Keyed by depth
    /// too, so a use deeper down still meets the depth limit.
    memo: HashMap<(u64, u32), (Shape, u64)>,
}

impl Budget {
    /// Takes `weight` members from the budget; `false` once it is spent.
    pub(crate) fn take(&mut self, weight: u64) -> bool {
        self.used = self.used.saturating_add(weight);
        self.used <= MAX_MEMBERS
    }

    /// The shape of type `key` at `depth`: `expand`ed on first use, else
    /// remembered and charged again.
    ///
    /// # Errors
    ///
    /// `expand`'s, or `too_many()` when the charge spends the budget.
    pub(crate) fn memoized<E>(
        &mut self,
        key: u64,
        depth: u32,
        too_many: impl FnOnce() -> E,
        expand: impl FnOnce(&mut Self) -> Result<Shape, E>,
    ) -> Result<Shape, E> {
        if let Some(&(_, weight)) = self.memo.get(&(key, depth)) {
            if !self.take(weight) {
                return Err(too_many());
            }
            // Within the budget, so the clone is too.
            if let Some((shape, _)) = self.memo.get(&(key, depth)) {
                return Ok(shape.clone());
            }
        }
        let before = self.used;
        let shape = expand(self)?;
        let weight = self.used - before;
        self.memo.insert((key, depth), (shape.clone(), weight));
        Ok(shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerators_are_normalized_to_their_size_and_sign() {
        assert_eq!(normalize(0xff, 1, true), u64::MAX);
        assert_eq!(normalize(0xff, 1, false), 0xff);
        assert_eq!(normalize(u64::MAX, 4, false), 0xffff_ffff);
        assert_eq!(normalize(0x7fff_ffff, 4, true), 0x7fff_ffff);
        assert_eq!(normalize(0x8000_0000, 4, true), 0xffff_ffff_8000_0000);
        assert_eq!(normalize(5, 8, true), 5);
        let scalar = Scalar::Enum {
            size: 4,
            signed: true,
            values: vec![
                Enumerator::new("MINUS".into(), 0xffff_ffff, 4, true),
                Enumerator::new("TWO".into(), 2, 4, true),
            ],
        };
        assert_eq!(scalar.enumerator(u64::MAX), Some("MINUS"));
        assert_eq!(scalar.enumerator(2), Some("TWO"));
        assert_eq!(scalar.enumerator(3), None);
        assert_eq!(Scalar::Pointer.enumerator(0), None);
    }

    #[test]
    fn memoized_shapes_are_expanded_once_and_charged_per_use() {
        let mut budget = Budget::default();
        let mut expansions = 0;
        let mut expand = |budget: &mut Budget| -> Result<Shape, ()> {
            expansions += 1;
            assert!(budget.take(3));
            Ok(Shape::Int)
        };
        assert_eq!(budget.memoized(7, 1, || (), &mut expand), Ok(Shape::Int));
        assert_eq!(budget.memoized(7, 1, || (), &mut expand), Ok(Shape::Int));
        assert_eq!(budget.used, 6);
        // Another depth is another entry.
        assert_eq!(budget.memoized(7, 2, || (), &mut expand), Ok(Shape::Int));
        assert_eq!(expansions, 2);
        assert_eq!(budget.used, 9);
        // A use that spends the budget is refused.
        budget.used = MAX_MEMBERS - 2;
        assert_eq!(
            budget.memoized(7, 1, || (), |_| unreachable!("memoized")),
            Err(())
        );
    }
}
