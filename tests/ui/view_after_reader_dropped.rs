use ringview::testing::MemoryRing;
use ringview::UnsafeReader;

fn main() {
    let ring = MemoryRing::new(4096).unwrap();
    // SAFETY: the only consumer.
    let mut reader = unsafe { UnsafeReader::<u64>::new(ring.ring_buf()) }.unwrap();
    let view = reader.read().unwrap();
    drop(reader);
    println!("{view}");
}
