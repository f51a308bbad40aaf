//! Where the struct that records are decoded by comes from: a compiled BPF
//! object (`--object FILE --type NAME`, its BTF, else its DWARF), or the BTF
//! the kernel holds for the map and the programs that use it (`--type NAME`
//! alone).

use std::path::Path;

use ringview::inspect;
use ringview_btf::btf::Btf;
use ringview_btf::{Object, StructLayout};

use crate::failure::Failure;

/// `EM_BPF`, the ELF machine of BPF objects.
const EM_BPF: u16 = 247;

/// The layout of `type_name`, from `object` or from the kernel's BTF for
/// map `map_id`; `None` when no type is asked for (records shown as hex).
///
/// # Errors
///
/// When the object cannot be read or is not a BPF object, or the type is
/// in neither it nor the kernel's BTF.
pub fn layout(
    object: Option<&Path>,
    type_name: Option<&str>,
    map_id: u32,
) -> Result<Option<StructLayout>, Failure> {
    let Some(name) = type_name else {
        return Ok(None);
    };
    let layout = match object {
        Some(path) => from_object(path, name)?,
        None => from_kernel(map_id, name)?,
    };
    if layout.size == 0 {
        return Err(Failure::input(format!(
            "{} has no bytes to decode",
            layout.describe()
        )));
    }
    Ok(Some(layout))
}

fn from_object(path: &Path, name: &str) -> Result<StructLayout, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
    if !bytes.starts_with(b"\x7fELF") && !bytes.starts_with(&[0x9f, 0xeb]) {
        return Err(Failure::input(format!(
            "{} is not a BPF object (an ELF file from `clang -target bpf -g`) nor raw BTF",
            path.display()
        )));
    }
    // `e_machine`, at the same offset in ELF32 and ELF64 headers.
    let machine = bytes.get(18..20).map(|m| u16::from_le_bytes([m[0], m[1]]));
    if bytes.starts_with(b"\x7fELF") && machine != Some(EM_BPF) {
        return Err(Failure::input(format!(
            "{} is not a BPF object: an ELF file for machine {} rather than EM_BPF ({EM_BPF}); \
             pass the object `clang -target bpf -g` built",
            path.display(),
            machine.map_or_else(|| "?".to_owned(), |m| m.to_string())
        )));
    }
    Object::new(path.to_path_buf(), bytes)
        .struct_layout(name)
        .map_err(Failure::input)
}

/// Looks `name` up in the BTF of map `map_id` and of every program that
/// uses it.
fn from_kernel(map_id: u32, name: &str) -> Result<StructLayout, Failure> {
    let map = inspect::map_info(map_id)
        .map_err(|e| Failure::syscall(&format!("cannot open map id {map_id}"), &e))?;
    let mut btf_ids = vec![map.btf_id];
    for id in inspect::prog_ids() {
        let id = id.map_err(|e| Failure::syscall("cannot list the BPF programs", &e))?;
        // A program unloaded during the walk is simply not seen.
        if let Ok(prog) = inspect::prog_info(id) {
            // Each id once, in the order first seen.
            if prog.map_ids.contains(&map_id) && !btf_ids.contains(&prog.btf_id) {
                btf_ids.push(prog.btf_id);
            }
        }
    }
    btf_ids.retain(|&id| id != 0);
    let mut tried = Vec::new();
    for id in &btf_ids {
        let found = inspect::btf(*id)
            .map_err(|e| e.to_string())
            .and_then(|raw| Btf::parse(&raw).map_err(|e| e.to_string()))
            .and_then(|btf| btf.struct_layout(name).map_err(|e| e.to_string()));
        match found {
            Ok(layout) => return Ok(layout),
            Err(e) => tried.push(format!("BTF id {id}: {e}")),
        }
    }
    let why = if btf_ids.is_empty() {
        "neither it nor a program that uses it has BTF in the kernel".to_owned()
    } else {
        tried.join("; ")
    };
    Err(Failure::input(format!(
        "no struct `{name}` in the kernel's BTF for map id {map_id} ({why}): pass the compiled \
         object with `--object FILE`"
    )))
}
