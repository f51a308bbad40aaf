// A set made by `RingSet::new_local` may hold handlers that are not `Send`,
// so the set itself is not `Send`.
use ringview::RingSet;

fn send<T: Send>(_: T) {}

fn main() {
    let set = RingSet::new_local().unwrap();
    send(set);
}
