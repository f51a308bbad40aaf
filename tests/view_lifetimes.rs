//! Compile-fail tests: no view outlives the commit that releases its bytes.

#[test]
fn views_cannot_outlive_their_commit() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/view_after_*.rs");
    t.compile_fail("tests/ui/read_while_batch_open.rs");
}
