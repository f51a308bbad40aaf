//! Parse: the Rust side of a check, read from a `#[derive(RingEvent)]`
//! struct or union, or from a `ring_event!`/`check_layout!` invocation.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Ident, LitStr, Type};

use crate::attrs::{self, Errors};

/// What the syntax of a field's type says about its values. Type aliases
/// and structs are `Opaque`: only their size (and, for structs, their
/// fields) can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RustKind {
    /// `u8`..`i64`, zerocopy's `U16`..`I64` byte-order integers.
    Int,
    /// `f32`, `f64`, zerocopy's `F32`, `F64`.
    Float,
    Opaque,
}

/// One field of the Rust type.
pub(crate) struct RustField<'a> {
    pub(crate) ident: Option<Ident>,
    /// `None` when the caller knows only the C names (`check_layout!`).
    pub(crate) ty: Option<&'a Type>,
    pub(crate) attrs: attrs::FieldAttrs,
    /// The field's name (or type, for tuple fields): where errors point.
    pub(crate) span: Span,
    /// The innermost element type when `ty` is an array, else `ty`.
    pub(crate) elem: Option<&'a Type>,
    pub(crate) is_array: bool,
    pub(crate) kind: RustKind,
    /// The path from the value to the field when it is not `ident`
    /// (`__anon_1.saddr_v4`, through the fields holding anonymous C
    /// members: `check_layout!`).
    pub(crate) place: Option<String>,
}

impl RustField<'_> {
    /// The name the field has in C.
    pub(crate) fn c_name(&self) -> Option<String> {
        match &self.attrs.rename {
            Some(rename) => Some(rename.value()),
            None => self
                .ident
                .as_ref()
                .map(|i| i.to_string().trim_start_matches("r#").to_owned()),
        }
    }

    /// The field's Rust name (or path), for messages.
    pub(crate) fn rust_name(&self) -> String {
        if let Some(place) = &self.place {
            return place.clone();
        }
        self.ident
            .as_ref()
            .map_or_else(|| "<unnamed>".to_owned(), ToString::to_string)
    }
}

/// The Rust type being checked.
pub(crate) struct RustStruct<'a> {
    /// The type's name (the last segment of its path), for messages.
    pub(crate) ident: &'a Ident,
    /// The type as emitted code names it: `ExecEvent`, `types::event`.
    pub(crate) self_ty: TokenStream,
    pub(crate) container: attrs::ContainerAttrs,
    pub(crate) repr: attrs::Repr,
    pub(crate) fields: Vec<RustField<'a>>,
    /// A `union` rather than a `struct`: every field is an arm at offset 0.
    pub(crate) is_union: bool,
    /// The fields are the C members' names (`check_layout!`,
    /// `ring_event!`): the macro cannot see the Rust fields, so only the
    /// members it names are checked and nothing is required to be covered.
    pub(crate) from_c: bool,
}

impl RustStruct<'_> {
    /// The C struct's name: `name = ".."`, else the Rust name.
    pub(crate) fn c_name(&self) -> String {
        self.container
            .name
            .as_ref()
            .map_or_else(|| self.ident.to_string(), LitStr::value)
    }
}

/// Reads a struct or union deriving `RingEvent`; attribute errors go to
/// `errors`.
pub(crate) fn derive_input<'a>(input: &'a DeriveInput, errors: &mut Errors) -> RustStruct<'a> {
    let container = attrs::container(&input.attrs, errors);
    let repr = attrs::repr(&input.attrs, errors);
    let (fields, is_union): (Vec<&syn::Field>, bool) = match &input.data {
        Data::Struct(data) => (data.fields.iter().collect(), false),
        Data::Union(data) => (data.fields.named.iter().collect(), true),
        Data::Enum(_) => (Vec::new(), false),
    };
    let fields = fields
        .into_iter()
        .map(|f| field(f.ident.clone(), Some(&f.ty), attrs::field(&f.attrs, errors)))
        .collect();
    RustStruct {
        ident: &input.ident,
        self_ty: input.ident.to_token_stream(),
        container,
        repr,
        fields,
        is_union,
        from_c: false,
    }
}

/// One field from its parts.
pub(crate) fn field(
    ident: Option<Ident>,
    ty: Option<&Type>,
    attrs: attrs::FieldAttrs,
) -> RustField<'_> {
    let span = match (&ident, ty) {
        (Some(ident), _) => ident.span(),
        (None, Some(ty)) => ty.span(),
        (None, None) => Span::call_site(),
    };
    let (elem, is_array) = match ty {
        Some(ty) => {
            let elem = innermost(ty);
            (Some(elem), !std::ptr::eq(elem, ty))
        }
        None => (None, false),
    };
    RustField {
        ident,
        ty,
        attrs,
        span,
        elem,
        is_array,
        kind: elem.map_or(RustKind::Opaque, kind_of),
        place: None,
    }
}

/// The Rust identifier for C member `name`: raw for keywords (`r#mod`,
/// `r#type`, and `r#gen` for the 2024 edition); `None` for the few names no
/// field can have (`self`, `Self`, `crate`, `super`, `_`) and for strings
/// that are no identifier at all (a corrupt object's).
pub(crate) fn field_ident(name: &str, span: Span) -> Option<Ident> {
    if name == "gen" {
        return Some(Ident::new_raw(name, span));
    }
    if let Ok(mut ident) = syn::parse_str::<Ident>(name) {
        ident.set_span(span);
        return Some(ident);
    }
    if matches!(name, "self" | "Self" | "crate" | "super" | "_") {
        return None;
    }
    // A keyword: `parse_any` takes it, and anything else is no identifier.
    let keyword: Ident = syn::parse::Parser::parse_str(Ident::parse_any, name).ok()?;
    Some(Ident::new_raw(&keyword.to_string(), span))
}

/// The element type inside any number of array dimensions.
fn innermost(ty: &Type) -> &Type {
    match ty {
        Type::Array(array) => innermost(&array.elem),
        Type::Paren(inner) => innermost(&inner.elem),
        Type::Group(inner) => innermost(&inner.elem),
        _ => ty,
    }
}

fn kind_of(ty: &Type) -> RustKind {
    let Type::Path(path) = ty else {
        return RustKind::Opaque;
    };
    let Some(last) = path.path.segments.last() else {
        return RustKind::Opaque;
    };
    match last.ident.to_string().as_str() {
        "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "U16" | "U32" | "U64"
        | "I16" | "I32" | "I64" => RustKind::Int,
        "f32" | "f64" | "F32" | "F64" => RustKind::Float,
        _ => RustKind::Opaque,
    }
}

/// Expansion-time rejection of field types whose size or valid values differ
/// between BPF and the host, with what to use instead.
pub(crate) fn check_field_type(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::Array(array) => check_field_type(&array.elem, errors),
        Type::Paren(inner) => check_field_type(&inner.elem, errors),
        Type::Group(inner) => check_field_type(&inner.elem, errors),
        Type::Reference(_) => errors.at(
            ty.span(),
            "references cannot be ring event fields: a BPF pointer is a plain 8-byte value; \
             use `u64`",
        ),
        Type::Ptr(_) => errors.at(
            ty.span(),
            "raw pointers cannot be ring event fields: they are 8 bytes in BPF but may be 4 on \
             the host; use `u64`",
        ),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return;
            };
            let message = match last.ident.to_string().as_str() {
                "bool" => "`bool` cannot be a ring event field: a BPF program can store any byte \
                           in a C `_Bool`, and every value but 0 and 1 is undefined behaviour in \
                           a Rust `bool`; use `u8`",
                "char" => "`char` cannot be a ring event field: a Rust `char` is 4 bytes and not \
                           every value is valid; use `u8` for a C `char` and `[u8; N]` for `char[N]`",
                "usize" | "isize" => "pointer-sized integers cannot be ring event fields: they \
                           are 8 bytes in BPF (`long`, pointers) but 4 on 32-bit hosts; use `u64` \
                           or `i64`",
                "u128" | "i128" => "128-bit integers cannot be ring event fields: they are \
                           16-byte aligned, but ring payloads are only 8-byte aligned; use \
                           `[u64; 2]` for `__int128`",
                "Option" | "Result" => "Rust enums cannot be ring event fields: a BPF program \
                           can store any value, and an enum has invalid ones; use `u32` or a \
                           `#[repr(transparent)]` newtype for a C enum",
                _ => return,
            };
            errors.at(ty.span(), message);
        }
        _ => errors.at(
            ty.span(),
            "ring event fields must be fixed-size plain data: integers, floats, arrays of them, \
             or structs deriving RingEvent",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_identifiers() {
        let name = |c: &str| field_ident(c, Span::call_site()).map(|i| i.to_string());
        for keyword in [
            "type", "mod", "match", "ref", "move", "fn", "impl", "priv", "override", "yield",
            "try", "gen",
        ] {
            assert_eq!(name(keyword), Some(format!("r#{keyword}")));
        }
        assert_eq!(name("pid").as_deref(), Some("pid"));
        assert_eq!(name("union").as_deref(), Some("union"));
        // No field can have these; a corrupt object's names are no
        // identifiers, and none of them panics.
        for none in [
            "self", "Self", "crate", "super", "_", "", "1x", "a-b", "a b", "r#self",
        ] {
            assert_eq!(name(none), None, "{none:?}");
        }
    }
}
