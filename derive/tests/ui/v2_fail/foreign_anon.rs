// `check_layout!` checks the members of anonymous structs and unions
// exactly, through the fields `anon` names: two equal-size members swapped
// inside one arm of a union of anonymous structs, and a union arm of the
// wrong size, are caught. Without `anon`, or with too few names, the
// message says which fields to name.
#[allow(non_camel_case_types)]
mod types {
    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct mount_event {
        pub op: u32,
        pub pid: u32,
        pub __anon_1: __anon_1,
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub union __anon_1 {
        pub mount: __anon_2,
        pub umount: __anon_3,
    }

    // `source` and `target` swapped.
    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct __anon_2 {
        pub flags: u64,
        pub target: [u8; 16],
        pub source: [u8; 16],
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct __anon_3 {
        pub flags: u64,
        pub target: [u8; 16],
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub struct conn_event {
        pub pid: u32,
        pub family: u16,
        pub port: u16,
        pub __anon_4: __anon_4,
        pub __anon_5: __anon_5,
    }

    // `saddr_v4` is 8 bytes here, 4 in C.
    #[derive(Copy, Clone)]
    #[repr(C)]
    pub union __anon_4 {
        pub saddr_v4: u64,
        pub saddr_v6: [u8; 16],
    }

    #[derive(Copy, Clone)]
    #[repr(C)]
    pub union __anon_5 {
        pub daddr_v4: u32,
        pub daddr_v6: [u8; 16],
    }
}

ringview::check_layout!(
    types::mount_event,
    btf = "../../btf/tools.bpf.o",
    anon = ["__anon_1"]
);

ringview::check_layout!(
    types::conn_event,
    btf = "../../btf/tools.bpf.o",
);

ringview::check_layout!(
    types::conn_event,
    btf = "../../btf/tools.bpf.o",
    anon = ["__anon_4", "__anon_5"],
);

// One name for two anonymous members.
ringview::check_layout!(
    types::conn_event,
    btf = "../../btf/tools.bpf.o",
    anon = ["__anon_4"],
);

fn main() {}
