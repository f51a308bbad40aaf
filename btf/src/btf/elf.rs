//! Finds a section of a little-endian ELF64 object by name.
//!
//! Just enough of the ELF format (`<elf.h>`, the System V gABI) to hand the
//! BTF reader the bytes of `.BTF`: the file header and the section header
//! table, bounds-checked, with the extended counts of files with 0xff00
//! sections or more.

use std::fmt;

use super::slice;

const ELF_HEADER_LEN: u64 = 64;
/// `sizeof(Elf64_Shdr)`.
const SECTION_HEADER_LEN: u64 = 64;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const SHT_NOBITS: u64 = 8;
const SHF_COMPRESSED: u64 = 0x800;
const SHN_XINDEX: u64 = 0xffff;

/// Why an ELF object could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElfError {
    NotElf {
        len: usize,
    },
    /// Anything but ELF64 (class 2), little-endian (data 1).
    Unsupported {
        class: u8,
        data: u8,
    },
    BadSectionHeaderSize {
        size: u64,
    },
    /// A header, table or section lies (partly) outside the file.
    OutOfBounds {
        what: &'static str,
        offset: u64,
        len: u64,
        file_len: usize,
    },
    /// Two sections have the name.
    DuplicateSection {
        name: String,
    },
    /// The section is `SHT_NOBITS` or compressed.
    UnreadableSection {
        name: String,
        reason: &'static str,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotElf { len } => write!(f, "the {len}-byte file is not an ELF object"),
            Self::Unsupported { class, data } => write!(
                f,
                "ELF class {class} with data encoding {data} is not supported: only \
                 little-endian ELF64 objects are read (compile with clang -target bpf)"
            ),
            Self::BadSectionHeaderSize { size } => {
                write!(
                    f,
                    "ELF section headers are {size} bytes, not {SECTION_HEADER_LEN}"
                )
            }
            Self::OutOfBounds {
                what,
                offset,
                len,
                file_len,
            } => write!(
                f,
                "ELF {what} at offset {offset} with length {len} runs past the end of the \
                 {file_len}-byte file"
            ),
            Self::DuplicateSection { name } => write!(
                f,
                "the object has two {name} sections; the derive cannot tell which describes the \
                 program"
            ),
            Self::UnreadableSection { name, reason } => write!(f, "ELF section {name} {reason}"),
        }
    }
}

impl std::error::Error for ElfError {}

/// The bytes of the first section called `name`, or `None` if there is none.
///
/// # Errors
///
/// When the file is not a little-endian ELF64 object, a header lies outside
/// it, or the section has no bytes in the file or is compressed.
pub(crate) fn section<'a>(file: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, ElfError> {
    let file_len = file.len();
    let get = |what, offset: u64, len: u64| {
        slice(file, offset, len).ok_or(ElfError::OutOfBounds {
            what,
            offset,
            len,
            file_len,
        })
    };
    if !file.starts_with(b"\x7fELF") {
        return Err(ElfError::NotElf { len: file_len });
    }
    let (class, data) = (file.get(4).copied(), file.get(5).copied());
    if (class, data) != (Some(ELFCLASS64), Some(ELFDATA2LSB)) {
        let (class, data) = (class.unwrap_or_default(), data.unwrap_or_default());
        return Err(ElfError::Unsupported { class, data });
    }
    // Fields of `Elf64_Ehdr` and `Elf64_Shdr`: in bounds, as both are 64 bytes.
    let header = get("header", 0, ELF_HEADER_LEN)?;
    let (shoff, shentsize) = (read_le(header, 0x28, 8), read_le(header, 0x3a, 2));
    let (mut shnum, mut shstrndx) = (read_le(header, 0x3c, 2), read_le(header, 0x3e, 2));
    if shentsize != SECTION_HEADER_LEN {
        return Err(ElfError::BadSectionHeaderSize { size: shentsize });
    }
    let section = |index: u64| {
        let offset = index
            .checked_mul(shentsize)
            .and_then(|o| o.checked_add(shoff));
        get(
            "section header",
            offset.unwrap_or(u64::MAX),
            SECTION_HEADER_LEN,
        )
    };
    // Files with 0xff00 sections or more keep the counts in section header 0.
    if shnum == 0 && shoff != 0 {
        shnum = read_le(section(0)?, 32, 8);
    }
    if shstrndx == SHN_XINDEX {
        shstrndx = read_le(section(0)?, 40, 4);
    }
    let names = section(shstrndx)?;
    let names = get(
        "section name table",
        read_le(names, 24, 8),
        read_le(names, 32, 8),
    )?;
    // The whole section header table must lie in the file, even the headers
    // this lookup would not reach: a truncated file is refused as such.
    let table_len = shnum.saturating_mul(SECTION_HEADER_LEN);
    get("section header table", shoff, table_len)?;
    let mut found = None;
    for index in 0..shnum {
        let header = section(index)?;
        let offset = usize::try_from(read_le(header, 0, 4)).ok();
        let this = offset
            .and_then(|at| names.get(at..))
            .and_then(|names| names.split(|&b| b == 0).next());
        if this != Some(name.as_bytes()) {
            continue;
        }
        if found.is_some() {
            return Err(ElfError::DuplicateSection {
                name: name.to_owned(),
            });
        }
        let unreadable = |reason| ElfError::UnreadableSection {
            name: name.to_owned(),
            reason,
        };
        if read_le(header, 4, 4) == SHT_NOBITS {
            return Err(unreadable("has no bytes in the file"));
        }
        if read_le(header, 8, 8) & SHF_COMPRESSED != 0 {
            return Err(unreadable("is compressed"));
        }
        found = Some(get(
            "section",
            read_le(header, 24, 8),
            read_le(header, 32, 8),
        )?);
    }
    Ok(found)
}

/// The little-endian integer of `len <= 8` bytes at `offset`; 0 when they
/// are out of bounds, so use it only on fixed-size headers.
fn read_le(bytes: &[u8], offset: usize, len: usize) -> u64 {
    let end = offset.saturating_add(len);
    let bytes = bytes.get(offset..end).unwrap_or_default();
    bytes
        .iter()
        .rev()
        .fold(0, |value, &byte| value << 8 | u64::from(byte))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const LAYOUTS: &[u8] = include_bytes!("../../tests/btf/layouts.bpf.o");

    /// A little-endian ELF64 file with a null section, the given sections
    /// (type `SHT_PROGBITS`) and `.shstrtab`.
    pub(in crate::btf) fn elf_with(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut names = vec![0];
        let mut name_offsets = Vec::new();
        for name in sections.iter().map(|(name, _)| *name).chain([".shstrtab"]) {
            name_offsets.push(names.len() as u32);
            names.extend_from_slice(name.as_bytes());
            names.push(0);
        }
        let mut file = vec![0; ELF_HEADER_LEN as usize];
        let mut headers = vec![0; SECTION_HEADER_LEN as usize];
        let data = sections
            .iter()
            .map(|(_, data)| *data)
            .chain([names.as_slice()]);
        for (name_offset, data) in name_offsets.into_iter().zip(data) {
            let mut header = [0; SECTION_HEADER_LEN as usize];
            header[0..4].copy_from_slice(&name_offset.to_le_bytes());
            header[4] = 1; // SHT_PROGBITS
            header[24..32].copy_from_slice(&(file.len() as u64).to_le_bytes());
            header[32..40].copy_from_slice(&(data.len() as u64).to_le_bytes());
            file.extend_from_slice(data);
            headers.extend_from_slice(&header);
        }
        let count = sections.len() as u16 + 2;
        let shoff = file.len() as u64;
        file.extend_from_slice(&headers);
        file[..6].copy_from_slice(b"\x7fELF\x02\x01");
        file[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        file[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        file[0x3c..0x3e].copy_from_slice(&count.to_le_bytes());
        file[0x3e..0x40].copy_from_slice(&(count - 1).to_le_bytes());
        file
    }

    /// The offset of section header `index` in a file from [`elf_with`].
    fn header_of(file: &[u8], index: usize) -> usize {
        read_le(file, 0x28, 8) as usize + index * SECTION_HEADER_LEN as usize
    }

    #[test]
    fn finds_sections_by_exact_name() {
        let file = elf_with(&[(".BTF.ext", b"ext"), (".BTF", b"btf"), ("x", b"")]);
        assert_eq!(section(&file, ".BTF"), Ok(Some(&b"btf"[..])));
        assert_eq!(section(&file, ".BTF.ext"), Ok(Some(&b"ext"[..])));
        assert_eq!(section(&file, "x"), Ok(Some(&b""[..])));
        assert_eq!(section(&file, ".BT"), Ok(None));
        let btf = section(LAYOUTS, ".BTF").unwrap().unwrap();
        assert_eq!(&btf[..2], &[0x9f, 0xeb]);
        assert!(section(LAYOUTS, ".BTF.ext").unwrap().is_some());
    }

    #[test]
    fn extended_section_count() {
        let mut file = elf_with(&[(".BTF", b"btf")]);
        file[0x3c..0x3e].copy_from_slice(&0u16.to_le_bytes());
        file[0x3e..0x40].copy_from_slice(&0xffffu16.to_le_bytes());
        let first = header_of(&file, 0);
        file[first + 32..first + 40].copy_from_slice(&3u64.to_le_bytes());
        file[first + 40..first + 44].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(section(&file, ".BTF"), Ok(Some(&b"btf"[..])));
    }

    #[test]
    fn unsupported_files() {
        assert_eq!(section(b"BTF", ".BTF"), Err(ElfError::NotElf { len: 3 }));
        let mut file = LAYOUTS.to_vec();
        file[4] = 1;
        assert_eq!(
            section(&file, ".BTF"),
            Err(ElfError::Unsupported { class: 1, data: 1 })
        );
        file[4] = 2;
        file[5] = 2;
        let err = section(&file, ".BTF").unwrap_err();
        assert_eq!(err, ElfError::Unsupported { class: 2, data: 2 });
        assert!(
            err.to_string().contains("only little-endian ELF64"),
            "{err}"
        );
        let err = section(b"\x7fELF", ".BTF").unwrap_err();
        assert_eq!(err, ElfError::Unsupported { class: 0, data: 0 });
        let mut file = LAYOUTS.to_vec();
        file[0x3a] = 40;
        let err = section(&file, ".BTF").unwrap_err();
        assert_eq!(err, ElfError::BadSectionHeaderSize { size: 40 });
    }

    /// What `section` found out of bounds in `file`; panics on any other
    /// outcome.
    fn out_of_bounds(file: &[u8]) -> &'static str {
        match section(file, ".BTF") {
            Err(ElfError::OutOfBounds { what, .. }) => what,
            other => panic!("expected an out-of-bounds error, got {other:?}"),
        }
    }

    #[test]
    fn out_of_bounds_files() {
        let err = section(&LAYOUTS[..40], ".BTF").unwrap_err();
        let (what, offset, len, file_len) = ("header", 0, 64, 40);
        assert_eq!(
            err,
            ElfError::OutOfBounds {
                what,
                offset,
                len,
                file_len
            }
        );
        assert_eq!(
            err.to_string(),
            "ELF header at offset 0 with length 64 runs past the end of the 40-byte file"
        );
        // Cut inside the section header table.
        let file = elf_with(&[(".BTF", b"btf")]);
        assert_eq!(out_of_bounds(&file[..file.len() - 1]), "section header");
        // A section header table offset that overflows.
        let mut bad = file.clone();
        bad[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(out_of_bounds(&bad), "section header");
        // Section data past the end.
        let mut bad = file.clone();
        let btf = header_of(&bad, 1);
        bad[btf + 32..btf + 40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(out_of_bounds(&bad), "section");
        // A name offset past the name table is no match, not an error.
        let mut bad = file.clone();
        bad[btf..btf + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(section(&bad, ".BTF"), Ok(None));
        // A name table index past the table.
        let mut bad = file;
        bad[0x3e] = 200;
        assert_eq!(out_of_bounds(&bad), "section header");
    }

    #[test]
    fn unreadable_sections() {
        let file = elf_with(&[(".BTF", b"btf")]);
        let btf = header_of(&file, 1);
        let mut nobits = file.clone();
        nobits[btf + 4] = SHT_NOBITS as u8;
        let err = section(&nobits, ".BTF").unwrap_err();
        assert_eq!(err.to_string(), "ELF section .BTF has no bytes in the file");
        let mut compressed = file;
        compressed[btf + 9] = (SHF_COMPRESSED >> 8) as u8;
        let err = section(&compressed, ".BTF").unwrap_err();
        let (name, reason) = (".BTF".to_owned(), "is compressed");
        assert_eq!(err, ElfError::UnreadableSection { name, reason });
    }
}
