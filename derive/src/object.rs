//! Finding the BPF object, reading it once per compilation, and looking a
//! struct up in its BTF, then its DWARF.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::btf::{Btf, BtfError};
use crate::dwarf::{Dwarf, DwarfError};
use crate::layout::StructLayout;

/// How many similar names a "not found" message lists.
const SUGGESTIONS: usize = 10;

/// A BPF object (or raw BTF file) as read from disk, parsed once.
pub(crate) struct Object {
    pub(crate) path: PathBuf,
    pub(crate) file_name: String,
    bytes: Vec<u8>,
    /// `Err` keeps the reason, reported only if DWARF does not help either.
    btf: Result<Btf, BtfError>,
    /// Parsed on first use: most structs are in BTF.
    dwarf: Mutex<Option<Arc<Result<Dwarf, DwarfError>>>>,
}

/// Cache key: a file that changes on disk is read again.
type Key = (PathBuf, Option<SystemTime>, u64);

/// Objects already read in this compiler process, and the objects a crate
/// already includes (one `include_bytes!` per object per crate is enough
/// for cargo to rebuild when it changes).
#[derive(Default)]
struct Cache {
    objects: HashMap<Key, Arc<Object>>,
    included: HashSet<(String, PathBuf)>,
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

fn with_cache<T>(f: impl FnOnce(&mut Cache) -> T) -> T {
    let mut guard = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(Cache::default))
}

/// Whether this is the first request of this crate to include `path`; the
/// caller then emits the `include_bytes!`.
pub(crate) fn first_include(path: &Path) -> bool {
    let krate = std::env::var("CARGO_CRATE_NAME").unwrap_or_default()
        + &std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // Outside the compiler (unit tests) every call includes.
    if !proc_macro::is_available() {
        return true;
    }
    with_cache(|cache| cache.included.insert((krate, path.to_owned())))
}

/// The object at `path`, read and parsed once per process while it is
/// unchanged.
///
/// # Errors
///
/// When the file cannot be read, with the reason.
pub(crate) fn load(path: &Path) -> Result<Arc<Object>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let key = (path.to_owned(), meta.modified().ok(), meta.len());
    if let Some(found) = with_cache(|cache| cache.objects.get(&key).cloned()) {
        return Ok(found);
    }
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let object = Arc::new(Object::new(path.to_owned(), bytes));
    with_cache(|cache| cache.objects.insert(key, Arc::clone(&object)));
    Ok(object)
}

/// Whether `bytes` start with the BTF magic: a raw BTF file such as
/// `/sys/kernel/btf/vmlinux`.
fn is_raw_btf(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x9f, 0xeb])
}

impl Object {
    pub(crate) fn new(path: PathBuf, bytes: Vec<u8>) -> Self {
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
    pub(crate) fn struct_layout(&self, name: &str) -> Result<StructLayout, String> {
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

/// Finds the BPF object: absolute, `$OUT_DIR/...`, relative to the crate,
/// then relative to the file that invokes the macro.
///
/// # Errors
///
/// When no candidate is a readable regular file, saying what each is.
pub(crate) fn resolve(raw: &str, invoking_dir: Option<PathBuf>) -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(rest) = raw.strip_prefix("$OUT_DIR/") {
        match std::env::var_os("OUT_DIR") {
            Some(out_dir) => tried.push(Path::new(&out_dir).join(rest)),
            None => return Err("`$OUT_DIR` is not set: this crate has no build script".into()),
        }
    } else if Path::new(raw).is_absolute() {
        tried.push(PathBuf::from(raw));
    } else {
        if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
            tried.push(Path::new(&dir).join(raw));
        }
        if let Some(dir) = invoking_dir {
            tried.push(dir.join(raw));
        }
    }
    if let Some(found) = tried.iter().find(|p| p.is_file()) {
        return Ok(found.canonicalize().unwrap_or_else(|_| found.clone()));
    }
    // Something exists but is not a file: say what it is.
    for path in &tried {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, socket or pipe)"
        };
        let at = if path.as_os_str() == raw {
            String::new()
        } else {
            format!(" (`{}`)", path.display())
        };
        return Err(format!(
            "BPF object `{raw}` is {what}{at}: give the path of the compiled `.bpf.o` file, \
             or of a raw BTF file"
        ));
    }
    Err(format!(
        "BPF object `{raw}` not found (looked at {}); build it first, and give the path \
         absolute, as `$OUT_DIR/...`, relative to the crate, or relative to this file",
        tried
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", ")
    ))
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

    #[test]
    fn directories_and_devices_are_named() {
        let err = resolve("/tmp", None).unwrap_err();
        assert!(err.contains("is a directory"), "{err}");
        let err = resolve("/dev/null", None).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        let err = resolve("/nonexistent/x.o", None).unwrap_err();
        assert!(err.contains("not found"), "{err}");
    }
}
