//! The C layout of structs and unions in a compiled BPF object: read from
//! its `.BTF` section, or from its DWARF when clang left the struct out of
//! BTF.
//!
//! `ringview-derive` reads it at compile time, to prove that a Rust event
//! struct has the layout of the BPF C struct; the `ringview` command reads
//! it at run time, to decode records by field name. Both get the same
//! model, [`StructLayout`], whichever reader found the struct.
//!
//! Every offset in the input is bounds-checked and every walk of the type
//! graph is bounded, so a corrupt object gives an error, never a panic or a
//! hang (`btf/fuzz` fuzzes it).
//!
//! # Examples
//!
//! ```no_run
//! use ringview_btf::Object;
//!
//! let bytes = std::fs::read("prog.bpf.o").unwrap();
//! let object = Object::new("prog.bpf.o".into(), bytes);
//! let layout = object.struct_layout("exec_event").unwrap();
//! for member in &layout.members {
//!     println!("{} at byte {}", member.name, member.byte_offset);
//! }
//! ```

#![forbid(unsafe_code)]

pub mod btf;
pub mod dwarf;
pub mod layout;
mod object;

pub use layout::{CompositeKind, Enumerator, Member, OtherType, Scalar, Shape, StructLayout};
pub use object::Object;
