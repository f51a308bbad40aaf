//! Expand: the plan of checks and the trait implementation, as tokens, in
//! one `const _: () = { ... };`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{Data, DeriveInput, LitStr};

use crate::attrs::Errors;
use crate::check::{self, Check, Plan};
use ringview_btf::layout::StructLayout;
use ringview_btf::Object;

use crate::object;
use crate::parse::{self, RustField, RustStruct};

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    if let Data::Enum(data) = &input.data {
        return crate::tagged::expand(input, data);
    }
    let mut errors = Errors::default();
    let rust = parse::derive_input(input, &mut errors);
    let ident = rust.ident;
    if !rust.repr.c && !rust.repr.transparent {
        errors.at(
            ident.span(),
            format!(
                "`{ident}` needs `#[repr(C)]`: without it Rust may reorder and pad its fields, \
                 so its layout would not follow the BPF C struct"
            ),
        );
    }
    generics(input, &mut errors);
    if rust.fields.is_empty() {
        errors.at(
            ident.span(),
            format!(
                "`{ident}` has no fields: a ring event of zero bytes has nothing to read; add \
                 the fields of the C struct, or read the records as raw bytes \
                 (`UnsafeReader<[u8]>`) to count them"
            ),
        );
    }
    if let Some(tag) = &rust.container.tag {
        errors.at(
            tag.span(),
            "`tag` belongs on an enum of views, not on a struct",
        );
    }
    if let (Some((span, _)), false) = (&rust.container.omit, rust.is_union) {
        errors.at(
            *span,
            "`omit` leaves out arms of a C union, and belongs on a Rust union; a struct covers \
             the C members it leaves out with fields marked `#[ring_event(padding)]`",
        );
    }
    for ty in rust.fields.iter().filter_map(|f| f.ty) {
        parse::check_field_type(ty, &mut errors);
    }
    let checks = layout_checks(&rust, &mut errors);
    errors.finish()?;
    let checks = checks?;
    let ring_event = ring_event_impl(&rust);
    Ok(quote! {
        const _: () = {
            #ring_event
            #checks
        };
    })
}

/// Ring events are not generic: each check is a constant of one concrete
/// type, evaluated where the type is defined.
fn generics(input: &DeriveInput, errors: &mut Errors) {
    let ident = &input.ident;
    for param in &input.generics.params {
        let message = match param {
            syn::GenericParam::Const(c) => format!(
                "`{ident}` cannot be generic over `const {}: {}`: the derive proves the layout of \
                 one concrete type where it is defined, and a layout that depends on `{}` could \
                 be checked only where each size is used, which `cargo check` never does; \
                 declare one struct per size (a `macro_rules!` can stamp them out), or read a \
                 fixed header with `read_with_tail::<Header>()` and the rest of the record as \
                 bytes",
                c.ident,
                c.ty.to_token_stream(),
                c.ident
            ),
            _ => "ring events cannot be generic: their layout is checked for one concrete type"
                .to_owned(),
        };
        errors.at(syn::spanned::Spanned::span(param), message);
    }
}

/// `unsafe impl RingEvent for` the type.
pub(crate) fn ring_event_impl(rust: &RustStruct<'_>) -> TokenStream {
    let self_ty = &rust.self_ty;
    let c_name = rust.c_name();
    let (table, members) = match member_table(rust) {
        Some(table) => (
            table,
            quote! {
                const __MEMBERS: ::core::option::Option<&'static ::ringview::__private::Table> =
                    ::core::option::Option::Some(&__TABLE);
            },
        ),
        None => (TokenStream::new(), TokenStream::new()),
    };
    let layout = proof(rust);
    quote! {
        #table
        #[automatically_derived]
        // SAFETY: `__view` casts through zerocopy's `FromBytes + KnownLayout
        // + Immutable` or bytemuck's `AnyBitPattern`, which check size and
        // alignment and guarantee every bit pattern is valid.
        unsafe impl ::ringview::RingEvent for #self_ty {
            const C_NAME: &'static str = #c_name;
            const SIZE: usize = ::core::mem::size_of::<Self>();
            #members
            type __Layout = #layout;

            #[inline(always)]
            fn __view(bytes: &[u8]) -> ::core::option::Option<&Self> {
                #[allow(unused_imports)]
                use ::ringview::__private::*;
                (&&Cast::<Self>::new()).view(bytes)
            }
        }
    }
}

/// Whether the layout is proven for reading the type on its own: checked
/// against the BPF object; else free of implicit padding (a struct's size is
/// the sum of its fields'), with every field's type proven too. A type that
/// is not (a nested helper type) can still be a field of a checked event,
/// whose check judges its padding by the C layout; reading it on its own is
/// a type error (`ringview::__private::ProvenFor`).
fn proof(rust: &RustStruct<'_>) -> TokenStream {
    if rust.container.btf.is_some() || rust.from_c {
        return quote!(::ringview::__private::Proven);
    }
    let self_ty = &rust.self_ty;
    let padding_free = rust.repr.packed || rust.repr.transparent || rust.is_union;
    // Through the member table, which names each field type once.
    quote! {
        <::ringview::__private::Select<{
            ::ringview::__private::proven(
                &__TABLE,
                ::core::mem::size_of::<#self_ty>(),
                #padding_free,
            )
        }> as ::ringview::__private::Pick>::Layout
    }
}

/// The fields as the `#[ring_event(nested)]` checks of enclosing types
/// read them: `const __TABLE`, when the fields are known (not for
/// `ring_event!`). Building it requires each field's type to be plain BPF
/// data (`RingField`): that check is this one.
fn member_table(rust: &RustStruct<'_>) -> Option<TokenStream> {
    if rust.from_c {
        return None;
    }
    let self_ty = &rust.self_ty;
    let rust_name = rust.ident.to_string();
    let members = rust.fields.iter().enumerate().map(|(i, f)| {
        let ty = f.ty?;
        let place = match &f.ident {
            Some(ident) => ident.into_token_stream(),
            None => syn::Index::from(i).into_token_stream(),
        };
        let offset = if rust.is_union {
            quote!(0)
        } else {
            quote!(::core::mem::offset_of!(#self_ty, #place))
        };
        let c_name = if f.attrs.padding {
            String::new()
        } else {
            f.c_name().unwrap_or_default()
        };
        let field_name = f.rust_name();
        let padding = f.attrs.padding;
        // Also the check that the field's type is plain BPF data.
        Some(quote_spanned! {f.span=>
            ::ringview::__private::member::<#ty>(#c_name, #field_name, #offset, #padding)
        })
    });
    let members: Option<Vec<TokenStream>> = members.collect();
    let members = members?;
    let kind = match (rust.is_union, rust.repr.transparent, rust.fields.first()) {
        (true, _, _) => quote!(::ringview::__private::Kind::Union),
        // A newtype holds what its field holds (a C enum's `u32`).
        (false, true, Some(RustField { ty: Some(ty), .. })) => {
            quote!(<#ty as ::ringview::__private::RingField>::KIND)
        }
        _ => quote!(::ringview::__private::Kind::Composite),
    };
    let omitted = rust
        .container
        .omit
        .iter()
        .flat_map(|(_, names)| names.iter().map(LitStr::value));
    Some(quote! {
        const __TABLE: ::ringview::__private::Table = ::ringview::__private::Table {
            rust_name: #rust_name,
            members: &[#(#members),*],
            kind: #kind,
            omitted: &[#(#omitted),*],
        };
    })
}

/// Every check on `rust`: field types, alignment, `size`, and the layout
/// against the BPF object when one is named.
pub(crate) fn layout_checks(
    rust: &RustStruct<'_>,
    errors: &mut Errors,
) -> syn::Result<TokenStream> {
    let ident = rust.ident;
    let self_ty = &rust.self_ty;
    // Field types are checked by the member table (`ring_event_impl`).
    let mut out = vec![align_check(self_ty)];
    let empty = format!(
        "`{ident}` is zero bytes: a ring event of zero bytes has nothing to read; add the fields \
         of the C struct, or read the records as raw bytes (`UnsafeReader<[u8]>`) to count them"
    );
    out.push(quote_spanned! {ident.span()=>
        const _: () = ::core::assert!(::core::mem::size_of::<#self_ty>() != 0, #empty);
    });
    if let Some(size) = &rust.container.size {
        let message = format!(
            "size of `{ident}` is not the {size} bytes given in `#[ring_event(size = {size})]`"
        );
        out.push(quote_spanned! {size.span()=>
            const _: () = ::core::assert!(::core::mem::size_of::<#self_ty>() == #size, #message);
        });
    }
    // Without `btf`, implicit padding is judged where the type is used: by
    // the C layout where a checked event nests it, and as a type error where
    // it is read on its own (`proof`).
    if let Some(btf) = &rust.container.btf {
        out.push(btf_checks(rust, btf, errors)?);
    }
    Ok(quote!(#(#out)*))
}

/// `align_of::<T>() <= 8`.
pub(crate) fn align_check(self_ty: &TokenStream) -> TokenStream {
    quote! {
        const _: () = ::core::assert!(
            ::core::mem::align_of::<#self_ty>() <= 8,
            ::core::concat!(
                "`", ::core::stringify!(#self_ty), "` is aligned to more than 8 bytes, but ring \
                 payloads are only 8-byte aligned (for `u128`/`i128`, `__int128` in C, use `[u64; 2]`)"
            )
        );
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
    rust: &RustStruct<'_>,
    btf_lit: &LitStr,
    errors: &mut Errors,
) -> syn::Result<TokenStream> {
    let (object, layout) = find_layout(btf_lit, rust.container.name.as_ref(), &rust.c_name())?;
    let plan = check::plan(rust, &layout, &object.file_name, errors);
    let include = include(&object);
    let checks = emit(rust, &plan);
    Ok(quote!(#include #checks))
}

/// The object `btf_lit` names, and the layout of `c_name` in it; errors
/// point at `name_lit` when given (else at `btf_lit`).
pub(crate) fn find_layout(
    btf_lit: &LitStr,
    name_lit: Option<&LitStr>,
    c_name: &str,
) -> syn::Result<(Arc<Object>, StructLayout)> {
    let err = |span: Span| move |message: String| syn::Error::new(span, message);
    let path =
        object::resolve(&btf_lit.value(), invoking_file_dir()).map_err(err(btf_lit.span()))?;
    let object = object::load(&path).map_err(err(btf_lit.span()))?;
    let name_span = name_lit.map_or(btf_lit.span(), LitStr::span);
    let layout = object.struct_layout(c_name).map_err(err(name_span))?;
    Ok((object, layout))
}

/// The `include_bytes!` that makes cargo rebuild when the object changes,
/// on the crate's first use of it.
pub(crate) fn include(object: &Object) -> Option<TokenStream> {
    object::first_include(&object.path).then(|| {
        let path = object.path.to_string_lossy().into_owned();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    })
}

/// The tokens of a plan.
pub(crate) fn emit(rust: &RustStruct<'_>, plan: &Plan) -> TokenStream {
    let ident = rust.ident;
    let self_ty = &rust.self_ty;
    let field_ident = |i: usize| {
        let f = &rust.fields[i];
        let name = match (&f.place, &f.ident) {
            (Some(place), _) => FieldName::path(place, f.span),
            (None, Some(ident)) => FieldName::ident(ident.clone()),
            (None, None) => FieldName::ident(format_ident!("_{i}")),
        };
        (name, f.span)
    };
    let mut out = Vec::new();
    let mut offsets: Vec<(usize, u32, String)> = plan
        .checks
        .iter()
        .filter_map(|c| match c {
            Check::Offset {
                field,
                c_offset,
                c_says,
            } => Some((*field, *c_offset, c_says.clone())),
            _ => None,
        })
        .collect();
    // In field order (fields standing for anonymous members are planned
    // last): a shift is reported once, at the first field it moves.
    offsets.sort_by_key(|&(field, ..)| field);
    if !offsets.is_empty() {
        let n = offsets.len();
        let pairs = offsets.iter().map(|(field, c, _)| {
            let (name, _) = field_ident(*field);
            let c = *c as usize;
            quote!((::core::mem::offset_of!(#self_ty, #name), #c))
        });
        out.push(quote! {
            const __OFFSETS: [(usize, usize); #n] = [#(#pairs),*];
        });
        for (i, (field, _, c_says)) in offsets.iter().enumerate() {
            let (name, span) = field_ident(*field);
            let head = format!("offset of `{ident}.{name}` differs: Rust puts it at byte ");
            let tail = format!(", but {c_says}");
            out.push(quote_spanned! {span=>
                const _: () = if let ::core::option::Option::Some(m) =
                    __shifted(&__OFFSETS, #i, #head, #tail)
                {
                    ::core::panic!("{}", m.as_str())
                };
            });
        }
    }
    for check in &plan.checks {
        match check {
            Check::Offset { .. } => {}
            Check::Size { size, message } => {
                let size = *size as usize;
                out.push(quote_spanned! {ident.span()=>
                    const _: () = ::core::assert!(::core::mem::size_of::<#self_ty>() == #size, #message);
                });
            }
            Check::FieldSize {
                field,
                size,
                message,
            } => {
                let (name, span) = field_ident(*field);
                let size = *size as usize;
                let measured = match rust.fields[*field].ty {
                    Some(ty) => quote!(::core::mem::size_of::<#ty>()),
                    None => quote!(__size_of(|v: &#self_ty| unsafe { &v.#name })),
                };
                out.push(quote_spanned! {span=>
                    #[allow(unused_unsafe)]
                    const _: () = ::core::assert!(#measured == #size, #message);
                });
            }
            Check::ElemSize {
                field,
                dims,
                size,
                message,
            } => {
                let (name, span) = field_ident(*field);
                let size = *size as usize;
                let measured = match rust.fields[*field].elem {
                    Some(elem) => quote!(::core::mem::size_of::<#elem>()),
                    None => {
                        let projection: TokenStream = format!("&v.{name}{}", "[0]".repeat(*dims))
                            .parse()
                            .unwrap_or_default();
                        quote!(__size_of(|v: &#self_ty| unsafe { #projection }))
                    }
                };
                out.push(quote_spanned! {span=>
                    #[allow(unused_unsafe)]
                    const _: () = ::core::assert!(#measured == #size, #message);
                });
            }
            Check::Nested {
                field,
                offset,
                in_elem,
                path,
                size,
                describe,
            } => {
                let (name, span) = field_ident(*field);
                if let Some(ty) = rust.fields[*field].ty {
                    out.push(name_hint(ident, &name, ty, path, describe, span));
                }
                let projection: TokenStream =
                    format!("&v.{name}{path}").parse().unwrap_or_default();
                let size = *size as usize;
                let message = format!("size differs: {describe}");
                out.push(quote_spanned! {span=>
                    #[allow(unused_unsafe)]
                    const _: () = ::core::assert!(
                        __size_of(|v: &#self_ty| unsafe { #projection }) == #size,
                        #message
                    );
                });
                if let Some((offset_path, c)) = offset {
                    let c = *c as usize;
                    let message = format!("offset differs: {describe}");
                    let offset_path: TokenStream = offset_path.parse().unwrap_or_default();
                    let rust_offset = if *in_elem {
                        // Without the Rust type (`check_layout!`), the
                        // element type has no name to take offsets in.
                        let Some(elem) = rust.fields[*field].elem else {
                            continue;
                        };
                        quote!(::core::mem::offset_of!(#elem, #offset_path))
                    } else {
                        quote!(
                            ::core::mem::offset_of!(#self_ty, #name.#offset_path)
                                - ::core::mem::offset_of!(#self_ty, #name)
                        )
                    };
                    out.push(quote_spanned! {span=>
                        const _: () = ::core::assert!(#rust_offset == #c, #message);
                    });
                }
            }
            Check::ElemOffset {
                field,
                anchor,
                path,
                c_offset,
                describe,
            } => {
                let (name, span) = field_ident(*field);
                let place = |p: &str| -> TokenStream {
                    format!("(*p).{name}{p}").parse().unwrap_or_default()
                };
                let (member, element) = (place(path), place(anchor));
                let c = *c_offset as usize;
                let message = format!("offset differs: {describe}");
                // Places behind a pointer to uninitialized memory, never
                // read: the distance between two of them is the offset.
                out.push(quote_spanned! {span=>
                    #[allow(unused_unsafe)]
                    const _: () = {
                        let u = ::core::mem::MaybeUninit::<#self_ty>::uninit();
                        let p = u.as_ptr();
                        // SAFETY: `p` points to a live `MaybeUninit<Self>`;
                        // `addr_of!` makes a pointer to a place in it without
                        // reading it, and constant indices are bounds-checked.
                        let member = unsafe { ::core::ptr::addr_of!(#member) }.cast::<u8>();
                        // SAFETY: as above.
                        let element = unsafe { ::core::ptr::addr_of!(#element) }.cast::<u8>();
                        // SAFETY: both point into the one allocation `u`.
                        let offset = unsafe { member.offset_from(element) };
                        ::core::assert!(offset == #c as isize, #message);
                    };
                });
            }
            Check::Kind {
                field,
                c_float,
                message,
            } => {
                let (name, span) = field_ident(*field);
                let ints = [
                    "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "usize", "isize",
                ];
                let floats = ["f32", "f64"];
                let known = |names: &[&str], kind: &str| -> TokenStream {
                    let kind = format_ident!("{kind}");
                    names
                        .iter()
                        .map(|n| {
                            let t = format_ident!("{n}");
                            quote! {
                                impl Known for W<#t> { type K = #kind; }
                                impl<const N: usize> Known for W<[#t; N]> { type K = #kind; }
                                impl<const N: usize, const M: usize> Known for W<[[#t; N]; M]> {
                                    type K = #kind;
                                }
                            }
                        })
                        .collect()
                };
                // zerocopy's byte-order numbers, however the caller spells
                // them (`F32<BigEndian>`, `zerocopy::F32<LE>`, an alias).
                let byte_order = |names: &[&str], kind: &str| -> TokenStream {
                    let kind = format_ident!("{kind}");
                    names
                        .iter()
                        .map(|n| {
                            let t = format_ident!("{n}");
                            let t = quote!(::ringview::__private::byteorder::#t<O>);
                            quote! {
                                impl<O> Known for W<#t> { type K = #kind; }
                                impl<O, const N: usize> Known for W<[#t; N]> { type K = #kind; }
                                impl<O, const N: usize, const M: usize> Known for W<[[#t; N]; M]> {
                                    type K = #kind;
                                }
                            }
                        })
                        .collect()
                };
                let (ints, floats) = (
                    [
                        known(&ints, "Int"),
                        byte_order(&["U16", "U32", "U64", "I16", "I32", "I64"], "Int"),
                    ],
                    [
                        known(&floats, "Float"),
                        byte_order(&["F32", "F64"], "Float"),
                    ],
                );
                let agrees = if *c_float { quote!(Float) } else { quote!(Int) };
                // Autoref specialization: `(&w).kind()` takes `Known`'s
                // method when the field's type has an impl (found by value),
                // else `Unknown`'s on `&W` (found by autoref).
                out.push(quote_spanned! {span=>
                    #[allow(unused_unsafe, dead_code, clippy::all)]
                    const _: () = {
                        struct W<F>(::core::marker::PhantomData<F>);
                        struct Int;
                        struct Float;
                        struct Other;
                        trait Known {
                            type K;
                            fn kind(&self) -> Self::K {
                                ::core::unreachable!()
                            }
                        }
                        trait Unknown {
                            fn kind(&self) -> Other {
                                Other
                            }
                        }
                        impl<F> Unknown for &W<F> {}
                        #(#ints)*
                        #(#floats)*
                        #[diagnostic::on_unimplemented(message = #message, label = "checked here")]
                        trait Agrees {}
                        impl Agrees for #agrees {}
                        impl Agrees for Other {}
                        fn require<K: Agrees>(_: K) {}
                        fn wrap<T, F>(_: fn(&T) -> &F) -> W<F> {
                            W(::core::marker::PhantomData)
                        }
                        fn check() {
                            let w = wrap(|v: &#self_ty| unsafe { &v.#name });
                            require((&w).kind());
                        }
                    };
                });
            }
            Check::ElemKind {
                field,
                c_float,
                head,
                tail,
            } => {
                let (_, span) = field_ident(*field);
                if let Some(ty) = rust.fields[*field].ty {
                    let want = if *c_float { quote!(Float) } else { quote!(Int) };
                    out.push(quote_spanned! {span=>
                        const _: () = {
                            let kind = <#ty as ::ringview::__private::RingField>::KIND;
                            if !::core::matches!(kind, ::ringview::__private::Kind::#want) {
                                let m = __Message::new().str(#head).str(kind.holds()).str(#tail);
                                ::core::panic!("{}", m.as_str())
                            }
                        };
                    });
                }
            }
            Check::NestedRoot {
                field,
                message,
                union_for_struct,
            } => {
                let (_, span) = field_ident(*field);
                if let Some(ty) = rust.fields[*field].ty {
                    out.push(quote_spanned! {span=>
                        const _: () = ::core::assert!(
                            <#ty as ::ringview::__private::RingField>::TABLE.is_some(),
                            #message
                        );
                    });
                    if let Some(message) = union_for_struct {
                        out.push(quote_spanned! {span=>
                            const _: () = ::core::assert!(
                                !::core::matches!(
                                    <#ty as ::ringview::__private::RingField>::KIND,
                                    ::ringview::__private::Kind::Union
                                ),
                                #message
                            );
                        });
                    }
                }
            }
            Check::UnionArm {
                field,
                parents,
                arm,
            } => {
                let (name, span) = field_ident(*field);
                if let Some(ty) = rust.fields[*field].ty {
                    let head = format!("nested `{ident}.{name}`: ");
                    let arm_token = arm_tokens(arm);
                    let call = quote! {
                        ::ringview::__private::union_arm(
                            <#ty as ::ringview::__private::RingField>::TABLE,
                            &[#(#parents),*],
                            0,
                            &#arm_token,
                        )
                    };
                    let arms = std::slice::from_ref(arm);
                    out.push(found_check(span, &head, &call, (0, 0), arms, ""));
                }
            }
            Check::NestedMember {
                field,
                parents,
                offset,
                start_bits,
                end_bits,
                arms,
                describe,
            } => {
                let (name, span) = field_ident(*field);
                if let Some(ty) = rust.fields[*field].ty {
                    let head = format!("nested `{ident}.{name}`: ");
                    out.push(nested_member(
                        ty,
                        span,
                        &head,
                        parents,
                        *offset,
                        *start_bits,
                        *end_bits,
                        arms,
                        describe,
                    ));
                }
            }
            Check::NestedStrays {
                field,
                parents,
                c_names,
                c_type,
            } => {
                let (name, span) = field_ident(*field);
                if let Some(ty) = rust.fields[*field].ty {
                    let head = format!("nested `{ident}.{name}`: `");
                    let members = if c_names.is_empty() {
                        "none".to_owned()
                    } else {
                        c_names.join(", ")
                    };
                    let has_no = format!("`, but {c_type} has no member `");
                    let tail = format!(
                        "` (members: {members}): fix its `#[ring_event(rename = \"..\")]`, or \
                         mark it `#[ring_event(padding)]`"
                    );
                    out.push(quote_spanned! {span=>
                        const _: () = if let ::core::option::Option::Some((ty, field, c)) =
                            ::ringview::__private::stray(
                                <#ty as ::ringview::__private::RingField>::TABLE,
                                &[#(#parents),*],
                                &[#(#c_names),*],
                            )
                        {
                            let m = __Message::new().str(#head).str(ty).str(".").str(field)
                                .str("` stands for C `").str(c).str(#has_no).str(c).str(#tail);
                            ::core::panic!("{}", m.as_str())
                        };
                    });
                    let omits = format!("`, but {c_type} has no arm `");
                    let arms = format!("` (arms: {members})");
                    out.push(quote_spanned! {span=>
                        const _: () = if let ::core::option::Option::Some((ty, arm)) =
                            ::ringview::__private::stray_omit(
                                <#ty as ::ringview::__private::RingField>::TABLE,
                                &[#(#parents),*],
                                &[#(#c_names),*],
                            )
                        {
                            let m = __Message::new().str(#head).str(ty)
                                .str("` omits `").str(arm).str(#omits).str(arm).str(#arms);
                            ::core::panic!("{}", m.as_str())
                        };
                    });
                }
            }
            Check::Covered {
                start_bits,
                end_bits,
                paddings,
                message,
            } => {
                let names: Vec<_> = paddings.iter().map(|&i| field_ident(i).0).collect();
                let labels = names.iter().map(ToString::to_string);
                let tys = paddings.iter().filter_map(|&i| rust.fields[i].ty);
                let names2 = names.clone();
                out.push(quote_spanned! {ident.span()=>
                    const _: () = {
                        const P: &[(&str, usize, usize)] = &[#((
                            #labels,
                            ::core::mem::offset_of!(#self_ty, #names2),
                            ::core::mem::size_of::<#tys>(),
                        )),*];
                        if let ::core::option::Option::Some(m) =
                            __covered(P, #start_bits, #end_bits, #message)
                        {
                            ::core::panic!("{}", m.as_str())
                        }
                    };
                });
            }
        }
    }
    let errors = plan.errors.iter().map(syn::Error::to_compile_error);
    quote! {
        #(#errors)*
        #SUPPORT
        #(#out)*
    }
}

/// A field as emitted code reaches it from the value: its name, or a path
/// through the fields that hold anonymous C members (`__anon_1.saddr_v4`).
#[derive(Clone)]
struct FieldName {
    tokens: TokenStream,
    text: String,
}

impl FieldName {
    fn ident(ident: syn::Ident) -> Self {
        Self {
            text: ident.to_string(),
            tokens: ident.into_token_stream(),
        }
    }

    /// `place`, a `.`-separated path of identifiers, spanned on the field.
    fn path(place: &str, span: Span) -> Self {
        let tokens: TokenStream = place.parse().unwrap_or_default();
        let tokens = tokens
            .into_iter()
            .map(|mut t| {
                t.set_span(span);
                t
            })
            .collect();
        Self {
            tokens,
            text: place.to_owned(),
        }
    }
}

impl std::fmt::Display for FieldName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl ToTokens for FieldName {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.tokens.clone());
    }
}

/// The hint when a nested struct checked by C member names lacks one: its
/// type may name it otherwise, which `#[ring_event(nested)]` would follow.
fn name_hint(
    ident: &syn::Ident,
    name: &FieldName,
    ty: &syn::Type,
    path: &str,
    describe: &str,
    span: Span,
) -> TokenStream {
    let raw: Vec<String> = path
        .split('.')
        .map(|s| s.replace("[0]", ""))
        .filter(|s| !s.is_empty())
        .collect();
    let Some(last) = raw.last() else {
        return TokenStream::new();
    };
    // The tables hold the names as written (`r#mod`); compared unraw.
    let names = raw
        .iter()
        .map(|s| s.strip_prefix("r#").unwrap_or(s).to_owned());
    let middle = format!(
        "` has no field `{last}` ({describe}): nested types are looked up by C member names \
         unless marked `#[ring_event(nested)]`; if `"
    );
    let tail = format!(
        "` names the member otherwise (`#[ring_event(rename = \"..\")]`), mark `{ident}.{name}` \
         `#[ring_event(nested)]` to check it through that type's own fields"
    );
    quote_spanned! {span=>
        const _: () = if let ::core::option::Option::Some(ty) = ::ringview::__private::missing_name(
            <#ty as ::ringview::__private::RingField>::TABLE,
            &[#(#names),*],
        ) {
            let m = __Message::new().str("`").str(ty).str(#middle).str(ty).str(#tail);
            ::core::panic!("{}", m.as_str())
        };
    }
}

/// The check of one C member (or anonymous union) of a `nested` field's C
/// type against the Rust types' member tables.
#[expect(clippy::too_many_arguments, reason = "one check's parts")]
fn nested_member(
    ty: &syn::Type,
    span: Span,
    head: &str,
    parents: &[String],
    offset: u32,
    start_bits: u64,
    end_bits: u64,
    arms: &[check::NestedArm],
    describe: &str,
) -> TokenStream {
    let offset = offset as usize;
    let arm_tokens = arms.iter().map(arm_tokens);
    let call = quote! {
        ::ringview::__private::nested_member(
            <#ty as ::ringview::__private::RingField>::TABLE,
            &[#(#parents),*],
            #offset,
            #start_bits,
            #end_bits,
            &[#(#arm_tokens),*],
        )
    };
    found_check(
        span,
        head,
        &call,
        (offset, (end_bits / 8) as usize),
        arms,
        describe,
    )
}

/// `ringview::__private::Arm { .. }` for `arm`.
fn arm_tokens(arm: &check::NestedArm) -> TokenStream {
    let (c_name, size, elem_size) = (&arm.name, arm.size as usize, arm.elem_size as usize);
    let kind = match arm.kind {
        Some(check::NestedKind::Int) => quote!(::core::option::Option::Some(
            ::ringview::__private::Kind::Int
        )),
        Some(check::NestedKind::Float) => quote!(::core::option::Option::Some(
            ::ringview::__private::Kind::Float
        )),
        Some(check::NestedKind::Composite) => {
            quote!(::core::option::Option::Some(
                ::ringview::__private::Kind::Composite
            ))
        }
        Some(check::NestedKind::Union) => {
            quote!(::core::option::Option::Some(
                ::ringview::__private::Kind::Union
            ))
        }
        None => quote!(::core::option::Option::None),
    };
    quote!(::ringview::__private::Arm { c_name: #c_name, size: #size, elem_size: #elem_size, kind: #kind })
}

/// The constant that evaluates `call` (a `ringview::__private::Found`)
/// for the C `arms` at bytes `offset..end`, and panics with the message of
/// what it found; `describe` names the C member (or union) for `Missing`.
fn found_check(
    span: Span,
    head: &str,
    call: &TokenStream,
    (offset, end): (usize, usize),
    arms: &[check::NestedArm],
    describe: &str,
) -> TokenStream {
    let n = arms.len();
    let describes = arms.iter().map(|a| a.describe.as_str());
    let c_holds = arms.iter().map(|a| match a.kind {
        Some(check::NestedKind::Float) => "floats",
        Some(check::NestedKind::Composite) => "a struct",
        Some(check::NestedKind::Union) => "a union",
        _ => "integers",
    });
    let sizes = arms.iter().map(|a| a.size as usize);
    let elem_sizes = arms.iter().map(|a| a.elem_size as usize);
    let rust_types = arms.iter().map(|a| a.rust_type.clone().unwrap_or_default());
    let missing = format!(
        "` has no field for {describe}, and no `#[ring_event(padding)]` field of it covers \
         those bytes: add the field (or fix its `rename`), or cover them with padding"
    );
    let (missing_arm_head, missing_arm_tail) = match arms {
        [arm] => (
            format!("` has no arm for {}: add `", arm.describe),
            format!(
                "`, or leave the arm out on purpose with `#[ring_event(omit = [\"{}\"])]`",
                arm.name
            ),
        ),
        _ => (String::new(), String::new()),
    };
    let arm_field = arms.first().map_or_else(String::new, |a| {
        crate::parse::field_ident(&a.name, span).map_or_else(|| a.name.clone(), |i| i.to_string())
    });
    let arm_type = arms
        .first()
        .and_then(|a| a.rust_type.clone())
        .unwrap_or_else(|| "a type deriving RingEvent".to_owned());
    let uncovered = format!(
        "`: the bytes {{from}}..{{end}} of {describe} past the arm it has are not covered by a \
         `#[ring_event(padding)]` field"
    );
    let (uncovered_head, rest) = uncovered
        .split_once("{from}")
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap_or_default();
    let (uncovered_mid, uncovered_tail) = rest
        .split_once("{end}")
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap_or_default();
    quote_spanned! {span=>
        #[allow(unused_variables, unreachable_patterns)]
        const _: () = {
            const DESCRIBE: [&str; #n] = [#(#describes),*];
            const C_HOLDS: [&str; #n] = [#(#c_holds),*];
            const C_SIZE: [usize; #n] = [#(#sizes),*];
            const C_ELEM: [usize; #n] = [#(#elem_sizes),*];
            const C_TYPE: [&str; #n] = [#(#rust_types),*];
            match #call {
                ::ringview::__private::Found::Ok | ::ringview::__private::Found::Skip => {}
                ::ringview::__private::Found::Mismatch { what, arm, member, rust_name } => {
                    let m = __Message::new().str(#head).str("`").str(rust_name).str(".")
                        .str(member.rust_name);
                    let m = match what {
                        ::ringview::__private::Mismatch::Offset => m
                            .str("` is at byte ").num(member.offset).str(", but ")
                            .str(DESCRIBE[arm]).str(" is at byte offset ").num(#offset),
                        ::ringview::__private::Mismatch::Size => m
                            .str("` is ").bytes(member.size).str(", but ")
                            .str(DESCRIBE[arm]).str(" is ").bytes(C_SIZE[arm])
                            .fix(member.rust_name, C_TYPE[arm]),
                        ::ringview::__private::Mismatch::ElemSize => m
                            .str("` has ").num(member.elem_size).str("-byte elements, but ")
                            .str(DESCRIBE[arm]).str(" has ").num(C_ELEM[arm])
                            .str("-byte elements").fix(member.rust_name, C_TYPE[arm]),
                        ::ringview::__private::Mismatch::Kind => m
                            .str("` holds ").str(member.kind.holds()).str(", but ")
                            .str(DESCRIBE[arm]).str(" holds ").str(C_HOLDS[arm])
                            .str(": the same bytes would mean something else")
                            .fix(member.rust_name, C_TYPE[arm]),
                        ::ringview::__private::Mismatch::NoTable => m
                            .str("` stands for ").str(DESCRIBE[arm])
                            .str(", but its type records no fields to check it against: derive \
                                 RingEvent on it"),
                    };
                    ::core::panic!("{}", m.as_str())
                }
                ::ringview::__private::Found::Missing { rust_name } => {
                    let m = __Message::new().str(#head).str("`").str(rust_name).str(#missing);
                    ::core::panic!("{}", m.as_str())
                }
                ::ringview::__private::Found::MissingArm { rust_name } => {
                    let m = __Message::new().str(#head).str("`").str(rust_name)
                        .str(#missing_arm_head).str(#arm_field).str(": ").str(#arm_type)
                        .str(#missing_arm_tail);
                    ::core::panic!("{}", m.as_str())
                }
                ::ringview::__private::Found::Uncovered { rust_name, from } => {
                    let m = __Message::new().str(#head).str("`").str(rust_name)
                        .str(#uncovered_head).num(from).str(#uncovered_mid)
                        .num(#end).str(#uncovered_tail);
                    ::core::panic!("{}", m.as_str())
                }
            }
        };
    }
}

/// The const helpers the checks share (`ringview::__private`), under the
/// names the checks use: one `use` per type, not their code.
const SUPPORT: Support = Support;

struct Support;

impl quote::ToTokens for Support {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(quote! {
            #[allow(unused_imports)]
            use ::ringview::__private::{
                shifted as __shifted, size_of_field as __size_of, uncovered as __covered, Message as __Message,
            };
        });
    }
}
