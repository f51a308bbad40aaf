//! `#[derive(RingEvent)]`: layouts it accepts (checked against a committed
//! BPF object's BTF, `tests/btf/`) and every mistake it rejects, with its
//! message (trybuild, `tests/ui/`; bless with `TRYBUILD=overwrite`).

#[test]
fn accepts_layouts_that_match_the_bpf_side() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
}

#[test]
fn rejects_layouts_that_can_differ_from_the_bpf_side() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}

/// A Rust enum as a field. Its message lists the casting crates the type
/// could have used: ringview's `bytemuck` feature is on in this crate's
/// dev-dependencies, as in the README's test command.
#[test]
fn rejects_enum_fields() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail_bytemuck/*.rs");
}

/// v2: event structs written the way BPF tools write them
/// (`tests/btf/tools.bpf.c`): only in DWARF, nested, unions.
#[test]
fn accepts_the_event_structs_of_real_tools() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/v2_pass/*.rs");
}

#[test]
fn rejects_what_v1_let_through_with_messages_that_lead_with_the_fix() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/v2_fail/*.rs");
}

/// v3: C members named like Rust keywords, unions arm by arm, nested helper
/// types with nothing of their own, the attribute form
/// (`tests/btf/v3.bpf.c`).
#[test]
fn v3_accepts_what_users_write_first() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/v3_pass/*.rs");
}

#[test]
fn v3_rejects_with_messages_that_give_the_fix() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/v3_fail/*.rs");
}
