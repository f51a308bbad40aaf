//! Fuzzes the reader of BPF objects (`ringview-btf`): the ELF section lookup, BTF
//! (in an object or raw), DWARF, and the layouts built from them. Any input
//! must give a layout or an error, never a panic, a hang or an allocation
//! out of proportion to it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ringview_btf::{btf, dwarf, Object};

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
    let object = Object::new("fuzz.bpf.o".into(), data.to_vec());
    for name in &names {
        let _ = object.struct_layout(name);
    }
});
