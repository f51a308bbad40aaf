//! A BPF object (or raw BTF file), parsed once, and looking a struct up in
//! its BTF, then its DWARF.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::btf::{Btf, BtfError};
use crate::dwarf::{Dwarf, DwarfError};
use crate::layout::StructLayout;

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
    /// A message that leads with the fix when neither has it.
    pub fn struct_layout(&self, name: &str) -> Result<StructLayout, String> {
        let file = &self.file_name;
        let mut names = Vec::new();
        let btf_missing = match &self.btf {
            Ok(btf) => match btf.struct_layout(name) {
                Ok(layout) => return Ok(layout),
                Err(BtfError::StructNotFound { available, .. }) => {
                    names.extend(available);
                    "it is not in the BTF".to_owned()
                }
                Err(e) => return Err(format!("`{file}`: {e}")),
            },
            Err(BtfError::NoBtfSection) => "the object has no BTF".to_owned(),
            Err(e) => return Err(format!("cannot read the BTF of `{file}`: {e}")),
        };
        let dwarf = self.dwarf();
        let dwarf_missing = match &*dwarf {
            Ok(dwarf) => match dwarf.struct_layout(name) {
                Ok(layout) => return Ok(layout),
                Err(DwarfError::StructNotFound { available }) => {
                    names.extend(available.iter().cloned());
                    "nor in the DWARF".to_owned()
                }
                Err(e) => return Err(format!("`{file}`: {e}")),
            },
            Err(DwarfError::NoDebugInfo) => "and the object has no DWARF to look in".to_owned(),
            Err(e) => return Err(format!("cannot read the DWARF of `{file}`: {e}")),
        };
        names.sort_unstable();
        names.dedup();
        Err(not_found(name, file, &btf_missing, &dwarf_missing, &names))
    }
}

/// The message for a struct neither BTF nor DWARF has: the fix first, then
/// the names closest to the one asked for.
fn not_found(name: &str, file: &str, btf: &str, dwarf: &str, names: &[String]) -> String {
    let no_dwarf = dwarf.contains("no DWARF");
    let mut message = format!(
        "no struct or union named `{name}` in `{file}`: {btf}, {dwarf}. clang leaves out of BTF \
         a struct the program uses only as a local variable or through a local pointer; keep \
         it with one line in the C source: `struct {name} *unused_{name} \
         __attribute__((unused));`, or `__type(value, struct {name})` on the ring buffer map"
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

/// At most [`SUGGESTIONS`] names, closest to `name` first.
pub fn similar_names<'a>(name: &str, names: &'a [String]) -> Vec<&'a str> {
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
