//! Typed views of records: the [`RingEvent`] trait the derive implements,
//! how record bytes become `&T`, variable-length records and tagged unions.

use crate::error::ReadError;

/// A `#[repr(C)]` struct whose layout is proven to match a BPF C struct.
///
/// Implemented by `#[ringview::event(..)]` or `#[derive(RingEvent)]`
/// (re-exported with the default `derive` feature), which reject at compile
/// time what can make the Rust and BPF layouts differ: a missing
/// `#[repr(C)]`, generics, fields whose size or valid values differ between
/// BPF and the host (`bool`, `char`, enums, references, pointers, `usize`),
/// alignment over 8, zero-size events, and, with `btf = ".."`, any size or
/// offset that differs from the compiled BPF object's BTF. A type with
/// implicit padding and no BPF object is refused where it is read on its own
/// (it does not implement [`View`]); as a field of a checked event, that
/// event's check judges it by the C layout.
///
/// The cast itself goes through `zerocopy` (`FromBytes + KnownLayout +
/// Immutable`, which `#[ringview::event]` derives through ringview's own
/// re-export) or, with the `bytemuck` feature, through bytemuck's
/// `AnyBitPattern`: derive whichever your code already uses.
///
/// # Attributes
///
/// On the type, `#[ring_event(...)]` takes `btf = "path"` (the compiled BPF
/// object, or a raw BTF file, whose C struct the type is checked against;
/// the path is absolute, `$OUT_DIR/...`, relative to the crate's
/// `Cargo.toml`, or relative to the calling file, tried in that order),
/// `name = "c_struct"` (the C struct, union or typedef; the Rust name if
/// absent), `size = N`, and on unions `omit = ["arm", ..]` (C arms left out
/// on purpose). On fields: `rename = "c_name"` (the C member the field
/// stands for), `padding` (the field stands for the C bytes it covers, by no
/// name) and `nested` (the field's type derives `RingEvent`, and the C
/// member's type is checked through that type's own fields, renames and
/// padding included, at every depth; named after no C member, it stands for
/// an anonymous struct or union). On enums of views: `tag = "field: type"`,
/// and `tag = N` on each variant. `#[ringview::event(..)]` takes the type's
/// arguments directly. The derive's documentation (in `ringview-derive`)
/// details each check.
///
/// # Examples
///
/// ```
/// use ringview::RingEvent;
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// #[ring_event(name = "exec_event", size = 24)]
/// struct ExecEvent {
///     pid: u32,
///     ppid: u32,
///     comm: [u8; 16],
/// }
///
/// assert_eq!(ExecEvent::C_NAME, "exec_event");
/// assert_eq!(ExecEvent::SIZE, 24);
/// ```
///
/// # Safety
///
/// `Self` must be plain data with the same layout (size, alignment, at
/// most 8, and field offsets) and the same valid values on the BPF target
/// and the host, every bit pattern of its bytes a valid `Self`: what
/// `RingField` asks of a field, so that a ring event can be one. `__view`
/// must return `Some` only with a reference to the start of `bytes`, and
/// only when `bytes` holds at least `SIZE` bytes aligned for `Self` and
/// every bit pattern of them is a valid `Self`. Leave implementing this
/// trait to the derive.
pub unsafe trait RingEvent: Sized {
    /// The C struct's name (`name = ".."`, else the Rust name).
    const C_NAME: &'static str;
    /// `size_of::<Self>()`, which the derive checked against C when told how.
    const SIZE: usize;

    /// The fields as `#[ring_event(nested)]` checks them in an enclosing
    /// type: recorded by the derive, absent from other implementations.
    #[doc(hidden)]
    const __MEMBERS: Option<&'static __private::Table> = None;

    /// Whether the layout is proven for reading `Self` on its own:
    /// [`__private::Proven`] when checked against BTF or free of implicit
    /// padding, else [`__private::Unproven`] (a nested helper type, which the
    /// enclosing type's check judges by the C layout).
    #[doc(hidden)]
    type __Layout: __private::Layout;

    #[doc(hidden)]
    fn __view(bytes: &[u8]) -> Option<&Self>;
}

/// A type a record can be viewed as in place: any [`RingEvent`], or `[u8]`
/// (the raw payload).
///
/// # Examples
///
/// ```
/// use ringview::{RingEvent, View};
/// use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Sample {
///     seq: u64,
/// }
///
/// // Records are 8-byte aligned in the ring; so are these words.
/// let words = [42u64, 7];
/// let bytes = words.as_bytes();
/// assert_eq!(Sample::view(bytes)?.seq, 42);
/// assert_eq!(<[u8]>::view(bytes)?.len(), 16);
/// assert!(Sample::view(&bytes[..4]).is_err()); // too short
/// assert_eq!((Sample::MIN_LEN, <[u8]>::MIN_LEN), (8, 0));
/// # Ok::<(), ringview::ReadError>(())
/// ```
pub trait View {
    /// The fewest bytes a record must hold to be viewed as `Self`:
    /// [`RingEvent::SIZE`] for an event type, 0 for `[u8]`. A typed reader
    /// refuses a ring whose records can never be that long
    /// ([`ReaderError::TypeTooLarge`](crate::ReaderError::TypeTooLarge)).
    const MIN_LEN: usize = 0;

    /// Views the start of `bytes` as `Self`.
    ///
    /// # Errors
    ///
    /// [`ReadError::RecordTooShort`] when `bytes` is shorter than `Self`,
    /// [`ReadError::Misaligned`] when it is not aligned for `Self`.
    fn view(bytes: &[u8]) -> Result<&Self, ReadError>;
}

impl<T: RingEvent> View for T
where
    T::__Layout: __private::ProvenFor<T>,
{
    const MIN_LEN: usize = T::SIZE;

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
///
/// # Examples
///
/// ```
/// use ringview::testing::MemoryRing;
/// use ringview::{RingEvent, UnsafeReader};
/// use zerocopy::{FromBytes, Immutable, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Sample {
///     seq: u64,
/// }
///
/// let ring = MemoryRing::new(4096)?;
/// ring.output(&1u64.to_ne_bytes(), 0)?;
/// ring.output(&2u64.to_ne_bytes(), 0)?;
/// // SAFETY: the ring's only consumer.
/// let mut untyped = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf())? };
/// // An untyped reader names the type of each view...
/// assert_eq!(untyped.read::<Sample>()?.seq, 1);
/// assert_eq!(untyped.read::<[u8]>()?.len(), 8);
/// untyped.commit(); // releases the last view too
/// drop(untyped);
/// // ...a typed one infers it.
/// ring.output(&3u64.to_ne_bytes(), 0)?;
/// // SAFETY: as above.
/// let mut typed = unsafe { UnsafeReader::<Sample>::new(ring.ring_buf())? };
/// assert_eq!(typed.read()?.seq, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ViewAs<U: ?Sized + View> {}

impl<T: ?Sized + View> ViewAs<T> for T {}
impl<U: View> ViewAs<U> for [u8] {}

/// A header of type `H` and the bytes after it, exactly as submitted.
///
/// # Errors
///
/// As [`View::view`] for the header.
#[inline]
pub(crate) fn split_tail<H: RingEvent + View>(bytes: &[u8]) -> Result<(&H, &[u8]), ReadError> {
    let header = H::view(bytes)?;
    // `view` succeeded, so `bytes.len() >= H::SIZE`.
    Ok((header, &bytes[H::SIZE..]))
}

/// An enum of borrowed views, one variant per event type, chosen by a
/// leading tag field: implemented by `#[derive(RingEvent)]` on an enum with
/// `#[ring_event(tag = "kind: u32")]`.
///
/// # Examples
///
/// ```
/// use ringview::{RingEvent, TaggedEvent};
/// use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Exec {
///     kind: u32,
///     pid: u32,
/// }
///
/// #[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
/// #[repr(C)]
/// struct Exit {
///     kind: u32,
///     code: i32,
/// }
///
/// #[derive(RingEvent)]
/// #[ring_event(tag = "kind: u32")]
/// enum Event<'a> {
///     #[ring_event(tag = 1)]
///     Exec(&'a Exec),
///     #[ring_event(tag = 2)]
///     Exit(&'a Exit),
/// }
///
/// // A record as a ring holds it, 8-byte aligned: tag 1, then the pid.
/// let mut record = [0u64; 1];
/// record.as_mut_bytes()[..4].copy_from_slice(&1u32.to_ne_bytes());
/// record.as_mut_bytes()[4..].copy_from_slice(&4242u32.to_ne_bytes());
/// match Event::from_record(record.as_bytes())? {
///     Event::Exec(exec) => assert_eq!(exec.pid, 4242),
///     Event::Exit(_) => unreachable!("the tag is 1"),
/// }
/// # Ok::<(), ringview::ReadError>(())
/// ```
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

    /// zerocopy, for `#[ringview::event]`'s derives
    /// (`#[zerocopy(crate = "::ringview::__private::zerocopy")]`): the
    /// event's crate needs no zerocopy dependency of its own.
    pub use zerocopy;

    /// Picks the casting crate by autoref, called as
    /// `(&&Cast::<T>::new()).view(bytes)`: zerocopy when the type implements
    /// its traits (`ViaZerocopy`, on `&Cast`), else bytemuck with the
    /// `bytemuck` feature (`ViaBytemuck`, on `&&Cast`), else `ViaNeither`
    /// (on `Cast`), whose bound fails with a message that says what to add.
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

    impl<T> ViaZerocopy<T> for &Cast<T>
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
    impl<T: bytemuck::AnyBitPattern> ViaBytemuck<T> for &&Cast<T> {
        #[inline(always)]
        fn view<'a>(&self, bytes: &'a [u8]) -> Option<&'a T> {
            bytemuck::try_from_bytes(bytes.get(..size_of::<T>())?).ok()
        }
    }

    /// The cast when neither crate's traits are implemented: its bound,
    /// [`CastFromBytes`], is never met, and its message says what to add.
    pub trait ViaNeither<T> {
        fn view<'a>(&self, bytes: &'a [u8]) -> Option<&'a T>
        where
            T: CastFromBytes;
    }

    impl<T> ViaNeither<T> for Cast<T> {
        fn view<'a>(&self, _: &'a [u8]) -> Option<&'a T>
        where
            T: CastFromBytes,
        {
            None
        }
    }

    /// Implemented by no type: the bound of [`ViaNeither`], for its message.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be read in place from a ring's bytes: it implements neither zerocopy's `FromBytes + Immutable + KnownLayout` nor bytemuck's `AnyBitPattern`",
        label = "cast from the ring's bytes here",
        note = "write `#[ringview::event(..)]` on the type instead of `#[derive(RingEvent)]`: it derives zerocopy's traits through ringview, with no zerocopy dependency",
        note = "or derive them yourself: `#[derive(zerocopy::FromBytes, zerocopy::Immutable, zerocopy::KnownLayout, RingEvent)]` (or bytemuck's `AnyBitPattern`, with ringview's `bytemuck` feature)"
    )]
    pub trait CastFromBytes {}

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
    pub unsafe trait RingField {
        /// What the innermost array element holds.
        const KIND: Kind;
        /// The size of the innermost array element.
        const ELEM_SIZE: usize;
        /// The innermost element's fields, when its type derives
        /// `RingEvent`.
        const TABLE: Option<&'static Table> = None;
        /// Whether the type's layout is proven on its own (see
        /// [`Layout`]); numbers always are.
        const PROVEN: bool = true;
    }

    /// The layout of a type read as a ring event on its own is proven:
    /// checked against the BPF object, or free of implicit padding (whose
    /// place can differ between the BPF target and the host), with every
    /// field's type proven too.
    #[derive(Debug)]
    pub enum Proven {}

    /// The layout is not proven on its own: the type (or a field's type) has
    /// implicit padding and no BPF object to check it against. It can still
    /// be a field of an event checked against BTF, whose check judges its
    /// padding by the C layout.
    #[derive(Debug)]
    pub enum Unproven {}

    /// [`Proven`] or [`Unproven`].
    pub trait Layout {
        const PROVEN: bool;
    }

    impl Layout for Proven {
        const PROVEN: bool = true;
    }

    impl Layout for Unproven {
        const PROVEN: bool = false;
    }

    /// Picks [`Proven`] or [`Unproven`] from a constant the derive computes.
    #[derive(Debug)]
    pub struct Select<const PROVEN: bool>;

    pub trait Pick {
        type Layout: Layout;
    }

    impl Pick for Select<true> {
        type Layout = Proven;
    }

    impl Pick for Select<false> {
        type Layout = Unproven;
    }

    /// The bound that lets `T` be read on its own.
    #[diagnostic::on_unimplemented(
        message = "`{T}` has implicit padding and no BPF object to check it against, so it cannot be read as a ring event on its own",
        label = "read as a ring event here",
        note = "the place of implicit padding (in `{T}` or in a field's type) can differ between the BPF target and this host: `u64` is 4-byte aligned on i686",
        note = "check it against the object with `#[ring_event(btf = \"prog.bpf.o\", name = \"c_struct\")]`, or make the padding explicit with fields marked `#[ring_event(padding)]`",
        note = "as a field of an event checked against BTF it needs neither: that check judges its padding by the C layout",
        note = "in generic code, bound the type by `View` (what the readers require), not only by `RingEvent`"
    )]
    pub trait ProvenFor<T> {}

    impl<T> ProvenFor<T> for Proven {}

    macro_rules! ring_fields {
        ($kind:ident: $($ty:ty),*) => { $(
            // SAFETY: fixed-size integer or float: same size, alignment
            // (<= 8) and valid values on BPF and on every host Rust targets.
            unsafe impl RingField for $ty {
                const KIND: Kind = Kind::$kind;
                const ELEM_SIZE: usize = size_of::<Self>();
            }
        )* };
    }
    ring_fields!(Int: u8, u16, u32, u64, i8, i16, i32, i64);
    ring_fields!(Float: f32, f64);
    macro_rules! byte_order_fields {
        ($kind:ident: $($ty:ident),*) => { $(
            // SAFETY: zerocopy's byte-order numbers are byte arrays of a
            // fixed size (alignment 1), valid for every bit pattern.
            unsafe impl<O: zerocopy::byteorder::ByteOrder> RingField for zerocopy::byteorder::$ty<O> {
                const KIND: Kind = Kind::$kind;
                const ELEM_SIZE: usize = size_of::<Self>();
            }
        )* };
    }
    byte_order_fields!(Int: U16, U32, U64, I16, I32, I64);
    byte_order_fields!(Float: F32, F64);
    // SAFETY: an array of plain fields is plain, with the element's alignment.
    unsafe impl<T: RingField, const N: usize> RingField for [T; N] {
        const KIND: Kind = T::KIND;
        const ELEM_SIZE: usize = T::ELEM_SIZE;
        const TABLE: Option<&'static Table> = T::TABLE;
        const PROVEN: bool = T::PROVEN;
    }
    // SAFETY: `RingEvent`'s `# Safety` contract: a ring event has the same
    // size, alignment (at most 8) and valid values on the BPF target and the
    // host, and every bit pattern of it is valid, which is all this trait
    // asks.
    unsafe impl<T: super::RingEvent> RingField for T {
        const KIND: Kind = match T::__MEMBERS {
            Some(table) => table.kind,
            None => Kind::Composite,
        };
        const ELEM_SIZE: usize = size_of::<Self>();
        const TABLE: Option<&'static Table> = T::__MEMBERS;
        const PROVEN: bool = <T::__Layout as Layout>::PROVEN;
    }

    /// The casting crate's byte-order types, for the checks of
    /// `check_layout!`, which name them.
    pub use zerocopy::byteorder;

    /// What a field holds, as far as the nested checks compare it to C.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        /// Integers of any signedness, zerocopy's byte-order integers.
        Int,
        /// `f32`, `f64`, zerocopy's `F32`, `F64`.
        Float,
        /// A struct deriving `RingEvent`.
        Composite,
        /// A union deriving `RingEvent`.
        Union,
    }

    impl Kind {
        const fn same(self, other: Self) -> bool {
            self as u8 == other as u8
        }

        /// Whether a field holding `self` can stand for a C member holding
        /// `c`: the same kind, or a struct for one arm of a C union.
        const fn fits(self, c: Self) -> bool {
            matches!((c, self), (Self::Union, Self::Composite)) || self.same(c)
        }

        /// `integers`, `floats`, `a struct`: for messages.
        pub const fn holds(self) -> &'static str {
            match self {
                Self::Int => "integers",
                Self::Float => "floats",
                Self::Composite => "a struct",
                Self::Union => "a union",
            }
        }
    }

    /// The fields of a type deriving `RingEvent`, as the
    /// `#[ring_event(nested)]` checks of an enclosing type read them.
    #[derive(Debug, Clone, Copy)]
    pub struct Table {
        /// The Rust type's name, for messages.
        pub rust_name: &'static str,
        pub members: &'static [Member],
        /// What the type holds: [`Kind::Composite`] for a struct,
        /// [`Kind::Union`] for a union (which stands for a C union arm by
        /// arm, each C arm matched by one of its fields or named in
        /// `omitted`), its field's kind for a `#[repr(transparent)]` newtype.
        pub kind: Kind,
        /// `#[ring_event(omit = [..])]`: the C arms the union leaves out.
        pub omitted: &'static [&'static str],
    }

    /// One field of a [`Table`].
    #[derive(Debug, Clone, Copy)]
    pub struct Member {
        /// The C member it stands for (its `rename`, else its name); empty
        /// for padding and unnamed fields.
        pub c_name: &'static str,
        pub rust_name: &'static str,
        pub offset: usize,
        pub size: usize,
        /// The size of the innermost array element (`size` if no array).
        pub elem_size: usize,
        /// What the innermost array element holds.
        pub kind: Kind,
        /// `#[ring_event(padding)]`.
        pub padding: bool,
        /// The table of the innermost element's type, when it derives
        /// `RingEvent`.
        pub table: Option<&'static Table>,
        /// Whether the field's type is proven on its own
        /// ([`RingField::PROVEN`]).
        pub proven: bool,
    }

    /// A C member a nested check looks for in a [`Table`]: the member, or
    /// one arm of the anonymous union it is in.
    #[derive(Debug, Clone, Copy)]
    pub struct Arm {
        pub c_name: &'static str,
        pub size: usize,
        pub elem_size: usize,
        /// `None` for C types without a Rust counterpart.
        pub kind: Option<Kind>,
    }

    /// How a field differs from the C member it stands for.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Mismatch {
        Offset,
        Size,
        ElemSize,
        Kind,
        /// A C struct whose field's type has no [`Table`].
        NoTable,
    }

    /// The outcome of [`nested_member`].
    #[derive(Debug, Clone, Copy)]
    pub enum Found {
        Ok,
        /// Not checked: a member on the way to it failed, and its own check
        /// says how.
        Skip,
        /// Field `member` of the type `rust_name` stands for arm `arm`, and
        /// differs from it.
        Mismatch {
            what: Mismatch,
            arm: usize,
            member: &'static Member,
            rust_name: &'static str,
        },
        /// No field stands for any arm, and no padding field covers them.
        Missing {
            rust_name: &'static str,
        },
        /// A Rust union has no arm for this C arm, and does not omit it.
        MissingArm {
            rust_name: &'static str,
        },
        /// The bytes from byte `from` to the end of the union are past the
        /// largest arm present and not covered by padding.
        Uncovered {
            rust_name: &'static str,
            from: usize,
        },
    }

    const fn str_eq(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// `mod` for `r#mod`: a field's name as C spells the member.
    const fn unraw(name: &str) -> &str {
        match name.as_bytes() {
            [b'r', b'#', ..] => name.split_at(2).1,
            _ => name,
        }
    }

    /// The field of `table` standing for C member `c_name`, padding aside.
    const fn by_c_name(table: &'static Table, c_name: &str) -> Option<&'static Member> {
        let mut i = 0;
        while i < table.members.len() {
            let m = &table.members[i];
            if !m.padding && !c_name.is_empty() && str_eq(m.c_name, c_name) {
                return Some(m);
            }
            i += 1;
        }
        None
    }

    /// The table reached from `root` through the fields standing for the C
    /// members `parents`, if every one of them has a table.
    pub const fn table_at(
        root: Option<&'static Table>,
        parents: &[&str],
    ) -> Option<&'static Table> {
        let Some(mut table) = root else {
            return None;
        };
        let mut i = 0;
        while i < parents.len() {
            match by_c_name(table, parents[i]) {
                Some(Member {
                    table: Some(inner), ..
                }) => table = inner,
                _ => return None,
            }
            i += 1;
        }
        Some(table)
    }

    /// Whether a padding field of `table` holds bits `start..end`.
    const fn covered(table: &Table, start: u64, end: u64) -> bool {
        let mut i = 0;
        while i < table.members.len() {
            let m = &table.members[i];
            if m.padding
                && (m.offset as u64) * 8 <= start
                && end <= ((m.offset + m.size) as u64) * 8
            {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Checks the C member (or anonymous union) at byte `offset`, bits
    /// `start_bits..end_bits`, of the C type reached through `parents`,
    /// against the fields of the table there: each arm present by C name
    /// must have the member's offset, size, element size and kind; without
    /// one, or past the largest one, padding must cover the bytes.
    pub const fn nested_member(
        root: Option<&'static Table>,
        parents: &[&str],
        offset: usize,
        start_bits: u64,
        end_bits: u64,
        arms: &[Arm],
    ) -> Found {
        let Some(table) = table_at(root, parents) else {
            return Found::Skip;
        };
        if table.kind.same(Kind::Union) {
            // A Rust union: each C arm has its own check (`union_arm`).
            return Found::Skip;
        }
        let rust_name = table.rust_name;
        let mut end = None;
        let mut arm = 0;
        while arm < arms.len() {
            let c = &arms[arm];
            if let Some(member) = by_c_name(table, c.c_name) {
                if let Some(what) = compare(member, c, offset) {
                    return Found::Mismatch {
                        what,
                        arm,
                        member,
                        rust_name,
                    };
                }
                let member_end = (offset + member.size) as u64 * 8;
                end = match end {
                    Some(e) if e >= member_end => Some(e),
                    _ => Some(member_end),
                };
            }
            arm += 1;
        }
        match end {
            None if covered(table, start_bits, end_bits) => Found::Ok,
            None => Found::Missing { rust_name },
            Some(e) if e >= end_bits || covered(table, e, end_bits) => Found::Ok,
            Some(e) => Found::Uncovered {
                rust_name,
                from: (e / 8) as usize,
            },
        }
    }

    /// How `member` differs from C arm `c` at byte `offset`.
    const fn compare(member: &Member, c: &Arm, offset: usize) -> Option<Mismatch> {
        let kind_differs = match c.kind {
            Some(kind) => !member.kind.fits(kind),
            None => false,
        };
        if member.offset != offset {
            Some(Mismatch::Offset)
        } else if member.size != c.size {
            Some(Mismatch::Size)
        } else if member.elem_size != c.elem_size {
            Some(Mismatch::ElemSize)
        } else if kind_differs {
            Some(Mismatch::Kind)
        } else if matches!(member.kind, Kind::Composite | Kind::Union) && member.table.is_none() {
            Some(Mismatch::NoTable)
        } else {
            None
        }
    }

    /// Checks C arm `arm` (at byte `offset`) of the C union reached through
    /// `parents`, when a Rust union stands for it: the arm with its C name
    /// must have the arm's offset, size, element size and kind, or be named
    /// in the union's `omit`. A struct standing for the union holds one arm,
    /// which [`nested_member`] checks.
    pub const fn union_arm(
        root: Option<&'static Table>,
        parents: &[&str],
        offset: usize,
        arm: &Arm,
    ) -> Found {
        let Some(table) = table_at(root, parents) else {
            return Found::Skip;
        };
        if !table.kind.same(Kind::Union) {
            return Found::Ok;
        }
        let rust_name = table.rust_name;
        match by_c_name(table, arm.c_name) {
            Some(member) => match compare(member, arm, offset) {
                Some(what) => Found::Mismatch {
                    what,
                    arm: 0,
                    member,
                    rust_name,
                },
                None => Found::Ok,
            },
            None if contains(table.omitted, arm.c_name) => Found::Ok,
            None => Found::MissingArm { rust_name },
        }
    }

    const fn contains(names: &[&str], name: &str) -> bool {
        let mut i = 0;
        while i < names.len() {
            if str_eq(names[i], name) {
                return true;
            }
            i += 1;
        }
        false
    }

    /// A name in the `omit` of the union reached through `parents` that is
    /// none of `c_names`, its C arms: `(type, name)`.
    pub const fn stray_omit(
        root: Option<&'static Table>,
        parents: &[&str],
        c_names: &[&str],
    ) -> Option<(&'static str, &'static str)> {
        let Some(table) = table_at(root, parents) else {
            return None;
        };
        let mut i = 0;
        while i < table.omitted.len() {
            if !contains(c_names, table.omitted[i]) {
                return Some((table.rust_name, table.omitted[i]));
            }
            i += 1;
        }
        None
    }

    /// A field of the table reached through `parents` whose C name is none
    /// of `c_names`: `(type, field, C name)`.
    pub const fn stray(
        root: Option<&'static Table>,
        parents: &[&str],
        c_names: &[&str],
    ) -> Option<(&'static str, &'static str, &'static str)> {
        let Some(table) = table_at(root, parents) else {
            return None;
        };
        let mut i = 0;
        'members: while i < table.members.len() {
            let m = &table.members[i];
            i += 1;
            if m.padding || m.c_name.is_empty() {
                continue;
            }
            let mut j = 0;
            while j < c_names.len() {
                if str_eq(m.c_name, c_names[j]) {
                    continue 'members;
                }
                j += 1;
            }
            return Some((table.rust_name, m.rust_name, m.c_name));
        }
        None
    }

    /// For a check by C member names (`path`, array steps left out, keywords
    /// unraw): the type that lacks a field for the last one, when the others
    /// are there.
    pub const fn missing_name(root: Option<&'static Table>, path: &[&str]) -> Option<&'static str> {
        let Some(mut table) = root else {
            return None;
        };
        let mut i = 0;
        while i < path.len() {
            let mut found = None;
            let mut j = 0;
            while j < table.members.len() {
                if str_eq(unraw(table.members[j].rust_name), path[i]) {
                    found = Some(&table.members[j]);
                    break;
                }
                j += 1;
            }
            match found {
                None if i + 1 == path.len() => return Some(table.rust_name),
                Some(Member {
                    table: Some(inner), ..
                }) => table = inner,
                _ => return None,
            }
            i += 1;
        }
        None
    }

    /// The [`Member`] of a field of type `T`; compiles only for plain field
    /// types.
    pub const fn member<T: RingField>(
        c_name: &'static str,
        rust_name: &'static str,
        offset: usize,
        padding: bool,
    ) -> Member {
        Member {
            c_name,
            rust_name,
            offset,
            size: size_of::<T>(),
            elem_size: T::ELEM_SIZE,
            kind: T::KIND,
            padding,
            table: T::TABLE,
            proven: T::PROVEN,
        }
    }

    /// Whether a type of `size` bytes with the fields of `table` is proven
    /// on its own: every field's type is, and the fields' sizes add up to
    /// `size` (no implicit padding) unless `padding_free` says so already
    /// (a union, `packed`, `transparent`).
    pub const fn proven(table: &Table, size: usize, padding_free: bool) -> bool {
        let mut sum = 0;
        let mut i = 0;
        while i < table.members.len() {
            if !table.members[i].proven {
                return false;
            }
            sum += table.members[i].size;
            i += 1;
        }
        padding_free || sum == size
    }

    /// A message built at compile time, with numbers the compiler knows
    /// (the checks' panics).
    #[derive(Debug, Clone, Copy)]
    pub struct Message {
        buf: [u8; 2048],
        len: usize,
    }

    impl Message {
        pub const fn new() -> Self {
            Self {
                buf: [0; 2048],
                len: 0,
            }
        }

        pub const fn str(mut self, s: &str) -> Self {
            let b = s.as_bytes();
            let mut i = 0;
            while i < b.len() && self.len < self.buf.len() {
                self.buf[self.len] = b[i];
                self.len += 1;
                i += 1;
            }
            self
        }

        pub const fn num(mut self, mut n: usize) -> Self {
            let mut digits = [0u8; 20];
            let mut k = 0;
            loop {
                digits[k] = b'0' + (n % 10) as u8;
                k += 1;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            while k > 0 && self.len < self.buf.len() {
                k -= 1;
                self.buf[self.len] = digits[k];
                self.len += 1;
            }
            self
        }

        /// `1 byte`, `4 bytes`.
        pub const fn bytes(self, n: usize) -> Self {
            self.num(n).str(if n == 1 { " byte" } else { " bytes" })
        }

        /// ``; write `field: T` ``, when C's type has a Rust one (`ty`).
        pub const fn fix(self, field: &str, ty: &str) -> Self {
            if ty.is_empty() {
                return self;
            }
            self.str("; write `").str(field).str(": ").str(ty).str("`")
        }

        pub const fn as_str(&self) -> &str {
            match std::str::from_utf8(self.buf.split_at(self.len).0) {
                Ok(s) => s,
                Err(_) => "",
            }
        }
    }

    impl Default for Message {
        fn default() -> Self {
            Self::new()
        }
    }

    /// The size of the field a projection reaches.
    pub const fn size_of_field<T, F>(_: fn(&T) -> &F) -> usize {
        size_of::<F>()
    }

    /// The message for offset `i` of `all` (Rust's, C's), unless it matches
    /// C or continues the shift of the offset before it: one mistake that
    /// shifts the fields after it is reported once.
    pub const fn shifted(
        all: &[(usize, usize)],
        i: usize,
        head: &str,
        tail: &str,
    ) -> Option<Message> {
        let (rust, c) = all[i];
        if rust == c {
            return None;
        }
        let shift = rust as isize - c as isize;
        if i > 0 && all[i - 1].0 as isize - all[i - 1].1 as isize == shift {
            return None;
        }
        let mut later = 0;
        while i + later + 1 < all.len()
            && all[i + later + 1].0 as isize - all[i + later + 1].1 as isize == shift
        {
            later += 1;
        }
        let mut m = Message::new().str(head).num(rust).str(tail);
        if later > 0 {
            m = m
                .str("; the ")
                .num(later)
                .str(if later == 1 {
                    " field after it is"
                } else {
                    " fields after it are"
                })
                .str(" shifted by ")
                .str(if shift < 0 { "-" } else { "" })
                .bytes(shift.unsigned_abs())
                .str(" too");
        }
        Some(m)
    }

    /// The message when no padding field (`(name, offset, size)`) holds
    /// bits `start..end`.
    pub const fn uncovered(
        paddings: &[(&str, usize, usize)],
        start: u64,
        end: u64,
        message: &str,
    ) -> Option<Message> {
        let mut i = 0;
        while i < paddings.len() {
            let (_, offset, size) = paddings[i];
            if (offset as u64) * 8 <= start && end <= ((offset + size) as u64) * 8 {
                return None;
            }
            i += 1;
        }
        let mut m = Message::new().str(message).str(" (padding fields: ");
        let mut i = 0;
        while i < paddings.len() {
            let (name, offset, size) = paddings[i];
            if i > 0 {
                m = m.str(", ");
            }
            m = m
                .str("`")
                .str(name)
                .str("` bytes ")
                .num(offset)
                .str("..")
                .num(offset + size);
            i += 1;
        }
        Some(m.str(")"))
    }

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
        type __Layout = super::__private::Proven;

        fn __view(bytes: &[u8]) -> Option<&Self> {
            Self::ref_from_prefix(bytes).ok().map(|(view, _)| view)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::__private::{
        member, missing_name, nested_member, stray, Arm, Found, Kind, Member, Mismatch, Table,
    };
    use super::test_events::Word;

    /// `struct point { __u32 x; __u32 y; }` as a Rust type names it:
    /// `x` renamed, `y` covered by padding.
    const POINT: Table = Table {
        rust_name: "Point",
        members: &[
            member::<u32>("x", "left", 0, false),
            member::<[u8; 4]>("", "_y", 4, true),
        ],
        kind: Kind::Composite,
        omitted: &[],
    };

    /// `struct seg { struct point from; float len; }`.
    const SEG: Table = Table {
        rust_name: "Seg",
        members: &[
            Member {
                table: Some(&POINT),
                ..member::<[u32; 2]>("from", "start", 0, false)
            },
            member::<f32>("len", "len", 8, false),
        ],
        kind: Kind::Composite,
        omitted: &[],
    };

    /// A field whose type implements `RingEvent` by hand: no table.
    const HAND: Table = Table {
        rust_name: "Hand",
        members: &[member::<Word>("w", "w", 0, false)],
        kind: Kind::Composite,
        omitted: &[],
    };

    const fn arm(c_name: &'static str, size: usize, kind: Kind) -> Arm {
        Arm {
            c_name,
            size,
            elem_size: size,
            kind: Some(kind),
        }
    }

    #[test]
    fn members_are_found_by_c_name_through_the_tables() {
        let x = [arm("x", 4, Kind::Int)];
        assert!(matches!(
            nested_member(Some(&SEG), &["from"], 0, 0, 32, &x),
            Found::Ok
        ));
        // `y` has no field, and the padding covers it.
        let y = [arm("y", 4, Kind::Int)];
        assert!(matches!(
            nested_member(Some(&SEG), &["from"], 4, 32, 64, &y),
            Found::Ok
        ));
        // At another offset, the padding does not.
        assert!(matches!(
            nested_member(Some(&SEG), &["from"], 6, 48, 80, &y),
            Found::Missing { rust_name: "Point" }
        ));
        // A member on the way that is not there: reported by its own check.
        assert!(matches!(
            nested_member(Some(&SEG), &["to"], 0, 0, 32, &x),
            Found::Skip
        ));
        assert!(matches!(
            nested_member(None, &[], 0, 0, 32, &x),
            Found::Skip
        ));
    }

    #[test]
    fn mismatches_name_the_field() {
        let found = nested_member(Some(&SEG), &["from"], 4, 32, 64, &[arm("x", 4, Kind::Int)]);
        let Found::Mismatch {
            what,
            arm: 0,
            member,
            rust_name: "Point",
        } = found
        else {
            panic!("{found:?}");
        };
        assert_eq!(
            (what, member.rust_name, member.offset),
            (Mismatch::Offset, "left", 0)
        );
        let found = nested_member(Some(&SEG), &[], 8, 64, 96, &[arm("len", 4, Kind::Int)]);
        assert!(matches!(
            found,
            Found::Mismatch {
                what: Mismatch::Kind,
                ..
            }
        ));
        let found = nested_member(Some(&SEG), &[], 8, 64, 128, &[arm("len", 8, Kind::Float)]);
        assert!(matches!(
            found,
            Found::Mismatch {
                what: Mismatch::Size,
                ..
            }
        ));
        // A C struct standing for a type without a table.
        let found = nested_member(Some(&HAND), &[], 0, 0, 64, &[arm("w", 8, Kind::Composite)]);
        assert!(matches!(
            found,
            Found::Mismatch {
                what: Mismatch::NoTable,
                ..
            }
        ));
    }

    #[test]
    fn union_arms_past_the_largest_present_need_padding() {
        // `union { __u32 x; __u8 raw[8]; }` with only `x`, then with padding
        // after it.
        let arms = [
            arm("x", 4, Kind::Int),
            Arm {
                c_name: "raw",
                size: 8,
                elem_size: 1,
                kind: Some(Kind::Int),
            },
        ];
        const ONE_ARM: Table = Table {
            rust_name: "OneArm",
            members: &[member::<u32>("x", "x", 0, false)],
            kind: Kind::Composite,
            omitted: &[],
        };
        assert!(matches!(
            nested_member(Some(&ONE_ARM), &[], 0, 0, 64, &arms),
            Found::Uncovered { from: 4, .. }
        ));
        const PADDED: Table = Table {
            rust_name: "Padded",
            members: &[
                member::<u32>("x", "x", 0, false),
                member::<u32>("", "_rest", 4, true),
            ],
            kind: Kind::Composite,
            omitted: &[],
        };
        assert!(matches!(
            nested_member(Some(&PADDED), &[], 0, 0, 64, &arms),
            Found::Ok
        ));
    }

    #[test]
    fn strays_and_missing_names() {
        assert_eq!(stray(Some(&SEG), &[], &["from", "len"]), None);
        assert_eq!(
            stray(Some(&SEG), &["from"], &["xx", "y"]),
            Some(("Point", "left", "x"))
        );
        // By Rust names: `Point` has no `x`.
        assert_eq!(missing_name(Some(&SEG), &["start", "x"]), Some("Point"));
        assert_eq!(missing_name(Some(&SEG), &["start", "left"]), None);
        // A prefix missing is its own check's to report.
        assert_eq!(missing_name(Some(&SEG), &["from", "x"]), None);
    }
}

#[cfg(test)]
mod union_tests {
    use super::__private::{
        member, nested_member, stray_omit, union_arm, Arm, Found, Kind, Mismatch, Table,
    };

    /// `union { __u32 v4; __u8 v6[16]; __u64 raw[2]; }` as a Rust union with
    /// `v4` renamed, `v6` as is, and `raw` omitted.
    const IP: Table = Table {
        rust_name: "Ip",
        members: &[
            member::<u32>("v4", "ipv4", 0, false),
            member::<[u8; 16]>("v6", "v6", 0, false),
        ],
        kind: Kind::Union,
        omitted: &["raw"],
    };

    const fn arm(c_name: &'static str, size: usize, elem_size: usize, kind: Kind) -> Arm {
        Arm {
            c_name,
            size,
            elem_size,
            kind: Some(kind),
        }
    }

    #[test]
    fn a_rust_union_is_checked_arm_by_arm() {
        let v4 = arm("v4", 4, 4, Kind::Int);
        assert!(matches!(union_arm(Some(&IP), &[], 0, &v4), Found::Ok));
        // An omitted arm needs no field.
        let raw = arm("raw", 16, 8, Kind::Int);
        assert!(matches!(union_arm(Some(&IP), &[], 0, &raw), Found::Ok));
        // An arm neither matched nor omitted.
        let other = arm("other", 8, 8, Kind::Int);
        assert!(matches!(
            union_arm(Some(&IP), &[], 0, &other),
            Found::MissingArm { rust_name: "Ip" }
        ));
        // Each arm's element size and kind.
        let v6 = arm("v6", 16, 4, Kind::Int);
        assert!(matches!(
            union_arm(Some(&IP), &[], 0, &v6),
            Found::Mismatch { member, .. } if member.rust_name == "v6"
        ));
        let v4 = arm("v4", 4, 4, Kind::Float);
        assert!(matches!(
            union_arm(Some(&IP), &[], 0, &v4),
            Found::Mismatch { .. }
        ));
        // The group check leaves a Rust union to the arms' checks.
        assert!(matches!(
            nested_member(Some(&IP), &[], 0, 0, 128, &[arm("v4", 4, 4, Kind::Int)]),
            Found::Skip
        ));
        assert_eq!(stray_omit(Some(&IP), &[], &["v4", "v6", "raw"]), None);
        assert_eq!(
            stray_omit(Some(&IP), &[], &["v4", "v6"]),
            Some(("Ip", "raw"))
        );
    }

    #[test]
    fn a_struct_stands_for_one_arm_and_a_union_only_for_a_union() {
        // A struct for a C union (one arm of it): fits.
        const HOLDER: Table = Table {
            rust_name: "Holder",
            members: &[super::__private::Member {
                kind: Kind::Composite,
                elem_size: 16,
                table: Some(&IP),
                ..member::<[u8; 16]>("u", "u", 0, false)
            }],
            kind: Kind::Composite,
            omitted: &[],
        };
        let union = arm("u", 16, 16, Kind::Union);
        assert!(matches!(
            nested_member(Some(&HOLDER), &[], 0, 0, 128, &[union]),
            Found::Ok
        ));
        // A union for a C struct: does not.
        const WRONG: Table = Table {
            rust_name: "Wrong",
            members: &[super::__private::Member {
                kind: Kind::Union,
                elem_size: 16,
                table: Some(&IP),
                ..member::<[u8; 16]>("s", "s", 0, false)
            }],
            kind: Kind::Composite,
            omitted: &[],
        };
        let strukt = arm("s", 16, 16, Kind::Composite);
        assert!(matches!(
            nested_member(Some(&WRONG), &[], 0, 0, 128, &[strukt]),
            Found::Mismatch {
                what: Mismatch::Kind,
                ..
            }
        ));
    }
}
