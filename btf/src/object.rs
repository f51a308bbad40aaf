//! A BPF object (or raw BTF file), parsed once, and looking a struct up in
//! its BTF, then its DWARF.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::btf::{Btf, BtfError};
use crate::dwarf::{Dwarf, DwarfError};
use crate::layout::{OtherType, StructLayout};

/// How many similar names a "not found" message lists.
const SUGGESTIONS: usize = 10;

/// A BPF object (or raw BTF file) as read from disk, parsed once.
pub struct Object {
    pub path: PathBuf,
    pub file_name: String,
    bytes: Vec<u8>,
    /// `Err` keeps the reason, reported only if DWARF does not help either.
    btf: Result<Btf, BtfError>,
    /// Parsed on first use: most structs are in BTF.
    dwarf: Mutex<Option<Arc<Result<Dwarf, DwarfError>>>>,
}

/// Whether `bytes` start with the BTF magic: a raw BTF file such as
/// `/sys/kernel/btf/vmlinux`.
fn is_raw_btf(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x9f, 0xeb])
}

impl Object {
    pub fn new(path: PathBuf, bytes: Vec<u8>) -> Self {
        let btf = if is_raw_btf(&bytes) {
            Btf::parse(&bytes)
        } else {
            Btf::from_elf(&bytes)
        };
        let file_name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Self {
            path,
            file_name,
            bytes,
            btf,
            dwarf: Mutex::new(None),
        }
    }

    fn dwarf(&self) -> Arc<Result<Dwarf, DwarfError>> {
        let mut slot = self.dwarf.lock().unwrap_or_else(PoisonError::into_inner);
        let dwarf = slot.get_or_insert_with(|| {
            Arc::new(if is_raw_btf(&self.bytes) {
                Err(DwarfError::NoDebugInfo)
            } else {
                Dwarf::from_elf(&self.bytes)
            })
        });
        Arc::clone(dwarf)
    }

    /// The layout of `name`: from BTF, else from DWARF.
    ///
    /// # Errors
    ///
    /// A message that leads with the fix when neither has it: what the name
    /// is when it is no struct or union (an enum, a typedef of an array),
    /// how to keep the struct in BTF, or, for a raw BTF file, what it holds.
    pub fn struct_layout(&self, name: &str) -> Result<StructLayout, String> {
        let file = &self.file_name;
        let mut names = Vec::new();
        let mut other = None;
        let btf_missing = match &self.btf {
            Ok(btf) => match btf.struct_layout(name) {
                Ok(layout) => return Ok(layout),
                Err(BtfError::StructNotFound { available, .. }) => {
                    names.extend(available);
                    other = btf.other_type(name);
                    "it is not in the BTF".to_owned()
                }
                Err(e) => return Err(format!("`{file}`: {e}")),
            },
            Err(BtfError::NoBtfSection) => "the object has no BTF".to_owned(),
            Err(e) => return Err(format!("cannot read the BTF of `{file}`: {e}")),
        };
        if is_raw_btf(&self.bytes) {
            return Err(match other {
                Some(other) => not_composite(name, file, &other),
                None => raw_not_found(name, file, &names),
            });
        }
        let dwarf = self.dwarf();
        let dwarf_missing = match &*dwarf {
            Ok(dwarf) => match dwarf.struct_layout(name) {
                Ok(layout) => return Ok(layout),
                Err(DwarfError::StructNotFound { available }) => {
                    names.extend(available.iter().cloned());
                    other = other.or_else(|| dwarf.other_type(name));
                    "nor in the DWARF".to_owned()
                }
                Err(e) => return Err(format!("`{file}`: {e}")),
            },
            Err(DwarfError::NoDebugInfo) => "and the object has no DWARF to look in".to_owned(),
            Err(e) => return Err(format!("cannot read the DWARF of `{file}`: {e}")),
        };
        if let Some(other) = other {
            return Err(not_composite(name, file, &other));
        }
        names.sort_unstable();
        names.dedup();
        Err(not_found(name, file, &btf_missing, &dwarf_missing, &names))
    }
}

/// The message for a name that is an enum or a typedef of no struct or
/// union: what it is, and what stands for it in Rust instead.
fn not_composite(name: &str, file: &str, other: &OtherType) -> String {
    let what = match other {
        OtherType::Enum => format!("`enum {name}`"),
        OtherType::Typedef(target) => format!("a typedef of `{target}`"),
    };
    let instead = match other {
        OtherType::Enum => "for a C enum, write a `u32` field, or a `#[repr(transparent)]` \
                            newtype of `u32` deriving RingEvent without `btf` or `name`"
            .to_owned(),
        OtherType::Typedef(target) => format!(
            "for `{name}`, write a field of the Rust type for `{target}`, or a \
             `#[repr(transparent)]` newtype of it deriving RingEvent without `btf` or `name`"
        ),
    };
    format!(
        "`{name}` in `{file}` is {what}, not a struct or union, and `name = \"..\"` names the C \
         struct or union a type stands for: {instead}; the struct that holds it checks its size \
         and kind"
    )
}

/// The message for a struct a raw BTF file does not have: such a file
/// (`/sys/kernel/btf/vmlinux`) holds the types of the kernel it was dumped
/// from, and has no DWARF and no C source to add a line to.
fn raw_not_found(name: &str, file: &str, names: &[String]) -> String {
    let mut message = format!(
        "no struct or union named `{name}` in `{file}`, a raw BTF file (as \
         `/sys/kernel/btf/vmlinux` is): it holds the types of the kernel (or program) it was \
         dumped from, and no DWARF to fall back on; check the name against that kernel's \
         version and configuration, or, for a struct of your BPF program, give the compiled \
         `.bpf.o` instead"
    );
    let similar = similar_names(name, names);
    if !similar.is_empty() {
        message.push_str(&format!("; similar names: {}", similar.join(", ")));
    }
    message
}

/// The message for a struct neither BTF nor DWARF has: the fix first, then
/// the names closest to the one asked for.
fn not_found(name: &str, file: &str, btf: &str, dwarf: &str, names: &[String]) -> String {
    let no_dwarf = dwarf.contains("no DWARF");
    let mut message = format!(
        "no struct or union named `{name}` in `{file}`: {btf}, {dwarf}. clang leaves out of BTF \
         a type the program uses only as a local variable or through a local pointer; keep it \
         with one line in the C source: `struct {name} *unused_{name} \
         __attribute__((unused));` (`union {name}` for a union, `{name}` alone for a typedef), \
         or `__type(value, struct {name})` on the ring buffer map"
    );
    if no_dwarf {
        message.push_str(
            " (objects linked with `bpftool gen object` have no DWARF, so the struct must be in \
             BTF: add that line before linking)",
        );
    }
    let similar = similar_names(name, names);
    if !similar.is_empty() {
        message.push_str(&format!("; similar names: {}", similar.join(", ")));
    }
    message
}

/// At most ten names, closest to `name` first (`SUGGESTIONS`).
pub(crate) fn similar_names<'a>(name: &str, names: &'a [String]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (distance(name, n), n.as_str()))
        .filter(|&(d, n)| d <= name.len().max(n.len()) / 2 + 1 || n.contains(name))
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, n)| n)
        .collect()
}

/// Levenshtein distance over bytes.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (prev + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_names_rank_by_distance_and_cap() {
        let names: Vec<String> = ["exec_event", "exit_event", "task_struct", "event", "zzz"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(
            similar_names("exec_evnet", &names),
            ["exec_event", "exit_event", "event"]
        );
        let many: Vec<String> = (0..50).map(|i| format!("event{i}")).collect();
        assert_eq!(similar_names("event", &many).len(), SUGGESTIONS);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    /// Built from `derive/tests/btf/v3.bpf.c` by `build-bpf.sh`, with its
    /// raw BTF.
    const V3: &[u8] = include_bytes!("../../derive/tests/btf/v3.bpf.o");
    const V3_RAW: &[u8] = include_bytes!("../../derive/tests/btf/v3.BTF");

    #[test]
    fn enums_and_typedefs_are_named_for_what_they_are() {
        let object = Object::new("v3.bpf.o".into(), V3.to_vec());
        let m = object.struct_layout("op").unwrap_err();
        assert!(
            m.starts_with("`op` in `v3.bpf.o` is `enum op`, not a struct or union"),
            "{m}"
        );
        assert!(m.contains("a `u32` field"), "{m}");
        let m = object.struct_layout("path_t").unwrap_err();
        assert!(
            m.starts_with("`path_t` in `v3.bpf.o` is a typedef of `char[16]`"),
            "{m}"
        );
        // A struct and an enum may share a name: the struct wins.
        assert!(object.struct_layout("tcp_event").is_ok());
    }

    #[test]
    fn a_raw_btf_file_gets_a_hint_that_fits_it() {
        let object = Object::new("v3.BTF".into(), V3_RAW.to_vec());
        assert!(object.struct_layout("tcp_event").is_ok());
        let m = object.struct_layout("tcp_evnt").unwrap_err();
        assert!(m.contains("a raw BTF file"), "{m}");
        assert!(!m.contains("unused_tcp_evnt"), "{m}");
        assert!(m.contains("similar names: tcp_event"), "{m}");
        let m = object.struct_layout("op").unwrap_err();
        assert!(m.contains("is `enum op`"), "{m}");
    }

    #[test]
    fn not_found_leads_with_the_fix() {
        let names = vec!["exec_event".to_owned()];
        let m = not_found(
            "exec_evnt",
            "a.o",
            "it is not in the BTF",
            "nor in the DWARF",
            &names,
        );
        assert!(
            m.starts_with("no struct or union named `exec_evnt` in `a.o`"),
            "{m}"
        );
        let fix = m.find("struct exec_evnt *unused_exec_evnt").unwrap();
        let similar = m.find("similar names: exec_event").unwrap();
        assert!(fix < similar, "{m}");
        let m = not_found(
            "x",
            "a.o",
            "it is not in the BTF",
            "and the object has no DWARF to look in",
            &[],
        );
        assert!(m.contains("bpftool gen object"), "{m}");
    }
}
