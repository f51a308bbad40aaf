//! Expand: the plan of checks and the trait implementation, as tokens, in
//! one `const _: () = { ... };`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{Data, DeriveInput, LitStr};

use crate::attrs::Errors;
use crate::check::{self, Check, Plan};
use crate::layout::StructLayout;
use crate::object::{self, Object};
use crate::parse::{self, RustStruct};

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
    if !input.generics.params.is_empty() {
        errors.at(
            syn::spanned::Spanned::span(&input.generics),
            "ring events cannot be generic: their layout is checked for one concrete type",
        );
    }
    if let Some(tag) = &rust.container.tag {
        errors.at(
            tag.span(),
            "`tag` belongs on an enum of views, not on a struct",
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

/// `unsafe impl RingEvent for` the type.
pub(crate) fn ring_event_impl(rust: &RustStruct<'_>) -> TokenStream {
    let self_ty = &rust.self_ty;
    let c_name = rust.c_name();
    quote! {
        #[automatically_derived]
        // SAFETY: `__view` casts through zerocopy's `FromBytes + KnownLayout
        // + Immutable` or bytemuck's `AnyBitPattern`, which check size and
        // alignment and guarantee every bit pattern is valid.
        unsafe impl ::ringview::RingEvent for #self_ty {
            const C_NAME: &'static str = #c_name;
            const SIZE: usize = ::core::mem::size_of::<Self>();

            #[inline(always)]
            fn __view(bytes: &[u8]) -> ::core::option::Option<&Self> {
                #[allow(unused_imports)]
                use ::ringview::__private::*;
                (&Cast::<Self>::new()).view(bytes)
            }
        }
    }
}

/// Every check on `rust`: field types, alignment, `size`, and the layout
/// against the BPF object when one is named.
pub(crate) fn layout_checks(
    rust: &RustStruct<'_>,
    errors: &mut Errors,
) -> syn::Result<TokenStream> {
    let ident = rust.ident;
    let self_ty = &rust.self_ty;
    let mut out = Vec::new();
    for field in &rust.fields {
        if let Some(ty) = field.ty {
            out.push(quote_spanned! {field.span=>
                const _: () = ::ringview::__private::field::<#ty>();
            });
        }
    }
    out.push(align_check(self_ty));
    if let Some(size) = &rust.container.size {
        let message = format!(
            "size of `{ident}` is not the {size} bytes given in `#[ring_event(size = {size})]`"
        );
        out.push(quote_spanned! {size.span()=>
            const _: () = ::core::assert!(::core::mem::size_of::<#self_ty>() == #size, #message);
        });
    }
    match &rust.container.btf {
        Some(btf) => out.push(btf_checks(rust, btf, errors)?),
        None if !rust.repr.packed && !rust.repr.transparent && !rust.is_union => {
            let tys = rust.fields.iter().filter_map(|f| f.ty);
            let message = format!(
                "`{ident}` has implicit padding, whose place can differ between the BPF target \
                 and this host: add explicit padding fields, or check the layout against the BPF \
                 object with `#[ring_event(btf = \"prog.bpf.o\", name = \"c_struct\")]`"
            );
            out.push(quote! {
                const _: () = ::core::assert!(
                    ::core::mem::size_of::<#self_ty>() == 0 #(+ ::core::mem::size_of::<#tys>())*,
                    #message
                );
            });
        }
        None => {}
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
        let name = f
            .ident
            .as_ref()
            .map_or_else(|| format_ident!("_{i}"), Clone::clone);
        (name, f.span)
    };
    let mut out = Vec::new();
    let offsets: Vec<(usize, u32, String)> = plan
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
                    None => quote!(__size_of(|v: &#self_ty| &v.#name)),
                };
                out.push(quote_spanned! {span=>
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
                        quote!(__size_of(|v: &#self_ty| #projection))
                    }
                };
                out.push(quote_spanned! {span=>
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
                let (ints, floats) = (known(&ints, "Int"), known(&floats, "Float"));
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
                        #ints
                        #floats
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
    quote! {
        #SUPPORT
        #(#out)*
    }
}

/// Const helpers the checks share, emitted once per type: messages built at
/// compile time with the Rust side's numbers in them.
const SUPPORT: Support = Support;

struct Support;

impl quote::ToTokens for Support {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(quote! {
            #[allow(dead_code)]
            struct __Message { buf: [u8; 1024], len: usize }
            #[allow(dead_code)]
            impl __Message {
                const fn new() -> Self { Self { buf: [0; 1024], len: 0 } }
                const fn str(mut self, s: &str) -> Self {
                    let b = s.as_bytes();
                    let mut i = 0;
                    while i < b.len() && self.len < self.buf.len() {
                        self.buf[self.len] = b[i];
                        self.len += 1;
                        i += 1;
                    }
                    self
                }
                const fn num(mut self, mut n: usize) -> Self {
                    let mut digits = [0u8; 20];
                    let mut k = 0;
                    loop {
                        digits[k] = b'0' + (n % 10) as u8;
                        k += 1;
                        n /= 10;
                        if n == 0 { break; }
                    }
                    while k > 0 && self.len < self.buf.len() {
                        k -= 1;
                        self.buf[self.len] = digits[k];
                        self.len += 1;
                    }
                    self
                }
                const fn as_str(&self) -> &str {
                    match ::core::str::from_utf8(self.buf.split_at(self.len).0) {
                        ::core::result::Result::Ok(s) => s,
                        ::core::result::Result::Err(_) => "",
                    }
                }
            }
            #[allow(dead_code)]
            const fn __size_of<T, F>(_: fn(&T) -> &F) -> usize {
                ::core::mem::size_of::<F>()
            }
            /// The message for offset `i`, unless it matches C or continues
            /// the shift of the offset before it.
            #[allow(dead_code)]
            const fn __shifted(
                all: &[(usize, usize)],
                i: usize,
                head: &str,
                tail: &str,
            ) -> ::core::option::Option<__Message> {
                let (rust, c) = all[i];
                if rust == c {
                    return ::core::option::Option::None;
                }
                let shift = rust as isize - c as isize;
                if i > 0 && all[i - 1].0 as isize - all[i - 1].1 as isize == shift {
                    return ::core::option::Option::None;
                }
                let mut later = 0;
                while i + later + 1 < all.len()
                    && all[i + later + 1].0 as isize - all[i + later + 1].1 as isize == shift
                {
                    later += 1;
                }
                let mut m = __Message::new().str(head).num(rust).str(tail);
                if later > 0 {
                    m = m.str("; the ").num(later).str(" fields after it are shifted by ")
                        .str(if shift < 0 { "-" } else { "" })
                        .num(shift.unsigned_abs())
                        .str(" bytes too");
                }
                ::core::option::Option::Some(m)
            }
            /// The message when no padding field holds bits `start..end`.
            #[allow(dead_code)]
            const fn __covered(
                paddings: &[(&str, usize, usize)],
                start: u64,
                end: u64,
                message: &str,
            ) -> ::core::option::Option<__Message> {
                let mut i = 0;
                while i < paddings.len() {
                    let (_, offset, size) = paddings[i];
                    if (offset as u64) * 8 <= start && end <= ((offset + size) as u64) * 8 {
                        return ::core::option::Option::None;
                    }
                    i += 1;
                }
                let mut m = __Message::new().str(message).str(" (padding fields: ");
                let mut i = 0;
                while i < paddings.len() {
                    let (name, offset, size) = paddings[i];
                    if i > 0 { m = m.str(", "); }
                    m = m.str("`").str(name).str("` bytes ").num(offset).str("..").num(offset + size);
                    i += 1;
                }
                ::core::option::Option::Some(m.str(")"))
            }
        });
    }
}
