//! How to read each scalar member (signedness, `char`, `_Bool`, enum value
//! names), from BTF and from DWARF alike, on the `ringview` command's test
//! object (`ringview-cli/tests/bpf/records.bpf.c`): `struct event` is in
//! its BTF, `struct dwarf_event` (the same members) only in its DWARF.

use ringview_btf::btf::Btf;
use ringview_btf::dwarf::Dwarf;
use ringview_btf::{Enumerator, Member, Object, Scalar, Shape, StructLayout};

const RECORDS: &[u8] = include_bytes!("../../ringview-cli/tests/bpf/records.bpf.o");

fn int(size: u32, signed: bool) -> Option<Scalar> {
    Some(Scalar::Int {
        size,
        signed,
        is_char: false,
        is_bool: false,
    })
}

fn member<'a>(layout: &'a StructLayout, name: &str) -> &'a Member {
    layout
        .members
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no member {name} in {layout:?}"))
}

fn check(layout: &StructLayout, enum_signed: bool) {
    assert_eq!(layout.size, 72);
    assert_eq!(member(layout, "seq").scalar, int(4, false));
    assert_eq!(member(layout, "neg").scalar, int(4, true));
    assert_eq!(member(layout, "big").scalar, int(8, true));
    assert_eq!(member(layout, "small").scalar, int(1, false));
    assert_eq!(
        member(layout, "comm").scalar,
        Some(Scalar::Int {
            size: 1,
            signed: true,
            is_char: true,
            is_bool: false,
        })
    );
    assert_eq!(
        member(layout, "ok").scalar,
        Some(Scalar::Int {
            size: 1,
            signed: false,
            is_char: false,
            is_bool: true,
        })
    );
    assert_eq!(member(layout, "counts").scalar, int(4, false));
    let Some(Scalar::Enum {
        size,
        signed,
        values,
    }) = &member(layout, "kind").scalar
    else {
        panic!("kind is an enum: {:?}", member(layout, "kind"));
    };
    assert_eq!((*size, *signed), (4, enum_signed));
    let neg = if enum_signed {
        (-3i64) as u64
    } else {
        0xffff_fffd
    };
    assert_eq!(
        values,
        &[
            Enumerator::new("KIND_EXEC".into(), 1, 4, false),
            Enumerator::new("KIND_EXIT".into(), 2, 4, false),
            Enumerator {
                name: "KIND_NEG".into(),
                value: neg
            },
        ]
    );
    // Structs and unions have no scalar; their members do.
    let inner = member(layout, "inner");
    assert_eq!(inner.scalar, None);
    let Shape::Composite(inner) = &inner.shape else {
        panic!("inner is a struct");
    };
    assert_eq!(member(inner, "delta").scalar, int(2, true));
    let Shape::Composite(value) = &member(layout, "value").shape else {
        panic!("value is a union");
    };
    assert_eq!(member(value, "as_s32").scalar, int(4, true));
    assert!(matches!(
        member(value, "tag").scalar,
        Some(Scalar::Int { is_char: true, .. })
    ));
}

#[test]
fn btf_scalars() {
    let btf = Btf::from_elf(RECORDS).unwrap();
    // clang 14 writes enums without BTF's signed flag (kind_flag).
    check(&btf.struct_layout("event").unwrap(), false);
    assert!(btf.struct_layout("dwarf_event").is_err(), "only in DWARF");
}

#[test]
fn dwarf_scalars() {
    let dwarf = Dwarf::from_elf(RECORDS).unwrap();
    // DWARF writes the negative enumerator signed.
    check(&dwarf.struct_layout("dwarf_event").unwrap(), true);
    check(&dwarf.struct_layout("event").unwrap(), true);
    let object = Object::new("records.bpf.o".into(), RECORDS.to_vec());
    check(&object.struct_layout("dwarf_event").unwrap(), true);
}

/// `btf/tests/btf/layouts.bpf.c`'s `struct qualified`: pointers, a
/// double, and scalars behind qualifiers and typedefs.
#[test]
fn pointers_floats_and_qualified_scalars() {
    const LAYOUTS: &[u8] = include_bytes!("btf/layouts.bpf.o");
    let btf = Btf::from_elf(LAYOUTS).unwrap();
    let qualified = btf.struct_layout("qualified").unwrap();
    assert_eq!(member(&qualified, "c").scalar, int(4, false));
    assert_eq!(member(&qualified, "v").scalar, int(2, false));
    assert_eq!(member(&qualified, "ts").scalar, int(8, false));
    for pointer in ["name", "out", "ctx", "callback"] {
        assert_eq!(member(&qualified, pointer).scalar, Some(Scalar::Pointer));
    }
    assert_eq!(
        member(&qualified, "ratio").scalar,
        Some(Scalar::Float { size: 8 })
    );
    let dwarf = Dwarf::from_elf(LAYOUTS).unwrap();
    let from_dwarf = dwarf.struct_layout("qualified").unwrap();
    for (a, b) in qualified.members.iter().zip(&from_dwarf.members) {
        assert_eq!(a.scalar, b.scalar, "{}", a.name);
    }
}
