// `check_layout!` and `ring_event!` on types whose layout differs from C,
// and without the `unsafe` that `ring_event!` asks for.
#[allow(non_camel_case_types)]
mod types {
    // `tid` and `pid` swapped, `ts` too narrow.
    #[repr(C)]
    pub struct stack_event {
        pub tid: u32,
        pub pid: u32,
        pub ts: u32,
        pub comm: [u8; 20],
    }

    // `comm` as `u32`s.
    #[derive(zerocopy::FromBytes, zerocopy::Immutable, zerocopy::KnownLayout)]
    #[repr(C)]
    pub struct wide_comm {
        pub pid: u32,
        pub tid: u32,
        pub ts: u64,
        pub comm: [u32; 4],
    }

    // No `comm`: a member the type lacks is named by the compiler.
    #[repr(C)]
    pub struct no_comm {
        pub pid: u32,
        pub tid: u32,
        pub ts: u64,
        pub rest: [u8; 16],
    }
}

ringview::check_layout!(
    types::stack_event,
    btf = "../../btf/tools.bpf.o",
    name = "stack_event"
);

ringview::ring_event!(
    unsafe impl for types::wide_comm,
    btf = "../../btf/tools.bpf.o",
    name = "stack_event"
);

ringview::ring_event!(
    impl for types::wide_comm,
    btf = "../../btf/tools.bpf.o",
    name = "stack_event"
);

ringview::check_layout!(
    types::no_comm,
    btf = "../../btf/tools.bpf.o",
    name = "stack_event"
);

ringview::check_layout!(types::stack_event, name = "stack_event");

fn main() {}
