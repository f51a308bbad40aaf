//! `#[derive(RingEvent)]` for `ringview`: proves at compile time that a Rust
//! event struct has the layout of the BPF C struct it stands for.
//!
//! Use it through `ringview` (the default `derive` feature re-exports it);
//! the crate docs there describe the checks and attributes.

mod attrs;
mod btf;
mod expand;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Implements `ringview::RingEvent` for a `#[repr(C)]` struct after checking
/// its layout, or `ringview::TaggedEvent` for an enum of views.
///
/// Container attributes: `#[ring_event(btf = "prog.bpf.o", name =
/// "c_struct", size = N)]`; field attributes: `#[ring_event(rename =
/// "c_name")]`, `#[ring_event(padding)]`; on enums, `#[ring_event(tag =
/// "kind: u32")]` and `#[ring_event(tag = N)]` on each variant.
#[proc_macro_derive(RingEvent, attributes(ring_event))]
pub fn derive_ring_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
