//! Typed views of records: how record bytes become `&T`.

use zerocopy::{FromBytes, Immutable, KnownLayout};

use crate::error::ReadError;

/// A type a record can be viewed as in place: any `FromBytes + KnownLayout +
/// Immutable` type (cast through zerocopy), or `[u8]` (the raw payload).
///
/// Ring payloads are 8-byte aligned, so a type aligned to more than 8 bytes
/// can never be viewed in place.
pub trait View {
    /// Views the start of `bytes` as `Self`.
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] when `bytes` is shorter than `Self`,
    /// [`ReadError::Misaligned`] when `bytes` is not aligned for `Self`.
    fn view(bytes: &[u8]) -> Result<&Self, ReadError>;
}

impl<T: FromBytes + KnownLayout + Immutable> View for T {
    #[inline]
    fn view(bytes: &[u8]) -> Result<&Self, ReadError> {
        match T::ref_from_prefix(bytes) {
            Ok((view, _)) => Ok(view),
            Err(_) if bytes.len() < size_of::<T>() => Err(ReadError::RecordTooShort {
                len: bytes.len(),
                expected: size_of::<T>(),
                type_name: std::any::type_name::<T>(),
            }),
            Err(_) => Err(ReadError::Misaligned {
                align: align_of::<T>(),
                type_name: std::any::type_name::<T>(),
            }),
        }
    }
}

impl View for [u8] {
    #[inline]
    fn view(bytes: &[u8]) -> Result<&Self, ReadError> {
        Ok(bytes)
    }
}

/// Which views a reader of `Self` hands out: a typed reader its own type, an
/// untyped (`[u8]`) reader any [`View`] type.
///
/// This is what lets `reader.read()` infer the type on a typed reader and
/// `reader.read::<ExecEvent>()` pick one on an untyped reader.
pub trait ViewAs<U: ?Sized + View> {}

impl<T: ?Sized + View> ViewAs<T> for T {}
impl<U: View> ViewAs<U> for [u8] {}
