//! One consumer per ring: a second reader of the same map in this process
//! is refused however the map was opened, and a consumer outside the
//! library that moves the consumer position stops the reader before it
//! hands out a byte.

mod common;

use common::{expected_payload, Producer};
use ringview::{PublishPolicy, ReadError, Reader, ReaderError, RingBuf, RingId, UnsafeReader};

fn assert_refused(err: ReaderError, id: u32) {
    assert!(
        matches!(err, ReaderError::AlreadyConsumed { ring: RingId::Map(found) } if found == id),
        "{err:?}"
    );
    assert!(err.to_string().contains(&format!("map id {id}")), "{err}");
}

#[test]
fn a_second_reader_of_one_map_is_refused_however_it_was_opened() {
    require_kernel!();
    let producer = Producer::new(4096);
    let pin = producer.pin_ring("second_reader");
    let reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    let RingId::Map(id) = reader.ring().id() else {
        panic!("a kernel ring has a map id");
    };
    let opened = [
        RingBuf::new(reader.ring()).unwrap(),
        RingBuf::new(producer.ring_fd()).unwrap(),
        RingBuf::from_pinned(&pin.path).unwrap(),
        RingBuf::from_map_id(id).unwrap(),
    ];
    for ring in opened {
        assert_eq!(ring.id(), RingId::Map(id));
        let second = RingBuf::new(&ring).unwrap();
        assert_refused(Reader::new(ring).unwrap_err(), id);
        // SAFETY: nothing outside this library consumes the ring.
        assert_refused(
            unsafe { UnsafeReader::<[u8]>::new(second) }.unwrap_err(),
            id,
        );
    }
    // Once the first reader is gone, the map can be read again.
    drop(reader);
    producer.emit(1, 16, 3, 0);
    let mut again = Reader::new(RingBuf::from_pinned(&pin.path).unwrap()).unwrap();
    assert_eq!(again.read().unwrap().sample, expected_payload(3, 16));
}

#[test]
fn a_consumer_outside_the_library_is_detected_before_any_byte() {
    require_kernel!();
    let mut producer = Producer::new(4096);
    // SAFETY: the test breaks the promise on purpose, to see the check
    // stop the reader; it reads no view after the other consumer moved.
    let mut reader =
        unsafe { UnsafeReader::<[u8]>::new(RingBuf::new(producer.ring_fd()).unwrap()) }.unwrap();
    producer.emit(1, 16, 0, 0);
    assert_eq!(reader.read::<[u8]>().unwrap(), &expected_payload(0, 16)[..]);
    reader.commit();
    let published = reader.positions().published;
    producer.emit(2, 16, 1, 0);
    // aya's reader consumes the two records behind ringview's back.
    let mut aya_ring = aya::maps::RingBuf::try_from(producer.map_mut("rb")).unwrap();
    for seq in 1..3 {
        let item = aya_ring.next().expect("a record for aya");
        assert_eq!(&*item, &expected_payload(seq, 16)[..]);
    }
    drop(aya_ring);
    producer.emit(200, 16, 3, 0);
    let err = reader.read::<[u8]>().unwrap_err();
    assert!(
        matches!(err, ReadError::ConsumerMoved { published: p, live } if p == published && live == published + 48),
        "{err:?}"
    );
    let live = reader.positions().published;
    drop(reader);
    let after = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    assert_eq!(
        after.positions().published,
        live,
        "the reader never stored its position over aya's"
    );
}

/// The safe copying reader beside another library's consumer (aya's safe
/// `RingBuf`), consuming between two records the reader had already seen
/// published: the producer reuses the space of the reader's next record,
/// header and all, and the reader refuses the copy instead of returning
/// another record's bytes as that one.
#[test]
fn a_copying_reader_never_returns_a_record_another_consumer_released() {
    require_kernel!();
    let mut producer = Producer::new(4096);
    let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    reader.set_publish_policy(PublishPolicy::EAGER);
    // Strides of 1024: the ring holds three, and a record written a ring
    // later lands exactly on an earlier one.
    producer.emit(3, 1016, 0, 0);
    assert_eq!(reader.read().unwrap().sample, expected_payload(0, 1016));
    assert_eq!(reader.positions().published, 1024);
    // aya consumes records 1 and 2 behind the reader's back; the producer
    // then writes 3, 4 and 5, and 5 lands where 1 was.
    let mut aya_ring = aya::maps::RingBuf::try_from(producer.map_mut("rb")).unwrap();
    for seq in 1..3 {
        let item = aya_ring.next().expect("a record for aya");
        assert_eq!(&*item, &expected_payload(seq, 1016)[..]);
    }
    drop(aya_ring);
    producer.emit(3, 1016, 3, 0);
    match reader.read() {
        Err(ReadError::ConsumerMoved {
            published: 1024,
            live: 3072,
        }) => {}
        Ok(record) => panic!(
            "returned a record of sequence {} where 1 belonged",
            common::seq_of(&record.sample)
        ),
        Err(err) => panic!("{err:?}"),
    }
    drop(reader);
    let after = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
    assert_eq!(
        after.positions().published,
        3072,
        "the reader never stored its position over aya's"
    );
}
