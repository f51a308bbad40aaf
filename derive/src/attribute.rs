//! `#[ringview::event(..)]`: the attribute form of the derive. It adds
//! `#[repr(C)]` and derives zerocopy's casting traits through ringview's
//! own re-export of zerocopy, so an event type needs neither the four
//! derives nor a zerocopy dependency of its crate.

use proc_macro2::TokenStream;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Path, Token};

use crate::attrs::Errors;

/// The derives the attribute adds, which the item must not repeat: zerocopy's
/// `FromBytes` derive also implements `FromZeros` and `TryFromBytes`.
const ADDED: [&str; 6] = [
    "FromBytes",
    "FromZeros",
    "TryFromBytes",
    "Immutable",
    "KnownLayout",
    "RingEvent",
];

/// The item with `#[repr(C)]` (unless it has a `repr`), the derives, and
/// `args` as `#[ring_event(args)]`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut input: DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                "`#[ringview::event]` goes on a struct or union (or an enum of views)",
            );
            let error = e.into_compile_error();
            return quote!(#error #item);
        }
    };
    // The derives the attribute adds are reported where the item repeats
    // them, and dropped from its `#[derive(..)]`, so nothing else cascades.
    let mut errors = Errors::default();
    let mut attrs = Vec::with_capacity(input.attrs.len());
    for attr in std::mem::take(&mut input.attrs) {
        let paths = match attr.path().is_ident("derive") {
            true => attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated),
            false => {
                attrs.push(attr);
                continue;
            }
        };
        let Ok(paths) = paths else {
            attrs.push(attr);
            continue;
        };
        let mut kept: Punctuated<Path, Token![,]> = Punctuated::new();
        for path in paths {
            let name = path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            if ADDED.contains(&name.as_str()) {
                errors.at(
                    path.span(),
                    format!(
                        "`#[ringview::event]` derives `{name}` itself (zerocopy's traits through \
                         ringview's re-export of zerocopy): remove `{name}` from this \
                         `#[derive(..)]`"
                    ),
                );
            } else {
                kept.push(path);
            }
        }
        if !kept.is_empty() {
            attrs.push(syn::parse_quote_spanned!(attr.span()=> #[derive(#kept)]));
        }
    }
    input.attrs = attrs;
    let errors = errors.finish().err().map(syn::Error::into_compile_error);
    let ring_event = (!args.is_empty()).then(|| quote!(#[ring_event(#args)]));
    let added = if let Data::Enum(_) = input.data {
        // An enum of views: `TaggedEvent`, no cast of its own.
        quote! {
            #[derive(::ringview::RingEvent)]
            #ring_event
        }
    } else {
        let repr =
            (!input.attrs.iter().any(|a| a.path().is_ident("repr"))).then(|| quote!(#[repr(C)]));
        quote! {
            #repr
            #[derive(
                ::ringview::__private::zerocopy::FromBytes,
                ::ringview::__private::zerocopy::Immutable,
                ::ringview::__private::zerocopy::KnownLayout,
                ::ringview::RingEvent
            )]
            #[zerocopy(crate = "::ringview::__private::zerocopy")]
            #ring_event
        }
    };
    let attrs: syn::Result<Vec<syn::Attribute>> =
        syn::parse::Parser::parse2(syn::Attribute::parse_outer, added);
    match attrs {
        Ok(attrs) => {
            // Ahead of the item's own attributes, so the derives see them
            // all (the item's `#[ring_event(..)]` on fields and on itself).
            input.attrs.splice(0..0, attrs);
            quote!(#errors #input)
        }
        Err(e) => {
            let error = e.into_compile_error();
            quote!(#error #item)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(args: &str, item: &str) -> String {
        let args: TokenStream = args.parse().unwrap();
        let item: TokenStream = item.parse().unwrap();
        expand(args, item).to_string()
    }

    #[test]
    fn adds_repr_the_derives_through_ringview_and_the_arguments() {
        let out = expand_str(
            "btf = \"prog.bpf.o\", name = \"exec_event\"",
            "struct ExecEvent { pid: u32 }",
        );
        assert!(out.starts_with("# [repr (C)]"), "{out}");
        assert!(
            out.contains(":: ringview :: __private :: zerocopy :: FromBytes"),
            "{out}"
        );
        assert!(
            out.contains("# [zerocopy (crate = \"::ringview::__private::zerocopy\")]"),
            "{out}"
        );
        assert!(
            out.contains("# [ring_event (btf = \"prog.bpf.o\" , name = \"exec_event\")]"),
            "{out}"
        );
        // No zerocopy path but ringview's.
        assert!(
            !out.replace("__private :: zerocopy", "")
                .contains("zerocopy ::"),
            "{out}"
        );
    }

    #[test]
    fn keeps_a_repr_and_needs_no_arguments() {
        let out = expand_str("", "#[repr(C, packed)] struct P { a: u8, b: u32 }");
        assert!(!out.contains("# [repr (C)]"), "{out}");
        assert!(out.contains("# [repr (C , packed)]"), "{out}");
        assert!(!out.contains("ring_event"), "{out}");
    }

    #[test]
    fn refuses_the_derives_it_adds() {
        let out = expand_str(
            "",
            "#[derive(Debug, zerocopy::FromBytes, RingEvent)] struct E { a: u32 }",
        );
        assert!(out.contains("derives `FromBytes` itself"), "{out}");
        assert!(out.contains("derives `RingEvent` itself"), "{out}");
        // The rest of the item expands as without them.
        assert!(out.contains("# [derive (Debug)]"), "{out}");
        assert_eq!(out.matches(":: ringview :: RingEvent").count(), 1, "{out}");
    }

    #[test]
    fn an_enum_of_views_gets_the_derive_only() {
        let out = expand_str("tag = \"kind: u32\"", "enum Event<'a> { A(&'a X) }");
        assert!(
            out.contains("# [derive (:: ringview :: RingEvent)]"),
            "{out}"
        );
        assert!(!out.contains("zerocopy"), "{out}");
        assert!(!out.contains("repr"), "{out}");
    }

    #[test]
    fn other_items_are_refused_with_the_item_kept() {
        let out = expand_str("", "fn f() {}");
        assert!(out.contains("goes on a struct or union"), "{out}");
        assert!(out.contains("fn f"), "{out}");
    }
}
