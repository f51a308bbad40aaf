//! Code generation: expansion-time checks, the `const _` layout checks and
//! the trait implementations.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DataEnum, DataStruct, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attrs::{self, Errors};
use crate::btf::{Btf, Member};

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    match &input.data {
        Data::Struct(data) => expand_struct(input, data),
        Data::Enum(data) => expand_tagged(input, data),
        Data::Union(_) => Err(syn::Error::new(
            input.ident.span(),
            "`#[derive(RingEvent)]` takes a `#[repr(C)]` struct, or an enum of views with \
             `#[ring_event(tag = \"field: type\")]`",
        )),
    }
}

/// One field of the Rust struct.
struct RustField<'a> {
    ident: Option<&'a Ident>,
    ty: &'a Type,
    attrs: attrs::FieldAttrs,
    span: Span,
}

impl RustField<'_> {
    /// The name the field has in C.
    fn c_name(&self) -> Option<String> {
        match &self.attrs.rename {
            Some(rename) => Some(rename.value()),
            None => self
                .ident
                .map(|i| i.to_string().trim_start_matches("r#").to_owned()),
        }
    }
}

fn expand_struct(input: &DeriveInput, data: &DataStruct) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let mut errors = Errors::default();
    let container = attrs::container(&input.attrs, &mut errors);
    let repr = attrs::repr(&input.attrs, &mut errors);
    if !repr.c && !repr.transparent {
        errors.at(
            ident.span(),
            format!(
                "`{ident}` needs `#[repr(C)]`: without it Rust may reorder and pad its fields, \
                 so its layout would not follow the BPF C struct"
            ),
        );
    }
    if !input.generics.params.is_empty() {
        errors.at(
            input.generics.span(),
            "ring events cannot be generic: their layout is checked for one concrete type",
        );
    }
    if let Some(tag) = &container.tag {
        errors.at(
            tag.span(),
            "`tag` belongs on an enum of views, not on a struct",
        );
    }
    let fields: Vec<RustField<'_>> = data
        .fields
        .iter()
        .map(|f| RustField {
            ident: f.ident.as_ref(),
            ty: &f.ty,
            attrs: attrs::field(&f.attrs, &mut errors),
            span: f.span(),
        })
        .collect();
    for field in &fields {
        check_field_type(field.ty, &mut errors);
    }

    let mut checks = Vec::new();
    for field in &fields {
        let ty = field.ty;
        checks.push(quote_spanned! {ty.span()=>
            const _: () = ::ringview::__private::field::<#ty>();
        });
    }
    checks.push(quote! {
        const _: () = ::core::assert!(
            ::core::mem::align_of::<#ident>() <= 8,
            ::core::concat!(
                "`", ::core::stringify!(#ident), "` is aligned to more than 8 bytes, but ring \
                 payloads are only 8-byte aligned (for `u128`/`i128`, `__int128` in C, use `[u64; 2]`)"
            )
        );
    });
    if let Some(size) = &container.size {
        let message = format!(
            "size of `{ident}` is not the {size} bytes given in `#[ring_event(size = {size})]`"
        );
        checks.push(quote_spanned! {size.span()=>
            const _: () = ::core::assert!(::core::mem::size_of::<#ident>() == #size, #message);
        });
    }

    let c_name = container
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), LitStr::value);
    match &container.btf {
        Some(btf) => match btf_checks(ident, btf, &container, &fields, &mut errors) {
            Ok(tokens) => checks.push(tokens),
            Err(error) => errors.push(error),
        },
        None if !repr.packed && !repr.transparent => {
            let tys = fields.iter().map(|f| f.ty);
            let message = format!(
                "`{ident}` has implicit padding, whose place can differ between the BPF target \
                 and this host: add explicit padding fields, or check the layout against the BPF \
                 object with `#[ring_event(btf = \"prog.bpf.o\", name = \"c_struct\")]`"
            );
            checks.push(quote! {
                const _: () = ::core::assert!(
                    ::core::mem::size_of::<#ident>() == 0 #(+ ::core::mem::size_of::<#tys>())*,
                    #message
                );
            });
        }
        None => {}
    }
    errors.finish()?;

    Ok(quote! {
        // SAFETY: `__view` casts through zerocopy's `FromBytes + KnownLayout +
        // Immutable` or bytemuck's `AnyBitPattern`, which check size and
        // alignment and guarantee every bit pattern is valid.
        unsafe impl ::ringview::RingEvent for #ident {
            const C_NAME: &'static str = #c_name;
            const SIZE: usize = ::core::mem::size_of::<Self>();

            #[inline(always)]
            fn __view(bytes: &[u8]) -> ::core::option::Option<&Self> {
                #[allow(unused_imports)]
                use ::ringview::__private::*;
                (&Cast::<Self>::new()).view(bytes)
            }
        }
        #(#checks)*
    })
}

/// Expansion-time rejection of field types whose size or valid values differ
/// between BPF and the host, with what to use instead.
fn check_field_type(ty: &Type, errors: &mut Errors) {
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

/// Finds the BPF object: absolute, `$OUT_DIR/...`, relative to the crate,
/// then relative to the file that invokes the derive.
fn resolve_object(lit: &LitStr) -> syn::Result<PathBuf> {
    let raw = lit.value();
    let mut tried = Vec::new();
    if let Some(rest) = raw.strip_prefix("$OUT_DIR/") {
        match std::env::var_os("OUT_DIR") {
            Some(out_dir) => tried.push(Path::new(&out_dir).join(rest)),
            None => {
                return Err(syn::Error::new(
                    lit.span(),
                    "`$OUT_DIR` is not set: this crate has no build script",
                ))
            }
        }
    } else if Path::new(&raw).is_absolute() {
        tried.push(PathBuf::from(&raw));
    } else {
        if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
            tried.push(Path::new(&dir).join(&raw));
        }
        if let Some(dir) = invoking_file_dir() {
            tried.push(dir.join(&raw));
        }
    }
    match tried.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.canonicalize().unwrap_or_else(|_| found.clone())),
        None => Err(syn::Error::new(
            lit.span(),
            format!(
                "BPF object `{raw}` not found (looked at {}); build it first, and give the path \
                 absolute, as `$OUT_DIR/...`, relative to the crate, or relative to this file",
                tried
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The directory of the file being compiled, when the compiler tells.
fn invoking_file_dir() -> Option<PathBuf> {
    // Outside a procedural macro (unit tests) there is no compiler to ask.
    if !proc_macro::is_available() {
        return None;
    }
    let file = proc_macro::Span::call_site().local_file()?;
    let file = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) if file.is_relative() => Path::new(&dir).join(file),
        _ => file,
    };
    file.parent().map(Path::to_path_buf)
}

fn btf_checks(
    ident: &Ident,
    btf_lit: &LitStr,
    container: &attrs::ContainerAttrs,
    fields: &[RustField<'_>],
    errors: &mut Errors,
) -> syn::Result<TokenStream> {
    let path = resolve_object(btf_lit)?;
    let bytes = std::fs::read(&path).map_err(|e| {
        syn::Error::new(
            btf_lit.span(),
            format!("cannot read BPF object `{}`: {e}", path.display()),
        )
    })?;
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let btf = Btf::from_elf(&bytes).map_err(|e| {
        syn::Error::new(
            btf_lit.span(),
            format!("cannot read the BTF of `{file_name}`: {e}"),
        )
    })?;
    let name_span = container.name.as_ref().map_or(btf_lit.span(), LitStr::span);
    let c_struct = container
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), LitStr::value);
    let layout = btf
        .struct_layout(&c_struct)
        .map_err(|e| syn::Error::new(name_span, format!("`{file_name}`: {e}")))?;
    let members = layout.flattened();
    let kind = layout.kind.to_string();
    let c_desc = format!("{kind} {}", layout.name);

    let path_str = path.to_string_lossy().into_owned();
    let mut checks = vec![quote! {
        // Rebuild when the object changes.
        const _: &[u8] = ::core::include_bytes!(#path_str);
    }];
    let size = layout.size as usize;
    let message = format!("size of `{ident}` differs: `{c_desc}` is {size} bytes in `{file_name}`");
    checks.push(quote_spanned! {ident.span()=>
        const _: () = ::core::assert!(::core::mem::size_of::<#ident>() == #size, #message);
    });

    if fields.iter().any(|f| f.ident.is_none()) {
        errors.at(
            ident.span(),
            "a struct checked against BTF needs named fields, matched to C members by name",
        );
        return Ok(quote!(#(#checks)*));
    }

    let mut matched = HashSet::new();
    for field in fields.iter().filter(|f| !f.attrs.padding) {
        let rust_name = field.ident.expect("named fields").to_string();
        let c_name = field.c_name().expect("named fields");
        let Some((index, member)) = members
            .iter()
            .enumerate()
            .find(|(_, m)| !m.name.is_empty() && m.name == c_name)
        else {
            errors.at(
                field.span,
                format!(
                    "`{ident}.{rust_name}` has no counterpart in `{c_desc}` (members: {}); \
                     rename it with `#[ring_event(rename = \"c_name\")]` or mark it \
                     `#[ring_event(padding)]`",
                    member_list(&members)
                ),
            );
            continue;
        };
        matched.insert(index);
        if let Some(bits) = member.bitfield_size {
            errors.at(
                field.span,
                format!(
                    "`{ident}.{rust_name}` maps onto the bitfield `{} {}:{bits}` of `{c_desc}`: \
                     bitfields have no Rust equivalent; cover their storage with an integer \
                     field marked `#[ring_event(padding)]` and extract the bits by hand",
                    member.type_name, member.name
                ),
            );
            continue;
        }
        let field_ident = field.ident.expect("named fields");
        let ty = field.ty;
        let offset = member.byte_offset as usize;
        let message = format!(
            "offset of `{ident}.{rust_name}` differs: `{} {}` is at byte offset {offset} in \
             `{c_desc}`",
            member.type_name, member.name
        );
        checks.push(quote_spanned! {field.span=>
            const _: () = ::core::assert!(
                ::core::mem::offset_of!(#ident, #field_ident) == #offset,
                #message
            );
        });
        let member_size = member.size as usize;
        let message = format!(
            "size of `{ident}.{rust_name}` differs: `{} {}` is {member_size} bytes in `{c_desc}`",
            member.type_name, member.name
        );
        checks.push(quote_spanned! {ty.span()=>
            const _: () = ::core::assert!(::core::mem::size_of::<#ty>() == #member_size, #message);
        });
    }

    let paddings: Vec<&RustField<'_>> = fields.iter().filter(|f| f.attrs.padding).collect();
    for (index, member) in members.iter().enumerate() {
        if matched.contains(&index) {
            continue;
        }
        let describe = describe_member(member);
        if paddings.is_empty() {
            errors.at(
                ident.span(),
                format!(
                    "{describe} of `{c_desc}` has no field in `{ident}`: add one, or cover it \
                     with a field marked `#[ring_event(padding)]`"
                ),
            );
            continue;
        }
        let start = u64::from(member.bit_offset);
        let end = start
            + member
                .bitfield_size
                .map_or(u64::from(member.size) * 8, u64::from);
        let covers = paddings.iter().map(|p| {
            let p_ident = p.ident.expect("named fields");
            let p_ty = p.ty;
            quote! {
                ((::core::mem::offset_of!(#ident, #p_ident) as u64) * 8 <= #start
                    && #end <= ((::core::mem::offset_of!(#ident, #p_ident)
                        + ::core::mem::size_of::<#p_ty>()) as u64) * 8)
            }
        });
        let message = format!(
            "{describe} of `{c_desc}` is not covered by a `#[ring_event(padding)]` field of \
             `{ident}`"
        );
        checks.push(quote_spanned! {ident.span()=>
            const _: () = ::core::assert!(false #(|| #covers)*, #message);
        });
    }
    Ok(quote!(#(#checks)*))
}

fn describe_member(member: &Member) -> String {
    match member.bitfield_size {
        Some(bits) => format!(
            "bitfield `{} {}:{bits}` (bit offset {})",
            member.type_name, member.name, member.bit_offset
        ),
        None if member.name.is_empty() => format!(
            "anonymous member `{}` (byte offset {})",
            member.type_name, member.byte_offset
        ),
        None => format!(
            "member `{} {}` (byte offset {})",
            member.type_name, member.name, member.byte_offset
        ),
    }
}

fn member_list(members: &[Member]) -> String {
    let names: Vec<&str> = members
        .iter()
        .filter(|m| !m.name.is_empty())
        .map(|m| m.name.as_str())
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// `#[derive(RingEvent)]` on an enum of views: `TaggedEvent`.
fn expand_tagged(input: &DeriveInput, data: &DataEnum) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let mut errors = Errors::default();
    let container = attrs::container(&input.attrs, &mut errors);
    for (present, what) in [
        (container.btf.is_some(), "btf"),
        (container.name.is_some(), "name"),
        (container.size.is_some(), "size"),
    ] {
        if present {
            errors.at(
                ident.span(),
                format!("`{what}` belongs on the variants' structs, not on an enum of views"),
            );
        }
    }
    let Some(tag_lit) = &container.tag else {
        errors.at(
            ident.span(),
            "an enum deriving RingEvent dispatches on a leading tag field: add \
             `#[ring_event(tag = \"field: type\")]`, e.g. `tag = \"kind: u32\"`",
        );
        return Err(errors.finish().expect_err("an error was pushed"));
    };
    let (tag_field, tag_ty) = match parse_tag(tag_lit) {
        Ok(parsed) => parsed,
        Err(e) => {
            errors.push(e);
            return Err(errors.finish().expect_err("an error was pushed"));
        }
    };

    let lifetimes: Vec<_> = input.generics.lifetimes().collect();
    if lifetimes.len() != 1 || input.generics.params.len() != 1 {
        errors.at(
            input.generics.span(),
            "an enum of views takes exactly one lifetime parameter, e.g. `enum Event<'a>`",
        );
        return Err(errors.finish().expect_err("an error was pushed"));
    }
    let lifetime = &lifetimes[0].lifetime;

    let mut arms = Vec::new();
    let mut checks = Vec::new();
    let mut seen_tags = HashSet::new();
    for variant in &data.variants {
        let v_ident = &variant.ident;
        let v_attrs = attrs::variant(&variant.attrs, &mut errors);
        let Some(tag) = v_attrs.tag else {
            errors.at(
                v_ident.span(),
                format!("variant `{v_ident}` needs `#[ring_event(tag = N)]`"),
            );
            continue;
        };
        match tag.base10_parse::<i128>() {
            Ok(value) if !seen_tags.insert(value) => {
                errors.at(tag.span(), format!("tag {value} names two variants"));
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
        let view_ty = match &variant.fields {
            Fields::Unnamed(f) if f.unnamed.len() == 1 => match &f.unnamed[0].ty {
                Type::Reference(r) if r.mutability.is_none() => Some(&*r.elem),
                _ => None,
            },
            _ => None,
        };
        let Some(view_ty) = view_ty else {
            errors.at(
                variant.span(),
                format!("variant `{v_ident}` must hold one view, e.g. `{v_ident}(&{lifetime} ExecEvent)`"),
            );
            continue;
        };
        arms.push(quote! {
            #tag => ::core::result::Result::Ok(
                Self::#v_ident(<#view_ty as ::ringview::View>::view(bytes)?)
            ),
        });
        let message = format!(
            "the tag `{tag_field}` must be the first field (offset 0) of the view of `{ident}::{v_ident}`"
        );
        // Spanned on the variant's view type, so errors point at it.
        let span = view_ty.span();
        let field = Ident::new(&tag_field.to_string(), span);
        let ty = Ident::new(&tag_ty.to_string(), span);
        checks.push(quote_spanned! {span=>
            const _: () = ::core::assert!(::core::mem::offset_of!(#view_ty, #field) == 0, #message);
            const _: fn(&#view_ty) -> &#ty = |view| &view.#field;
        });
    }
    errors.finish()?;
    let enum_name = ident.to_string();
    Ok(quote! {
        impl<#lifetime> ::ringview::TaggedEvent<#lifetime> for #ident<#lifetime> {
            #[inline]
            fn from_record(bytes: &#lifetime [u8]) -> ::core::result::Result<Self, ::ringview::ReadError> {
                let tag = <#tag_ty>::from_ne_bytes(::ringview::__private::tag::<
                    { ::core::mem::size_of::<#tag_ty>() },
                >(bytes, #enum_name)?);
                match tag {
                    #(#arms)*
                    #[allow(unreachable_patterns)]
                    other => ::core::result::Result::Err(::ringview::ReadError::UnknownTag {
                        tag: other as u64,
                        len: bytes.len(),
                        type_name: #enum_name,
                    }),
                }
            }
        }
        #(#checks)*
    })
}

/// Parses `"field: type"`, the type one of the fixed-size integers.
fn parse_tag(lit: &LitStr) -> syn::Result<(Ident, Ident)> {
    let value = lit.value();
    let bad = || {
        syn::Error::new(
            lit.span(),
            format!("`tag = \"{value}\"`: expected `\"field: type\"` with an integer type, e.g. `\"kind: u32\"`"),
        )
    };
    let (field, ty) = value.split_once(':').ok_or_else(bad)?;
    let ty = ty.trim();
    if !["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64"].contains(&ty) {
        return Err(bad());
    }
    let field = syn::parse_str::<Ident>(field.trim()).map_err(|_| bad())?;
    Ok((
        Ident::new(&field.to_string(), lit.span()),
        format_ident!("{}", ty, span = lit.span()),
    ))
}
