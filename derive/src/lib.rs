//! Derive macro for `ringview`: `#[derive(RingEvent)]`.
//!
//! The derive itself arrives with the layout-checking work; this crate is
//! kept in step with `ringview` (same version, pinned with `=`).

#[cfg_attr(
    not(test),
    expect(dead_code, reason = "used by the derive in a later change")
)]
mod btf;
