//! # negsample-core
//!
//! The engine behind the `negsample` Node.js package: negative sampling for
//! training recommenders and embedding models on implicit feedback.
//!
//! - [`Interactions`]: the positives as a CSR matrix, rows sorted and
//!   de-duplicated.
//! - [`AliasTable`]: a proposal distribution (uniform, popularity^alpha or
//!   caller weights) in Vose alias form, 8 bytes per item, O(1) per draw.
//! - [`Sampler`]: negatives for a batch of users, never a positive of their
//!   user, distributed exactly as the proposal restricted to the user's
//!   non-positives; pairwise and pointwise batches; shuffled epochs.
//! - [`hard`]: dynamic hard negatives (DNS and its softmax variant) scored
//!   with [`dot`] products that give the same bits on every instruction set.
//! - [`sampled_softmax`]: a batch's shared candidates for sampled softmax
//!   (log Q, TensorFlow's expected counts) and accidental-hit masks.
//! - [`Stream`]: counter-based random streams, so that output depends only on
//!   the seed, the call number and the arguments; [`Kernel`]: the vector
//!   loops that turn them into draws, bit for bit the same on every
//!   instruction set.
//! - [`Epoch`] and [`batch`]: shuffled epochs of training batches;
//!   [`shard`]: the same for data-parallel workers; [`evaluate`]: ranking
//!   metrics; [`io`]: loaders, writers and the memory-mapped file format.
//!
//! # Layout
//! The modules a caller names by path are public (`batch`, `dot`, `epoch`,
//! `error`, `evaluate`, `hard`, `interactions`, `io`, `sampled_softmax`,
//! `sampler`, `shard`); the machinery under them is private and its few
//! public types are re-exported here:
//!
//! - `draw`: alias tables, random streams, draw kernels and thread pools;
//! - `membership`: the test "is this item a positive of this user?"
//!   (bitmaps, binary search, vector row scans, the pair filter);
//! - `memory`: huge pages, memory-mapped storage and prefetch hints.
//!
//! This crate knows nothing of JavaScript; `negsample-node` binds it.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use negsample_core::{Interactions, Proposal, Sampler};
//!
//! let positives = Interactions::from_coo(&[0, 0, 1], &[0, 2, 1], None, Some(4)).unwrap();
//! let sampler = Sampler::new(Arc::new(positives), &Proposal::Uniform, 42).unwrap();
//! let mut negatives = [0u32; 6];
//! sampler.negatives_into(&[0, 1], 3, sampler.next_call(), &mut negatives).unwrap();
//! assert!(negatives[..3].iter().all(|&i| i == 1 || i == 3));
//! assert!(negatives[3..].iter().all(|&i| i != 1));
//! ```

#![deny(missing_docs)]

pub mod batch;
pub mod dot;
mod draw;
pub mod epoch;
pub mod error;
pub mod evaluate;
pub mod hard;
pub mod interactions;
pub mod io;
mod membership;
mod memory;
pub mod sampled_softmax;
pub mod sampler;
pub mod shard;

pub use batch::{PairwiseBatch, PairwiseOut, PointwiseBatch, PointwiseOut};
pub use draw::{
    default_threads, fill_picks, fill_picks_scalar, fill_picks_with, mix64, AliasTable,
    CompactSlots, Domain, Kernel, Stream, BLOCK, MAX_ITEMS, MAX_THREADS, PARALLEL_MIN,
};
pub use epoch::{Epoch, EpochOptions, Shape};
pub use error::{Error, Result};
pub use hard::{Embeddings, HardOptions, HardOut, Layout, Strategy};
pub use interactions::Interactions;
pub use membership::{Exclusion, BITMAP_COST};
pub use sampler::{Proposal, Sampler, DEFAULT_ALPHA};

/// Engine internals that the speed probes (`benches/*.rs`) and the tests
/// reach into: not part of the API, and free to change.
#[doc(hidden)]
pub mod probe {
    pub use crate::draw::alias::split_word;
    #[cfg(target_arch = "x86_64")]
    pub use crate::draw::kernel::x86::{
        mix64_avx512, pick_digests_avx512, product_avx512, split_products_avx512,
    };
    pub use crate::draw::rng::{GAMMA, MIX64_M1, MIX64_M2};
}
