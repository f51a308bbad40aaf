use ringview::RingEvent;

#[derive(RingEvent)]
#[repr(C)]
struct Forbidden {
    flag: bool,
    letter: char,
    name: [char; 4],
    len: usize,
    off: isize,
    wide: u128,
    maybe: Option<u32>,
}

fn main() {}
