//! Fuzzes the derive's reader of BPF objects: the ELF section lookup, BTF
//! (in an object or raw), DWARF, and the layouts built from them. Any input
//! must give a layout or an error, never a panic, a hang or an allocation
//! out of proportion to it.
//!
//! A proc-macro crate cannot be linked into a fuzz target, so the reader's
//! modules are compiled here from the derive's own sources.

#![no_main]
#![allow(
    dead_code,
    reason = "the derive's modules, of which the fuzz target uses the reader"
)]

extern crate proc_macro;

#[path = "../../src/btf/mod.rs"]
mod btf;
#[path = "../../src/dwarf.rs"]
mod dwarf;
#[path = "../../src/layout.rs"]
mod layout;
#[path = "../../src/object.rs"]
mod object;

use libfuzzer_sys::fuzz_target;

/// Names looked up per input, beyond which lookups add time, not coverage.
const NAMES: usize = 32;

fuzz_target!(|data: &[u8]| {
    let mut names = vec!["event".to_owned()];
    let btf = btf::Btf::from_elf(data).or_else(|_| btf::Btf::parse(data));
    if let Ok(btf) = btf {
        names.extend(btf.composite_names());
    }
    if let Ok(dwarf) = dwarf::Dwarf::from_elf(data) {
        names.extend(dwarf.composite_names());
    }
    names.truncate(NAMES);
    // The derive's entry point: BTF, then DWARF, then the message.
    let object = object::Object::new("fuzz.bpf.o".into(), data.to_vec());
    for name in &names {
        let _ = object.struct_layout(name);
    }
});
