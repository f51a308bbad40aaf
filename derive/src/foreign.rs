//! `check_layout!` and `ring_event!`: the checks of the derive for types the
//! user cannot put a derive on (a libbpf-cargo skeleton's `types::event`, an
//! aya `-common` crate's event type).
//!
//! The macro sees only the type's path, not its fields, so the Rust side is
//! taken from C: one field per named, non-bitfield member of the C struct,
//! reached through the fields the caller names (`anon = [..]`) for the
//! anonymous structs and unions that hold it, and checked by name with
//! `offset_of!` and field projections. The rest of the plan is the
//! derive's.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Path, Token};

use crate::attrs::{ContainerAttrs, Errors, FieldAttrs, Repr};
use crate::check;
use crate::expand;
use crate::parse::{self, field_ident, RustField, RustStruct};
use ringview_btf::layout::{CompositeKind, Member, Shape, StructLayout};

/// `[unsafe impl for] Type, btf = "..", name = "..", anon = [".."]`.
pub(crate) struct Input {
    path: Path,
    btf: LitStr,
    name: Option<LitStr>,
    /// The Rust fields holding the C type's anonymous members, in C order.
    anon: Option<(Ident, Vec<LitStr>)>,
}

impl Input {
    fn parse(input: ParseStream<'_>, with_impl: bool) -> syn::Result<Self> {
        if with_impl {
            let unsafe_token: Option<Token![unsafe]> = input.parse()?;
            if unsafe_token.is_none() {
                return Err(input.error(
                    "expected `unsafe impl for Type, btf = \"..\", name = \"..\"`: the macro \
                     cannot see the type's fields, so the `unsafe` states that every bit \
                     pattern of them is valid (the cast still needs zerocopy's `FromBytes` or \
                     bytemuck's `AnyBitPattern`)",
                ));
            }
            input.parse::<Token![impl]>()?;
            input.parse::<Token![for]>()?;
        }
        let path: Path = input.parse()?;
        if let Some(args) = path.segments.iter().find(|s| !s.arguments.is_none()) {
            return Err(syn::Error::new(
                args.arguments.span(),
                "the type cannot be generic: its layout is checked for one concrete type",
            ));
        }
        let (mut btf, mut name, mut anon) = (None, None, None);
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if key == "anon" {
                let content;
                syn::bracketed!(content in input);
                let names = content.parse_terminated(|i| i.parse::<LitStr>(), Token![,])?;
                if anon
                    .replace((key.clone(), names.into_iter().collect()))
                    .is_some()
                {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("`{key}` is given twice"),
                    ));
                }
                continue;
            }
            let value: LitStr = input.parse()?;
            let slot = match key.to_string().as_str() {
                "btf" => &mut btf,
                "name" => &mut name,
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        "unknown argument: expected `btf = \"path/to/prog.bpf.o\"`, and \
                         optionally `name = \"c_struct\"` and `anon = [\"field\", ..]`",
                    ))
                }
            };
            if slot.replace(value).is_some() {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` is given twice"),
                ));
            }
        }
        let btf = btf.ok_or_else(|| {
            syn::Error::new(
                path.span(),
                "missing `btf = \"path/to/prog.bpf.o\"`: the macro checks the type against the \
                 BPF object",
            )
        })?;
        Ok(Self {
            path,
            btf,
            name,
            anon,
        })
    }
}

/// `check_layout!(Type, btf = "..", name = "..")`.
pub(crate) struct CheckLayout(Input);

impl Parse for CheckLayout {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Input::parse(input, false).map(Self)
    }
}

/// `ring_event!(unsafe impl for Type, btf = "..", name = "..")`.
pub(crate) struct RingEventImpl(Input);

impl Parse for RingEventImpl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Input::parse(input, true).map(Self)
    }
}

pub(crate) fn check_layout(input: &CheckLayout) -> syn::Result<TokenStream> {
    expand_input(&input.0, false)
}

pub(crate) fn ring_event(input: &RingEventImpl) -> syn::Result<TokenStream> {
    expand_input(&input.0, true)
}

fn expand_input(input: &Input, with_impl: bool) -> syn::Result<TokenStream> {
    let last = input
        .path
        .segments
        .last()
        .ok_or_else(|| syn::Error::new(input.path.span(), "expected a type"))?;
    let ident = &last.ident;
    let c_name = input
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), LitStr::value);
    let (object, layout) = expand::find_layout(&input.btf, input.name.as_ref(), &c_name)?;
    let rust = rust_side(input, ident, &layout)?;
    let mut errors = Errors::default();
    let plan = check::plan(&rust, &layout, &object.file_name, &mut errors);
    errors.finish()?;
    let ring_event = with_impl.then(|| expand::ring_event_impl(&rust));
    let align = expand::align_check(&rust.self_ty);
    let include = expand::include(&object);
    let checks = expand::emit(&rust, &plan);
    Ok(quote! {
        const _: () = {
            #ring_event
            #align
            #include
            #checks
        };
    })
}

/// The Rust side as C names it: one field per named member that is not a
/// bitfield, reached through the fields `anon` names for the anonymous
/// members that hold it.
///
/// # Errors
///
/// When `anon` does not name one field per anonymous member.
pub(crate) fn rust_side<'a>(
    input: &'a Input,
    ident: &'a Ident,
    layout: &StructLayout,
) -> syn::Result<RustStruct<'a>> {
    let span = ident.span();
    let mut anonymous = Vec::new();
    anonymous_members(&layout.members, 0, &mut anonymous);
    let names: &[LitStr] = input.anon.as_ref().map_or(&[], |(_, names)| names);
    if anonymous.len() != names.len() {
        let c_desc = layout.describe();
        let suggestion: Vec<String> = (1..=anonymous.len())
            .map(|i| format!("\"__anon_{i}\""))
            .collect();
        let message = match &input.anon {
            None => format!(
                "`{c_desc}` has anonymous members ({}), whose members the macro reaches only \
                 through the Rust fields holding them: name those fields, in C order, with \
                 `anon = [{}]` (libbpf-cargo calls them `__anon_N`, bindgen \
                 `__bindgen_anon_N`)",
                anonymous.join(", "),
                suggestion.join(", ")
            ),
            Some(_) => format!(
                "`{c_desc}` has {} anonymous members ({}), but `anon` names {} fields: name the \
                 Rust field holding each, in C order (an anonymous member inside another \
                 right after it)",
                anonymous.len(),
                if anonymous.is_empty() {
                    "none".to_owned()
                } else {
                    anonymous.join(", ")
                },
                names.len()
            ),
        };
        let at = input
            .anon
            .as_ref()
            .map_or(input.path.span(), |(key, _)| key.span());
        return Err(syn::Error::new(at, message));
    }
    let mut fields = Vec::new();
    let mut names = names.iter();
    fields_of(&layout.members, "", &mut names, span, &mut fields)?;
    Ok(RustStruct {
        ident,
        self_ty: input.path.to_token_stream(),
        container: ContainerAttrs {
            btf: Some(input.btf.clone()),
            name: input.name.clone(),
            ..ContainerAttrs::default()
        },
        repr: Repr {
            c: true,
            ..Repr::default()
        },
        fields,
        is_union: layout.kind == CompositeKind::Union,
        from_c: true,
    })
}

/// The anonymous struct and union members, outer before inner, described.
fn anonymous_members(members: &[Member], base_bits: u32, out: &mut Vec<String>) {
    for m in members {
        if let Some(inner) = m.anonymous() {
            let describe = m.describe(base_bits);
            out.push(
                describe
                    .strip_prefix("anonymous member ")
                    .unwrap_or(&describe)
                    .to_owned(),
            );
            anonymous_members(&inner.members, base_bits.saturating_add(m.bit_offset), out);
        }
    }
}

/// The fields for `members`, reached through `prefix` (`__anon_1.`).
fn fields_of<'a>(
    members: &[Member],
    prefix: &str,
    anon: &mut std::slice::Iter<'_, LitStr>,
    span: Span,
    out: &mut Vec<RustField<'a>>,
) -> syn::Result<()> {
    for m in members {
        if let Some(inner) = m.anonymous() {
            let Some(name) = anon.next() else {
                continue;
            };
            let holder = field_ident(&name.value(), name.span())
                .ok_or_else(|| syn::Error::new(name.span(), "expected the name of a field"))?;
            fields_of(
                &inner.members,
                &format!("{prefix}{holder}."),
                anon,
                span,
                out,
            )?;
        } else if !m.name.is_empty() && m.bitfield_size.is_none() {
            let Some(ident) = field_ident(&m.name, span) else {
                continue;
            };
            let place = (!prefix.is_empty()).then(|| format!("{prefix}{ident}"));
            let mut field = parse::field(Some(ident), None, FieldAttrs::default());
            field.is_array = matches!(m.shape, Shape::Array { .. });
            field.place = place;
            out.push(field);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Check;

    #[test]
    fn fields_come_from_the_named_members_through_the_anonymous_ones() {
        let input: CheckLayout = syn::parse_str(
            "types::conn_event, btf = \"tools.bpf.o\", name = \"conn_event\", \
             anon = [\"__anon_1\", \"__anon_2\"]",
        )
        .unwrap();
        let ident = &input.0.path.segments.last().unwrap().ident;
        let layout = crate::check::tests::tools_layout("conn_event");
        let rust = rust_side(&input.0, ident, &layout).unwrap();
        let names: Vec<_> = rust.fields.iter().map(|f| f.rust_name()).collect();
        // Every arm of the anonymous unions, through the field holding it.
        assert_eq!(
            names,
            [
                "pid",
                "family",
                "port",
                "__anon_1.saddr_v4",
                "__anon_1.saddr_v6",
                "__anon_2.daddr_v4",
                "__anon_2.daddr_v6"
            ]
        );
        assert_eq!(rust.self_ty.to_string(), "types :: conn_event");
        let mut errors = Errors::default();
        let plan = check::plan(&rust, &layout, "tools.bpf.o", &mut errors);
        assert!(errors.finish().is_ok());
        // Nothing is required to be covered.
        assert!(!plan
            .checks
            .iter()
            .any(|c| matches!(c, Check::Covered { .. })));
        // Each arm at its union's offset, exactly.
        let offsets: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::Offset {
                    field, c_offset, ..
                } => Some((*field, *c_offset)),
                _ => None,
            })
            .collect();
        assert_eq!(
            offsets,
            [(0, 0), (1, 4), (2, 6), (3, 8), (4, 8), (5, 24), (6, 24)]
        );
    }

    #[test]
    fn anonymous_members_need_their_fields_named() {
        let layout = crate::check::tests::tools_layout("conn_event");
        let err = |args: &str| {
            let input: CheckLayout = syn::parse_str(args).unwrap();
            let ident = &input.0.path.segments.last().unwrap().ident;
            match rust_side(&input.0, ident, &layout) {
                Ok(_) => panic!("accepted {args}"),
                Err(e) => e.to_string(),
            }
        };
        let message = err("conn_event, btf = \"tools.bpf.o\"");
        assert!(
            message.contains("anonymous members (`union <anonymous>` (bytes 8..24), "),
            "{message}"
        );
        assert!(
            message.contains("`anon = [\"__anon_1\", \"__anon_2\"]`"),
            "{message}"
        );
        let message = err("conn_event, btf = \"tools.bpf.o\", anon = [\"__anon_1\"]");
        assert!(
            message.contains("has 2 anonymous members") && message.contains("names 1 fields"),
            "{message}"
        );
    }

    #[test]
    fn numbers_get_a_kind_check_the_compiler_evaluates() {
        let input: CheckLayout =
            syn::parse_str("types::nested_event, btf = \"tools.bpf.o\"").unwrap();
        let ident = &input.0.path.segments.last().unwrap().ident;
        let layout = crate::check::tests::tools_layout("nested_event");
        let rust = rust_side(&input.0, ident, &layout).unwrap();
        let mut errors = Errors::default();
        let plan = check::plan(&rust, &layout, "tools.bpf.o", &mut errors);
        assert!(errors.finish().is_ok());
        let kinds: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::Kind { field, c_float, .. } => {
                    Some((rust.fields[*field].rust_name(), *c_float))
                }
                _ => None,
            })
            .collect();
        // Not `seg` or `pts`: structs are checked member by member.
        let expected = [
            ("kind", false),
            ("ratio", true),
            ("count", false),
            ("name", false),
            ("daddr", false),
        ];
        let expected: Vec<_> = expected.iter().map(|&(n, f)| (n.to_owned(), f)).collect();
        assert_eq!(kinds, expected);
    }

    #[test]
    fn arguments_are_checked() {
        let err = |s: &str| {
            syn::parse_str::<RingEventImpl>(s)
                .err()
                .unwrap()
                .to_string()
        };
        assert!(err("impl for T, btf = \"a\"").starts_with("expected `unsafe impl for"));
        assert!(err("unsafe impl for T").starts_with("missing `btf"));
        assert!(err("unsafe impl for T, btf = \"a\", btf = \"b\"").contains("given twice"));
        assert!(err("unsafe impl for T<u8>, btf = \"a\"").contains("cannot be generic"));
        assert!(err("unsafe impl for T, size = \"a\"").starts_with("unknown argument"));
        assert!(err("unsafe impl for T, btf = \"a\", anon = [], anon = []").contains("given twice"));
    }
}
