//! `#[derive(RingEvent)]` for `ringview`: proves at compile time that a Rust
//! event struct has the layout of the BPF C struct it stands for.
//!
//! Use it through `ringview` (the default `derive` feature re-exports it).
//! The macro runs in three stages: [`parse`] reads the Rust type, [`check`]
//! matches it to the C layout that [`btf`] (or, for structs clang left out
//! of BTF, [`dwarf`]) read from the BPF object, and [`expand`] emits the
//! plan as constants the compiler evaluates.

#![forbid(unsafe_code)]

mod attrs;
mod btf;
mod check;
mod dwarf;
mod expand;
mod layout;
mod object;
mod parse;
mod tagged;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Implements `ringview::RingEvent` for a `#[repr(C)]` struct (or union)
/// after checking its layout, or `ringview::TaggedEvent` for an enum of
/// views.
///
/// # Attributes
///
/// On the type, `#[ring_event(...)]` takes:
///
/// - `btf = "path"`: the compiled BPF object (`clang -g -target bpf`), or a
///   raw BTF file such as `/sys/kernel/btf/vmlinux`. The path is absolute,
///   `$OUT_DIR/...`, relative to the crate's `Cargo.toml`, or relative to the
///   file that invokes the derive, tried in that order. The object's `.BTF`
///   is read while compiling; a struct clang left out of BTF (one used only
///   as a local variable or through a local pointer) is read from the
///   object's DWARF (`.debug_info`) instead, and checked the same way.
/// - `name = "c_struct"`: the C struct, union or typedef; the Rust name if
///   absent.
/// - `size = N`: checks `size_of::<Self>() == N`, with or without `btf`.
///
/// On fields:
///
/// - `rename = "c_name"`: the C member this field stands for.
/// - `padding`: the field matches no C member by name, and covers the C
///   bytes it overlaps (members left out, bitfields, unions no field chose).
///
/// On enums of views: `tag = "field: type"` on the enum, `tag = N` on each
/// variant.
///
/// # What is checked against the object
///
/// The total size; each field's offset, size and element size by name; float
/// against integer (`f32` for `__u32` is refused); nested structs and arrays
/// of structs member by member, at any depth, by their C member names. The
/// signedness of integers is free: `i32` for `__u32` reads the same bits,
/// and C code mixes the two freely. zerocopy's byte-order integers
/// (`U32<BigEndian>` for `__be32`) count as integers of their size.
///
/// In an anonymous union, a field that matches one arm (by name or `rename`)
/// stands for the whole union; bytes of the union beyond that arm must be
/// covered by padding. A Rust `#[repr(C)] union` type is checked against a C
/// union arm by arm.
#[proc_macro_derive(RingEvent, attributes(ring_event))]
pub fn derive_ring_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
