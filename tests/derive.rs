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
