// A kernel struct checked against the kernel's own raw BTF
// (`/sys/kernel/btf/vmlinux`, present on every kernel built with
// CONFIG_DEBUG_INFO_BTF, as on the test and CI machines).
use ringview::RingEvent;
use zerocopy::byteorder::{BigEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
#[ring_event(btf = "/sys/kernel/btf/vmlinux", name = "tcphdr")]
struct TcpHdr {
    source: U16<BigEndian>,
    dest: U16<BigEndian>,
    seq: U32<BigEndian>,
    ack_seq: U32<BigEndian>,
    // `res1:4, doff:4, fin:1, ...` (`ae:1, res1:3, ...` since 6.8).
    #[ring_event(padding)]
    flags: u16,
    window: U16<BigEndian>,
    check: u16,
    urg_ptr: U16<BigEndian>,
}

fn main() {
    assert_eq!(TcpHdr::SIZE, 20);
}
