//! The draw machinery: everything between a seed and a run of items.
//!
//! - `alias`: the proposal distribution as a Vose alias table
//!   ([`AliasTable`], 8 bytes per item, O(1) per draw);
//! - `rng`: counter-based random streams ([`Stream`]), so that every word is
//!   a pure function of (seed, domain, call, block, counter);
//! - `kernel`: the loops that turn a run of counters into items
//!   ([`Kernel`]: scalar, AVX2, AVX-512, NEON; the same bits on each);
//! - `parallel`: the thread pools that share a large call's blocks.
//!
//! Private to the crate; the crate root re-exports the public types.

pub(crate) mod alias;
pub(crate) mod kernel;
pub(crate) mod parallel;
pub(crate) mod rng;

pub use alias::{AliasTable, CompactSlots, MAX_ITEMS};
pub use kernel::{fill_picks, fill_picks_scalar, fill_picks_with, Kernel, BLOCK};
pub use parallel::{default_threads, MAX_THREADS, PARALLEL_MIN};
pub use rng::{mix64, Domain, Stream};
