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
//! - [`softmax_sampling`]: a batch's shared candidates for sampled softmax
//!   (log Q, TensorFlow's expected counts) and accidental-hit masks.
//! - [`rng`]: counter-based random streams, so that output depends only on
//!   the seed, the call number and the arguments.
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

pub mod alias;
pub mod batch;
pub mod csr;
pub mod dot;
pub mod epoch;
pub mod error;
pub mod evaluate;
pub mod exclusion;
pub mod hard;
pub mod hugepages;
pub mod io;
pub mod kernel;
mod pair_filter;
pub mod parallel;
pub mod rng;
mod row_scan;
pub mod sampler;
pub mod shard;
pub mod softmax_sampling;
pub mod storage;

pub use alias::AliasTable;
pub use batch::{PairwiseBatch, PairwiseOut, PointwiseBatch, PointwiseOut};
pub use csr::Interactions;
pub use epoch::{Epoch, EpochOptions, Shape};
pub use error::{Error, Result};
pub use hard::{Embeddings, HardOptions, HardOut, Layout, Strategy};
pub use sampler::{Proposal, Sampler, DEFAULT_ALPHA};
