//! Finding the BPF object and reading it once per compilation (the
//! parsing and lookups are `ringview-btf`'s).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use ringview_btf::Object;

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
    fn directories_and_devices_are_named() {
        let err = resolve("/tmp", None).unwrap_err();
        assert!(err.contains("is a directory"), "{err}");
        let err = resolve("/dev/null", None).unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        let err = resolve("/nonexistent/x.o", None).unwrap_err();
        assert!(err.contains("not found"), "{err}");
    }
}
