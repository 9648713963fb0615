//! Where the engine's large arrays live and how their reads are hurried.
//!
//! - `hugepages`: owned tables on transparent huge pages (fewer TLB
//!   misses for random reads);
//! - `storage`: read-only arrays on the heap or in a memory-mapped file,
//!   read the same way;
//! - `prefetch`: the cache hints of the hot loops (draws, membership tests,
//!   epoch shuffles).
//!
//! Private to the crate.

pub(crate) mod hugepages;
pub(crate) mod prefetch;
pub(crate) mod storage;
