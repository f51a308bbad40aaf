//! `#[derive(RingEvent)]`: layouts it accepts (checked against a committed
//! BPF object's BTF) and every mistake it rejects, with its message.

#[test]
fn accepts_layouts_that_match_the_bpf_side() {
    let t = trybuild::TestCases::new();
    t.pass("tests/derive/pass/*.rs");
}

#[test]
fn rejects_layouts_that_can_differ_from_the_bpf_side() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/derive/fail/*.rs");
}

/// A Rust enum as a field. Its message lists the casting crates the type
/// could have used, so it is blessed with every feature on, as the README's
/// test command runs it.
#[cfg(feature = "bytemuck")]
#[test]
fn rejects_enum_fields() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/derive/fail_bytemuck/*.rs");
}

/// v2: event structs written the way BPF tools write them
/// (`tests/derive/btf/tools.bpf.c`): only in DWARF, nested, unions.
#[test]
fn accepts_the_event_structs_of_real_tools() {
    let t = trybuild::TestCases::new();
    t.pass("tests/derive/v2_pass/*.rs");
}

#[test]
fn rejects_what_v1_let_through_with_messages_that_lead_with_the_fix() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/derive/v2_fail/*.rs");
}

/// v3: C members named like Rust keywords, unions arm by arm, nested helper
/// types with nothing of their own, the attribute form
/// (`tests/derive/btf/v3.bpf.c`).
#[test]
fn v3_accepts_what_users_write_first() {
    let t = trybuild::TestCases::new();
    t.pass("tests/derive/v3_pass/*.rs");
}

#[test]
fn v3_rejects_with_messages_that_give_the_fix() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/derive/v3_fail/*.rs");
}
