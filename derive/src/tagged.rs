//! `#[derive(RingEvent)]` on an enum of views: `TaggedEvent`, dispatching on
//! a leading tag field.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DataEnum, DeriveInput, Fields, Ident, LitStr, Type};

use crate::attrs::{self, Errors};

/// `#[derive(RingEvent)]` on an enum of views: `TaggedEvent`.
pub(crate) fn expand(input: &DeriveInput, data: &DataEnum) -> syn::Result<TokenStream> {
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
    // The Rust type's path, as every `RecordTooShort` and `UnknownTag` names it.
    let enum_name = quote!(::core::any::type_name::<Self>());
    Ok(quote! {
        const _: () = {
        #[automatically_derived]
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
        };
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
