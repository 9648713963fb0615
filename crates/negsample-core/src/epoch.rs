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
//!   [`shuffle_pairs`] (an exact uniform permutation, built in two cache-friendly
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

use crate::batch::{lay_out_pointwise, repeat_each_into, PairwiseOut, PointwiseOut};
use crate::draw::kernel::BLOCK;
use crate::draw::parallel::{self, run_jobs, PARALLEL_MIN};
use crate::draw::rng::{Domain, Stream};
use crate::error::{Error, Result};
use crate::interactions::Interactions;
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

impl Order {
    /// The number of positives in the order.
    fn len(&self) -> usize {
        match self {
            Order::Shuffled(pairs) => pairs.len(),
            Order::Shard { len, .. } => *len,
        }
    }
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
        let n = order.len();
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
        self.order.len()
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

    /// Writes the positives of batch `b` into `users` and `items` (one
    /// element per positive of the batch each).
    fn gather_into(&self, b: usize, users: &mut [u32], items: &mut [u32]) {
        let start = b * self.options.batch_size;
        debug_assert!(users.len() == self.batch_positives(b) && items.len() == users.len());
        match &self.order {
            Order::Shuffled(pairs) => {
                let pairs = &pairs[start..start + users.len()];
                for ((u, i), &p) in users.iter_mut().zip(items.iter_mut()).zip(pairs) {
                    *u = (p >> 32) as u32;
                    *i = p as u32;
                }
            }
            Order::Shard {
                permutation, first, ..
            } => {
                let m = self.sampler.interactions();
                for (q, (u, i)) in users.iter_mut().zip(items.iter_mut()).enumerate() {
                    let j = permutation.at(first + (start + q) as u64) as usize;
                    *u = m.user_of(j);
                    *i = m.indices()[j];
                }
            }
        }
    }

    /// As [`Epoch::gather_into`], into `users` and `items` resized to the
    /// batch.
    fn gather(&self, b: usize, users: &mut Vec<u32>, items: &mut Vec<u32>) {
        let len = self.batch_positives(b);
        users.resize(len, 0);
        items.resize(len, 0);
        self.gather_into(b, users, items);
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
                self.gather_into(b, users, positives);
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
        let k = self.options.k;
        let per_batch = self.options.batch_size * self.rows_per_positive;
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
            let offset = items.len() - scratch.users.len() * k;
            self.draw(
                b,
                &scratch.users,
                &mut items[offset..],
                &mut scratch.sampler,
            );
            let out = PointwiseOut {
                users,
                items,
                labels,
            };
            lay_out_pointwise(&scratch.users, &scratch.items, k, out);
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
        let pool = self.sampler.pool().filter(|_| rows >= PARALLEL_MIN);
        parallel::run_jobs(pool.map(|p| (p, self.sampler.threads() - 1)), jobs, fill);
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
            name: "batch_size",
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

/// How many elements ahead of a bucket's write position its memory is
/// asked for.
const SCATTER_AHEAD: usize = 8;

/// The fewest positions per part of a parallel shuffle.
const PART_MIN: usize = 1 << 16;

/// The largest power-of-two bucket count of [`shuffle`], as bits.
const MAX_BUCKET_BITS: u32 = 12;

/// Elements per bucket that [`shuffle`] aims at: 8,192 values of 8 bytes
/// (64 KiB, within the second-level cache of current CPUs).
const BUCKET_TARGET: usize = 16384;

/// Every positive of `m` once, as `(user << 32) | item`, in a uniformly
/// random order, written into `out` (reused if it has one element per
/// positive), keyed by `streams(block)` (block 0 for the bucket labels,
/// block `1 + b` for bucket `b`; with a single bucket, below
/// `2 * BUCKET_TARGET` positives, block 0 for Fisher-Yates over all of
/// them).
///
/// Rao and Sandelius's method: every element gets an independent uniform
/// label among `2^bits` buckets (16 bits of a random word each, of which
/// the top `bits` are used); the elements are scattered into their buckets
/// in order; each bucket is shuffled by Fisher and Yates
/// ([`fisher_yates_bucket`], exactly uniform swaps). Every permutation comes
/// out with probability exactly `1 / n!`: given the bucket sizes, which the
/// labels make multinomial, every order within each bucket is equally
/// likely. Unlike Fisher-Yates over the
/// whole array, each pass reads and writes memory in order or within one
/// cache-sized bucket, and buckets can be shuffled on any thread.
///
/// # Performance
/// O(n): one random word per four labels, a counting pass, a scatter pass
/// and the buckets' Fisher-Yates (on `pool`'s threads if one is given);
/// 2 bytes per element of labels besides `out`.
pub(crate) fn shuffle_pairs(
    m: &Interactions,
    streams: impl Fn(u64) -> Stream + Sync,
    pool: Option<(&rayon::ThreadPool, usize)>,
    mut out: Box<[u64]>,
) -> Box<[u64]> {
    let n = m.nnz();
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
        let mut c = 0usize;
        for u in 0..m.num_users() as u32 {
            let high = u64::from(u) << 32;
            for &i in m.row(u) {
                out[c] = high | u64::from(i);
                c += 1;
            }
        }
        fisher_yates(&mut out, &streams(0));
        return out;
    }
    let buckets = 1usize << bits;
    // The positions are cut into parts (one per thread, at multiples of 4
    // so that no label word is shared): each part's labels, bucket counts
    // and scatter run on any thread, into places fixed by the counts, so
    // the result is the same for any number of parts.
    let threads = pool.map_or(1, |(_, helpers)| helpers + 1);
    let parts = threads.min(n / PART_MIN).max(1);
    let bounds: Vec<usize> = (0..=parts)
        .map(|p| (n * p / parts).next_multiple_of(4).min(n))
        .collect();
    let mut labels = vec![0u16; n];
    let mut counts = vec![vec![0usize; buckets]; parts];
    {
        let mut jobs = Vec::with_capacity(parts);
        let mut rest = &mut labels[..];
        for (p, count) in counts.iter_mut().enumerate() {
            let (part, tail) = rest.split_at_mut(bounds[p + 1] - bounds[p]);
            jobs.push((bounds[p], part, count));
            rest = tail;
        }
        let labels_stream = streams(0);
        let label = |_: &mut (), (start, part, count): (usize, &mut [u16], &mut Vec<usize>)| {
            for (w, four) in part.chunks_mut(4).enumerate() {
                let word = labels_stream.word((start / 4 + w) as u64);
                for (q, label) in four.iter_mut().enumerate() {
                    *label = ((word >> (16 * q)) as u16) >> (16 - bits);
                    count[*label as usize] += 1;
                }
            }
        };
        run_jobs(pool.filter(|_| parts > 1), jobs.into_iter(), label);
    }
    // Bucket `b` starts after every smaller bucket; within it, part `p`
    // writes after the parts before it.
    let mut starts = vec![0usize; buckets + 1];
    for b in 0..buckets {
        starts[b + 1] = starts[b] + counts.iter().map(|c| c[b]).sum::<usize>();
    }
    let mut next: Vec<Vec<usize>> = Vec::with_capacity(parts);
    let mut running = starts[..buckets].to_vec();
    for count in &counts {
        next.push(running.clone());
        for (r, c) in running.iter_mut().zip(count) {
            *r += c;
        }
    }
    let target = SharedOut(out.as_mut_ptr());
    let scatter = |_: &mut (), (p, mut next): (usize, Vec<usize>)| {
        let (lo, hi) = (bounds[p], bounds[p + 1]);
        let (indptr, indices) = (m.indptr(), m.indices());
        let (mut pos, mut u) = (lo, if lo < n { m.user_of(lo) as usize } else { 0 });
        while pos < hi {
            let end = (indptr[u + 1] as usize).min(hi);
            let high = (u as u64) << 32;
            for q in pos..end {
                let slot = &mut next[labels[q] as usize];
                // SAFETY: `slot` runs over this part's own places in the
                // bucket (counted above), below `n`: no other part writes
                // there, and nothing reads `out` until every part is done.
                unsafe {
                    target.at(*slot).write(high | u64::from(indices[q]));
                }
                // The bucket's next cache lines, before its writes reach
                // them: the scatter writes to `2^bits` places at once.
                crate::memory::prefetch::prefetch_address(target.at(*slot + SCATTER_AHEAD));
                *slot += 1;
            }
            pos = end;
            u += 1;
        }
    };
    run_jobs(
        pool.filter(|_| parts > 1),
        next.into_iter().enumerate(),
        scatter,
    );
    drop(labels);
    let mut pieces = Vec::with_capacity(buckets);
    let mut rest = &mut out[..];
    for b in 0..buckets {
        let (piece, tail) = rest.split_at_mut(starts[b + 1] - starts[b]);
        pieces.push((b, piece));
        rest = tail;
    }
    let work = |_: &mut (), (b, piece): (usize, &mut [u64])| {
        // The bucket, written by the scatter, has left the near caches:
        // ask for all of it before the random swaps read it.
        for line in (0..piece.len()).step_by(8) {
            crate::memory::prefetch::prefetch_l2(piece, line);
        }
        fisher_yates_bucket(piece, &streams(1 + b as u64))
    };
    run_jobs(pool, pieces.into_iter(), work);
    out
}

/// The output of the scatter, written by several threads at disjoint
/// places.
#[derive(Clone, Copy)]
struct SharedOut(*mut u64);

impl SharedOut {
    /// The address of element `i` (computed, not dereferenced).
    #[inline(always)]
    fn at(self, i: usize) -> *mut u64 {
        self.0.wrapping_add(i)
    }
}

// SAFETY: the scatter's parts write disjoint elements (see its comment).
unsafe impl Send for SharedOut {}
// SAFETY: as above.
unsafe impl Sync for SharedOut {}

/// Fisher-Yates over `values` from `stream` (word `i` picks the partner of
/// position `i`).
fn fisher_yates(values: &mut [u64], stream: &Stream) {
    for i in (1..values.len()).rev() {
        let j = stream.below(i as u64, i as u64 + 1) as usize;
        values.swap(i, j);
    }
}

/// Fisher-Yates over one bucket, two swaps per random word: the partner
/// of position `i` is the high half of `r * (i + 1)` for the next 32 random
/// bits `r` (Lemire's method: an `r` whose low half falls below
/// `2^32 mod (i + 1)` is replaced by the next 32 bits, so every partner is
/// exactly uniform). Buckets of `2^32` values or more use [`fisher_yates`].
fn fisher_yates_bucket(values: &mut [u64], stream: &Stream) {
    if values.len() > u32::MAX as usize {
        return fisher_yates(values, stream);
    }
    let (mut counter, mut word, mut left) = (0u64, 0u64, 0u32);
    let mut next = || {
        if left == 0 {
            word = stream.word(counter);
            counter += 1;
            left = 2;
        }
        left -= 1;
        let r = word as u32;
        word >>= 32;
        r
    };
    for i in (1..values.len()).rev() {
        let bound = (i + 1) as u32;
        let mut m = u64::from(next()) * u64::from(bound);
        if (m as u32) < bound {
            let threshold = bound.wrapping_neg() % bound;
            while (m as u32) < threshold {
                m = u64::from(next()) * u64::from(bound);
            }
        }
        values.swap(i, (m >> 32) as usize);
    }
}

impl Sampler {
    /// Every training positive once, as `(user << 32) | item`, in the order
    /// of epoch call `call` (see [`shuffle_pairs`]), written into `reuse` if it
    /// has one element per positive.
    ///
    /// # Performance
    /// O(nnz); 8 bytes per positive.
    pub fn shuffled_pairs(&self, call: u64, reuse: Box<[u64]>) -> Box<[u64]> {
        let pool = self.pool().map(|p| (p, self.threads() - 1));
        let streams = |block| Stream::new(self.seed(), Domain::Shuffle, call, block);
        shuffle_pairs(self.interactions(), streams, pool, reuse)
    }
}
