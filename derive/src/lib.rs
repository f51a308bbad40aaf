//! `#[derive(RingEvent)]` for `ringview`: proves at compile time that a Rust
//! event struct has the layout of the BPF C struct it stands for.
//!
//! Use it through `ringview` (the default `derive` feature re-exports it).
//! The macro runs in three stages: `parse` reads the Rust type, `check`
//! matches it to the C layout that `btf` (or, for structs clang left out
//! of BTF, `dwarf`) read from the BPF object, and `expand` emits the
//! plan as constants the compiler evaluates. `foreign` runs the same
//! stages for `check_layout!` and `ring_event!`, on types the derive cannot
//! be put on.

#![forbid(unsafe_code)]

mod attribute;
mod attrs;
mod check;
mod expand;
mod foreign;
mod object;
mod parse;
mod suggest;
mod tagged;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Makes a struct or union a ring event: adds `#[repr(C)]` (unless the type
/// has a `repr`), derives zerocopy's `FromBytes`, `Immutable` and
/// `KnownLayout` through ringview's own re-export of zerocopy (so the crate
/// needs no zerocopy dependency), and derives [`RingEvent`](derive@RingEvent)
/// with the arguments as its `#[ring_event(..)]`.
///
/// ```ignore
/// #[ringview::event(btf = "prog.bpf.o", name = "exec_event")]
/// struct ExecEvent {
///     pid: u32,
///     ppid: u32,
///     comm: [u8; 16],
/// }
/// ```
///
/// The arguments are those of `#[ring_event(..)]` on the type (`btf`,
/// `name`, `size`, `omit`); fields take `#[ring_event(..)]` as with the
/// derive. The type must not derive the traits the attribute adds. On an
/// enum of views it adds only the derive.
#[proc_macro_attribute]
pub fn event(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute::expand(args.into(), item.into()).into()
}

/// Implements `ringview::RingEvent` for a `#[repr(C)]` struct (or union)
/// after checking its layout, or `ringview::TaggedEvent` for an enum of
/// views. [`macro@event`] is its usual form: `#[ringview::event(btf = "..",
/// name = "..")]` is this derive with `#[ring_event(btf = "..", name =
/// "..")]`, plus `#[repr(C)]` and zerocopy's casting derives. Use it
/// through `ringview`, whose default `derive` feature re-exports both.
///
/// It refuses at compile time what can make the Rust struct differ from
/// the BPF C struct: a missing `#[repr(C)]`, generics, `bool`, `char`,
/// enums, references, raw pointers, `usize`/`isize`, `u128`, alignment
/// over 8, implicit padding, and, given the compiled BPF object, any size
/// or offset that differs from the object's BTF.
///
/// # Examples
///
/// ```
/// use ringview::RingEvent;
///
/// // `struct exec_event` of `btf/tests/btf/layouts.bpf.c`, checked against
/// // the BTF of the object clang built from it.
/// #[ringview::event(btf = "../btf/tests/btf/layouts.bpf.o", name = "exec_event")]
/// struct ExecEvent {
///     pid: u32,
///     ppid: u32,
///     uid: u32,
///     #[ring_event(padding)]
///     _pad: u32,
///     comm: [u8; 16],
///     filename: [u8; 256],
///     #[ring_event(rename = "ts")]
///     timestamp_ns: u64,
/// }
///
/// assert_eq!(ExecEvent::SIZE, 296);
/// assert_eq!(ExecEvent::C_NAME, "exec_event");
/// ```
///
/// The same, spelled out as the derive (with `zerocopy` as a dependency of
/// your own):
///
/// ```
/// use ringview::RingEvent;
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(btf = "../btf/tests/btf/layouts.bpf.o", name = "exec_event")]
/// struct ExecEvent {
///     pid: u32,
///     ppid: u32,
///     uid: u32,
///     #[ring_event(padding)]
///     _pad: u32,
///     comm: [u8; 16],
///     filename: [u8; 256],
///     #[ring_event(rename = "ts")]
///     timestamp_ns: u64,
/// }
/// ```
///
/// The object's `.BTF` section is read while compiling, and the object is
/// included with `include_bytes!`, so cargo rebuilds when it changes. Each
/// field is matched to the C member of the same name (or `rename`); every C
/// member must be matched or lie inside a `padding` field (bitfields
/// included: cover their storage unit). Swap two fields and the build stops
/// at every mismatch at once:
///
/// ```text
/// error[E0080]: evaluation panicked: offset of `ExecEvent.ppid` differs: Rust puts it at byte 0, but `__u32 ppid` is at byte offset 4 in `struct exec_event`
///  --> tests/ui/fail/btf_size_and_offset_mismatch.rs:9:5
///   |
/// 9 |     ppid: u32,
///   |     ^^^^ evaluation of `_::_` failed here
/// ```
///
/// The same check fails on a host whose C layout differs: on i686, `u64`
/// is 4-byte aligned, and `struct { __u32 pid; __u64 ts; }` does not build
/// there. Without a BPF object, `size = N` checks the size, and implicit
/// padding is refused.
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
/// - `omit = ["arm", ..]` (unions): the C arms the union leaves out on
///   purpose; every other C arm needs an arm of the union.
///
/// On fields:
///
/// - `rename = "c_name"`: the C member this field stands for.
/// - `padding`: the field matches no C member by name, and covers the C
///   bytes it overlaps (members left out, bitfields, unions no field chose).
/// - `nested`: the field's type (or array element type) derives `RingEvent`
///   itself, and the C member's struct or union is checked through that
///   type's own fields: their `rename`s and `padding`, whatever `name` its
///   own derive was given, and so on at every depth. A `nested` field named
///   after no C member (and not renamed) stands for an anonymous struct or
///   union: the first one, in C order, that no other field stands for.
///
/// On enums of views: `tag = "field: type"` on the enum, `tag = N` on each
/// variant (see [Enums of views](#enums-of-views-several-event-types-in-one-ring)).
///
/// # What is checked against the object
///
/// The total size; each field's offset, size and element size by name; float
/// against integer (`f32` for `__u32` is refused); nested structs and arrays
/// of structs member by member, at any depth. The
/// signedness of integers is free: `i32` for `__u32` reads the same bits,
/// and C code mixes the two freely. zerocopy's byte-order integers
/// (`U32<BigEndian>` for `__be32`) count as integers of their size, and its
/// `F32`/`F64` as floats.
///
/// # Structs that are not in BTF
///
/// clang leaves out of `.BTF` a struct the program uses only as a stack
/// value (`struct event e = {}; bpf_ringbuf_output(..., &e, ...)`) or
/// through the pointer `bpf_ringbuf_reserve` returns, which is how most
/// tools write their events. The derive then reads the struct from the
/// object's DWARF (`.debug_info`, there whenever the object is built with
/// `-g`) and checks it the same way, with no change to the C. Only when
/// neither has it does the build stop, with the one C line that keeps the
/// struct in BTF and the closest names the object has.
///
/// ```
/// # use ringview::RingEvent;
/// # use zerocopy::{FromBytes, Immutable, KnownLayout};
/// // `struct stack_event` is only a local variable in the BPF program.
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(btf = "tests/btf/tools.bpf.o", name = "stack_event")]
/// struct StackEvent {
///     pid: u32,
///     tid: u32,
///     ts: u64,
///     comm: [u8; 16],
/// }
/// ```
///
/// # Unions
///
/// In an anonymous union, as network tools write addresses
/// (`union { __u32 saddr_v4; __u8 saddr_v6[16]; };`), a field that matches
/// one arm by name (or `rename`) stands for the whole union; the bytes of
/// the union beyond that arm must be covered by padding. A Rust
/// `#[repr(C)] union` deriving `RingEvent` is checked against a named C
/// union arm by arm.
///
/// ```
/// # use ringview::RingEvent;
/// # use zerocopy::{FromBytes, Immutable, KnownLayout};
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(btf = "tests/btf/tools.bpf.o", name = "conn_event")]
/// struct ConnEvent {
///     pid: u32,
///     family: u16,
///     port: u16,
///     saddr_v6: [u8; 16],
///     #[ring_event(rename = "daddr_v4")]
///     daddr: u32,
///     #[ring_event(padding)]
///     _daddr_rest: [u8; 12],
/// }
/// ```
///
/// # Nested structs
///
/// A nested struct is checked member by member, at any depth, in one of two
/// ways:
///
/// - By default, by the C member names: the field `seg` for `struct segment
///   seg` needs a field `from` for `struct point from`, which needs fields
///   `x` and `y`, each at C's offset and of C's size. The nested type's own
///   `rename`s and `padding` are not seen from here, so a nested type whose
///   fields carry other names is refused (`no field`, with a hint).
/// - With `#[ring_event(nested)]` on the field, through the nested type's
///   own fields, which every derived type records: each C member of the
///   member's type must have a field standing for it (by name or `rename`)
///   at its offset, of its size, element size and kind, or lie in one of
///   the type's `padding` fields; a field standing for a member C does not
///   have is refused; an anonymous union needs a field for one of its arms,
///   or padding. Its members that are structs are checked the same way, all
///   the way down. Types implementing `RingEvent` through `ring_event!` or
///   by hand record no fields, and cannot be checked this way.
///
/// ```
/// # use ringview::RingEvent;
/// # use zerocopy::{FromBytes, Immutable, KnownLayout};
/// use zerocopy::byteorder::{BigEndian, U16};
///
/// // `struct addr { __u16 family; __u16 port; __u32 scope : 4, level : 4;
/// //                union { __u32 v4; __u8 v6[16]; }; float weight; };`
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(size = 28)]
/// struct Addr {
///     family: u16,
///     #[ring_event(rename = "port")]
///     port_be: U16<BigEndian>,
///     #[ring_event(padding)] // the bitfields' storage unit
///     _bits: u32,
///     #[ring_event(rename = "v6")] // one arm of the union
///     ip: [u8; 16],
///     weight: f32,
/// }
///
/// // `struct endpoint { __u32 id; struct addr where; };`
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(btf = "tests/btf/nested.bpf.o", name = "endpoint")]
/// struct Endpoint {
///     id: u32,
///     #[ring_event(rename = "where", nested)]
///     at: Addr,
/// }
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(btf = "tests/btf/nested.bpf.o", name = "peer_event")]
/// struct PeerEvent {
///     pid: u32,
///     #[ring_event(nested)]
///     local: Endpoint,
///     #[ring_event(nested)] // `struct addr peers[2];`
///     peers: [Addr; 2],
///     ts: u64,
/// }
/// ```
///
/// # Unions
///
/// A Rust `#[repr(C)] union` stands for a C union, checked arm by arm: on
/// its own against a named C union (`btf`, `name`), or, as a field marked
/// `nested`, for a union member, named or anonymous. Each Rust arm is
/// matched to a C arm by name (or `rename`) and checked for offset 0, size,
/// element size and kind, and its own members when it is a struct; each C
/// arm must have a Rust arm or be named in the union's `omit`. (Unnamed C
/// arms, such as an anonymous struct, are not required.)
///
/// ```ignore
/// #[ringview::event]
/// union SAddr {
///     saddr_v4: u32,
///     saddr_v6: [u8; 16],
/// }
///
/// // `struct event { union { __u32 saddr_v4; __u8 saddr_v6[16]; }; __u32 pid; };`
/// #[ringview::event(btf = "prog.bpf.o", name = "event")]
/// struct Event {
///     #[ring_event(nested)]
///     saddr: SAddr,
///     pid: u32,
/// }
/// ```
///
/// A struct field that matches one arm of an anonymous union (by name or
/// `rename`) also stands for the whole union; the bytes of the union beyond
/// that arm must be covered by padding.
///
/// # Nested types and implicit padding
///
/// A type used as a field of an event checked against BTF needs nothing of
/// its own (no `btf`, no `name`, no padding fields): the event's check
/// judges its layout, implicit padding included, by the C layout. Without a
/// BPF object, a type with implicit padding (in itself or in a field's
/// type) does not implement `ringview::View`, so reading it on its own is a
/// compile error: its padding could lie elsewhere on the BPF target.
///
/// # Enums of views: several event types in one ring
///
/// On an enum of views, the derive implements `ringview::TaggedEvent`:
/// `reader.read_tagged::<Event>()` reads the leading tag field and views
/// the record as the variant it names; an unknown tag is an error carrying
/// its value, with the record's bytes in `rejected()`.
///
/// ```
/// # use ringview::RingEvent;
/// # use zerocopy::{FromBytes, Immutable, KnownLayout};
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct ExecEvent {
///     kind: u32,
///     pid: u32,
/// }
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct ExitEvent {
///     kind: u32,
///     code: i32,
/// }
///
/// #[derive(RingEvent)]
/// #[ring_event(tag = "kind: u32")]
/// enum Event<'a> {
///     #[ring_event(tag = 1)]
///     Exec(&'a ExecEvent),
///     #[ring_event(tag = 2)]
///     Exit(&'a ExitEvent),
/// }
///
/// let ring = ringview::testing::MemoryRing::new(4096)?;
/// // SAFETY: the ring's only consumer.
/// let mut reader = unsafe { ringview::UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// let mut record = [0u8; 8];
/// record[..4].copy_from_slice(&2u32.to_ne_bytes());
/// record[4..].copy_from_slice(&7i32.to_ne_bytes());
/// ring.output(&record, 0)?;
/// match reader.read_tagged::<Event>()? {
///     Event::Exit(exit) => assert_eq!(exit.code, 7),
///     Event::Exec(_) => unreachable!("the tag is 2"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Types you cannot derive on
///
/// A libbpf-cargo skeleton's `types::event` or an aya `-common` crate's
/// event: [`check_layout!`] runs the same checks by C member name, and
/// [`ring_event!`] also implements `RingEvent`. With ringview's `bytemuck`
/// feature, a type deriving bytemuck's `Pod` (or `AnyBitPattern`) instead
/// of zerocopy's traits is read in place the same way.
#[proc_macro_derive(RingEvent, attributes(ring_event))]
pub fn derive_ring_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Checks a type you cannot put `#[derive(RingEvent)]` on against the BPF
/// object, with the derive's checks: total size, and each member's offset,
/// size, element size and nested members, by C name.
///
/// (The examples here are not compiled: they need a skeleton's generated
/// `types`; `tests/ui/v2_pass/foreign_types.rs` compiles the same calls
/// against a committed object.)
///
/// ```ignore
/// // A libbpf-cargo skeleton's generated type, cast with bytemuck.
/// unsafe impl bytemuck::Zeroable for types::event {}
/// unsafe impl bytemuck::Pod for types::event {}
/// ringview::check_layout!(types::event, btf = "src/bpf/tool.bpf.o", name = "event");
/// ```
///
/// Arguments: the type's path, `btf = ".."` (resolved as in
/// [`RingEvent`](derive@RingEvent)), `name = ".."`, the C struct or
/// union (the path's last segment if absent), and, when the C type has
/// anonymous structs or unions, `anon = [".."]`: the Rust fields holding
/// them, in C order (an anonymous member inside another right after it).
///
/// ```ignore
/// // `struct conn_event { __u32 pid; __u16 family; __u16 port;
/// //     union { __u32 saddr_v4; __u8 saddr_v6[16]; };
/// //     union { __u32 daddr_v4; __u8 daddr_v6[16]; }; };`
/// ringview::check_layout!(
///     types::conn_event,
///     btf = "src/bpf/tool.bpf.o",
///     anon = ["__anon_1", "__anon_2"],
/// );
/// ```
///
/// The macro sees only the path, not the fields, so it checks a field for
/// each named member of the C type, by that name (a field that does not
/// exist is a compile error naming it): direct members as fields of the
/// type, members of anonymous structs and unions through the fields `anon`
/// names (`__anon_1.saddr_v4`), every union arm at the union's offset, and
/// nested structs member by member, each at its exact offset and of its
/// size. The generators' names for anonymous members cannot be derived from
/// the object (libbpf-cargo numbers them `__anon_N` across the whole
/// skeleton, bindgen `__bindgen_anon_N` within each type), so a C type with
/// anonymous members and no `anon` is refused with the line to add.
/// Bitfields have no Rust field: the offsets of their neighbours and the
/// total size bound them. Element kinds are checked by the compiler, which
/// sees the field types the macro cannot: floats (`f32`, `f64`, zerocopy's
/// `F32`/`F64` however spelled, or arrays of them) where C has an integer,
/// or integers (primitive, or zerocopy's `U16`..`I64`) where C has a float,
/// are errors; other types pass. `#[repr(C)]` is not checked: the
/// generators emit it, and the offsets would show its absence.
#[proc_macro]
pub fn check_layout(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as foreign::CheckLayout);
    foreign::check_layout(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `ringview::RingEvent` for a type you cannot put
/// `#[derive(RingEvent)]` on, after the checks of [`check_layout!`], with the
/// same arguments.
///
/// (Not compiled, as for [`check_layout!`]: it needs a skeleton's
/// generated `types`.)
///
/// ```ignore
/// // A libbpf-cargo skeleton's generated type, made readable in place.
/// unsafe impl bytemuck::Zeroable for types::event {}
/// unsafe impl bytemuck::Pod for types::event {}
/// ringview::ring_event!(unsafe impl for types::event, btf = "src/bpf/tool.bpf.o", name = "event");
/// ```
///
/// The type must implement zerocopy's `FromBytes + KnownLayout + Immutable`
/// or (with ringview's `bytemuck` feature) bytemuck's `AnyBitPattern`, the
/// same casts the derive uses. The `unsafe` states what the macro cannot
/// see: that the fields are plain data (no `bool`, `char`, enum or
/// reference), valid for every bit pattern the BPF program can write.
///
/// Rust's orphan rule allows the implementation only in the crate that
/// defines the type or the one that defines `RingEvent`: call it next to a
/// libbpf-cargo skeleton's `types`, or in an aya `-common` crate (with
/// ringview as a host-only dependency); from another crate, use
/// [`check_layout!`] and cast the raw records yourself.
#[proc_macro]
pub fn ring_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as foreign::RingEventImpl);
    foreign::ring_event(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
