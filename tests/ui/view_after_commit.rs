use ringview::testing::MemoryRing;
use ringview::UnsafeReader;

fn main() {
    let ring = MemoryRing::new(4096).unwrap();
    // SAFETY: the only consumer.
    let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring.ring_buf()) }.unwrap();
    let view = reader.read::<[u8]>().unwrap();
    reader.commit();
    println!("{view:?}");
}
