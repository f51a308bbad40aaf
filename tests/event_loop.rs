//! Non-blocking reads in the caller's own poller: an edge-triggered epoll
//! on the reader's descriptor, drained with `try_read` after each event,
//! with a producer on another thread. No record may be lost and no wakeup
//! missed, for both readers and both publish policies.

mod common;

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use common::{seq_of, Producer};
use ringview::{PublishPolicy, Reader, RingBuf, UnsafeReader};

const RECORDS: u64 = 20_000;
const RUNS: usize = 100;

/// An edge-triggered epoll instance watching `fd`.
struct EdgePoller {
    epoll: OwnedFd,
}

impl EdgePoller {
    fn new(fd: impl AsFd) -> Self {
        // SAFETY: no memory preconditions.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(raw >= 0, "epoll_create1");
        // SAFETY: `raw` is a new descriptor nothing else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: 0,
        };
        // SAFETY: both descriptors are live; `event` is read by the call.
        let ret = unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_fd().as_raw_fd(),
                &mut event,
            )
        };
        assert_eq!(ret, 0, "epoll_ctl");
        Self { epoll }
    }

    /// Waits for an edge; fails the test after `timeout` without one.
    fn wait(&self, timeout: Duration) {
        let mut event = libc::epoll_event { events: 0, u64: 0 };
        loop {
            // SAFETY: `event` is writable for the one entry passed.
            let n = unsafe {
                libc::epoll_wait(
                    self.epoll.as_raw_fd(),
                    &mut event,
                    1,
                    timeout.as_millis() as i32,
                )
            };
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            assert!(
                n > 0,
                "no readiness edge within {timeout:?}: a missed wakeup"
            );
            return;
        }
    }
}

/// Emits records `0..RECORDS` of 16 bytes, retrying while the ring is full.
fn write_all(producer: &Producer) {
    let mut seq = 0;
    while seq < RECORDS {
        let count = (RECORDS - seq).min(64) as u32;
        let emitted = producer.emit(count, 16, seq, 0);
        seq += u64::from(emitted.emitted);
        if emitted.failed > 0 {
            std::thread::yield_now();
        }
    }
}

/// One run: a writer thread, and a loop that drains with `try_next` after
/// each edge. `try_next` returns the next sequence number, or `None`.
fn run<R: AsFd>(producer: &Producer, reader: &mut R, try_next: impl Fn(&mut R) -> Option<u64>) {
    let poller = EdgePoller::new(reader.as_fd());
    std::thread::scope(|s| {
        s.spawn(|| write_all(producer));
        let mut expected = 0;
        while expected < RECORDS {
            while let Some(seq) = try_next(reader) {
                assert_eq!(seq, expected, "records in order, none lost or repeated");
                expected += 1;
            }
            if expected < RECORDS {
                poller.wait(Duration::from_secs(10));
            }
        }
    });
    assert!(try_next(reader).is_none(), "nothing after the last record");
}

fn policies() -> [PublishPolicy; 2] {
    [PublishPolicy::default(), PublishPolicy::EAGER]
}

#[test]
fn copying_reader_in_an_edge_triggered_loop() {
    require_kernel!();
    for policy in policies() {
        for _ in 0..RUNS {
            let producer = Producer::new(4096);
            let mut reader = Reader::new(RingBuf::new(producer.ring_fd()).unwrap()).unwrap();
            reader.set_publish_policy(policy);
            run(&producer, &mut reader, |reader| {
                reader.try_read().unwrap().map(|r| seq_of(&r.sample))
            });
        }
    }
}

#[test]
fn zero_copy_reader_in_an_edge_triggered_loop() {
    require_kernel!();
    for policy in policies() {
        for _ in 0..RUNS {
            let producer = Producer::new(4096);
            let ring = RingBuf::new(producer.ring_fd()).unwrap();
            // SAFETY: nothing outside this library consumes the ring.
            let mut reader = unsafe { UnsafeReader::<[u8]>::new(ring) }.unwrap();
            reader.set_publish_policy(policy);
            run(&producer, &mut reader, |reader| {
                reader.try_read::<[u8]>().unwrap().map(seq_of)
            });
        }
    }
}
