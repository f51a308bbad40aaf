//! Parsing of `#[ring_event(...)]` and `#[repr(...)]` attributes.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, LitInt, LitStr};

/// `#[ring_event(...)]` on the struct or enum.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    /// `btf = "path/to/prog.bpf.o"`
    pub btf: Option<LitStr>,
    /// `name = "c_struct_name"`
    pub name: Option<LitStr>,
    /// `size = N`
    pub size: Option<LitInt>,
    /// `tag = "field: type"` (enums)
    pub tag: Option<LitStr>,
    /// `omit = ["arm", ..]` (unions): the C arms left out on purpose.
    pub omit: Option<(Span, Vec<LitStr>)>,
}

/// `#[ring_event(...)]` on a field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// `rename = "c_name"`
    pub rename: Option<LitStr>,
    /// `padding`: the field stands for C bytes it need not match by name.
    pub padding: bool,
    /// `nested`: the field's type derives `RingEvent`; its C member's type
    /// is checked through that type's own fields (their renames and
    /// padding), not by C names from here.
    pub nested: Option<Span>,
}

/// `#[ring_event(tag = N)]` on an enum variant.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub tag: Option<LitInt>,
}

/// Collects several errors into one, so all are reported at once.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

fn ring_event_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("ring_event"))
}

pub(crate) fn container(attrs: &[Attribute], errors: &mut Errors) -> ContainerAttrs {
    let mut out = ContainerAttrs::default();
    for attr in ring_event_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("btf") {
                out.btf = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("name") {
                out.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("size") {
                out.size = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("tag") {
                out.tag = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("omit") {
                let value = meta.value()?;
                let content;
                syn::bracketed!(content in value);
                let names = content.parse_terminated(|i| i.parse::<LitStr>(), syn::Token![,])?;
                out.omit = Some((meta.path.span(), names.into_iter().collect()));
            } else {
                return Err(meta.error(
                    "unknown ring_event attribute: expected `btf = \"..\"`, `name = \"..\"`, \
                     `size = N`, (on unions) `omit = [\"arm\", ..]` or (on enums) \
                     `tag = \"field: type\"`",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

pub(crate) fn field(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in ring_event_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("padding") {
                out.padding = true;
            } else if meta.path.is_ident("nested") {
                out.nested = Some(meta.path.span());
            } else {
                return Err(meta.error(
                    "unknown ring_event field attribute: expected `rename = \"c_name\"`, \
                     `padding` or `nested`",
                ));
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if let (Some(span), true) = (out.nested, out.padding) {
        errors.at(
            span,
            "a field is either `nested` (checked through its type's own fields) or `padding` \
             (matched to no C member), not both",
        );
    }
    out
}

pub(crate) fn variant(attrs: &[Attribute], errors: &mut Errors) -> VariantAttrs {
    let mut out = VariantAttrs::default();
    for attr in ring_event_attrs(attrs) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("tag") {
                out.tag = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown ring_event variant attribute: expected `tag = N`"))
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

/// What `#[repr(...)]` says.
#[derive(Default)]
pub(crate) struct Repr {
    pub c: bool,
    pub transparent: bool,
    pub packed: bool,
}

pub(crate) fn repr(attrs: &[Attribute], errors: &mut Errors) -> Repr {
    let mut out = Repr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") {
                out.c = true;
            } else if meta.path.is_ident("transparent") {
                out.transparent = true;
            } else if meta.path.is_ident("packed") {
                out.packed = true;
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    content.parse::<LitInt>()?;
                }
            } else if meta.path.is_ident("align") {
                let content;
                syn::parenthesized!(content in meta.input);
                let align: LitInt = content.parse()?;
                if align.base10_parse::<u64>()? > 8 {
                    errors.at(
                        align.span(),
                        "ring events cannot be aligned to more than 8 bytes: ring payloads are \
                         only 8-byte aligned",
                    );
                }
            } else {
                errors.at(
                    meta.path.span(),
                    "ring events need `#[repr(C)]` (optionally `packed`) or \
                     `#[repr(transparent)]`: other representations do not follow the C layout",
                );
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    content.parse::<proc_macro2::TokenStream>()?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}
