use super::*;

/// Built from `tests/btf/layouts.bpf.c` by the repository's `build-bpf.sh`.
const LAYOUTS: &[u8] = include_bytes!("../../tests/btf/layouts.bpf.o");

fn layout(name: &str) -> StructLayout {
    let btf = Btf::from_elf(LAYOUTS).expect("layouts.bpf.o parses");
    btf.struct_layout(name).expect("struct is in layouts.bpf.o")
}

/// `(name, byte_offset, size, type_name)` of each member.
fn summary(members: &[Member]) -> Vec<(&str, u32, u32, &str)> {
    members
        .iter()
        .map(|m| (m.name.as_str(), m.byte_offset, m.size, m.type_name.as_str()))
        .collect()
}

fn plain(name: &str, byte_offset: u32, size: u32, type_name: &str) -> Member {
    Member {
        name: name.to_owned(),
        byte_offset,
        bit_offset: byte_offset * 8,
        bitfield_size: None,
        size,
        type_name: type_name.to_owned(),
        shape: Shape::Int,
        scalar: Some(Scalar::Int {
            size,
            signed: false,
            is_char: false,
            is_bool: false,
        }),
    }
}

#[test]
fn exec_event_layout() {
    let exec = layout("exec_event");
    assert_eq!(exec.name, "exec_event");
    assert_eq!(exec.kind, CompositeKind::Struct);
    assert_eq!(exec.size, 296);
    assert_eq!(
        summary(&exec.members),
        [
            ("pid", 0, 4, "__u32"),
            ("ppid", 4, 4, "__u32"),
            ("uid", 8, 4, "__u32"),
            ("pad", 12, 4, "__u32"),
            ("comm", 16, 16, "char[16]"),
            ("filename", 32, 256, "char[256]"),
            ("ts", 288, 8, "__u64"),
        ]
    );
    assert_eq!(exec.members[0], plain("pid", 0, 4, "__u32"));
}

#[test]
fn implicit_padding() {
    let padded = layout("padded");
    assert_eq!(padded.size, 16);
    assert_eq!(
        summary(&padded.members),
        [("a", 0, 4, "__u32"), ("b", 8, 8, "__u64")]
    );
}

#[test]
fn bitfields_with_kind_flag() {
    let bits = layout("bitfields");
    assert_eq!(bits.size, 24);
    let found: Vec<_> = bits
        .members
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.byte_offset,
                m.bit_offset,
                m.bitfield_size,
                m.size,
            )
        })
        .collect();
    // clang 14 leaves the unnamed `unsigned int : 4` out of BTF, and
    // `big` does not fit the 8-byte unit `count` ends in, so it starts a
    // new one at bit 64.
    assert_eq!(
        found,
        [
            ("kind", 0, 0, None, 1),
            ("flag", 1, 8, Some(1), 4),
            ("level", 1, 9, Some(3), 4),
            ("count", 2, 16, Some(10), 2),
            ("big", 8, 64, Some(40), 8),
            ("tail", 16, 128, None, 4),
        ]
    );
    assert_eq!(bits.members[1].type_name, "unsigned int");
}

#[test]
fn packed_struct() {
    let packed = layout("packed");
    assert_eq!(packed.size, 15);
    assert_eq!(
        summary(&packed.members),
        [
            ("tag", 0, 1, "__u8"),
            ("value", 1, 4, "__u32"),
            ("wide", 5, 8, "__u64"),
            ("last", 13, 2, "__u16"),
        ]
    );
}

#[test]
fn int128_fields_are_16_bytes_and_16_aligned() {
    let wide = layout("wide");
    assert_eq!(wide.size, 48);
    assert_eq!(
        summary(&wide.members),
        [
            ("tag", 0, 1, "__u8"),
            ("s", 16, 16, "__int128"),
            ("u", 32, 16, "unsigned __int128")
        ]
    );
}

#[test]
fn nested_structs_and_arrays() {
    let nested = layout("nested");
    assert_eq!(nested.size, 80);
    assert_eq!(
        summary(&nested.members),
        [
            ("tag", 0, 1, "__u8"),
            ("one", 4, 8, "struct inner"),
            ("many", 12, 24, "struct inner[3]"),
            ("grid", 36, 24, "__u32[2][3]"),
            ("argv", 64, 16, "char *[2]"),
        ]
    );
    // Nested structs carry their own layout, arrays their dimensions.
    let Shape::Composite(one) = &nested.members[1].shape else {
        panic!("`one` is a struct");
    };
    assert_eq!(
        summary(&one.members),
        [("x", 0, 2, "__u16"), ("y", 4, 4, "__u32")]
    );
    let Shape::Array {
        dims, elem_size, ..
    } = &nested.members[3].shape
    else {
        panic!("`grid` is an array");
    };
    assert_eq!((dims.as_slice(), *elem_size), (&[2, 3][..], 4));
    let inner = layout("inner");
    assert_eq!(
        summary(&inner.members),
        [("x", 0, 2, "__u16"), ("y", 4, 4, "__u32")]
    );
}

#[test]
fn anonymous_union_flattens() {
    let tagged = layout("tagged");
    assert_eq!(tagged.size, 24);
    assert_eq!(
        summary(&tagged.members),
        [
            ("kind", 0, 4, "__u32"),
            ("", 8, 8, "union <anonymous>"),
            ("state", 16, 4, "enum state")
        ]
    );
    assert_eq!(
        summary(&tagged.members[1].anonymous().unwrap().members),
        [("addr", 0, 8, "__u64"), ("", 0, 4, "struct <anonymous>")]
    );
}

#[test]
fn union_layout() {
    let value = layout("value");
    assert_eq!(value.kind, CompositeKind::Union);
    assert_eq!(value.kind.to_string(), "union");
    assert_eq!(value.size, 16);
    assert_eq!(
        summary(&value.members),
        [
            ("u", 0, 4, "__u32"),
            ("s", 0, 8, "__s64"),
            ("bytes", 0, 12, "char[12]")
        ]
    );
}

#[test]
fn qualifiers_typedefs_pointers_and_tags() {
    let qualified = layout("qualified");
    assert_eq!(qualified.size, 72);
    assert_eq!(
        summary(&qualified.members),
        [
            ("c", 0, 4, "const __u32"),
            ("v", 4, 2, "volatile __u16"),
            ("ts", 8, 8, "cv_stamp_t"),
            ("name", 16, 8, "const char *"),
            ("out", 24, 8, "__u64 *restrict"),
            ("ctx", 32, 8, "void *"),
            ("callback", 40, 8, "int (*)(int, char *)"),
            ("ratio", 48, 8, "double"),
            ("tagged", 56, 4, "__u32"),
            ("user_ptr", 64, 8, "__u64 *"),
        ]
    );
}

#[test]
fn typedef_names_an_anonymous_struct() {
    let pair = layout("pair_t");
    assert_eq!(pair.name, "pair_t");
    assert_eq!(pair.size, 8);
    assert_eq!(
        summary(&pair.members),
        [("lo", 0, 4, "__u32"), ("hi", 4, 4, "__u32")]
    );
}

#[test]
fn missing_struct_lists_what_is_there() {
    let btf = Btf::from_elf(LAYOUTS).unwrap();
    let err = btf.struct_layout("exec_evnet").unwrap_err();
    let names = [
        "bitfields",
        "exec_event",
        "inner",
        "nested",
        "packed",
        "padded",
        "pair_t",
        "qualified",
        "tagged",
        "value",
        "wide",
    ];
    assert_eq!(
        err,
        BtfError::StructNotFound {
            name: "exec_evnet".to_owned(),
            available: names.map(str::to_owned).to_vec()
        }
    );
    let message = err.to_string();
    assert!(message.starts_with("no struct or union named `exec_evnet` in the BTF"));
    // Neither typedefs of scalars nor other kinds count as structs.
    assert!(btf.struct_layout("__u32").is_err());
    assert!(btf.struct_layout("events").is_err());
    assert!(btf.struct_layout("").is_err());
}

/// A copy of [`LAYOUTS`] and the range of its `.BTF` section.
fn layouts_with_btf_range() -> (Vec<u8>, std::ops::Range<usize>) {
    let section = elf::section(LAYOUTS, ".BTF").unwrap().unwrap();
    let start = section.as_ptr() as usize - LAYOUTS.as_ptr() as usize;
    (LAYOUTS.to_vec(), start..start + section.len())
}

pub(super) fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

/// Parses `LAYOUTS` with `edit` applied to its `.BTF` section.
fn parse_edited(edit: impl FnOnce(&mut [u8])) -> Result<Btf, BtfError> {
    let (mut file, range) = layouts_with_btf_range();
    edit(&mut file[range]);
    Btf::from_elf(&file)
}

#[test]
fn corrupt_btf_header() {
    assert_eq!(
        parse_edited(|btf| btf[0] = 0).unwrap_err(),
        BtfError::BadMagic { found: 0xeb00 }
    );
    let err = parse_edited(|btf| btf.swap(0, 1)).unwrap_err();
    assert_eq!(err, BtfError::BadMagic { found: 0x9feb });
    assert!(err.to_string().contains("big-endian"), "{err}");
    assert_eq!(
        parse_edited(|btf| btf[2] = 2).unwrap_err(),
        BtfError::UnsupportedVersion { version: 2 }
    );
    let err = parse_edited(|btf| put_u32(btf, 4, 8)).unwrap_err();
    assert!(
        matches!(err, BtfError::BadHeaderLength { hdr_len: 8, .. }),
        "{err}"
    );
    let err = parse_edited(|btf| put_u32(btf, 4, u32::MAX)).unwrap_err();
    assert!(matches!(err, BtfError::BadHeaderLength { .. }), "{err}");
    assert_eq!(
        Btf::parse(&[0x9f, 0xeb, 1]).unwrap_err(),
        BtfError::AreaOutOfBounds {
            area: "header",
            offset: 0,
            len: 24,
            available: 3
        }
    );
}

#[test]
fn areas_past_the_end() {
    let (_, range) = layouts_with_btf_range();
    let available = range.len() - BTF_HEADER_LEN;
    // type_len pointing past the end of the section.
    let err = parse_edited(|btf| put_u32(btf, 12, 1 << 20)).unwrap_err();
    assert_eq!(
        err,
        BtfError::AreaOutOfBounds {
            area: "type area",
            offset: 0,
            len: 1 << 20,
            available
        }
    );
    assert!(err.to_string().contains("runs past"), "{err}");
    // str_off + str_len overflowing u32 arithmetic.
    let err = parse_edited(|btf| put_u32(btf, 16, u32::MAX)).unwrap_err();
    assert!(
        matches!(
            err,
            BtfError::AreaOutOfBounds {
                area: "string table",
                ..
            }
        ),
        "{err}"
    );
    // A type area cut short in the middle of a record.
    let err = parse_edited(|btf| put_u32(btf, 12, 2016 - 4)).unwrap_err();
    assert!(matches!(err, BtfError::TruncatedType { .. }), "{err}");
}

#[test]
fn truncated_section_or_file() {
    let (file, range) = layouts_with_btf_range();
    // A file cut inside the .BTF section.
    let err = Btf::from_elf(&file[..range.start + 100]).unwrap_err();
    assert!(
        matches!(
            err,
            BtfError::Elf {
                source: ElfError::OutOfBounds { .. }
            }
        ),
        "{err}"
    );
    // A section header claiming fewer bytes than the header says.
    assert_eq!(
        Btf::parse(&LAYOUTS[range.start..range.start + 100]).unwrap_err(),
        BtfError::AreaOutOfBounds {
            area: "type area",
            offset: 0,
            len: 2016,
            available: 100 - BTF_HEADER_LEN
        }
    );
    for len in 0..range.len() {
        assert!(Btf::parse(&LAYOUTS[range.start..range.start + len]).is_err());
    }
}

#[test]
fn strings_out_of_range_or_unterminated() {
    let str_len = 783;
    let type_area = BTF_HEADER_LEN;
    // name_off of type 1.
    let err = parse_edited(|btf| put_u32(btf, type_area, str_len)).unwrap_err();
    assert_eq!(
        err,
        BtfError::StringOutOfRange {
            offset: str_len,
            len: str_len as usize
        }
    );
    assert!(
        err.to_string()
            .contains("outside the 783-byte string table"),
        "{err}"
    );
    let err = parse_edited(|btf| put_u32(btf, type_area, u32::MAX)).unwrap_err();
    assert!(matches!(err, BtfError::StringOutOfRange { .. }), "{err}");
    let err = parse_edited(|btf| {
        let last = btf.len() - 1;
        btf[last] = b'x';
    })
    .unwrap_err();
    assert_eq!(err, BtfError::BadStringTable { len: str_len });
    let strings = BTF_HEADER_LEN + 2016;
    let err = parse_edited(|btf| btf[strings + 1] = 0xff).unwrap_err();
    assert!(matches!(err, BtfError::BadString { offset: 1 }), "{err}");
}

#[test]
fn elf_errors_and_missing_section() {
    let err = Btf::from_elf(b"BTF").unwrap_err();
    assert_eq!(
        err,
        BtfError::Elf {
            source: ElfError::NotElf { len: 3 }
        }
    );
    assert_eq!(err.to_string(), "the 3-byte file is not an ELF object");
    let file = elf::tests::elf_with(&[(".BTF.ext", &[0; 8])]);
    let err = Btf::from_elf(&file).unwrap_err();
    assert_eq!(err, BtfError::NoBtfSection);
    assert!(err.to_string().contains("clang -g"), "{err}");
}

/// Builds raw BTF type by type.
struct Builder {
    types: Vec<u8>,
    strings: Vec<u8>,
    count: u32,
}

impl Builder {
    fn new() -> Self {
        Self {
            types: Vec::new(),
            strings: vec![0],
            count: 0,
        }
    }

    fn name(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return 0;
        }
        let offset = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        offset
    }

    /// Adds a type and returns its id.
    fn add(&mut self, name: &str, kind: u32, vlen: u32, size_or_type: u32, tail: &[u32]) -> u32 {
        self.add_flagged(name, kind, false, vlen, size_or_type, tail)
    }

    fn add_flagged(
        &mut self,
        name: &str,
        kind: u32,
        kind_flag: bool,
        vlen: u32,
        size_or_type: u32,
        tail: &[u32],
    ) -> u32 {
        let name = self.name(name);
        let info = u32::from(kind_flag) << 31 | kind << 24 | vlen;
        for word in [name, info, size_or_type].iter().chain(tail) {
            self.types.extend_from_slice(&word.to_le_bytes());
        }
        self.count += 1;
        self.count
    }

    fn finish(&self) -> Vec<u8> {
        let mut btf = vec![0x9f, 0xeb, 1, 0];
        let type_len = self.types.len() as u32;
        for word in [24, 0, type_len, type_len, self.strings.len() as u32] {
            btf.extend_from_slice(&word.to_le_bytes());
        }
        btf.extend_from_slice(&self.types);
        btf.extend_from_slice(&self.strings);
        btf
    }
}

#[test]
fn every_kind_and_old_style_bitfields() {
    let mut b = Builder::new();
    let int = b.add("int", 1, 0, 4, &[0x0100_0020]); // signed, 32 bits
    let flags3 = b.add("unsigned int", 1, 0, 4, &[(4 << 16) | 3]); // bits 4..7
    let ptr = b.add("", 2, 0, int, &[]);
    let arr = b.add("", 3, 0, 0, &[int, int, 4]);
    let (red, blue, huge) = (b.name("RED"), b.name("BLUE"), b.name("HUGE"));
    let e32 = b.add("color", 6, 2, 4, &[red, 0, blue, 1]);
    let e64 = b.add("big", 19, 1, 8, &[huge, 0, 1]);
    let fwd = b.add_flagged("later", 7, true, 0, 0, &[]);
    let fwd_ptr = b.add("", 2, 0, fwd, &[]);
    let typedef = b.add("i32", 8, 0, int, &[]);
    let volatile = b.add("", 9, 0, typedef, &[]);
    let restrict = b.add("", 11, 0, ptr, &[]);
    let param = b.name("a");
    let proto = b.add("", 13, 2, int, &[param, int, 0, 0]); // (int a, ...)
    b.add("f", 12, 0, proto, &[]);
    let float = b.add("float", 16, 0, 4, &[]);
    let tag = b.add("user", 18, 0, int, &[]);
    let mut members = Vec::new();
    let fields = [
        ("e32", e32, 0),
        ("e64", e64, 64),
        ("flags", flags3, 128),
        ("arr", arr, 160),
        ("p", restrict, 320),
        ("fp", fwd_ptr, 384),
        ("v", volatile, 448),
        ("fl", float, 480),
        ("t", tag, 512),
    ];
    for (field, ty, offset) in fields {
        members.extend([b.name(field), ty, offset]);
    }
    let s = b.add("s", 4, fields.len() as u32, 72, &members);
    let var = b.add("g", 14, 0, s, &[1]);
    b.add(".bss", 15, 1, 0, &[var, 0, 72]);
    b.add("tag", 17, 0, s, &[u32::MAX]);
    let raw = b.finish();

    let btf = Btf::parse(&raw).unwrap();
    let direct = Btf::from_elf(&elf::tests::elf_with(&[(".BTF", &raw)])).unwrap();
    assert_eq!(direct.types.len(), btf.types.len());
    let s = btf.struct_layout("s").unwrap();
    assert_eq!(
        summary(&s.members),
        [
            ("e32", 0, 4, "enum color"),
            ("e64", 8, 8, "enum big"),
            ("flags", 16, 4, "unsigned int"),
            ("arr", 20, 16, "int[4]"),
            ("p", 40, 8, "int *restrict"),
            ("fp", 48, 8, "union later *"),
            ("v", 56, 4, "volatile i32"),
            ("fl", 60, 4, "float"),
            ("t", 64, 4, "int"),
        ]
    );
    // Without kind_flag, the INT's own offset and width make a bitfield.
    assert_eq!(s.members[2].bit_offset, 128 + 4);
    assert_eq!(s.members[2].bitfield_size, Some(3));
    assert!(s
        .members
        .iter()
        .filter(|m| m.name != "flags")
        .all(|m| m.bitfield_size.is_none()));
    assert_eq!(btf.spell(proto, 0).unwrap(), "function");
    assert!(matches!(
        btf.size_of(fwd),
        Err(BtfError::Unsized {
            kind: "forward declaration",
            ..
        })
    ));
    assert!(matches!(
        btf.size_of(0),
        Err(BtfError::Unsized { kind: "void", .. })
    ));
}

#[test]
fn malformed_types() {
    let mut b = Builder::new();
    b.add("x", 20, 0, 0, &[]);
    let err = Btf::parse(&b.finish()).unwrap_err();
    assert_eq!(
        err,
        BtfError::UnknownKind {
            type_id: 1,
            kind: 20
        }
    );
    assert_eq!(err.to_string(), "BTF type 1 has unknown kind 20");

    // A vlen of 65535 members with no data behind it.
    let mut b = Builder::new();
    b.add("s", 4, 0xffff, 8, &[]);
    let err = Btf::parse(&b.finish()).unwrap_err();
    assert!(
        matches!(err, BtfError::TruncatedType { type_id: 1, .. }),
        "{err}"
    );

    // A member of a type id that does not exist.
    let mut b = Builder::new();
    let member = b.name("m");
    b.add("s", 4, 1, 8, &[member, 99, 0]);
    let err = Btf::parse(&b.finish())
        .unwrap()
        .struct_layout("s")
        .unwrap_err();
    assert_eq!(
        err,
        BtfError::TypeIdOutOfRange {
            type_id: 99,
            count: 2
        }
    );

    // A typedef cycle and an array of itself.
    let mut b = Builder::new();
    let member = b.name("m");
    b.add("loop", 8, 0, 1, &[]);
    b.add("s", 4, 1, 8, &[member, 1, 0]);
    b.add("", 3, 0, 0, &[3, 3, 1]);
    b.add("t", 4, 1, 8, &[member, 3, 0]);
    let btf = Btf::parse(&b.finish()).unwrap();
    let err = btf.struct_layout("s").unwrap_err();
    assert_eq!(err, BtfError::TooDeep { type_id: 1 });
    assert!(matches!(
        btf.struct_layout("t"),
        Err(BtfError::TooDeep { .. })
    ));

    // A struct that is its own anonymous member.
    let mut b = Builder::new();
    b.add("self", 4, 1, 8, &[0, 1, 0]);
    let btf = Btf::parse(&b.finish()).unwrap();
    assert!(matches!(
        btf.struct_layout("self"),
        Err(BtfError::TooDeep { .. })
    ));

    // An array whose size overflows u32.
    let mut b = Builder::new();
    let member = b.name("m");
    b.add("long", 1, 0, 8, &[64]);
    b.add("", 3, 0, 0, &[1, 1, u32::MAX]);
    b.add("s", 4, 1, 8, &[member, 2, 0]);
    let err = Btf::parse(&b.finish())
        .unwrap()
        .struct_layout("s")
        .unwrap_err();
    assert_eq!(err, BtfError::SizeOverflow { type_id: 2 });
}

/// Random byte edits of the real object never panic.
#[test]
fn mutations_never_panic() {
    let (file, range) = layouts_with_btf_range();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let rounds = if cfg!(miri) { 20 } else { 3000 };
    for _ in 0..rounds {
        let mut file = file.clone();
        for _ in 0..1 + next() % 4 {
            // Mostly the BTF, sometimes anywhere (ELF headers included).
            let at = match next() % 4 {
                0 => next() as usize % file.len(),
                _ => range.start + next() as usize % range.len(),
            };
            file[at] = match next() % 3 {
                0 => next() as u8,
                1 => 0xff,
                _ => 0,
            };
        }
        if let Ok(btf) = Btf::from_elf(&file) {
            for name in btf.composite_names() {
                let _ = btf.struct_layout(&name);
            }
        }
    }
}

/// BTF where struct `s{depth}` has two anonymous members of struct
/// `s{depth - 1}`, down to `s0 { int a; }`: each level doubles the members
/// a layout expands to, while the BTF grows by one type.
fn doubling(depth: u32) -> Vec<u8> {
    let mut b = Builder::new();
    let int = b.add("int", 1, 0, 4, &[0x0100_0020]);
    let a = b.name("a");
    let mut inner = b.add("s0", 4, 1, 4, &[a, int, 0]);
    let mut size = 4;
    for level in 1..=depth {
        let bits = size * 8;
        inner = b.add(
            &format!("s{level}"),
            4,
            2,
            size * 2,
            &[0, inner, 0, 0, inner, bits],
        );
        size *= 2;
    }
    b.finish()
}

/// Members at every depth, anonymous ones included.
fn count(members: &[Member]) -> u64 {
    let nested = |m: &Member| match &m.shape {
        Shape::Composite(inner) => count(&inner.members),
        _ => 0,
    };
    members.iter().map(|m| 1 + nested(m)).sum()
}

#[test]
fn shared_anonymous_members_are_expanded_once_and_capped() {
    // 3 * 2^10 - 2 members: within the cap, every use expanded.
    let btf = Btf::parse(&doubling(10)).unwrap();
    let layout = btf.struct_layout("s10").unwrap();
    assert_eq!(layout.size, 4 << 10);
    assert_eq!(count(&layout.members), 3 * (1 << 10) - 2);
    let [first, second] = &layout.members[..] else {
        panic!("two members: {:?}", layout.members.len());
    };
    assert_eq!(first.shape, second.shape);
    assert_eq!((first.byte_offset, second.byte_offset), (0, 2048));
    // 3 * 2^20 - 2 members: refused with the cap's error, after expanding
    // each of the 21 types once (no timing is asserted; unmemoized, this
    // took seconds inside rustc).
    let btf = Btf::parse(&doubling(20)).unwrap();
    let err = btf.struct_layout("s20").unwrap_err();
    assert_eq!(err, BtfError::TooManyMembers { limit: MAX_MEMBERS });
    assert!(err.to_string().contains("more than 65536 members"), "{err}");
    // Just under the cap: 3 * 2^14 - 2 = 49150 members.
    let btf = Btf::parse(&doubling(14)).unwrap();
    assert_eq!(count(&btf.struct_layout("s14").unwrap().members), 49150);
}
