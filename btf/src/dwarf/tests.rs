use super::*;

/// Built from `tests/btf/tools.bpf.c`: most of its structs are only
/// in DWARF.
const TOOLS: &[u8] = include_bytes!("../../../derive/tests/btf/tools.bpf.o");
const NO_DWARF: &[u8] = include_bytes!("../../../derive/tests/btf/tools.nodwarf.bpf.o");

#[test]
fn structs_left_out_of_btf_are_in_dwarf() {
    let btf = crate::btf::Btf::from_elf(TOOLS).unwrap();
    assert!(btf.struct_layout("stack_event").is_err());
    let dwarf = Dwarf::from_elf(TOOLS).unwrap();
    let stack = dwarf.struct_layout("stack_event").unwrap();
    assert_eq!(stack.size, 32);
    let found: Vec<_> = stack
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.byte_offset, m.size, m.type_name.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("pid", 0, 4, "__u32"),
            ("tid", 4, 4, "__u32"),
            ("ts", 8, 8, "__u64"),
            ("comm", 16, 16, "char[16]"),
        ]
    );
    let nested = dwarf.struct_layout("nested_event").unwrap();
    assert_eq!(nested.size, 64);
    assert_eq!(nested.members[3].shape, Shape::Float);
    assert!(matches!(nested.members[1].shape, Shape::Composite(_)));
    let sample = dwarf.struct_layout("sample").unwrap();
    assert_eq!(sample.kind, CompositeKind::Union);
}

#[test]
fn stripped_objects_have_no_dwarf() {
    assert_eq!(
        Dwarf::from_elf(NO_DWARF).unwrap_err(),
        DwarfError::NoDebugInfo
    );
    let err = Dwarf::from_elf(TOOLS)
        .unwrap()
        .struct_layout("no_such_event")
        .unwrap_err();
    assert!(
        matches!(err, DwarfError::StructNotFound { available } if available.contains(&"stack_event".to_owned()))
    );
}

/// Random byte edits of the object never panic the DWARF reader.
#[test]
fn mutations_never_panic() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..500 {
        let mut file = TOOLS.to_vec();
        for _ in 0..1 + next() % 4 {
            let at = next() as usize % file.len();
            file[at] = next() as u8;
        }
        if let Ok(dwarf) = Dwarf::from_elf(&file) {
            for name in dwarf.composite_names() {
                let _ = dwarf.struct_layout(&name);
            }
        }
    }
}
