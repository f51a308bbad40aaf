//! The async readers on async-io, smol's reactor (the `async-io`
//! feature): [`AsyncReader`], [`AsyncUnsafeReader`] and [`AsyncRingSet`],
//! the same types as tokio's [`crate::AsyncReader`],
//! [`crate::AsyncUnsafeReader`] and [`crate::AsyncRingSet`] (the generic
//! ones of [`crate::reactor`]) on async-io's reactor. (tokio's
//! [`crate::AsyncUserRingBuf`] has no async-io form yet.)
//!
//! They work under any executor that runs async-io's reactor: smol,
//! `async_io::block_on`, `async-executor`, or none at all (async-io then
//! drives its reactor on a thread of its own), so making one needs no
//! runtime, unlike on tokio.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ringview::async_io::AsyncReader;
//! use ringview::{Reader, RingBuf};
//!
//! let ring = RingBuf::from_pinned("/sys/fs/bpf/events")?;
//! let mut reader = AsyncReader::new(Reader::new(ring)?)?;
//! smol::block_on(async {
//!     loop {
//!         let record = reader.read().await?;
//!         println!("{} bytes", record.sample.len());
//!     }
//! })
//! # }
//! ```

pub(crate) mod reactor;
pub(crate) mod reader;
pub(crate) mod ring_set;

#[cfg(feature = "stream")]
#[cfg_attr(docsrs, doc(cfg(feature = "stream")))]
pub use reader::StreamAs;
pub use reader::{AsyncReader, AsyncUnsafeReader, ReadFuture};
pub use ring_set::AsyncRingSet;
