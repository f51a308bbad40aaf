use ringview::RingEvent;

#[derive(RingEvent)]
#[repr(C)]
struct Pointers<'a> {
    name: &'a [u8; 4],
    task: *const u8,
}

fn main() {}
