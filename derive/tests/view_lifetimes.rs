//! Compile-fail tests of `ringview`'s views: no view outlives the commit
//! that releases its bytes (`tests/ui/views/`).
//!
//! They live in this crate, which has `ringview` as a dev-dependency, so
//! that trybuild and its dependencies stay out of `ringview`'s own
//! dev-dependencies, which every `cargo run --example` there builds.

#[test]
fn views_cannot_outlive_their_commit() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/views/view_after_*.rs");
    t.compile_fail("tests/ui/views/read_while_batch_open.rs");
}

/// A ring set's handlers are `Send` unless the set is made with
/// `RingSet::new_local`, which is then not `Send` itself.
#[test]
fn ring_sets_keep_their_handlers_on_their_thread() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/ring_set/*.rs");
}
