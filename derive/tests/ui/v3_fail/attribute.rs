// A forgotten casting derive gets a message saying what to add; the
// attribute refuses the derives it adds itself, and unknown arguments.
use ringview::RingEvent;

#[derive(RingEvent)]
#[repr(C)]
struct Forgotten {
    pid: u32,
}

#[ringview::event]
#[derive(Debug, RingEvent)]
struct Twice {
    pid: u32,
}

#[ringview::event(btf = "../../btf/tools.bpf.o", nmae = "stack_event")]
struct Typo {
    pid: u32,
}

fn main() {}
