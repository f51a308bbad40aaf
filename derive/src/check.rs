//! Check: matches the Rust fields to the C members and returns the plan of
//! checks to emit. Everything known at expansion time is decided here (and
//! reported as errors); what needs the Rust layout becomes a [`Check`] that
//! the compiler evaluates.

use std::collections::HashSet;
use std::ops::Range;

use crate::attrs::Errors;
use crate::parse::{field_ident, RustField, RustKind, RustStruct};
use crate::suggest::{bytes, c_decl, rust_type};
use ringview_btf::layout::{CompositeKind, Member, Shape, StructLayout};

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
    /// Whether the field's type (or array element type) holds numbers of
    /// C's kind, when its syntax does not tell (a struct, a union, an
    /// alias): `c_float` is what C holds. The message is completed with
    /// what the Rust type holds.
    ElemKind {
        field: usize,
        c_float: bool,
        /// `` `ConnEvent.saddr` holds ``
        head: String,
        /// `` , but `__u8 saddr_v6[16]` of `struct conn_event` holds integers: ... ``
        tail: String,
    },
    /// `#[ring_event(nested)]`: the field's type must have a member table
    /// (derive `RingEvent`), and be a struct when C's is (a union stands
    /// only for a C union).
    NestedRoot {
        field: usize,
        message: String,
        /// The message when C's is a struct and the Rust type a union.
        union_for_struct: Option<String>,
    },
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
    /// One arm of the C union reached from a `nested` field through the C
    /// members `parents`, when a Rust union stands for it: the arm with its
    /// C name must match it, or the union must `omit` it.
    UnionArm {
        field: usize,
        parents: Vec<String>,
        arm: NestedArm,
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
    /// The Rust type to write for it, when it has one (`u32`).
    pub(crate) rust_type: Option<String>,
}

/// The kinds of `ringview::__private::Kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NestedKind {
    Int,
    Float,
    Composite,
    Union,
}

/// The plan for one Rust type against one C layout.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) checks: Vec<Check>,
    /// Mismatches found at expansion that leave the other checks sound (an
    /// element kind, a bitfield): reported with the checks, not instead of
    /// them.
    pub(crate) errors: Vec<syn::Error>,
}

impl Plan {
    fn error(&mut self, span: proc_macro2::Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }
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
struct Group<'c> {
    start_bits: u64,
    size: u32,
    type_name: String,
    /// Each arm.
    arms: Vec<&'c Member>,
}

/// An anonymous struct or union member, which a `nested` field named after
/// no C member can stand for.
struct Anon<'c> {
    member: &'c Member,
    bits: u32,
    /// The slots of the named members inside it.
    slots: Range<usize>,
    /// The unions it is in, as [`Slot::groups`].
    groups: Vec<(usize, usize)>,
    /// The group it is, when it is a union.
    group: Option<usize>,
}

struct Namespace<'c> {
    slots: Vec<Slot<'c>>,
    groups: Vec<Group<'c>>,
    /// Outer before inner, in C order.
    anons: Vec<Anon<'c>>,
}

impl<'c> Namespace<'c> {
    fn walk(&mut self, members: &'c [Member], base_bits: u32, groups: &[(usize, usize)]) {
        for member in members {
            let bits = base_bits.saturating_add(member.bit_offset);
            let Some(inner) = member.anonymous() else {
                self.slots.push(Slot {
                    member,
                    base_bits,
                    groups: groups.to_vec(),
                });
                continue;
            };
            let anon = self.anons.len();
            let first = self.slots.len();
            self.anons.push(Anon {
                member,
                bits,
                slots: first..first,
                groups: groups.to_vec(),
                group: None,
            });
            if inner.kind == CompositeKind::Union {
                let group = self.groups.len();
                self.anons[anon].group = Some(group);
                self.groups.push(Group {
                    start_bits: u64::from(bits),
                    size: member.size,
                    type_name: member.type_name.clone(),
                    arms: inner.members.iter().collect(),
                });
                for (arm, m) in inner.members.iter().enumerate() {
                    let mut chain = groups.to_vec();
                    chain.push((group, arm));
                    self.walk(std::slice::from_ref(m), bits, &chain);
                }
            } else {
                self.walk(&inner.members, bits, groups);
            }
            self.anons[anon].slots = first..self.slots.len();
        }
    }

    /// `the anonymous `union` (bytes 8..24)`.
    fn describe_anon(anon: &Anon<'_>) -> String {
        let start = anon.bits / 8;
        format!(
            "the anonymous `{}` (bytes {start}..{})",
            anon.member.type_name,
            start.saturating_add(anon.member.size)
        )
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
            "size of `{ident}` differs: `{c_desc}` is {} in `{file}`",
            bytes(layout.size)
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
        anons: Vec::new(),
    };
    if layout.kind == CompositeKind::Union {
        ns.groups.push(Group {
            start_bits: 0,
            size: layout.size,
            type_name: c_desc.clone(),
            arms: layout.members.iter().collect(),
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
    // Union groups a field stands for whole (an anonymous union).
    let mut whole = HashSet::new();
    // `nested` fields named after no C member: they stand for anonymous
    // members, once the named fields have claimed theirs.
    let mut for_anons = Vec::new();
    let choose = |chosen: &mut Vec<Option<usize>>,
                  errors: &mut Errors,
                  field: &RustField<'_>,
                  groups: &[(usize, usize)]| {
        for &(group, arm) in groups {
            match chosen[group] {
                // From C's names, every arm has its field (`check_layout!`).
                Some(other) if other != arm && !rust.is_union && !rust.from_c => errors.at(
                    field.span,
                    format!(
                        "`{ident}.{}` is in another arm of the `{}` than an earlier field: one \
                         Rust struct can stand for only one arm of a C union; stand for the \
                         union with a `#[repr(C)]` union of its arms, marked \
                         `#[ring_event(nested)]`",
                        field.rust_name(),
                        ns.groups[group].type_name
                    ),
                ),
                _ => chosen[group] = Some(arm),
            }
        }
    };
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
            if field.attrs.nested.is_some() && field.attrs.rename.is_none() && !rust.from_c {
                for_anons.push(index);
                continue;
            }
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
            let anon_hint = match ns.anons.first() {
                Some(anon) if field.attrs.rename.is_none() => format!(
                    "; to stand for {}, make it a `#[repr(C)]` {} deriving RingEvent and mark \
                     it `#[ring_event(nested)]`",
                    Namespace::describe_anon(anon),
                    anon.member
                        .anonymous()
                        .map_or(CompositeKind::Struct, |l| l.kind)
                ),
                _ => String::new(),
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
                     `#[ring_event(padding)]`{anon_hint}"
                ),
            };
            errors.at(field.span, message);
            continue;
        };
        matched.insert(slot_index);
        choose(&mut chosen, errors, field, &slot.groups);
        // A field on a bitfield was reported; the bits around it would be
        // reported again as not covered.
        unmatched |= !member_checks(
            &mut plan,
            index,
            field,
            slot.member,
            slot.base_bits,
            &c_desc,
            ident,
        );
    }

    // The anonymous members no named field is in, in C order, for the
    // `nested` fields named after none.
    let mut taken: Vec<Range<usize>> = Vec::new();
    let available: Vec<&Anon<'_>> = ns
        .anons
        .iter()
        .filter(|a| !matched.iter().any(|s| a.slots.contains(s)))
        .collect();
    let mut anons = available.into_iter();
    for index in for_anons {
        let field = &rust.fields[index];
        let rust_name = field.rust_name();
        let next = anons.find(|a| {
            !taken
                .iter()
                .any(|t| t.start <= a.slots.start && a.slots.end <= t.end && !a.slots.is_empty())
        });
        let Some(anon) = next else {
            unmatched = true;
            errors.at(
                field.span,
                format!(
                    "`{ident}.{rust_name}` is marked `#[ring_event(nested)]` and named after no \
                     member of `{c_desc}`, so it stands for an anonymous struct or union, but \
                     none is left for it; name the C member it stands for with \
                     `#[ring_event(rename = \"c_name\")]`"
                ),
            );
            continue;
        };
        taken.push(anon.slots.clone());
        matched.extend(anon.slots.clone());
        choose(&mut chosen, errors, field, &anon.groups);
        if let Some(group) = anon.group {
            whole.insert(group);
        }
        anon_checks(&mut plan, index, field, anon, &c_desc, ident);
    }

    if rust.is_union && !rust.from_c {
        union_arms(rust, layout, &c_desc, errors);
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
    let mut require = |plan: &mut Plan, start: u64, end: u64, describe: String, fix: String| {
        if unmatched {
            // Reported through the field that matched nothing.
        } else if paddings.is_empty() {
            errors.at(
                ident.span(),
                format!(
                    "`{ident}` has no field for {describe} of `{c_desc}`: {fix}cover the bytes \
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
    let mut covered_groups = whole.clone();
    for (group, g) in ns.groups.iter().enumerate() {
        let end = g.start_bits + u64::from(g.size) * 8;
        let largest = g
            .arms
            .iter()
            .find(|m| m.size == g.size && !m.name.is_empty() && m.bitfield_size.is_none());
        let write_largest = |pre: &str| match largest.and_then(|m| rust_type(m).map(|t| (m, t))) {
            Some((m, ty)) => format!(
                "{pre}write its {}-byte arm, `{}: {ty}`, or ",
                m.size,
                field_ident(&m.name, ident.span())
                    .map_or_else(|| m.name.clone(), |i| i.to_string())
            ),
            None => String::new(),
        };
        let stand_for = "stand for the whole union with a `#[repr(C)]` union of its arms marked \
                         `#[ring_event(nested)]`, or ";
        match chosen[group] {
            _ if whole.contains(&group) => {}
            None if !rust.is_union => {
                covered_groups.insert(group);
                require(
                    &mut plan,
                    g.start_bits,
                    end,
                    format!(
                        "the anonymous `{}` (bytes {}..{})",
                        g.type_name,
                        g.start_bits / 8,
                        end / 8
                    ),
                    format!("{}{stand_for}", write_largest("")),
                );
            }
            Some(arm) if g.arms[arm].size < g.size && !rust.is_union => {
                let start = g.start_bits + u64::from(g.arms[arm].size) * 8;
                let arm = g.arms[arm];
                require(
                    &mut plan,
                    start,
                    end,
                    format!(
                        "the bytes {}..{} of `{}` (bytes {}..{}) past its arm {}",
                        start / 8,
                        end / 8,
                        g.type_name,
                        g.start_bits / 8,
                        end / 8,
                        c_decl(&arm.type_name, &arm.name)
                    ),
                    format!("{}{stand_for}", write_largest("")),
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
        let fix = match (m.bitfield_size, rust_type(m)) {
            (None, Some(ty)) => format!(
                "add `{}: {ty}`, or ",
                field_ident(&m.name, ident.span())
                    .map_or_else(|| m.name.clone(), |i| i.to_string())
            ),
            _ => String::new(),
        };
        require(&mut plan, start, end, m.describe(slot.base_bits), fix);
    }
    plan
}

/// A Rust union against a C union: every named C arm has an arm, or is
/// named in `omit`; every name in `omit` is a C arm.
fn union_arms(rust: &RustStruct<'_>, layout: &StructLayout, c_desc: &str, errors: &mut Errors) {
    let ident = rust.ident;
    let omitted: Vec<String> = rust
        .container
        .omit
        .iter()
        .flat_map(|(_, names)| names.iter().map(syn::LitStr::value))
        .collect();
    let arms: Vec<&Member> = layout
        .members
        .iter()
        .filter(|m| !m.name.is_empty() && m.bitfield_size.is_none())
        .collect();
    for m in &arms {
        let has = rust
            .fields
            .iter()
            .any(|f| !f.attrs.padding && f.c_name().as_deref() == Some(m.name.as_str()));
        if has || omitted.contains(&m.name) {
            continue;
        }
        let arm =
            field_ident(&m.name, ident.span()).map_or_else(|| m.name.clone(), |i| i.to_string());
        let add = match rust_type(m) {
            Some(ty) => format!("add `{arm}: {ty}`"),
            None => format!("add an arm `{arm}` of a type deriving RingEvent"),
        };
        errors.at(
            ident.span(),
            format!(
                "`{ident}` has no arm for {} of `{c_desc}`: {add}, or leave the arm out on \
                 purpose with `#[ring_event(omit = [\"{}\"])]`",
                c_decl(&m.type_name, &m.name),
                m.name
            ),
        );
    }
    for name in rust.container.omit.iter().flat_map(|(_, names)| names) {
        if !arms.iter().any(|m| m.name == name.value()) {
            let names: Vec<&str> = arms.iter().map(|m| m.name.as_str()).collect();
            errors.at(
                name.span(),
                format!(
                    "`{ident}` omits `{}`, but `{c_desc}` has no arm `{}` (arms: {})",
                    name.value(),
                    name.value(),
                    names.join(", ")
                ),
            );
        }
    }
}

/// The checks of a `nested` field standing for an anonymous struct or
/// union: its offset and size, and its C members through its type's table.
fn anon_checks(
    plan: &mut Plan,
    index: usize,
    field: &RustField<'_>,
    anon: &Anon<'_>,
    c_desc: &str,
    ident: &syn::Ident,
) {
    let rust_name = field.rust_name();
    let what = Namespace::describe_anon(anon);
    let offset = anon.bits / 8;
    plan.checks.push(Check::Offset {
        field: index,
        c_offset: offset,
        c_says: format!("{what} is at byte offset {offset} in `{c_desc}`"),
    });
    let m = anon.member;
    let fix = rust_type(m).map_or_else(String::new, |ty| {
        format!("; a union's largest arm is `{ty}`")
    });
    plan.checks.push(Check::FieldSize {
        field: index,
        size: m.size,
        message: format!(
            "size of `{ident}.{rust_name}` differs: {what} is {} in `{c_desc}`{fix}",
            bytes(m.size)
        ),
    });
    let Some(inner) = m.anonymous() else {
        return;
    };
    plan.checks.push(Check::NestedRoot {
        field: index,
        message: format!(
            "`{ident}.{rust_name}` stands for {what} of `{c_desc}`, but its type records no \
             fields to check it against: derive RingEvent on it"
        ),
        union_for_struct: (inner.kind == CompositeKind::Struct).then(|| {
            format!(
                "`{ident}.{rust_name}` is a union, but {what} of `{c_desc}` is a struct: a Rust \
                 union stands only for a C union"
            )
        }),
    });
    nested_plan(plan, index, inner, &[], &rust_name, c_desc);
}

/// The checks of one matched field against its C member; `false` when the
/// member is a bitfield, which no field can stand for.
fn member_checks(
    plan: &mut Plan,
    index: usize,
    field: &RustField<'_>,
    member: &Member,
    base_bits: u32,
    c_desc: &str,
    ident: &syn::Ident,
) -> bool {
    let rust_name = field.rust_name();
    let c_member = c_decl(&member.type_name, &member.name);
    if let Some(bits) = member.bitfield_size {
        plan.error(
            field.span,
            format!(
                "`{ident}.{rust_name}` maps onto the bitfield `{} {}:{bits}` of `{c_desc}`: \
                 bitfields have no Rust equivalent; cover their storage with an integer field \
                 marked `#[ring_event(padding)]` and extract the bits by hand",
                member.type_name, member.name
            ),
        );
        return false;
    }
    // What to write instead, when C's type has a Rust counterpart (not for
    // a field reached through the one holding an anonymous member, which a
    // generator wrote: `check_layout!`).
    let write = match rust_type(member) {
        Some(ty) if field.place.is_none() => format!("; write `{rust_name}: {ty}`"),
        _ => String::new(),
    };
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
            "size of `{ident}.{rust_name}` differs: {c_member} is {} in `{c_desc}`{write}",
            bytes(member.size)
        ),
    });
    // Element kinds, as far as the Rust syntax tells.
    let (c_elem, c_elem_size) = match &member.shape {
        Shape::Array {
            elem, elem_size, ..
        } => (&**elem, Some(*elem_size)),
        shape => (shape, None),
    };
    let c_holds = match c_elem {
        Shape::Float => "floats",
        _ => "integers",
    };
    let kind_error = |what: &str| {
        format!(
            "`{ident}.{rust_name}` holds {what}, but {c_member} of `{c_desc}` holds {c_holds}: \
             the same bytes would mean a different number{write}"
        )
    };
    let c_union = matches!(c_elem, Shape::Composite(l) if l.kind == CompositeKind::Union);
    match (c_elem, field.kind) {
        (Shape::Int, RustKind::Float) => plan.error(field.span, kind_error("floats")),
        (Shape::Float, RustKind::Int) => plan.error(field.span, kind_error("integers")),
        (Shape::Composite(_), RustKind::Int | RustKind::Float) => plan.error(
            field.span,
            format!(
                "`{ident}.{rust_name}` is plain numbers, but {c_member} of `{c_desc}` is a \
                 {}: {}, or cover it with a `#[ring_event(padding)]` field{}",
                if c_union { "union" } else { "struct" },
                if c_union {
                    "use a `#[repr(C)]` union of its arms deriving RingEvent, marked \
                     `#[ring_event(nested)]`"
                } else {
                    "use a `#[repr(C)]` struct deriving RingEvent (checked member by member)"
                },
                if c_union {
                    rust_type(member).map_or_else(String::new, |ty| {
                        format!(", or write its largest arm's type, `{rust_name}: {ty}`")
                    })
                } else {
                    String::new()
                }
            ),
        ),
        _ => {}
    }
    if matches!(c_elem, Shape::Int | Shape::Float) && field.attrs.nested.is_none() {
        let c_float = *c_elem == Shape::Float;
        match field.ty {
            // `check_layout!`: the compiler tells the kinds apart.
            None => plan.checks.push(Check::Kind {
                field: index,
                c_float,
                message: kind_error(if c_float { "integers" } else { "floats" }),
            }),
            // A type the syntax does not tell: its `RingField` kind.
            Some(_) if field.kind == RustKind::Opaque => plan.checks.push(Check::ElemKind {
                field: index,
                c_float,
                head: format!("`{ident}.{rust_name}` holds "),
                tail: format!(
                    ", but {c_member} of `{c_desc}` holds {c_holds}: the same bytes would mean \
                     something else{write}{}",
                    if c_union {
                        ""
                    } else {
                        "; a `#[repr(C)]` union marked `#[ring_event(nested)]` stands for a whole \
                         C union, not for one of its arms"
                    }
                ),
            }),
            Some(_) => {}
        }
    }
    if let Some(elem_size) = c_elem_size.filter(|_| field.is_array) {
        plan.checks.push(Check::ElemSize {
            field: index,
            dims: dims(&member.shape),
            size: elem_size,
            message: format!(
                "element size of `{ident}.{rust_name}` differs: {c_member} has {}-byte elements \
                 in `{c_desc}`{write}",
                elem_size
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
                    union_for_struct: (nested.kind == CompositeKind::Struct).then(|| {
                        format!(
                            "`{name}` is a union, but {c_member} of `{c_desc}` is a struct: a \
                             Rust union stands only for a C union"
                        )
                    }),
                });
                let c_path = format!("{}{}", member.name, "[]".repeat(dims(&member.shape)));
                nested_plan(plan, index, nested, &[], &c_path, c_desc);
            }
            _ => plan.error(
                span,
                format!(
                    "`{name}` is marked `#[ring_event(nested)]`, but {c_member} of `{c_desc}` is \
                     not a struct or union (or an array of them){write}"
                ),
            ),
        }
        return true;
    }
    // Nested structs, all the way down.
    if let Shape::Composite(nested) = c_elem {
        if field.kind == RustKind::Opaque {
            let in_elem = c_elem_size.is_some();
            let path = if in_elem {
                "[0]".repeat(dims(&member.shape))
            } else {
                String::new()
            };
            let name = format!("{ident}.{rust_name}");
            let mut errors = Vec::new();
            ByName {
                plan,
                errors: &mut errors,
                field: index,
                span: field.span,
                in_elem,
                rust_name: &name,
                c_desc,
            }
            .walk(nested, &path, Some(String::new()), 0, None);
            plan.errors.extend(errors);
        }
    }
    true
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
        Shape::Composite(l) if l.kind == CompositeKind::Union => Some(NestedKind::Union),
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
                let c_member = c_decl(&m.type_name, &m.name);
                NestedArm {
                    name: m.name.clone(),
                    size: m.size,
                    elem_size: match &m.shape {
                        Shape::Array { elem_size, .. } => *elem_size,
                        _ => m.size,
                    },
                    kind: nested_kind(&m.shape),
                    describe: within(&c_member),
                    rust_type: rust_type(m),
                }
            })
            .collect();
        c_names.extend(arms.iter().map(|a| a.name.clone()));
        if layout.kind == CompositeKind::Union {
            // Checked arm by arm when a Rust union stands for it.
            for arm in &arms {
                plan.checks.push(Check::UnionArm {
                    field,
                    parents: parents.to_vec(),
                    arm: arm.clone(),
                });
            }
        }
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

/// The checks of a nested struct by C member names (a field not marked
/// `nested`): each named member's size, and its offset (by `offset_of!`
/// while the path has no array, else from the array element at `anchor`),
/// recursing into structs and arrays of structs. The paths are Rust's: C
/// names that are Rust keywords are spelled raw (`func.r#mod`).
struct ByName<'p> {
    plan: &'p mut Plan,
    errors: &'p mut Vec<syn::Error>,
    field: usize,
    /// Where errors point: the field.
    span: proc_macro2::Span,
    /// Whether offsets are relative to the innermost element type of the
    /// field (an array of structs) rather than to `Self`.
    in_elem: bool,
    /// `Event.func`, for messages.
    rust_name: &'p str,
    c_desc: &'p str,
}

impl ByName<'_> {
    fn walk(
        &mut self,
        layout: &StructLayout,
        path: &str,
        offset_path: Option<String>,
        base: u32,
        anchor: Option<&str>,
    ) {
        // Anonymous unions nested in a struct: which arm the Rust type holds
        // is not known here, so only the enclosing size is checked. Offsets
        // add saturating, as elsewhere: a crafted object's sum may not fit.
        let mut members: Vec<(&Member, u32)> = Vec::new();
        fn flatten<'m>(out: &mut Vec<(&'m Member, u32)>, members: &'m [Member], base: u32) {
            for m in members {
                match m.anonymous() {
                    Some(inner) if inner.kind == CompositeKind::Struct => {
                        flatten(out, &inner.members, base.saturating_add(m.byte_offset))
                    }
                    Some(_) => {}
                    None => out.push((m, base)),
                }
            }
        }
        flatten(&mut members, &layout.members, 0);
        let (rust_name, c_desc) = (self.rust_name, self.c_desc);
        for (m, inner_base) in members {
            if m.name.is_empty() || m.bitfield_size.is_some() {
                continue;
            }
            let Some(ident) = field_ident(&m.name, self.span) else {
                self.errors.push(syn::Error::new(
                    self.span,
                    format!(
                        "`{rust_name}` is checked by C member names, but {} of `{}` has a name \
                         no Rust field can have, not even raw: mark `{rust_name}` \
                         `#[ring_event(nested)]`, and name the field of its type otherwise with \
                         `#[ring_event(rename = \"{}\")]`",
                        c_decl(&m.type_name, &m.name),
                        layout.describe(),
                        m.name
                    ),
                ));
                continue;
            };
            let offset = base
                .saturating_add(inner_base)
                .saturating_add(m.byte_offset);
            let member_path = format!("{path}.{ident}");
            let this_offset = offset_path.as_deref().map(|p| {
                if p.is_empty() {
                    ident.to_string()
                } else {
                    format!("{p}.{ident}")
                }
            });
            let describe = format!(
                "`{rust_name}{member_path}`: {} is {} at byte offset {} of `{}` in `{c_desc}`",
                c_decl(&m.type_name, &m.name),
                bytes(m.size),
                inner_base.saturating_add(m.byte_offset),
                layout.describe()
            );
            self.plan.checks.push(Check::Nested {
                field: self.field,
                offset: this_offset.clone().map(|p| (p, offset)),
                in_elem: self.in_elem,
                path: member_path.clone(),
                size: m.size,
                describe: describe.clone(),
            });
            if let Some(anchor) = anchor {
                self.plan.checks.push(Check::ElemOffset {
                    field: self.field,
                    anchor: anchor.to_owned(),
                    path: member_path.clone(),
                    c_offset: offset,
                    describe,
                });
            }
            match &m.shape {
                Shape::Composite(inner) if inner.kind == CompositeKind::Struct => {
                    self.walk(inner, &member_path, this_offset, offset, anchor);
                }
                Shape::Array { elem, dims, .. } => {
                    if let Shape::Composite(inner) = &**elem {
                        if inner.kind == CompositeKind::Struct {
                            // No Rust type to take `offset_of!` in: each
                            // member's offset is measured from the element it
                            // is in.
                            let p = format!("{member_path}{}", "[0]".repeat(dims.len()));
                            self.walk(inner, &p, None, 0, Some(&p));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use syn::parse_quote;

    use super::*;
    use crate::parse;
    use ringview_btf::Object;

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
        let mut messages: Vec<String> = match errors.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        };
        messages.extend(plan.errors.iter().map(ToString::to_string));
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
            message: "element size of `ConnEvent.saddr_v6` differs: `__u8 saddr_v6[16]` has \
                      1-byte elements in `struct conn_event`; write `saddr_v6: [u8; 16]`"
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
            "`__u8 v6[16]` of `struct addr` (`peers[]` in `struct peer_event`)"
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

    fn v3_layout(name: &str) -> StructLayout {
        const V3: &[u8] = include_bytes!("../tests/btf/v3.bpf.o");
        let object = Object::new(PathBuf::from("v3.bpf.o"), V3.to_vec());
        object.struct_layout(name).expect("in v3.bpf.o")
    }

    #[test]
    fn nested_fields_named_after_no_member_stand_for_the_anonymous_unions_in_order() {
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct TcpEvent {
                #[ring_event(nested)]
                saddr: SAddr,
                #[ring_event(nested)]
                daddr: DAddr,
                task: [u8; 16],
                ts_us: u64,
                af: u32,
                pid: u32,
                uid: u32,
                sport: u16,
                dport: u16,
            }
        };
        let mut errors = Errors::default();
        let rust = parse::derive_input(&input, &mut errors);
        let plan = plan(&rust, &v3_layout("tcp_event"), "v3.bpf.o", &mut errors);
        assert!(errors.finish().is_ok());
        assert!(plan.errors.is_empty(), "{:?}", plan.errors);
        let mut planned = offsets(&plan);
        planned.sort_unstable();
        assert_eq!(planned[..3], [(0, 0), (1, 16), (2, 32)]);
        // Each union's arms, one check per arm, through the field's type.
        let arms: Vec<_> = plan
            .checks
            .iter()
            .filter_map(|c| match c {
                Check::UnionArm { field, arm, .. } => Some((*field, arm.name.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            arms,
            [
                (0, "saddr_v4"),
                (0, "saddr_v6"),
                (1, "daddr_v4"),
                (1, "daddr_v6")
            ]
        );
        // A third has none left.
        let input: syn::DeriveInput = parse_quote! {
            #[repr(C)]
            struct TcpEvent {
                #[ring_event(nested)]
                saddr: SAddr,
                #[ring_event(nested)]
                daddr: DAddr,
                #[ring_event(nested)]
                more: DAddr,
            }
        };
        let mut errors = Errors::default();
        let rust = parse::derive_input(&input, &mut errors);
        let _ = super::plan(&rust, &v3_layout("tcp_event"), "v3.bpf.o", &mut errors);
        let messages: Vec<String> = errors
            .finish()
            .expect_err("refused")
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("none is left for it"), "{messages:?}");
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
        assert_eq!(
            errors[0],
            "`Point.x` holds floats, but `__u32 x` of `struct point` holds integers: the same \
             bytes would mean a different number; write `x: u32`"
        );
    }
}
