//! 50 event types, each checked against the kernel's BTF: four kernel
//! structs, stamped out under 50 names (each a derive of its own).

macro_rules! events {
    ($($tcp:ident $udp:ident $eth:ident $ip:ident $ipv6:ident;)*) => { $(
        #[ringview::event(btf = "/sys/kernel/btf/vmlinux", name = "tcphdr")]
        pub struct $tcp {
            pub source: u16,
            pub dest: u16,
            pub seq: u32,
            pub ack_seq: u32,
            #[ring_event(padding)]
            pub flags: u16,
            pub window: u16,
            pub check: u16,
            pub urg_ptr: u16,
        }

        #[ringview::event(btf = "/sys/kernel/btf/vmlinux", name = "udphdr")]
        pub struct $udp {
            pub source: u16,
            pub dest: u16,
            pub len: u16,
            pub check: u16,
        }

        #[ringview::event(btf = "/sys/kernel/btf/vmlinux", name = "ethhdr")]
        pub struct $eth {
            pub h_dest: [u8; 6],
            pub h_source: [u8; 6],
            pub h_proto: u16,
        }

        #[ringview::event(btf = "/sys/kernel/btf/vmlinux", name = "iphdr")]
        pub struct $ip {
            // `__u8 ihl:4, version:4;`
            #[ring_event(padding)]
            pub version_ihl: u8,
            pub tos: u8,
            pub tot_len: u16,
            pub id: u16,
            pub frag_off: u16,
            pub ttl: u8,
            pub protocol: u8,
            pub check: u16,
            pub saddr: u32,
            pub daddr: u32,
        }

        #[ringview::event(btf = "/sys/kernel/btf/vmlinux", name = "in6_addr")]
        pub struct $ipv6 {
            // `union { __u8 u6_addr8[16]; __be16 u6_addr16[8]; __be32 u6_addr32[4]; } in6_u;`
            #[ring_event(padding)]
            pub in6_u: [u8; 16],
        }
    )* };
}

events! {
    Tcp0 Udp0 Eth0 Ip0 In6Addr0;
    Tcp1 Udp1 Eth1 Ip1 In6Addr1;
    Tcp2 Udp2 Eth2 Ip2 In6Addr2;
    Tcp3 Udp3 Eth3 Ip3 In6Addr3;
    Tcp4 Udp4 Eth4 Ip4 In6Addr4;
    Tcp5 Udp5 Eth5 Ip5 In6Addr5;
    Tcp6 Udp6 Eth6 Ip6 In6Addr6;
    Tcp7 Udp7 Eth7 Ip7 In6Addr7;
    Tcp8 Udp8 Eth8 Ip8 In6Addr8;
    Tcp9 Udp9 Eth9 Ip9 In6Addr9;
}
