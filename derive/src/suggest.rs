//! What messages say: a C member as C declares it, byte counts, and the Rust
//! type to write for a C type.

use ringview_btf::layout::{CompositeKind, Member, Shape};

/// `` `__u32 pid` ``, `` `char comm[16]` ``: a member as C declares it
/// (the BPF object spells an array's type `char[16]`).
pub(crate) fn c_decl(type_name: &str, name: &str) -> String {
    if name.is_empty() {
        return format!("`{type_name}`");
    }
    // `char[16]`, `__u32[2][4]`; not a pointer to an array (`int (*)[4]`).
    match type_name.find('[') {
        Some(at) if !type_name.contains('(') => {
            let (base, dims) = type_name.split_at(at);
            format!("`{} {name}{dims}`", base.trim_end())
        }
        _ => format!("`{type_name} {name}`"),
    }
}

/// `1 byte`, `16 bytes`.
pub(crate) fn bytes(n: impl Into<u64>) -> String {
    match n.into() {
        1 => "1 byte".to_owned(),
        n => format!("{n} bytes"),
    }
}

/// The Rust type that stands for a C member: `u32` for `__u32`, `[u8; 16]`
/// for `char[16]`, `[u64; 2]` for `unsigned __int128`; for a union, the type
/// of its largest numeric arm. `None` for a struct (which needs a type of
/// its own) and for types without a Rust counterpart.
pub(crate) fn rust_type(member: &Member) -> Option<String> {
    shape_type(&member.shape, member.size, base_name(&member.type_name))
}

/// The type name without qualifiers and array dimensions: `__u32`, `char`.
fn base_name(type_name: &str) -> &str {
    let name = type_name.split('[').next().unwrap_or(type_name).trim();
    let name = name.strip_prefix("const ").unwrap_or(name);
    name.strip_prefix("volatile ").unwrap_or(name)
}

fn shape_type(shape: &Shape, size: u32, c_name: &str) -> Option<String> {
    match shape {
        Shape::Int => Some(int_type(size, signed(c_name))),
        Shape::Float => match size {
            4 => Some("f32".to_owned()),
            8 => Some("f64".to_owned()),
            _ => None,
        },
        Shape::Array {
            dims,
            elem_size,
            elem,
        } => {
            let mut ty = shape_type(elem, *elem_size, c_name)?;
            for dim in dims.iter().rev() {
                ty = format!("[{ty}; {dim}]");
            }
            Some(ty)
        }
        Shape::Composite(layout) if layout.kind == CompositeKind::Union => {
            // The largest arm that is plain numbers: it covers the union.
            layout
                .members
                .iter()
                .filter(|m| m.size == layout.size && m.bitfield_size.is_none())
                .find_map(|m| match m.shape {
                    Shape::Composite(_) => None,
                    _ => rust_type(m),
                })
        }
        Shape::Composite(_) | Shape::Other => None,
    }
}

/// Whether a C integer type is signed, as far as its name tells (the
/// signedness is free: this only makes the suggestion read like the C).
/// `char` is `u8`: a byte of a string.
fn signed(c_name: &str) -> bool {
    matches!(
        c_name,
        "int"
            | "short"
            | "long"
            | "long long"
            | "signed char"
            | "short int"
            | "long int"
            | "long long int"
            | "__s8"
            | "__s16"
            | "__s32"
            | "__s64"
            | "s8"
            | "s16"
            | "s32"
            | "s64"
            | "int8_t"
            | "int16_t"
            | "int32_t"
            | "int64_t"
            | "pid_t"
    )
}

fn int_type(size: u32, signed: bool) -> String {
    let prefix = if signed { 'i' } else { 'u' };
    match size {
        1 | 2 | 4 | 8 => format!("{prefix}{}", size * 8),
        // `__int128`: 16-byte aligned in Rust, only 8 in a ring payload.
        16 => "[u64; 2]".to_owned(),
        n => format!("[u8; {n}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringview_btf::layout::StructLayout;

    fn member(type_name: &str, size: u32, shape: Shape) -> Member {
        Member {
            name: "m".to_owned(),
            byte_offset: 0,
            bit_offset: 0,
            bitfield_size: None,
            size,
            type_name: type_name.to_owned(),
            shape,
            scalar: None,
        }
    }

    fn array(dims: Vec<u32>, elem_size: u32, elem: Shape) -> Shape {
        Shape::Array {
            dims,
            elem_size,
            elem: Box::new(elem),
        }
    }

    #[test]
    fn rust_types_for_c_types() {
        let ty = |m: Member| rust_type(&m);
        assert_eq!(ty(member("__u32", 4, Shape::Int)).as_deref(), Some("u32"));
        assert_eq!(ty(member("int", 4, Shape::Int)).as_deref(), Some("i32"));
        assert_eq!(
            ty(member("char[16]", 16, array(vec![16], 1, Shape::Int))).as_deref(),
            Some("[u8; 16]")
        );
        assert_eq!(
            ty(member("__u32[2][4]", 32, array(vec![2, 4], 4, Shape::Int))).as_deref(),
            Some("[[u32; 4]; 2]")
        );
        assert_eq!(
            ty(member("unsigned __int128", 16, Shape::Int)).as_deref(),
            Some("[u64; 2]")
        );
        assert_eq!(ty(member("float", 4, Shape::Float)).as_deref(), Some("f32"));
        assert_eq!(ty(member("long double", 16, Shape::Float)), None);
        let union = StructLayout {
            name: "union <anonymous>".to_owned(),
            kind: CompositeKind::Union,
            size: 16,
            members: vec![
                member("__u32", 4, Shape::Int),
                member("__u8[16]", 16, array(vec![16], 1, Shape::Int)),
            ],
        };
        assert_eq!(
            ty(member(
                "union <anonymous>",
                16,
                Shape::Composite(Box::new(union))
            ))
            .as_deref(),
            Some("[u8; 16]")
        );
    }

    #[test]
    fn c_declarations_and_counts() {
        assert_eq!(c_decl("char[16]", "comm"), "`char comm[16]`");
        assert_eq!(c_decl("__u32", "pid"), "`__u32 pid`");
        assert_eq!(c_decl("int (*)[4]", "p"), "`int (*)[4] p`");
        assert_eq!(bytes(1u32), "1 byte");
        assert_eq!(bytes(16u32), "16 bytes");
    }
}
