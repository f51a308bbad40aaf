//! Decoding of the type area: one `struct btf_type` and its kind's
//! trailing data at a time, and the string table its names point into.

use super::{read_u32, Alias, BtfError, Kind, RawMember, Type};
use crate::layout::{CompositeKind, Enumerator, Scalar};

/// The string table, which [`Btf::parse`] checked starts and ends with NUL.
pub(super) struct Strings<'a>(pub(super) &'a [u8]);

impl Strings<'_> {
    pub(super) fn get(&self, offset: u32) -> Result<String, BtfError> {
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
pub(super) struct Record<'a> {
    pub(super) area: &'a [u8],
    pub(super) offset: usize,
    /// The id of the type being read.
    pub(super) type_id: u32,
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
    pub(super) fn parse_type(&mut self, strings: &Strings<'_>) -> Result<Type, BtfError> {
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
        let mut scalar = None;
        let kind = match (info >> 24) & 0x1f {
            1 => {
                let int = self.u32()?;
                let (bits_offset, bits) = ((int >> 16) & 0xff, int & 0xff);
                // BTF_INT_SIGNED, BTF_INT_BOOL of the encoding (bits 24..28).
                let encoding = (int >> 24) & 0x0f;
                scalar = Some(Scalar::Int {
                    size: size_or_type,
                    signed: encoding & 1 != 0,
                    is_char: name == "char",
                    is_bool: encoding & 4 != 0,
                });
                Kind::Int {
                    size: size_or_type,
                    bits_offset,
                    bits,
                }
            }
            2 => {
                scalar = Some(Scalar::Pointer);
                Kind::Ptr(size_or_type)
            }
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
                let entries = self.named_entries::<2>(vlen, strings)?; // btf_enum: name, value
                                                                       // kind_flag: the values are signed (Linux 6.0).
                let values = entries.iter().map(|&[name_off, value]| {
                    let value = if kind_flag {
                        i64::from(value as i32) as u64
                    } else {
                        u64::from(value)
                    };
                    let name = strings.get(name_off)?;
                    Ok(Enumerator::new(name, value, size_or_type, kind_flag))
                });
                scalar = Some(Scalar::Enum {
                    size: size_or_type,
                    signed: kind_flag,
                    values: values.collect::<Result<_, BtfError>>()?,
                });
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
            16 => {
                scalar = Some(Scalar::Float { size: size_or_type });
                Kind::Float(size_or_type)
            }
            17 => {
                self.u32()?; // component_idx
                Kind::Other("declaration tag")
            }
            18 => Kind::Alias(Alias::TypeTag, size_or_type),
            19 => {
                let entries = self.named_entries::<3>(vlen, strings)?; // btf_enum64: name, lo, hi
                let values = entries.iter().map(|&[name_off, lo, hi]| {
                    let value = u64::from(lo) | (u64::from(hi) << 32);
                    let name = strings.get(name_off)?;
                    Ok(Enumerator::new(name, value, size_or_type, kind_flag))
                });
                scalar = Some(Scalar::Enum {
                    size: size_or_type,
                    signed: kind_flag,
                    values: values.collect::<Result<_, BtfError>>()?,
                });
                Kind::Enum(size_or_type)
            }
            kind => {
                return Err(BtfError::UnknownKind {
                    type_id: self.type_id,
                    kind,
                })
            }
        };
        Ok(Type { name, kind, scalar })
    }
}
