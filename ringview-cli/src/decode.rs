//! Decoding a record's bytes by the C layout of its struct
//! ([`StructLayout`], from BTF or DWARF) into named values, recursively:
//! integers signed as declared, `char[N]` as text up to its NUL, arrays,
//! nested structs, unions (every arm), enums by name where the type names
//! the value.
//!
//! The layout comes from a file or the kernel and the bytes from a ring:
//! neither is trusted. Every read is bounds-checked against the record, so
//! a member that lies outside it decodes as [`Value::Missing`], never a
//! panic.

use std::fmt::Write as _;

use ringview_btf::{Member, Scalar, Shape, StructLayout};

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unsigned(u64),
    Signed(i64),
    Bool(bool),
    Float(f64),
    /// A pointer, or an integer wider than 64 bits: shown in hex.
    Hex(String),
    /// An enum: its enumerator's name when the type names the value.
    Enum {
        name: Option<String>,
        value: Value64,
    },
    /// A `char[N]` up to its first NUL (invalid UTF-8 replaced).
    Text(String),
    Array(Vec<Value>),
    /// A struct's or union's members (a union's arms all decoded).
    Fields(Vec<(String, Value)>),
    /// Bytes of a type without a value (a function, void) or an unknown
    /// scalar.
    Bytes(Vec<u8>),
    /// The member lies (partly) outside the record.
    Missing,
}

/// An enum's value, signed as its type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value64 {
    Unsigned(u64),
    Signed(i64),
}

/// The most values one record is decoded into; the rest of an array is
/// left out (a layout from a crafted file may claim billions, and a record
/// holds at most a ring's size).
const MAX_VALUES: u64 = 1 << 16;

/// Decodes `bytes` (a record at least `layout.size` long, or shorter) as
/// the members of `layout`.
pub fn decode(layout: &StructLayout, bytes: &[u8]) -> Vec<(String, Value)> {
    let mut fields = Vec::with_capacity(layout.members.len());
    let mut walk = Walk {
        bytes,
        left: MAX_VALUES,
    };
    walk.members(layout, 0, &mut fields);
    fields
}

/// One record's decoding: its bytes and the values it may still produce.
struct Walk<'a> {
    bytes: &'a [u8],
    left: u64,
}

impl Walk<'_> {
    /// Takes one value from the budget; `false` once it is spent.
    fn take(&mut self) -> bool {
        self.left = self.left.saturating_sub(1);
        self.left > 0
    }

    /// Appends the members of `layout`, which starts at bit `base`, to
    /// `fields`; anonymous struct and union members are flattened, as C
    /// names their members directly.
    fn members(&mut self, layout: &StructLayout, base: u64, fields: &mut Vec<(String, Value)>) {
        for member in &layout.members {
            let start = base.saturating_add(member.bit_offset.into());
            if member.name.is_empty() {
                if let Shape::Composite(inner) = &member.shape {
                    if self.take() {
                        self.members(inner, start, fields);
                    }
                }
                // An unnamed bitfield is padding.
                continue;
            }
            let value = self.member(member, start);
            fields.push((member.name.clone(), value));
        }
    }

    fn member(&mut self, member: &Member, start_bit: u64) -> Value {
        if !self.take() {
            return Value::Missing;
        }
        if let Some(width) = member.bitfield_size {
            return bitfield(member.scalar.as_ref(), self.bytes, start_bit, width);
        }
        let at = start_bit / 8;
        match &member.shape {
            Shape::Int | Shape::Float => {
                scalar(member.scalar.as_ref(), self.bytes, at, member.size)
            }
            Shape::Array {
                dims,
                elem_size,
                elem,
            } => self.array(dims, *elem_size, elem, member.scalar.as_ref(), at),
            Shape::Composite(inner) => self.composite(inner, at),
            Shape::Other => bytes_at(self.bytes, at, member.size.into()),
        }
    }

    fn composite(&mut self, layout: &StructLayout, at: u64) -> Value {
        let mut fields = Vec::with_capacity(layout.members.len().min(64));
        self.members(layout, at.saturating_mul(8), &mut fields);
        Value::Fields(fields)
    }

    /// An array of `dims` (outermost first) of `elem`s of `elem_size`
    /// bytes at byte `at`.
    fn array(
        &mut self,
        dims: &[u32],
        elem_size: u32,
        elem: &Shape,
        scalar_info: Option<&Scalar>,
        at: u64,
    ) -> Value {
        let Some((&count, inner)) = dims.split_first() else {
            return match elem {
                Shape::Composite(layout) => self.composite(layout, at),
                Shape::Int | Shape::Float => scalar(scalar_info, self.bytes, at, elem_size),
                // Both readers flatten an array of arrays into `dims`.
                Shape::Array { .. } | Shape::Other => bytes_at(self.bytes, at, elem_size.into()),
            };
        };
        if inner.is_empty() && matches!(scalar_info, Some(Scalar::Int { is_char: true, .. })) {
            return match slice(self.bytes, at, count.into()) {
                Some(raw) => {
                    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                    Value::Text(String::from_utf8_lossy(&raw[..end]).into_owned())
                }
                None => Value::Missing,
            };
        }
        let stride = inner.iter().fold(u64::from(elem_size), |size, &dim| {
            size.saturating_mul(dim.into())
        });
        let mut items = Vec::new();
        for i in 0..u64::from(count) {
            if !self.take() {
                items.push(Value::Missing);
                break;
            }
            let offset = at.saturating_add(i.saturating_mul(stride));
            items.push(self.array(inner, elem_size, elem, scalar_info, offset));
        }
        Value::Array(items)
    }
}

/// The `len` bytes at `at` as [`Value::Bytes`], if they lie in `bytes`.
fn bytes_at(bytes: &[u8], at: u64, len: u64) -> Value {
    match slice(bytes, at, len) {
        Some(raw) => Value::Bytes(raw.to_vec()),
        None => Value::Missing,
    }
}

/// The `len` bytes at `at`, if they lie in `bytes`.
fn slice(bytes: &[u8], at: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(at).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

/// Two lowercase hex digits per byte, `separator` between bytes.
pub fn hex_digits<'a>(bytes: impl IntoIterator<Item = &'a u8>, separator: &str) -> String {
    let mut out = String::new();
    for (i, byte) in bytes.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A little-endian integer of up to 8 bytes.
fn read_le(raw: &[u8]) -> u64 {
    raw.iter()
        .rev()
        .fold(0u64, |value, &byte| (value << 8) | u64::from(byte))
}

/// A scalar of `size` bytes at byte `at`.
fn scalar(info: Option<&Scalar>, bytes: &[u8], at: u64, size: u32) -> Value {
    let Some(raw) = slice(bytes, at, size.into()) else {
        return Value::Missing;
    };
    match info {
        Some(Scalar::Float { .. }) => match raw.len() {
            4 => Value::Float(f64::from(f32::from_le_bytes([
                raw[0], raw[1], raw[2], raw[3],
            ]))),
            8 => Value::Float(f64::from_le_bytes(raw.try_into().unwrap_or_default())),
            _ => Value::Bytes(raw.to_vec()),
        },
        _ if raw.len() > 8 => Value::Hex(format!("0x{}", hex_digits(raw.iter().rev(), ""))),
        Some(Scalar::Pointer) => Value::Hex(format!("{:#x}", read_le(raw))),
        // Integers, enums, and scalars without information (a layout built
        // without it): unsigned.
        _ => from_bits(info, read_le(raw), size * 8),
    }
}

/// The `width` low bits of a scalar (`bits`, none set above them) as
/// `info` says: a bool, an integer or enum sign-extended as declared, an
/// enum by name; unsigned for anything else.
fn from_bits(info: Option<&Scalar>, bits: u64, width: u32) -> Value {
    let (signed, is_bool) = match info {
        Some(Scalar::Int {
            signed, is_bool, ..
        }) => (*signed, *is_bool),
        Some(Scalar::Enum { signed, .. }) => (*signed, false),
        _ => (false, false),
    };
    if is_bool {
        return Value::Bool(bits != 0);
    }
    let value = if signed && width > 0 && width < 64 && bits >> (width - 1) & 1 == 1 {
        bits | (u64::MAX << width)
    } else {
        bits
    };
    match info {
        Some(scalar @ Scalar::Enum { .. }) => Value::Enum {
            name: scalar.enumerator(value).map(str::to_owned),
            value: if signed {
                Value64::Signed(value as i64)
            } else {
                Value64::Unsigned(value)
            },
        },
        _ if signed => Value::Signed(value as i64),
        _ => Value::Unsigned(value),
    }
}

/// A bitfield of `width` bits from bit `start` (little-endian: bits count
/// up from the least significant bit of the first byte).
fn bitfield(info: Option<&Scalar>, bytes: &[u8], start: u64, width: u32) -> Value {
    if width == 0 || width > 64 {
        return Value::Missing;
    }
    let first = start / 8;
    let shift = start % 8;
    let len = (shift + u64::from(width)).div_ceil(8);
    let Some(raw) = slice(bytes, first, len) else {
        return Value::Missing;
    };
    // Up to 9 bytes: the field's bits, shifted down.
    let value = raw
        .iter()
        .enumerate()
        .fold(0u128, |v, (i, &b)| v | (u128::from(b) << (8 * i)))
        >> shift;
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    from_bits(info, (value as u64) & mask, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringview_btf::{CompositeKind, Enumerator};

    fn member(
        name: &str,
        bit_offset: u32,
        size: u32,
        shape: Shape,
        scalar: Option<Scalar>,
    ) -> Member {
        Member {
            name: name.to_owned(),
            byte_offset: bit_offset / 8,
            bit_offset,
            bitfield_size: None,
            size,
            type_name: String::new(),
            shape,
            scalar,
        }
    }

    fn int(size: u32, signed: bool) -> Option<Scalar> {
        Some(Scalar::Int {
            size,
            signed,
            is_char: false,
            is_bool: false,
        })
    }

    #[test]
    fn integers_text_enums_and_nesting() {
        let inner = StructLayout {
            name: "struct inner".into(),
            kind: CompositeKind::Struct,
            size: 4,
            members: vec![
                member("a", 0, 2, Shape::Int, int(2, true)),
                member("b", 16, 2, Shape::Int, int(2, false)),
            ],
        };
        let kind = Scalar::Enum {
            size: 4,
            signed: true,
            values: vec![Enumerator::new("MINUS_ONE".into(), u64::MAX, 4, true)],
        };
        let chars = Some(Scalar::Int {
            size: 1,
            signed: true,
            is_char: true,
            is_bool: false,
        });
        let layout = StructLayout {
            name: "event".into(),
            kind: CompositeKind::Struct,
            size: 24,
            members: vec![
                member("neg", 0, 4, Shape::Int, int(4, true)),
                member("kind", 32, 4, Shape::Int, Some(kind)),
                member(
                    "comm",
                    64,
                    4,
                    Shape::Array {
                        dims: vec![4],
                        elem_size: 1,
                        elem: Box::new(Shape::Int),
                    },
                    chars,
                ),
                member("inner", 96, 4, Shape::Composite(Box::new(inner)), None),
                member(
                    "pair",
                    128,
                    8,
                    Shape::Array {
                        dims: vec![2],
                        elem_size: 4,
                        elem: Box::new(Shape::Int),
                    },
                    int(4, false),
                ),
            ],
        };
        let mut bytes = vec![0u8; 24];
        bytes[0..4].copy_from_slice(&(-5i32).to_le_bytes());
        bytes[4..8].copy_from_slice(&(-1i32).to_le_bytes());
        bytes[8..11].copy_from_slice(b"abc");
        bytes[12..14].copy_from_slice(&(-2i16).to_le_bytes());
        bytes[14..16].copy_from_slice(&7u16.to_le_bytes());
        bytes[16..20].copy_from_slice(&1u32.to_le_bytes());
        bytes[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        let fields = decode(&layout, &bytes);
        assert_eq!(
            fields,
            vec![
                ("neg".into(), Value::Signed(-5)),
                (
                    "kind".into(),
                    Value::Enum {
                        name: Some("MINUS_ONE".into()),
                        value: Value64::Signed(-1)
                    }
                ),
                ("comm".into(), Value::Text("abc".into())),
                (
                    "inner".into(),
                    Value::Fields(vec![
                        ("a".into(), Value::Signed(-2)),
                        ("b".into(), Value::Unsigned(7)),
                    ])
                ),
                (
                    "pair".into(),
                    Value::Array(vec![Value::Unsigned(1), Value::Unsigned(u32::MAX.into())])
                ),
            ]
        );
        // Short input: what lies outside is missing, never a panic.
        let fields = decode(&layout, &bytes[..10]);
        assert_eq!(fields[0].1, Value::Signed(-5));
        assert_eq!(fields[2].1, Value::Missing);
        assert_eq!(
            fields[3].1,
            Value::Fields(vec![
                ("a".into(), Value::Missing),
                ("b".into(), Value::Missing),
            ])
        );
    }

    #[test]
    fn bitfields_signed_and_unsigned() {
        let mut field = member("low", 0, 4, Shape::Int, int(4, true));
        field.bitfield_size = Some(3);
        let mut high = member("high", 3, 4, Shape::Int, int(4, false));
        high.bitfield_size = Some(7);
        let layout = StructLayout {
            name: "bits".into(),
            kind: CompositeKind::Struct,
            size: 4,
            members: vec![field, high],
        };
        // low = 0b111 (-1 as 3 signed bits), high = 0b1010101 spanning a byte.
        let value: u32 = 0b111 | (0b101_0101 << 3);
        let fields = decode(&layout, &value.to_le_bytes());
        assert_eq!(fields[0].1, Value::Signed(-1));
        assert_eq!(fields[1].1, Value::Unsigned(0b101_0101));
        assert_eq!(decode(&layout, &[0xff])[1].1, Value::Missing);
    }

    #[test]
    fn crafted_layouts_never_panic() {
        let huge = member(
            "huge",
            u32::MAX - 7,
            u32::MAX,
            Shape::Array {
                dims: vec![u32::MAX, u32::MAX],
                elem_size: u32::MAX,
                elem: Box::new(Shape::Int),
            },
            int(8, false),
        );
        let mut wide = member("wide", 0, 64, Shape::Int, int(64, false));
        wide.bitfield_size = Some(65);
        let layout = StructLayout {
            name: "crafted".into(),
            kind: CompositeKind::Union,
            size: 8,
            members: vec![huge, wide, member("none", 0, 16, Shape::Int, None)],
        };
        let fields = decode(&layout, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let Value::Array(items) = &fields[0].1 else {
            panic!("huge is an array");
        };
        // Stopped by the budget, with a marker.
        assert!(items.len() < MAX_VALUES as usize);
        assert_eq!(items.last(), Some(&Value::Missing));
        assert_eq!(fields[1].1, Value::Missing);
        assert_eq!(fields[2].1, Value::Missing);
    }
}
