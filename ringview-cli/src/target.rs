//! The `MAP` argument: a map id, a pinned path, or `name:NAME`.

use std::path::PathBuf;

use ringview::inspect::{self, MapInfo};

use crate::failure::Failure;

/// Which map the user named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Id(u32),
    Pinned(PathBuf),
}

/// Parses `MAP`, looking a `name:NAME` up among the host's maps.
///
/// # Errors
///
/// When `MAP` is none of the three forms, or no ring (or more than one)
/// has that name.
pub fn resolve(map: &str) -> Result<Target, Failure> {
    if let Some(name) = map.strip_prefix("name:") {
        return by_name(name).map(Target::Id);
    }
    if !map.is_empty() && map.bytes().all(|b| b.is_ascii_digit()) {
        return map
            .parse()
            .map(Target::Id)
            .map_err(|_| Failure::input(format!("map id {map} is out of range (ids are 32-bit)")));
    }
    if map.contains('/') {
        return Ok(Target::Pinned(PathBuf::from(map)));
    }
    Err(Failure::input(format!(
        "`{map}` names no map: pass a map id (`42`), a pinned path (`/sys/fs/bpf/events`) or \
         `name:NAME` (`ringview top` lists the rings)"
    )))
}

/// Every map on the host, with what the kernel says of it; maps freed
/// during the walk are left out.
pub fn all_maps() -> Result<Vec<MapInfo>, Failure> {
    let mut maps = Vec::new();
    for id in inspect::map_ids() {
        let id = id.map_err(|e| Failure::syscall("cannot list the BPF maps", &e))?;
        match inspect::map_info(id) {
            Ok(info) => maps.push(info),
            Err(e) if e.io_error.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(Failure::syscall(&format!("cannot open map id {id}"), &e)),
        }
    }
    Ok(maps)
}

/// The id of the one ring named `name`.
fn by_name(name: &str) -> Result<u32, Failure> {
    if name.is_empty() {
        return Err(Failure::input("`name:` needs a map name: `name:events`"));
    }
    let named: Vec<MapInfo> = all_maps()?.into_iter().filter(|m| m.name == name).collect();
    let rings: Vec<&MapInfo> = named.iter().filter(|m| m.is_ring()).collect();
    match (rings.as_slice(), named.as_slice()) {
        ([ring], _) => Ok(ring.id),
        ([], []) => Err(Failure::input(format!(
            "no map is named `{name}` (`ringview top` lists the ring buffers)"
        ))),
        ([], [other, ..]) => Err(Failure::input(format!(
            "map `{name}` (id {}) is a {}, not a ring buffer (BPF_MAP_TYPE_RINGBUF)",
            other.id,
            other.type_name()
        ))),
        (several, _) => {
            let ids: Vec<String> = several.iter().map(|m| m.id.to_string()).collect();
            Err(Failure::input(format!(
                "{} ring buffers are named `{name}`: ids {}; pass the id of one",
                several.len(),
                ids.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_paths_and_bad_forms() {
        assert_eq!(resolve("42").unwrap(), Target::Id(42));
        assert_eq!(
            resolve("/sys/fs/bpf/events").unwrap(),
            Target::Pinned("/sys/fs/bpf/events".into())
        );
        let err = resolve("events").unwrap_err();
        assert_eq!(err.code, 2);
        assert!(err.message.contains("name:NAME"), "{}", err.message);
        assert_eq!(resolve("99999999999").unwrap_err().code, 2);
        assert_eq!(resolve("name:").unwrap_err().code, 2);
    }
}
