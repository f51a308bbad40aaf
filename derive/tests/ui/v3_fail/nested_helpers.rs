// A helper type with implicit padding and no BPF object is not read on its
// own, nor is a type that holds one: no check proved where its padding is.
use ringview::{RingEvent, UnsafeReader};
use zerocopy::{FromBytes, Immutable, KnownLayout};

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Tagged {
    tag: u8,
    value: u32,
}

#[derive(FromBytes, Immutable, KnownLayout, RingEvent)]
#[repr(C)]
struct Holder {
    tagged: Tagged,
}

fn read_tagged(_reader: &mut UnsafeReader<Tagged>) {}

fn read_holder(reader: &mut UnsafeReader) {
    let _ = reader.read::<Holder>();
}

fn main() {}
