//! Check: matches the Rust fields to the C members and returns the plan of
//! checks to emit. Everything known at expansion time is decided here (and
//! reported as errors); what needs the Rust layout becomes a [`Check`] that
//! the compiler evaluates.

use std::collections::HashSet;

use crate::attrs::Errors;
use crate::layout::{CompositeKind, Member, Shape, StructLayout};
use crate::parse::{RustField, RustKind, RustStruct};

/// A check the compiler evaluates, on the Rust field at index `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Check {
    /// `size_of::<Self>() == size`.
    Size { size: u32, message: String },
    /// The offset of a top-level field. Offsets are checked together, so a
    /// run of fields shifted by one mistake reports once.
    Offset {
        field: usize,
        c_offset: u32,
        /// `` `__u32 ppid` is at byte offset 4 in `struct exec_event` ``
        c_says: String,
    },
    /// `size_of` the field's type.
    FieldSize {
        field: usize,
        size: u32,
        message: String,
    },
    /// `size_of` the innermost array element, `dims` dimensions in.
    ElemSize {
        field: usize,
        dims: usize,
        size: u32,
        message: String,
    },
    /// A member of a nested struct, reached from the field by `path` (C
    /// names, `.` separated, `[0]` into arrays).
    Nested {
        field: usize,
        /// `offset_of!`-able path from the field's type (no arrays), with the
        /// offset C gives it, when the offset can be checked.
        offset: Option<(String, u32)>,
        /// Whether `offset` is relative to the innermost element type of
        /// the field (an array of structs) rather than to `Self`.
        in_elem: bool,
        path: String,
        size: u32,
        describe: String,
    },
    /// The offset of a member inside an element of an array of structs
    /// below the top level, which has no Rust type to name: the distance
    /// from the element, reached from the field by `anchor` (`.items[0]`),
    /// to the member, reached by `path` (`.items[0].b`).
    ElemOffset {
        field: usize,
        anchor: String,
        path: String,
        c_offset: u32,
        describe: String,
    },
    /// Whether the field holds floats or integers, when the macro cannot see
    /// its type (`check_layout!`): the compiler tells them apart. `c_float`
    /// is what C holds; byte-order wrappers and other types pass.
    Kind {
        field: usize,
        c_float: bool,
        message: String,
    },
    /// `#[ring_event(nested)]`: the field's type must have a member table
    /// (derive `RingEvent`).
    NestedRoot { field: usize, message: String },
    /// One C member, or anonymous union, of the C type reached from a
    /// `nested` field through the C members `parents`: looked up by C name
    /// in the member tables of the Rust types, level by level.
    NestedMember {
        field: usize,
        parents: Vec<String>,
        /// Byte offset in the C type reached.
        offset: u32,
        /// The bits padding must cover when no arm is a field.
        start_bits: u64,
        end_bits: u64,
        /// The member, or the named arms of the anonymous union; none for
        /// a bitfield, which only padding can stand for.
        arms: Vec<NestedArm>,
        /// `` member `__u32 x` (bytes 0..4) of `struct point` (`seg.from` in
        /// `struct nested_event`) ``, or the anonymous union or bitfield
        describe: String,
    },
    /// Every field of the table reached through `parents` must stand for
    /// one of `c_names`, the members of `c_type` (`` `struct point` (`seg.from`
    /// in `struct nested_event`) ``).
    NestedStrays {
        field: usize,
        parents: Vec<String>,
        c_names: Vec<String>,
        c_type: String,
    },
    /// C bits `start_bits..end_bits` must lie in one of the `paddings`.
    Covered {
        start_bits: u64,
        end_bits: u64,
        paddings: Vec<usize>,
        message: String,
    },
}

/// A C member a [`Check::NestedMember`] looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NestedArm {
    pub(crate) name: String,
    pub(crate) size: u32,
    pub(crate) elem_size: u32,
    /// What its innermost element holds; `None` for C types without a Rust
    /// counterpart.
    pub(crate) kind: Option<NestedKind>,
    /// `` `__u32 x` of `struct point` (`seg.from` in `struct nested_event`) ``,
    /// for messages.
    pub(crate) describe: String,
}

/// The kinds of `ringview::__private::Kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NestedKind {
    Int,
    Float,
    Composite,
}

/// The plan for one Rust type against one C layout.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) checks: Vec<Check>,
}

/// A named C member reachable by name from the record: direct, or inside
/// anonymous structs and unions.
struct Slot<'c> {
    member: &'c Member,
    /// Bit offset of the struct that holds it.
    base_bits: u32,
    /// The anonymous unions it is in, outermost first: (group, arm).
    groups: Vec<(usize, usize)>,
}

/// An anonymous union (or the record, when it is a union).
struct Group {
    start_bits: u64,
    size: u32,
    type_name: String,
    /// Each arm's size.
    arms: Vec<u32>,
}

struct Namespace<'c> {
    slots: Vec<Slot<'c>>,
    groups: Vec<Group>,
}

impl<'c> Namespace<'c> {
    fn walk(&mut self, members: &'c [Member], base_bits: u32, groups: &[(usize, usize)]) {
        for member in members {
            let bits = base_bits.saturating_add(member.bit_offset);
            match member.anonymous() {
                Some(inner) if inner.kind == CompositeKind::Union => {
                    let group = self.groups.len();
                    self.groups.push(Group {
                        start_bits: u64::from(bits),
                        size: member.size,
                        type_name: member.type_name.clone(),
                        arms: inner.members.iter().map(|m| m.size).collect(),
                    });
                    for (arm, m) in inner.members.iter().enumerate() {
                        let mut chain = groups.to_vec();
                        chain.push((group, arm));
                        self.walk(std::slice::from_ref(m), bits, &chain);
                    }
                }
                Some(inner) => self.walk(&inner.members, bits, groups),
                None => self.slots.push(Slot {
                    member,
                    base_bits,
                    groups: groups.to_vec(),
                }),
            }
        }
    }
}

/// Matches `rust` against `layout` of `file`.
pub(crate) fn plan(
    rust: &RustStruct<'_>,
    layout: &StructLayout,
    file: &str,
    errors: &mut Errors,
) -> Plan {
    let ident = rust.ident;
    let c_desc = layout.describe();
    let mut plan = Plan::default();
    plan.checks.push(Check::Size {
        size: layout.size,
        message: format!(
            "size of `{ident}` differs: `{c_desc}` is {} bytes in `{file}`",
            layout.size
        ),
    });
    if rust.fields.iter().any(|f| f.ident.is_none()) {
        errors.at(
            ident.span(),
            "a struct checked against BTF needs named fields, matched to C members by name",
        );
        return plan;
    }

    let mut ns = Namespace {
        slots: Vec::new(),
        groups: Vec::new(),
    };
    if layout.kind == CompositeKind::Union {
        ns.groups.push(Group {
            start_bits: 0,
            size: layout.size,
            type_name: c_desc.clone(),
            arms: layout.members.iter().map(|m| m.size).collect(),
        });
        for (arm, m) in layout.members.iter().enumerate() {
            ns.walk(std::slice::from_ref(m), 0, &[(0, arm)]);
        }
    } else {
        ns.walk(&layout.members, 0, &[]);
    }

    let mut matched = HashSet::new();
    // A field that matched nothing was reported; the member it was meant
    // for would be reported again as missing (or not covered), so the
    // coverage of C members waits for that fix.
    let mut unmatched = false;
    // The arm each union group's matched fields are in.
    let mut chosen: Vec<Option<usize>> = vec![None; ns.groups.len()];
    for (index, field) in rust.fields.iter().enumerate() {
        if field.attrs.padding {
            continue;
        }
        let rust_name = field.rust_name();
        let c_name = field.c_name().unwrap_or_default();
        let Some((slot_index, slot)) = ns
            .slots
            .iter()
            .enumerate()
            .find(|(_, s)| !s.member.name.is_empty() && s.member.name == c_name)
        else {
            unmatched = true;
            let names: Vec<&str> = ns
                .slots
                .iter()
                .map(|s| s.member.name.as_str())
                .filter(|n| !n.is_empty())
                .collect();
            let members = if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            };
            let message = match &field.attrs.rename {
                Some(rename) => {
                    errors.at(
                        rename.span(),
                        format!(
                            "`{ident}.{rust_name}` is renamed to `{c_name}`, but `{c_desc}` has no \
                             member `{c_name}` (members: {members}); fix the name in \
                             `#[ring_event(rename = \"..\")]`"
                        ),
                    );
                    continue;
                }
                None => format!(
                    "`{ident}.{rust_name}` has no counterpart in `{c_desc}` (members: {members}); \
                     rename it with `#[ring_event(rename = \"c_name\")]` or mark it \
                     `#[ring_event(padding)]`"
                ),
            };
            errors.at(field.span, message);
            continue;
        };
        matched.insert(slot_index);
        for &(group, arm) in &slot.groups {
            match chosen[group] {
                // From C's names, every arm has its field (`check_layout!`).
                Some(other) if other != arm && !rust.is_union && !rust.from_c => errors.at(
                    field.span,
                    format!(
                        "`{ident}.{rust_name}` is in another arm of the `{}` than an earlier \
                         field: one Rust struct can stand for only one arm of a C union",
                        ns.groups[group].type_name
                    ),
                ),
                _ => chosen[group] = Some(arm),
            }
        }
        member_checks(
            &mut plan,
            index,
            field,
            slot.member,
            slot.base_bits,
            &c_desc,
            ident,
            errors,
        );
    }

    // Fields named after the C members: the members they do not name (in
    // anonymous structs and unions, bitfields) are bounded by their
    // neighbours' offsets and the total size, and checked no further.
    if rust.from_c {
        return plan;
    }
    let paddings: Vec<usize> = (0..rust.fields.len())
        .filter(|&i| rust.fields[i].attrs.padding)
        .collect();
    let mut require = |plan: &mut Plan, start: u64, end: u64, describe: String| {
        if unmatched {
            // Reported through the field that matched nothing.
        } else if paddings.is_empty() {
            errors.at(
                ident.span(),
                format!(
                    "{describe} of `{c_desc}` has no field in `{ident}`: add one, or cover it \
                     with a field marked `#[ring_event(padding)]`"
                ),
            );
        } else {
            plan.checks.push(Check::Covered {
                start_bits: start,
                end_bits: end,
                paddings: paddings.clone(),
                message: format!(
                    "{describe} of `{c_desc}` is not covered by a `#[ring_event(padding)]` field \
                     of `{ident}`"
                ),
            });
        }
    };
    // Unions no field matched: their whole bytes; matched arms smaller than
    // their union: the rest of it.
    let mut covered_groups = HashSet::new();
    for (group, g) in ns.groups.iter().enumerate() {
        let end = g.start_bits + u64::from(g.size) * 8;
        match chosen[group] {
            None if !rust.is_union => {
                covered_groups.insert(group);
                require(
                    &mut plan,
                    g.start_bits,
                    end,
                    format!(
                        "anonymous `{}` (bytes {}..{})",
                        g.type_name,
                        g.start_bits / 8,
                        end / 8
                    ),
                );
            }
            Some(arm) if g.arms[arm] < g.size && !rust.is_union => {
                let start = g.start_bits + u64::from(g.arms[arm]) * 8;
                require(
                    &mut plan,
                    start,
                    end,
                    format!(
                        "the bytes {}..{} of `{}` past the matched arm",
                        start / 8,
                        end / 8,
                        g.type_name
                    ),
                );
            }
            _ => {}
        }
    }
    for (index, slot) in ns.slots.iter().enumerate() {
        if matched.contains(&index) {
            continue;
        }
        // Arms of a union another arm of which stands for it are not missing;
        // unions covered whole are not either.
        let exempt = slot.groups.iter().any(|&(group, arm)| {
            covered_groups.contains(&group)
                || rust.is_union
                || chosen[group].is_some_and(|c| c != arm)
        });
        if exempt {
            continue;
        }
        let m = slot.member;
        let start = u64::from(slot.base_bits) + u64::from(m.bit_offset);
        let end = start + m.bitfield_size.map_or(u64::from(m.size) * 8, u64::from);
        require(&mut plan, start, end, m.describe(slot.base_bits));
    }
    plan
}

/// The checks of one matched field against its C member.
#[expect(clippy::too_many_arguments, reason = "one call site, all context")]
fn member_checks(
    plan: &mut Plan,
    index: usize,
    field: &RustField<'_>,
    member: &Member,
    base_bits: u32,
    c_desc: &str,
    ident: &syn::Ident,
    errors: &mut Errors,
) {
    let rust_name = field.rust_name();
    let c_member = format!("`{} {}`", member.type_name, member.name);
    if let Some(bits) = member.bitfield_size {
        errors.at(
            field.span,
            format!(
                "`{ident}.{rust_name}` maps onto the bitfield `{} {}:{bits}` of `{c_desc}`: \
                 bitfields have no Rust equivalent; cover their storage with an integer field \
                 marked `#[ring_event(padding)]` and extract the bits by hand",
                member.type_name, member.name
            ),
        );
        return;
    }
    let offset = (base_bits.saturating_add(member.bit_offset)) / 8;
    plan.checks.push(Check::Offset {
        field: index,
        c_offset: offset,
        c_says: format!("{c_member} is at byte offset {offset} in `{c_desc}`"),
    });
    plan.checks.push(Check::FieldSize {
        field: index,
        size: member.size,
        message: format!(
            "size of `{ident}.{rust_name}` differs: {c_member} is {} bytes in `{c_desc}`",
            member.size
        ),
    });
    // Element kinds, as far as the Rust syntax tells.
    let (c_elem, c_elem_size) = match &member.shape {
        Shape::Array {
            elem, elem_size, ..
        } => (&**elem, Some(*elem_size)),
        shape => (shape, None),
    };
    let kind_error = |what: &str| {
        format!(
            "`{ident}.{rust_name}` holds {what}, but {c_member} of `{c_desc}` does not: \
             the same bytes would mean a different number"
        )
    };
    match (c_elem, field.kind) {
        (Shape::Int, RustKind::Float) => errors.at(field.span, kind_error("floats")),
        (Shape::Float, RustKind::Int) => errors.at(field.span, kind_error("integers")),
        (Shape::Composite(_), RustKind::Int | RustKind::Float) => errors.at(
            field.span,
            format!(
                "`{ident}.{rust_name}` is plain numbers, but {c_member} of `{c_desc}` is a \
                 {}: use a `#[repr(C)]` type deriving RingEvent (checked member by member), or \
                 cover it with a `#[ring_event(padding)]` field",
                if matches!(c_elem, Shape::Composite(l) if l.kind == CompositeKind::Union) {
                    "union"
                } else {
                    "struct"
                }
            ),
        ),
        _ => {}
    }
    if field.ty.is_none() && matches!(c_elem, Shape::Int | Shape::Float) {
        let c_float = *c_elem == Shape::Float;
        plan.checks.push(Check::Kind {
            field: index,
            c_float,
            message: kind_error(if c_float { "integers" } else { "floats" }),
        });
    }
    if let Some(elem_size) = c_elem_size.filter(|_| field.is_array) {
        plan.checks.push(Check::ElemSize {
            field: index,
            dims: dims(&member.shape),
            size: elem_size,
            message: format!(
                "element size of `{ident}.{rust_name}` differs: the elements of {c_member} are \
                 {elem_size} bytes in `{c_desc}`"
            ),
        });
    }
    if let Some(span) = field.attrs.nested {
        let name = format!("{ident}.{rust_name}");
        match c_elem {
            Shape::Composite(nested) => {
                plan.checks.push(Check::NestedRoot {
                    field: index,
                    message: format!(
                        "`{name}` is marked `#[ring_event(nested)]`, but its type records no \
                         fields to check {c_member} of `{c_desc}` against: derive RingEvent on \
                         it (`ring_event!` and hand implementations record none)"
                    ),
                });
                let c_path = format!("{}{}", member.name, "[]".repeat(dims(&member.shape)));
                nested_plan(plan, index, nested, &[], &c_path, c_desc);
            }
            _ => errors.at(
                span,
                format!(
                    "`{name}` is marked `#[ring_event(nested)]`, but {c_member} of `{c_desc}` is \
                     not a struct or union (or an array of them)"
                ),
            ),
        }
        return;
    }
    // Nested structs, all the way down.
    if let Shape::Composite(nested) = c_elem {
        if field.kind == RustKind::Opaque {
            let in_elem = c_elem_size.is_some();
            let path = if in_elem {
                format!("{}{}", "[0]".repeat(dims(&member.shape)), "")
            } else {
                String::new()
            };
            let name = format!("{ident}.{rust_name}");
            nested_checks(
                plan,
                index,
                nested,
                &path,
                Some(String::new()),
                in_elem,
                &name,
                c_desc,
                0,
                None,
            );
        }
    }
}

fn dims(shape: &Shape) -> usize {
    match shape {
        Shape::Array { dims, .. } => dims.len(),
        _ => 0,
    }
}

/// A C member, or an anonymous union, of a type a `nested` field stands for.
struct NestedGroup<'c> {
    offset: u32,
    start_bits: u64,
    end_bits: u64,
    arms: Vec<&'c Member>,
    /// For a group with no arms: what padding must cover.
    describe: Option<String>,
}

/// The groups of `members` at `base_bits`: anonymous structs flattened,
/// each anonymous union one group of its named arms.
fn nested_groups<'c>(members: &'c [Member], base_bits: u32, out: &mut Vec<NestedGroup<'c>>) {
    for m in members {
        let bits = base_bits.saturating_add(m.bit_offset);
        let start_bits = u64::from(bits);
        let end_bits = start_bits + m.bitfield_size.map_or(u64::from(m.size) * 8, u64::from);
        match m.anonymous() {
            Some(inner) if inner.kind == CompositeKind::Struct => {
                nested_groups(&inner.members, bits, out);
            }
            Some(inner) => out.push(NestedGroup {
                offset: bits / 8,
                start_bits,
                end_bits,
                arms: inner
                    .members
                    .iter()
                    .filter(|a| !a.name.is_empty() && a.bitfield_size.is_none())
                    .collect(),
                describe: Some(m.describe(base_bits)),
            }),
            None if m.name.is_empty() || m.bitfield_size.is_some() => out.push(NestedGroup {
                offset: bits / 8,
                start_bits,
                end_bits,
                arms: Vec::new(),
                describe: Some(m.describe(base_bits)),
            }),
            None => out.push(NestedGroup {
                offset: bits / 8,
                start_bits,
                end_bits,
                arms: vec![m],
                describe: None,
            }),
        }
    }
}

fn nested_kind(shape: &Shape) -> Option<NestedKind> {
    match shape {
        Shape::Int => Some(NestedKind::Int),
        Shape::Float => Some(NestedKind::Float),
        Shape::Composite(_) => Some(NestedKind::Composite),
        Shape::Array { elem, .. } => nested_kind(elem),
        Shape::Other => None,
    }
}

/// The checks of a `nested` field against `layout`, the C type reached
/// through the C members `parents` (`c_path` spells them for messages):
/// each member looked up in the Rust types' tables, then the members of its
/// structs, all the way down.
fn nested_plan(
    plan: &mut Plan,
    field: usize,
    layout: &StructLayout,
    parents: &[String],
    c_path: &str,
    c_desc: &str,
) {
    let mut groups = Vec::new();
    if layout.kind == CompositeKind::Union {
        groups.push(NestedGroup {
            offset: 0,
            start_bits: 0,
            end_bits: u64::from(layout.size) * 8,
            arms: layout
                .members
                .iter()
                .filter(|a| !a.name.is_empty() && a.bitfield_size.is_none())
                .collect(),
            describe: Some(format!(
                "`{}` (bytes 0..{})",
                layout.describe(),
                layout.size
            )),
        });
    } else {
        nested_groups(&layout.members, 0, &mut groups);
    }
    let c_type = layout.describe();
    let within = |what: &str| format!("{what} of `{c_type}` (`{c_path}` in `{c_desc}`)");
    let mut c_names = Vec::new();
    for group in &groups {
        let arms: Vec<NestedArm> = group
            .arms
            .iter()
            .map(|m| {
                let c_member = format!("{} {}", m.type_name, m.name);
                NestedArm {
                    name: m.name.clone(),
                    size: m.size,
                    elem_size: match &m.shape {
                        Shape::Array { elem_size, .. } => *elem_size,
                        _ => m.size,
                    },
                    kind: nested_kind(&m.shape),
                    describe: within(&format!("`{c_member}`")),
                }
            })
            .collect();
        c_names.extend(arms.iter().map(|a| a.name.clone()));
        let describe = match (&group.describe, group.arms.as_slice()) {
            (Some(d), _) => within(d),
            (None, [m]) => within(&m.describe(0)),
            (None, _) => within("member"),
        };
        plan.checks.push(Check::NestedMember {
            field,
            parents: parents.to_vec(),
            offset: group.offset,
            start_bits: group.start_bits,
            end_bits: group.end_bits,
            arms,
            describe,
        });
    }
    plan.checks.push(Check::NestedStrays {
        field,
        parents: parents.to_vec(),
        c_names,
        c_type: format!("`{c_type}` (`{c_path}` in `{c_desc}`)"),
    });
    for group in &groups {
        for m in &group.arms {
            let (inner, dims) = match &m.shape {
                Shape::Composite(inner) => (inner, 0),
                Shape::Array { elem, dims, .. } => match &**elem {
                    Shape::Composite(inner) => (inner, dims.len()),
                    _ => continue,
                },
                _ => continue,
            };
            let mut path = parents.to_vec();
            path.push(m.name.clone());
            let c_path = format!("{c_path}.{}{}", m.name, "[]".repeat(dims));
            nested_plan(plan, field, inner, &path, &c_path, c_desc);
        }
    }
}

/// Checks each named member of the nested `layout`: its size, and its offset
/// (by `offset_of!` while the path has no array, else from the array element
/// at `anchor`), recursing into structs and arrays of structs.
#[expect(clippy::too_many_arguments, reason = "recursion state")]
fn nested_checks(
    plan: &mut Plan,
    field: usize,
    layout: &StructLayout,
    path: &str,
    offset_path: Option<String>,
    in_elem: bool,
    rust_name: &str,
    c_desc: &str,
    base: u32,
    anchor: Option<&str>,
) {
    // Anonymous unions nested in a struct: which arm the Rust type holds
    // is not known here, so only the enclosing size is checked.
    let mut members: Vec<(&Member, u32)> = Vec::new();
    fn flatten<'m>(out: &mut Vec<(&'m Member, u32)>, members: &'m [Member], base: u32) {
        for m in members {
            match m.anonymous() {
                Some(inner) if inner.kind == CompositeKind::Struct => {
                    flatten(out, &inner.members, base + m.byte_offset)
                }
                Some(_) => {}
                None => out.push((m, base)),
            }
        }
    }
    flatten(&mut members, &layout.members, 0);
    for (m, inner_base) in members {
        if m.name.is_empty() || m.bitfield_size.is_some() {
            continue;
        }
        let offset = base + inner_base + m.byte_offset;
        let sep = |p: &str| {
            if p.is_empty() {
                m.name.clone()
            } else {
                format!("{p}.{}", m.name)
            }
        };
        let member_path = format!("{path}.{}", m.name);
        let this_offset = offset_path.as_deref().map(sep);
        let describe = format!(
            "`{rust_name}{member_path}`: `{} {}` is {} bytes at byte offset {} of `{}` in `{c_desc}`",
            m.type_name,
            m.name,
            m.size,
            inner_base + m.byte_offset,
            layout.name
        );
        plan.checks.push(Check::Nested {
            field,
            offset: this_offset.clone().map(|p| (p, offset)),
            in_elem,
            path: member_path.clone(),
            size: m.size,
            describe: describe.clone(),
        });
        if let Some(anchor) = anchor {
            plan.checks.push(Check::ElemOffset {
                field,
                anchor: anchor.to_owned(),
                path: member_path.clone(),
                c_offset: offset,
                describe,
            });
        }
        match &m.shape {
            Shape::Composite(inner) if inner.kind == CompositeKind::Struct => {
                nested_checks(
                    plan,
                    field,
                    inner,
                    &member_path,
                    this_offset,
                    in_elem,
                    rust_name,
                    c_desc,
                    offset,
                    anchor,
                );
            }
            Shape::Array { elem, dims, .. } => {
                if let Shape::Composite(inner) = &**elem {
                    if inner.kind == CompositeKind::Struct {
                        // No Rust type to take `offset_of!` in: each member's
                        // offset is measured from the element it is in.
                        let p = format!("{member_path}{}", "[0]".repeat(dims.len()));
                        nested_checks(
                            plan,
                            field,
                            inner,
                            &p,
                            None,
                            in_elem,
                            rust_name,
                            c_desc,
                            0,
                            Some(&p),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use syn::parse_quote;

    use super::*;
    use crate::object::Object;
    use crate::parse;

    /// Built from `tests/btf/tools.bpf.c` by `build-bpf.sh`.
    const TOOLS: &[u8] = include_bytes!("../tests/btf/tools.bpf.o");

    pub(crate) fn tools_layout(name: &str) -> StructLayout {
        let object = Object::new(PathBuf::from("tools.bpf.o"), TOOLS.to_vec());
        object
            .struct_layout(name)
            .expect("struct is in tools.bpf.o")
    }

    /// The plan for `input` against `name` in tools.bpf.o, and the
    /// messages of the expansion-time errors.
    fn plan_of(input: &syn::DeriveInput, name: &str) -> (Plan, Vec<String>) {
        let mut errors = Errors::default();
        let rust = parse::derive_input(input, &mut errors);
        let plan = plan(&rust, &tools_layout(name), "tools.bpf.o", &mut errors);
        let messages = match errors.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        (plan, messages)
    }

    fn offsets(plan: &Plan) -> Vec<(usize, u32)> {
        let offsets = plan.checks.iter().filter_map(|c| match c {
            Check::Offset {
                field, c_offset, ..
            } => Some((*field, *c_offset)),
            _ => None,
        });
        offsets.collect()
    }

    #[test]
    fn one_union_arm_stands_for_the_union_and_padding_covers_the_rest() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct ConnEvent {
                pid: u32,
                family: u16,
                port: u16,
                saddr_v6: [u8; 16],
                #[ring_event(rename = "daddr_v4")]
                daddr: u32,
                #[ring_event(padding)]
                _daddr_rest: [u8; 12],
            }
        };
        let (plan, errors) = plan_of(&input, "conn_event");
        assert_eq!(errors, Vec::<String>::new());
        assert!(matches!(plan.checks[0], Check::Size { size: 40, .. }));
        assert_eq!(offsets(&plan), [(0, 0), (1, 4), (2, 6), (3, 8), (4, 24)]);
        // saddr_v6 fills its union; only daddr's rest needs the padding.
        let covered: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::Covered {
                    start_bits,
                    end_bits,
                    paddings,
                    ..
                } => Some((*start_bits / 8, *end_bits / 8, paddings.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(covered, [(28, 40, vec![5])]);
        assert!(plan.checks.contains(&Check::ElemSize {
            field: 3,
            dims: 1,
            size: 1,
            message: "element size of `ConnEvent.saddr_v6` differs: the elements of \
                      `__u8[16] saddr_v6` are 1 bytes in `struct conn_event`"
                .to_owned(),
        }));
    }

    #[test]
    fn nested_structs_are_planned_member_by_member() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct NestedEvent {
                kind: u8,
                #[ring_event(padding)]
                _pad: [u8; 3],
                seg: Segment,
                pts: [Point; 2],
                ratio: f32,
                count: u32,
                name: [u8; 16],
                daddr: u32,
            }
        };
        let (plan, errors) = plan_of(&input, "nested_event");
        assert_eq!(errors, Vec::<String>::new());
        let nested: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::Nested {
                    field,
                    offset,
                    in_elem,
                    path,
                    ..
                } => Some((*field, path.as_str(), offset.clone(), *in_elem)),
                _ => None,
            })
            .collect();
        let at = |p: &str, o| Some((p.to_owned(), o));
        assert_eq!(
            nested,
            [
                (2, ".from", at("from", 0), false),
                (2, ".from.x", at("from.x", 0), false),
                (2, ".from.y", at("from.y", 4), false),
                (2, ".to", at("to", 8), false),
                (2, ".to.x", at("to.x", 8), false),
                (2, ".to.y", at("to.y", 12), false),
                (3, "[0].x", at("x", 0), true),
                (3, "[0].y", at("y", 4), true),
            ]
        );
    }

    #[test]
    fn arrays_of_structs_below_the_top_level_are_planned_member_by_member() {
        const NESTED: &[u8] = include_bytes!("../tests/btf/nested.bpf.o");
        let object = Object::new(PathBuf::from("nested.bpf.o"), NESTED.to_vec());
        let layout = object.struct_layout("deep_event").expect("in nested.bpf.o");
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct DeepEvent {
                pid: u32,
                out: Outer,
                outs: [Outer; 2],
            }
        };
        let mut errors = Errors::default();
        let rust = parse::derive_input(&input, &mut errors);
        let plan = plan(&rust, &layout, "nested.bpf.o", &mut errors);
        assert!(errors.finish().is_ok());
        let elem_offsets: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::ElemOffset {
                    field,
                    anchor,
                    path,
                    c_offset,
                    ..
                } => Some((*field, anchor.as_str(), path.as_str(), *c_offset)),
                _ => None,
            })
            .collect();
        assert_eq!(
            elem_offsets,
            [
                (1, ".items[0]", ".items[0].a", 0),
                (1, ".items[0]", ".items[0].b", 4),
                (2, "[0].items[0]", "[0].items[0].a", 0),
                (2, "[0].items[0]", "[0].items[0].b", 4),
            ]
        );
    }

    fn nested_layout(name: &str) -> StructLayout {
        const NESTED: &[u8] = include_bytes!("../tests/btf/nested.bpf.o");
        let object = Object::new(PathBuf::from("nested.bpf.o"), NESTED.to_vec());
        object.struct_layout(name).expect("in nested.bpf.o")
    }

    #[test]
    fn nested_fields_are_planned_through_the_member_tables() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct PeerEvent {
                pid: u32,
                #[ring_event(nested)]
                local: Endpoint,
                #[ring_event(nested)]
                peers: [Addr; 2],
                ts: u64,
            }
        };
        let mut errors = Errors::default();
        let rust = parse::derive_input(&input, &mut errors);
        let plan = plan(
            &rust,
            &nested_layout("peer_event"),
            "nested.bpf.o",
            &mut errors,
        );
        assert!(errors.finish().is_ok());
        // No checks by C member name for nested fields.
        assert!(!plan
            .checks
            .iter()
            .any(|c| matches!(c, Check::Nested { .. })));
        let roots: Vec<usize> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::NestedRoot { field, .. } => Some(*field),
                _ => None,
            })
            .collect();
        assert_eq!(roots, [1, 2]);
        // Each member of each level, by the C names leading to it: the
        // anonymous union is one group of its arms, the bitfields groups
        // of none (only padding can stand for them).
        let members: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::NestedMember {
                    field,
                    parents,
                    offset,
                    start_bits,
                    end_bits,
                    arms,
                    ..
                } => Some((
                    *field,
                    parents.join("."),
                    arms.iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join("|"),
                    *offset,
                    (*start_bits, *end_bits),
                )),
                _ => None,
            })
            .collect();
        let addr = |field, parents: &str| {
            vec![
                (field, parents.to_owned(), "family".to_owned(), 0, (0, 16)),
                (field, parents.to_owned(), "port".to_owned(), 2, (16, 32)),
                (field, parents.to_owned(), String::new(), 4, (32, 36)),
                (field, parents.to_owned(), String::new(), 4, (36, 40)),
                (field, parents.to_owned(), "v4|v6".to_owned(), 8, (64, 192)),
                (
                    field,
                    parents.to_owned(),
                    "weight".to_owned(),
                    24,
                    (192, 224),
                ),
            ]
        };
        let mut expected = vec![
            (1, String::new(), "id".to_owned(), 0, (0, 32)),
            (1, String::new(), "where".to_owned(), 4, (32, 256)),
        ];
        expected.extend(addr(1, "where"));
        expected.extend(addr(2, ""));
        assert_eq!(members, expected);
        let arm = plan
            .checks
            .iter()
            .find_map(|c| match c {
                Check::NestedMember { field: 2, arms, .. } if arms.len() == 2 => {
                    Some(arms[1].clone())
                }
                _ => None,
            })
            .expect("the union's group");
        assert_eq!(
            (arm.size, arm.elem_size, arm.kind),
            (16, 1, Some(NestedKind::Int))
        );
        assert_eq!(
            arm.describe,
            "`__u8[16] v6` of `struct addr` (`peers[]` in `struct peer_event`)"
        );
        let strays: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::NestedStrays {
                    field,
                    parents,
                    c_names,
                    ..
                } => Some((*field, parents.join("."), c_names.join(","))),
                _ => None,
            })
            .collect();
        let names = "family,port,v4,v6,weight".to_owned();
        assert_eq!(
            strays,
            [
                (1, String::new(), "id,where".to_owned()),
                (1, "where".to_owned(), names.clone()),
                (2, String::new(), names),
            ]
        );
    }

    #[test]
    fn nested_needs_a_struct_in_c() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct Point {
                #[ring_event(nested)]
                x: u32,
                y: u32,
            }
        };
        let (_, errors) = plan_of(&input, "point");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("is not a struct or union"), "{errors:?}");
    }

    #[test]
    fn a_bad_rename_is_one_error() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct Point {
                #[ring_event(rename = "xx")]
                x: u32,
                y: u32,
            }
        };
        let (_, errors) = plan_of(&input, "point");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("has no member `xx`"), "{errors:?}");
        // With a padding field, the member is not reported as uncovered
        // either.
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct Point {
                #[ring_event(rename = "xx")]
                x: u32,
                #[ring_event(padding)]
                y: u32,
            }
        };
        let (plan, errors) = plan_of(&input, "point");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!plan
            .checks
            .iter()
            .any(|c| matches!(c, Check::Covered { .. })));
    }

    #[test]
    fn float_for_integer_is_refused_at_expansion() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct Point {
                x: f32,
                y: i32,
            }
        };
        let (_, errors) = plan_of(&input, "point");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("`Point.x` holds floats"),
            "{errors:?}"
        );
    }
}
