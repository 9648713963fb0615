//! Epochs: every training positive once, in a random order, cut into
//! batches whose negatives are drawn in the same native pass.
//!
//! A trainer's loop is `for batch in epoch { train(batch) }`, one negative
//! (or a few) per positive. An [`Epoch`] holds the order of its positives
//! and fills any batch, or any run of batches, into caller buffers: the
//! gather of the batch's `(user, positive)` pairs, the draws and the
//! membership tests in one call, with no per-batch allocation.
//!
//! # The order
//! - [`Epoch::new`]: all of a sampler's positives, shuffled by
//!   [`shuffle`] (an exact uniform permutation, built in two cache-friendly
//!   passes).
//! - [`Epoch::for_shard`]: a data-parallel shard's slice of the keyed
//!   permutation of [`crate::shard`] (the same positives, in the same order,
//!   as [`Shard::positives_into`]).
//!
//! # Random streams (stream version 2)
//! An epoch takes **one** call number when it is created. The shuffle uses
//! that call's [`Domain::Shuffle`] streams; the negatives of batch `b` use
//! the streams of [`Domain::EpochNegatives`] keyed by the same call and
//! block `b * 2^20 + j` for the batch's `j`-th block of [`BLOCK`] outputs,
//! with the block rules of [`Sampler::negatives_into`] (first draws, then
//! redraws of hits in output order). So a batch's content depends only on
//! (seed, the epoch's call number, the batch's index, the options): not on
//! when the batch is filled, which thread fills it, how many batches are
//! filled together, or what other calls the sampler makes meanwhile.

use std::sync::Arc;

use crate::batch::{PairwiseOut, PointwiseOut};
use crate::error::{Error, Result};
use crate::kernel::BLOCK;
use crate::parallel::{self, PARALLEL_MIN};
use crate::rng::{Domain, Stream};
use crate::sampler::{Sampler, Scratch};
use crate::shard::{Permutation, Shard};

/// How a batch lays out its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `k` rows `(user, positive, negative)` per positive, the rows of one
    /// positive together.
    Pairwise,
    /// `1 + k` rows `(user, item, label)` per positive: the positive
    /// (label 1), then its `k` negatives (label 0).
    Pointwise,
}

/// The options of an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochOptions {
    /// Positives per batch (the last batch may have fewer).
    pub batch_size: usize,
    /// Negatives per positive (`k >= 1`).
    pub k: usize,
    /// The rows' layout.
    pub shape: Shape,
    /// Leave out the last batch if it has fewer than `batch_size`
    /// positives.
    pub drop_last: bool,
}

/// Where an epoch's positives come from, in order.
#[derive(Debug)]
enum Order {
    /// Every positive, shuffled: `(user << 32) | item`.
    Shuffled(Box<[u64]>),
    /// Positions `first .. first + len` of a shard permutation of the CSR
    /// positions.
    Shard {
        permutation: Permutation,
        first: u64,
        len: usize,
    },
}

/// One pass over training positives in batches, with negatives (see the
/// module documentation).
///
/// # Memory
/// 8 bytes per positive for a sampler's epoch (the shuffled pairs); none
/// per positive for a shard's.
#[derive(Debug)]
pub struct Epoch {
    sampler: Arc<Sampler>,
    order: Order,
    call: u64,
    options: EpochOptions,
    /// Rows per positive: `k` (pairwise) or `1 + k` (pointwise).
    rows_per_positive: usize,
    batches: usize,
}

/// An epoch's shuffled pairs go back to its sampler when it ends, for the
/// next epoch to reuse (no fresh pages to fault in every epoch).
impl Drop for Epoch {
    fn drop(&mut self) {
        if let Order::Shuffled(pairs) = &mut self.order {
            self.sampler.keep_epoch_buffer(std::mem::take(pairs));
        }
    }
}

/// One batch's job: its index in the run and its three output slices (the
/// third of element type `T`).
type BatchJob<'a, T> = (usize, ((&'a mut [u32], &'a mut [u32]), &'a mut [T]));

/// Per-thread working memory of [`Epoch`]'s fills.
#[derive(Debug, Default)]
struct EpochScratch {
    users: Vec<u32>,
    items: Vec<u32>,
    negatives: Vec<u32>,
    sampler: Scratch,
}

impl Epoch {
    /// A new epoch over every positive of `sampler`, shuffled: takes one
    /// call number and shuffles (on the sampler's threads for large
    /// matrices).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `batchSize` (0) or `k` (0, or a batch
    /// whose rows would not fit an output).
    ///
    /// # Performance
    /// O(nnz): about two passes over 8 bytes per positive.
    pub fn new(sampler: Arc<Sampler>, options: EpochOptions) -> Result<Self> {
        let rows_per_positive = check_options(&options)?;
        let call = sampler.next_call();
        let pairs = sampler.shuffled_pairs(call, sampler.take_epoch_buffer());
        Ok(Self::with_order(
            sampler,
            Order::Shuffled(pairs),
            call,
            options,
            rows_per_positive,
        ))
    }

    /// Shard `shard`'s part of epoch number `epoch`: its positives in the
    /// order of [`Shard::positives_into`]. Takes one of the shard's call
    /// numbers.
    ///
    /// # Errors
    /// As [`Epoch::new`].
    pub fn for_shard(shard: &Shard, epoch: u64, options: EpochOptions) -> Result<Self> {
        let rows_per_positive = check_options(&options)?;
        let call = shard.next_call();
        let order = Order::Shard {
            permutation: shard.permutation(epoch),
            first: shard.range().0,
            len: shard.len(),
        };
        Ok(Self::with_order(
            shard.sampler().clone(),
            order,
            call,
            options,
            rows_per_positive,
        ))
    }

    fn with_order(
        sampler: Arc<Sampler>,
        order: Order,
        call: u64,
        options: EpochOptions,
        rows_per_positive: usize,
    ) -> Self {
        let n = match &order {
            Order::Shuffled(pairs) => pairs.len(),
            Order::Shard { len, .. } => *len,
        };
        let batches = if options.drop_last {
            n / options.batch_size
        } else {
            n.div_ceil(options.batch_size)
        };
        Epoch {
            sampler,
            order,
            call,
            options,
            rows_per_positive,
            batches,
        }
    }

    /// The number of batches.
    pub fn batches(&self) -> usize {
        self.batches
    }

    /// The epoch's options.
    pub fn options(&self) -> &EpochOptions {
        &self.options
    }

    /// The call number the epoch took.
    pub fn call(&self) -> u64 {
        self.call
    }

    /// The number of positives in the epoch's order (all of them, also
    /// those a `drop_last` leaves out).
    pub fn positives(&self) -> usize {
        match &self.order {
            Order::Shuffled(pairs) => pairs.len(),
            Order::Shard { len, .. } => *len,
        }
    }

    /// Positives of batch `b` (`b < batches`).
    fn batch_positives(&self, b: usize) -> usize {
        let start = b * self.options.batch_size;
        self.options.batch_size.min(self.positives() - start)
    }

    /// Rows of batches `first .. first + count`, checked against the epoch.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `batch` or `count` if the run passes the
    /// last batch.
    pub fn rows(&self, first: usize, count: usize) -> Result<usize> {
        if first >= self.batches {
            return Err(Error::OutOfRange {
                name: "batch",
                value: first.to_string(),
                expected: format!("a batch index in [0, {})", self.batches),
            });
        }
        if count == 0 || count > self.batches - first {
            return Err(Error::OutOfRange {
                name: "count",
                value: count.to_string(),
                expected: format!(
                    "an integer in [1, {}] (batches from {first} to the epoch's end)",
                    self.batches - first
                ),
            });
        }
        let positives: usize = if first + count == self.batches {
            self.positives().min(self.batches * self.options.batch_size)
                - first * self.options.batch_size
        } else {
            count * self.options.batch_size
        };
        Ok(positives * self.rows_per_positive)
    }

    /// Writes the positives of batch `b` into `users` and `items`.
    fn gather(&self, b: usize, users: &mut Vec<u32>, items: &mut Vec<u32>) {
        let start = b * self.options.batch_size;
        let len = self.batch_positives(b);
        users.clear();
        items.clear();
        match &self.order {
            Order::Shuffled(pairs) => {
                for &p in &pairs[start..start + len] {
                    users.push((p >> 32) as u32);
                    items.push(p as u32);
                }
            }
            Order::Shard {
                permutation, first, ..
            } => {
                let m = self.sampler.interactions();
                for q in start..start + len {
                    let j = permutation.at(first + q as u64) as usize;
                    users.push(m.user_of(j));
                    items.push(m.indices()[j]);
                }
            }
        }
    }

    /// Checks that every user of batches `first .. first + count` has a
    /// possible negative (only if the sampler has users that do not).
    fn check_users(&self, first: usize, count: usize) -> Result<()> {
        if !self.sampler.has_impossible_users() {
            return Ok(());
        }
        let (mut users, mut items) = (Vec::new(), Vec::new());
        for b in first..first + count {
            self.gather(b, &mut users, &mut items);
            self.sampler.check_users(&users)?;
        }
        Ok(())
    }

    /// The negatives of batch `b` for `users` (its positives' users), `k`
    /// per positive, into `out`.
    fn draw(&self, b: usize, users: &[u32], out: &mut [u32], scratch: &mut Scratch) {
        let k = self.options.k;
        for (j, chunk) in out.chunks_mut(BLOCK).enumerate() {
            let stream = Stream::new(
                self.sampler.seed(),
                Domain::EpochNegatives,
                self.call,
                ((b as u64) << 20) | j as u64,
            );
            self.sampler
                .fill_block(users, k, &stream, j * BLOCK, chunk, scratch);
        }
    }

    /// Fills batches `first .. first + count`, one after another, into
    /// `out` (pairwise epochs): `rows(first, count)` rows in each buffer.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a bad run of batches ([`Epoch::rows`]) or
    /// a pointwise epoch; [`Error::LengthMismatch`] for a buffer of the
    /// wrong length; [`Error::NoNegative`] for a user with no possible
    /// negative. Nothing is written unless every check passes.
    ///
    /// # Performance
    /// Per positive: its pair read from the order, `k` draws and their
    /// membership tests. Runs of at least [`PARALLEL_MIN`] rows are
    /// shared by the sampler's threads, batch by batch.
    pub fn pairwise_into(&self, first: usize, count: usize, out: PairwiseOut<'_>) -> Result<()> {
        self.check_shape(Shape::Pairwise)?;
        let rows = self.rows(first, count)?;
        check_lengths(
            rows,
            &[
                ("out.users", out.users.len()),
                ("out.positives", out.positives.len()),
                ("out.negatives", out.negatives.len()),
            ],
        )?;
        self.check_users(first, count)?;
        let k = self.options.k;
        let per_batch = self.options.batch_size * k;
        let jobs = out
            .users
            .chunks_mut(per_batch)
            .zip(out.positives.chunks_mut(per_batch))
            .zip(out.negatives.chunks_mut(per_batch))
            .enumerate();
        let fill = |scratch: &mut EpochScratch,
                    (i, ((users, positives), negatives)): BatchJob<'_, u32>| {
            let b = first + i;
            if k == 1 {
                let (u, p) = (&mut scratch.users, &mut scratch.items);
                self.gather(b, u, p);
                users.copy_from_slice(u);
                positives.copy_from_slice(p);
                self.draw(b, users, negatives, &mut scratch.sampler);
            } else {
                self.gather(b, &mut scratch.users, &mut scratch.items);
                repeat_each_into(&scratch.users, k, users);
                repeat_each_into(&scratch.items, k, positives);
                self.draw(b, &scratch.users, negatives, &mut scratch.sampler);
            }
        };
        self.run(rows, jobs, fill);
        Ok(())
    }

    /// As [`Epoch::pairwise_into`], for pointwise epochs: each positive
    /// (label 1) followed by its `k` negatives (label 0).
    ///
    /// # Errors
    /// As [`Epoch::pairwise_into`].
    pub fn pointwise_into(&self, first: usize, count: usize, out: PointwiseOut<'_>) -> Result<()> {
        self.check_shape(Shape::Pointwise)?;
        let rows = self.rows(first, count)?;
        check_lengths(
            rows,
            &[
                ("out.users", out.users.len()),
                ("out.items", out.items.len()),
                ("out.labels", out.labels.len()),
            ],
        )?;
        self.check_users(first, count)?;
        let (k, per_positive) = (self.options.k, self.rows_per_positive);
        let per_batch = self.options.batch_size * per_positive;
        let jobs = out
            .users
            .chunks_mut(per_batch)
            .zip(out.items.chunks_mut(per_batch))
            .zip(out.labels.chunks_mut(per_batch))
            .enumerate();
        let fill = |scratch: &mut EpochScratch,
                    (i, ((users, items), labels)): BatchJob<'_, f32>| {
            let b = first + i;
            self.gather(b, &mut scratch.users, &mut scratch.items);
            let negatives = &mut scratch.negatives;
            negatives.resize(scratch.users.len() * k, 0);
            self.draw(b, &scratch.users, negatives, &mut scratch.sampler);
            for (j, (&u, &positive)) in scratch.users.iter().zip(&scratch.items).enumerate() {
                let row = j * per_positive;
                users[row..row + per_positive].fill(u);
                items[row] = positive;
                items[row + 1..row + per_positive].copy_from_slice(&negatives[j * k..(j + 1) * k]);
                labels[row] = 1.0;
                labels[row + 1..row + per_positive].fill(0.0);
            }
        };
        self.run(rows, jobs, fill);
        Ok(())
    }

    /// Runs `fill` on every batch job, on the sampler's threads if the run
    /// has at least [`PARALLEL_MIN`] rows.
    fn run<J: Send>(
        &self,
        rows: usize,
        jobs: impl Iterator<Item = J> + Send,
        fill: impl Fn(&mut EpochScratch, J) + Sync,
    ) {
        match self.sampler.pool() {
            Some(pool) if rows >= PARALLEL_MIN => {
                parallel::for_each_job(pool, self.sampler.threads() - 1, jobs, fill)
            }
            _ => {
                let mut scratch = EpochScratch::default();
                for job in jobs {
                    fill(&mut scratch, job);
                }
            }
        }
    }

    fn check_shape(&self, shape: Shape) -> Result<()> {
        if self.options.shape == shape {
            Ok(())
        } else {
            Err(Error::OutOfRange {
                name: "shape",
                value: format!("{shape:?}").to_lowercase(),
                expected: format!(
                    "the epoch's shape ({})",
                    format!("{:?}", self.options.shape).to_lowercase()
                ),
            })
        }
    }
}

/// Checks an epoch's options; returns its rows per positive.
fn check_options(options: &EpochOptions) -> Result<usize> {
    if options.batch_size == 0 {
        return Err(Error::OutOfRange {
            name: "batchSize",
            value: "0".into(),
            expected: "an integer >= 1".into(),
        });
    }
    let rows_per_positive = match options.shape {
        Shape::Pairwise => options.k,
        Shape::Pointwise => options.k.checked_add(1).ok_or_else(|| Error::OutOfRange {
            name: "k",
            value: options.k.to_string(),
            expected: "a smaller integer".into(),
        })?,
    };
    // One batch's rows must fit an output.
    Sampler::output_rows(options.batch_size, options.k, rows_per_positive)?;
    Ok(rows_per_positive)
}

/// Checks that every named buffer has `rows` elements.
fn check_lengths(rows: usize, outputs: &[(&'static str, usize)]) -> Result<()> {
    for &(name, len) in outputs {
        if len != rows {
            return Err(Error::LengthMismatch {
                name,
                len,
                expected: format!("{rows} (the rows of the batches asked for)"),
            });
        }
    }
    Ok(())
}

/// `out[j * times .. (j + 1) * times] = values[j]` for every `j`.
fn repeat_each_into(values: &[u32], times: usize, out: &mut [u32]) {
    for (chunk, &v) in out.chunks_exact_mut(times).zip(values) {
        chunk.fill(v);
    }
}

/// The largest power-of-two bucket count of [`shuffle`], as bits.
const MAX_BUCKET_BITS: u32 = 12;

/// Elements per bucket that [`shuffle`] aims at: 8,192 values of 8 bytes
/// (64 KiB, within the second-level cache of current CPUs).
const BUCKET_TARGET: usize = 8192;

/// A uniformly random permutation of the `n` values that `values()`
/// yields (called twice, yielding the same values both times), written
/// into `out` (reused if it has `n` elements), keyed by `streams(block)`
/// (block 0 for the bucket labels, block `1 + b` for bucket `b`; with a
/// single bucket, below `2 * BUCKET_TARGET` values, block 0 for Fisher-Yates
/// over all of them).
///
/// Rao and Sandelius's method: every element gets an independent uniform
/// label among `2^bits` buckets (16 bits of a random word each, of which
/// the top `bits` are used); the elements are scattered into their buckets
/// in order; each bucket is shuffled by Fisher and Yates. Every permutation
/// comes out with probability exactly `1 / n!` (given the bucket sizes,
/// which the labels make multinomial, every order within each bucket is
/// equally likely), up to the multiply-shift bias of at most `n / 2^64`
/// per swap that Fisher-Yates alone has too. Unlike Fisher-Yates over the
/// whole array, each pass reads and writes memory in order or within one
/// cache-sized bucket, and buckets can be shuffled on any thread.
///
/// # Performance
/// O(n): the labels are drawn twice (a count, then the scatter), one
/// random word per four labels; no memory but `out`. The buckets are
/// shuffled on `pool`'s threads if one is given.
pub(crate) fn shuffle<I: Iterator<Item = u64>>(
    n: usize,
    values: impl Fn() -> I,
    streams: impl Fn(u64) -> Stream + Sync,
    pool: Option<(&rayon::ThreadPool, usize)>,
    mut out: Box<[u64]>,
) -> Box<[u64]> {
    if out.len() != n {
        out = vec![0u64; n].into_boxed_slice();
    }
    let bits = (n / BUCKET_TARGET)
        .next_power_of_two()
        .trailing_zeros()
        .min(MAX_BUCKET_BITS);
    if bits == 0 {
        // One bucket: plain Fisher-Yates from block 0 (the shuffle of
        // stream version 1, which small epochs keep).
        for (slot, v) in out.iter_mut().zip(values()) {
            *slot = v;
        }
        fisher_yates(&mut out, &streams(0));
        return out;
    }
    let labels_stream = streams(0);
    let labels = || {
        (0..n.div_ceil(4) as u64).flat_map(move |w| {
            let word = labels_stream.word(w);
            (0..4).map(move |q| (((word >> (16 * q)) as u16) >> (16 - bits)) as usize)
        })
    };
    let buckets = 1usize << bits;
    let mut starts = vec![0usize; buckets + 1];
    for l in labels().take(n) {
        starts[l + 1] += 1;
    }
    for b in 0..buckets {
        starts[b + 1] += starts[b];
    }
    let mut next = starts.clone();
    for (v, l) in values().zip(labels()) {
        let slot = &mut next[l];
        out[*slot] = v;
        *slot += 1;
    }
    let mut pieces = Vec::with_capacity(buckets);
    let mut rest = &mut out[..];
    for b in 0..buckets {
        let (piece, tail) = rest.split_at_mut(starts[b + 1] - starts[b]);
        pieces.push((b, piece));
        rest = tail;
    }
    let work =
        |_: &mut (), (b, piece): (usize, &mut [u64])| fisher_yates(piece, &streams(1 + b as u64));
    match pool {
        Some((pool, helpers)) => parallel::for_each_job(pool, helpers, pieces.into_iter(), work),
        None => pieces.into_iter().for_each(|job| work(&mut (), job)),
    }
    out
}

/// Fisher-Yates over `values` from `stream` (word `i` picks the partner of
/// position `i`).
fn fisher_yates(values: &mut [u64], stream: &Stream) {
    for i in (1..values.len()).rev() {
        let j = stream.below(i as u64, i as u64 + 1) as usize;
        values.swap(i, j);
    }
}

impl Sampler {
    /// Every training positive once, as `(user << 32) | item`, in the order
    /// of epoch call `call` (see [`shuffle`]), written into `reuse` if it
    /// has one element per positive.
    ///
    /// # Performance
    /// O(nnz); 8 bytes per positive.
    pub fn shuffled_pairs(&self, call: u64, reuse: Box<[u64]>) -> Box<[u64]> {
        let m = self.interactions();
        let pairs = || {
            (0..m.num_users() as u32).flat_map(move |u| {
                m.row(u)
                    .iter()
                    .map(move |&i| (u64::from(u) << 32) | u64::from(i))
            })
        };
        let pool = self.pool().map(|p| (p, self.threads() - 1));
        let streams = |block| Stream::new(self.seed(), Domain::Shuffle, call, block);
        shuffle(m.nnz(), pairs, streams, pool, reuse)
    }
}
