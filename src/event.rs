//! Typed views of records: the [`RingEvent`] trait the derive implements,
//! how record bytes become `&T`, variable-length records and tagged unions.

use crate::error::ReadError;

/// A `#[repr(C)]` struct whose layout is proven to match a BPF C struct.
///
/// Implemented by `#[derive(RingEvent)]` (re-exported with the default
/// `derive` feature), which rejects at compile time what can make the Rust
/// and BPF layouts differ: a missing `#[repr(C)]`, generics, fields whose
/// size or valid values differ between BPF and the host (`bool`, `char`,
/// enums, references, pointers, `usize`), alignment over 8, implicit
/// padding not checked against BTF, and, with `#[ring_event(btf = ..)]`, any
/// size or offset that differs from the compiled BPF object's BTF.
///
/// The cast itself goes through `zerocopy` (`FromBytes + KnownLayout +
/// Immutable`) or, with the `bytemuck` feature, through bytemuck's
/// `AnyBitPattern`: derive whichever your code already uses.
///
/// # Safety
///
/// `__view` must return `Some` only with a reference to the start of
/// `bytes`, and only when `bytes` holds at least `SIZE` bytes aligned for
/// `Self` and every bit pattern of them is a valid `Self`. Leave
/// implementing this trait to the derive.
pub unsafe trait RingEvent: Sized {
    /// The C struct's name (`name = ".."`, else the Rust name).
    const C_NAME: &'static str;
    /// `size_of::<Self>()`, which the derive checked against C when told how.
    const SIZE: usize;

    #[doc(hidden)]
    fn __view(bytes: &[u8]) -> Option<&Self>;
}

/// A type a record can be viewed as in place: any [`RingEvent`], or `[u8]`
/// (the raw payload).
pub trait View {
    /// Views the start of `bytes` as `Self`.
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] when `bytes` is shorter than `Self`,
    /// [`ReadError::Misaligned`] when it is not aligned for `Self`.
    fn view(bytes: &[u8]) -> Result<&Self, ReadError>;
}

impl<T: RingEvent> View for T {
    #[inline(always)]
    fn view(bytes: &[u8]) -> Result<&Self, ReadError> {
        match T::__view(bytes) {
            Some(view) => Ok(view),
            None if bytes.len() < T::SIZE => Err(ReadError::RecordTooShort {
                len: bytes.len(),
                expected: T::SIZE,
                type_name: std::any::type_name::<T>(),
            }),
            None => Err(ReadError::Misaligned {
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

/// A header of type `H` and the bytes after it, exactly as submitted.
///
/// # Errors
///
/// As [`View::view`] for the header.
#[inline]
pub(crate) fn split_tail<H: RingEvent>(bytes: &[u8]) -> Result<(&H, &[u8]), ReadError> {
    let header = H::view(bytes)?;
    // `view` succeeded, so `bytes.len() >= H::SIZE`.
    Ok((header, &bytes[H::SIZE..]))
}

/// An enum of borrowed views, one variant per event type, chosen by a
/// leading tag field: implemented by `#[derive(RingEvent)]` on an enum with
/// `#[ring_event(tag = "kind: u32")]`.
pub trait TaggedEvent<'a>: Sized {
    /// Views `bytes` as the variant its tag names.
    ///
    /// # Errors
    ///
    /// [`ReadError::UnknownTag`] for a tag no variant names; the variant's
    /// view errors otherwise.
    fn from_record(bytes: &'a [u8]) -> Result<Self, ReadError>;
}

/// Support for the code `#[derive(RingEvent)]` generates. Not public API.
#[doc(hidden)]
pub mod __private {
    use std::marker::PhantomData;

    use crate::error::ReadError;

    /// Picks the casting crate by autoref: zerocopy when the type
    /// implements its traits, else bytemuck (with the `bytemuck` feature).
    #[derive(Debug, Default)]
    pub struct Cast<T>(PhantomData<T>);

    impl<T> Cast<T> {
        #[inline(always)]
        pub const fn new() -> Self {
            Self(PhantomData)
        }
    }

    pub trait ViaZerocopy<T> {
        fn view<'a>(&self, bytes: &'a [u8]) -> Option<&'a T>;
    }

    impl<T> ViaZerocopy<T> for Cast<T>
    where
        T: zerocopy::FromBytes + zerocopy::KnownLayout + zerocopy::Immutable,
    {
        #[inline(always)]
        fn view<'a>(&self, bytes: &'a [u8]) -> Option<&'a T> {
            T::ref_from_prefix(bytes).ok().map(|(view, _)| view)
        }
    }

    #[cfg(feature = "bytemuck")]
    pub trait ViaBytemuck<T> {
        fn view<'a>(&self, bytes: &'a [u8]) -> Option<&'a T>;
    }

    #[cfg(feature = "bytemuck")]
    impl<T: bytemuck::AnyBitPattern> ViaBytemuck<T> for &Cast<T> {
        #[inline(always)]
        fn view<'a>(&self, bytes: &'a [u8]) -> Option<&'a T> {
            bytemuck::try_from_bytes(bytes.get(..size_of::<T>())?).ok()
        }
    }

    /// What a field of a ring event may be: fixed-size plain data whose
    /// every bit pattern is valid on both sides.
    ///
    /// # Safety
    ///
    /// Only for types with the same size, alignment (up to 8) and valid
    /// values on the BPF target and the host.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a field of a ring event: its size or its valid values can differ on the BPF side",
        label = "not plain BPF data",
        note = "use u8..u64, i8..i64, f32, f64, arrays of them, or a struct deriving RingEvent",
        note = "for a C enum use `u32` or a `#[repr(transparent)]` newtype deriving RingEvent; for `_Bool` use `u8`; for `__int128` use `[u64; 2]`"
    )]
    pub unsafe trait RingField {}

    macro_rules! ring_fields {
        ($($ty:ty),*) => { $(
            // SAFETY: fixed-size integer or float: same size, alignment
            // (<= 8) and valid values on BPF and on every host Rust targets.
            unsafe impl RingField for $ty {}
        )* };
    }
    ring_fields!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);
    macro_rules! byte_order_fields {
        ($($ty:ident),*) => { $(
            // SAFETY: zerocopy's byte-order integers are byte arrays of a
            // fixed size (alignment 1), valid for every bit pattern.
            unsafe impl<O: zerocopy::byteorder::ByteOrder> RingField for zerocopy::byteorder::$ty<O> {}
        )* };
    }
    byte_order_fields!(U16, U32, U64, I16, I32, I64);
    // SAFETY: an array of plain fields is plain, with the element's alignment.
    unsafe impl<T: RingField, const N: usize> RingField for [T; N] {}
    // SAFETY: a ring event's layout is itself checked by the derive.
    unsafe impl<T: super::RingEvent> RingField for T {}

    /// Compiles only for plain field types.
    pub const fn field<T: RingField>() {}

    /// The leading tag of a tagged record, native-endian.
    #[inline]
    pub fn tag<const N: usize>(
        bytes: &[u8],
        type_name: &'static str,
    ) -> Result<[u8; N], ReadError> {
        bytes
            .get(..N)
            .and_then(|b| b.try_into().ok())
            .ok_or(ReadError::RecordTooShort {
                len: bytes.len(),
                expected: N,
                type_name,
            })
    }
}

/// Event types for the unit tests, implemented by hand so the tests need no
/// derive.
#[cfg(test)]
pub(crate) mod test_events {
    use zerocopy::{FromBytes, Immutable, KnownLayout};

    use super::RingEvent;

    /// One 8-byte word.
    #[derive(Debug, FromBytes, Immutable, KnownLayout)]
    #[repr(C)]
    pub struct Word(pub u64);

    // SAFETY: `__view` casts through zerocopy, which checks size and
    // alignment; `Word` is `FromBytes`.
    unsafe impl RingEvent for Word {
        const C_NAME: &'static str = "word";
        const SIZE: usize = 8;

        fn __view(bytes: &[u8]) -> Option<&Self> {
            Self::ref_from_prefix(bytes).ok().map(|(view, _)| view)
        }
    }
}
