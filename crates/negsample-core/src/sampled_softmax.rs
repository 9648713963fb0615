//! Sampled softmax support: a batch's shared candidates with their log Q and
//! expected counts, and accidental-hit masks checked against the CSR.
//!
//! # Shared candidates
//! For a batch, `S` candidates are drawn from the sampler's proposal `q`
//! (no exclusion: they are shared by every row), as TensorFlow's candidate
//! samplers (`tf.random.fixed_unigram_candidate_sampler` and friends) draw
//! them:
//!
//! - `unique = false`: `S` independent draws (duplicates possible);
//! - `unique = true`: draws with replacement until `S` distinct items have
//!   been seen, keeping the first occurrence of each; `num_tries` counts every
//!   draw made.
//!
//! # Expected counts (TensorFlow's definition)
//! For an item with proposal probability `q`, the expected count is what
//! TensorFlow's `RangeSampler` (`tensorflow/core/kernels/range_sampler.cc`,
//! its `ExpectedCountHelper`) reports as `sampled_expected_count` and
//! `true_expected_count`:
//!
//! - `S * q` when `num_tries == S` (always for `unique = false`: the expected
//!   number of occurrences among `S` independent draws; also for a unique
//!   draw that happened to need no redraw);
//! - otherwise `1 - (1 - q)^num_tries`, computed as
//!   `-expm1(num_tries * ln_1p(-q))`: the probability that the item appears
//!   in `num_tries` draws, taking the observed `num_tries` as if it were
//!   fixed. (TensorFlow's documentation calls this an approximation of the
//!   post-rejection inclusion probability; it is one.)
//!
//! The sampled-softmax correction of Bengio and Senécal (2008) and Jean et
//! al. (2015) subtracts `ln(expected count)` from each logit; the logQ
//! correction of Yi et al. ("Sampling-bias-corrected neural modeling for large
//! corpus item recommendations", RecSys 2019) subtracts `ln q`. Both are
//! returned.
//!
//! # Unique draws never spin
//! Once the distinct items drawn hold half of the proposal mass or more, each
//! further distinct item is drawn directly from the proposal restricted to
//! the items not yet drawn (a Fenwick tree over their probabilities), and the
//! redraws that rejection would have spent are drawn as one geometric number.
//! This has the same distribution as drawing until a new item appears (up to
//! `f64` rounding of the probabilities), in `O(n + S log n)` instead of an
//! unbounded number of draws.
//!
//! # Accidental hits
//! A mask (rows x candidates) with 1 where the candidate is a training
//! positive of the row's user in the CSR, or the row's own positive item;
//! for in-batch negatives (rows x rows), 1 where another row's item is a
//! training positive of this row's user or the same item as this row's, and 0
//! on the diagonal (the label itself).

use std::collections::HashSet;

use rayon::prelude::*;

use crate::draw::rng::{Domain, Stream};
use crate::error::{check_ids, Error, Result};
use crate::hard::unit;
use crate::interactions::Interactions;
use crate::sampler::{Sampler, MAX_OUTPUT};

/// A batch's shared candidates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidates {
    /// The sampled items, `S` of them (distinct for a unique draw, in order of
    /// first appearance).
    pub items: Vec<u32>,
    /// Draws made: `S` without `unique`, `>= S` with it.
    pub num_tries: u64,
}

/// TensorFlow's expected count of an item of proposal probability `q` in a
/// draw of `num_sampled` candidates that took `num_tries` draws (see the
/// module docs).
pub fn expected_count(q: f64, num_sampled: usize, num_tries: u64) -> f64 {
    if num_tries == num_sampled as u64 {
        q * num_sampled as f64
    } else {
        -f64::exp_m1(num_tries as f64 * f64::ln_1p(-q))
    }
}

/// Checks a candidate request: `num_sampled >= 1`, and for `unique` at most
/// the number of items the proposal can draw.
///
/// # Errors
/// [`Error::OutOfRange`] naming `numSampled`.
pub fn check_candidates(sampler: &Sampler, num_sampled: usize, unique: bool) -> Result<()> {
    if num_sampled == 0 || num_sampled > MAX_OUTPUT {
        return Err(Error::OutOfRange {
            name: "num_sampled",
            value: num_sampled.to_string(),
            expected: format!("an integer in [1, {MAX_OUTPUT}]"),
        });
    }
    if unique {
        let drawable = drawable_items(sampler);
        if num_sampled > drawable {
            return Err(Error::OutOfRange {
                name: "num_sampled",
                value: num_sampled.to_string(),
                expected: format!(
                    "at most {drawable} with unique: true (the items the proposal can draw)"
                ),
            });
        }
    }
    Ok(())
}

/// Items with a positive proposal probability.
fn drawable_items(sampler: &Sampler) -> usize {
    if sampler.table().is_uniform() {
        return sampler.table().len();
    }
    sampler
        .log_probabilities()
        .iter()
        .filter(|&&l| l > f32::NEG_INFINITY)
        .count()
}

/// Draws a batch's `num_sampled` shared candidates as call number `call`
/// (stream `(seed, Candidates, call, 0)`).
///
/// # Errors
/// As [`check_candidates`].
///
/// # Performance
/// `S` alias draws without `unique`; with it, about `S` draws while the
/// drawn items hold under half the mass, then `O(n)` once and `O(log n)` per
/// further item.
pub fn sample_candidates(
    sampler: &Sampler,
    num_sampled: usize,
    unique: bool,
    call: u64,
) -> Result<Candidates> {
    check_candidates(sampler, num_sampled, unique)?;
    let table = sampler.table();
    let stream = Stream::new(sampler.seed(), Domain::Candidates, call, 0);
    if !unique {
        let items = (0..num_sampled as u64)
            .map(|i| table.pick(stream.word(i)))
            .collect();
        return Ok(Candidates {
            items,
            num_tries: num_sampled as u64,
        });
    }
    let mut items = Vec::with_capacity(num_sampled);
    let mut seen = HashSet::with_capacity(num_sampled);
    let mut counter = 0u64;
    let mut mass = 0f64;
    while items.len() < num_sampled && mass < 0.5 {
        let item = table.pick(stream.word(counter));
        counter += 1;
        if seen.insert(item) {
            items.push(item);
            mass += sampler.probability(item);
        }
    }
    let mut num_tries = counter;
    if items.len() < num_sampled {
        // The drawn items hold at least half the mass: draw the rest from
        // the complement directly.
        let mut tree = Fenwick::new(
            (0..table.len() as u32)
                .map(|i| {
                    if seen.contains(&i) {
                        0.0
                    } else {
                        sampler.probability(i)
                    }
                })
                .collect(),
        );
        while items.len() < num_sampled {
            let rest = tree.total();
            // Redraws before the next new item: Geometric(rest), failures
            // counted (P(g) = (1 - rest)^g * rest).
            let u = 1.0 - unit(stream.word(counter)); // in (0, 1]
            counter += 1;
            let fail = 1.0 - rest;
            let redraws = if fail <= 0.0 {
                0
            } else {
                (u.ln() / fail.ln()).floor() as u64
            };
            num_tries = num_tries.saturating_add(redraws + 1);
            let x = unit(stream.word(counter)) * rest;
            counter += 1;
            let item = tree.find(x);
            tree.set_zero(item);
            items.push(item as u32);
        }
    }
    Ok(Candidates { items, num_tries })
}

/// A Fenwick tree over `f64` weights: prefix sums and search in `O(log n)`.
struct Fenwick {
    tree: Vec<f64>,
    values: Vec<f64>,
}

impl Fenwick {
    fn new(values: Vec<f64>) -> Self {
        let n = values.len();
        let mut tree = vec![0.0; n + 1];
        for (i, &v) in values.iter().enumerate() {
            tree[i + 1] += v;
            let parent = (i + 1) + ((i + 1) & (i + 1).wrapping_neg());
            if parent <= n {
                let t = tree[i + 1];
                tree[parent] += t;
            }
        }
        Fenwick { tree, values }
    }

    fn total(&self) -> f64 {
        let mut i = self.values.len();
        let mut sum = 0.0;
        while i > 0 {
            sum += self.tree[i];
            i &= i - 1;
        }
        sum
    }

    fn set_zero(&mut self, index: usize) {
        let delta = -self.values[index];
        self.values[index] = 0.0;
        let mut i = index + 1;
        while i < self.tree.len() {
            self.tree[i] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// The index whose cumulative range holds `x` (`0 <= x < total`), among
    /// positive weights (rounding at the top end falls back to the last
    /// positive weight).
    fn find(&self, x: f64) -> usize {
        let n = self.values.len();
        let mut pos = 0usize;
        let mut rest = x;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] <= rest {
                pos = next;
                rest -= self.tree[pos];
            }
            step >>= 1;
        }
        // `pos` items have cumulative weight <= x: the answer is item `pos`
        // unless rounding pointed at a zero weight.
        if pos < n && self.values[pos] > 0.0 {
            return pos;
        }
        let before = (0..pos.min(n)).rev().find(|&i| self.values[i] > 0.0);
        let after = (pos..n).find(|&i| self.values[i] > 0.0);
        after.or(before).expect("some weight is positive")
    }
}

/// Checks the ids and sizes of a mask request and returns `rows * columns`.
/// A batch's shared candidates with what a sampled-softmax loss needs: ln Q
/// and TensorFlow's expected counts of the candidates and of the batch's
/// positives, and optionally the accidental-hit mask.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SampledSoftmax {
    /// The `S` sampled candidates.
    pub candidates: Vec<u32>,
    /// ln q of each candidate.
    pub candidate_log_q: Vec<f32>,
    /// The expected count of each candidate ([`expected_count`]).
    pub candidate_expected_counts: Vec<f32>,
    /// ln q of each positive.
    pub positive_log_q: Vec<f32>,
    /// The expected count of each positive.
    pub positive_expected_counts: Vec<f32>,
    /// Draws made: `S` without `unique`, `>= S` with it.
    pub num_tries: u64,
    /// With users: the accidental-hit mask, rows x candidates
    /// ([`accidental_hits_into`] with the positives).
    pub hits: Option<Vec<f32>>,
}

/// Checks a sampled-softmax request before a call number is taken:
/// `positives` in range, [`check_candidates`], and with `users` (for the
/// hit mask) one user per positive, in range, and a mask that fits an
/// output.
///
/// # Errors
/// The first failing check: [`Error::IdOutOfRange`], [`Error::OutOfRange`]
/// or [`Error::LengthMismatch`].
pub fn check_sampled_softmax(
    sampler: &Sampler,
    positives: &[u32],
    num_sampled: usize,
    unique: bool,
    users: Option<&[u32]>,
) -> Result<()> {
    let interactions = sampler.interactions();
    check_ids("positives", positives, interactions.num_items() as u64)?;
    check_candidates(sampler, num_sampled, unique)?;
    if let Some(users) = users {
        if users.len() != positives.len() {
            return Err(Error::LengthMismatch {
                name: "users",
                len: users.len(),
                expected: format!("positives.length ({})", positives.len()),
            });
        }
        mask_entries(users.len(), num_sampled)?;
        check_ids("users", users, interactions.num_users() as u64)?;
    }
    Ok(())
}

/// Draws a batch's shared candidates as call number `call` and computes
/// their corrections and those of `positives`; with `users`, the
/// accidental-hit mask too (rows spread over the pool when `parallel`).
///
/// # Errors
/// As [`check_sampled_softmax`].
pub fn sampled_softmax(
    sampler: &Sampler,
    positives: &[u32],
    num_sampled: usize,
    unique: bool,
    users: Option<&[u32]>,
    call: u64,
    parallel: bool,
) -> Result<SampledSoftmax> {
    check_sampled_softmax(sampler, positives, num_sampled, unique, users)?;
    let drawn = sample_candidates(sampler, num_sampled, unique, call)?;
    let log_q = sampler.log_probabilities();
    let count =
        |i: u32| expected_count(sampler.probability(i), num_sampled, drawn.num_tries) as f32;
    let hits = match users {
        None => None,
        Some(users) => {
            let mut mask = vec![0f32; users.len() * drawn.items.len()];
            accidental_hits_into(
                sampler.interactions(),
                users,
                Some(positives),
                &drawn.items,
                parallel,
                &mut mask,
            )?;
            Some(mask)
        }
    };
    Ok(SampledSoftmax {
        candidate_log_q: drawn.items.iter().map(|&i| log_q[i as usize]).collect(),
        candidate_expected_counts: drawn.items.iter().map(|&i| count(i)).collect(),
        positive_log_q: positives.iter().map(|&i| log_q[i as usize]).collect(),
        positive_expected_counts: positives.iter().map(|&i| count(i)).collect(),
        num_tries: drawn.num_tries,
        candidates: drawn.items,
        hits,
    })
}

/// The number of entries of a mask of `rows` by `columns`, checked to fit
/// an output.
///
/// # Errors
/// [`Error::OutOfRange`] if the mask is larger than an output can be.
pub fn mask_entries(rows: usize, columns: usize) -> Result<usize> {
    match rows.checked_mul(columns).filter(|&l| l <= MAX_OUTPUT) {
        Some(len) => Ok(len),
        None => Err(Error::OutOfRange {
            name: "rows * candidates",
            value: format!("{rows} * {columns}"),
            expected: format!("at most {MAX_OUTPUT} mask entries"),
        }),
    }
}

fn mask_len(rows: usize, columns: usize, out: usize) -> Result<usize> {
    let len = mask_entries(rows, columns)?;
    if out != len {
        return Err(Error::LengthMismatch {
            name: "out",
            len: out,
            expected: format!("{len} (rows * columns = {rows} * {columns})"),
        });
    }
    Ok(len)
}

/// Writes the accidental-hit mask of `users.len()` rows by
/// `candidates.len()` columns into `out` (row-major): 1 where
/// `candidates[s]` is a training positive of `users[r]` (CSR) or equals
/// `positives[r]` (if given), else 0.
///
/// # Errors
/// [`Error::IdOutOfRange`] for an id not in `interactions`;
/// [`Error::LengthMismatch`] for `positives` or `out`; [`Error::OutOfRange`]
/// if the mask is larger than an output can be.
///
/// # Performance
/// Sorting the candidates once (`S log S`), then per row
/// `O(min(r log S, r + S))` for a user with `r` positives, plus `S` to clear
/// the row; rows are spread over the rayon pool when `parallel`.
pub fn accidental_hits_into(
    interactions: &Interactions,
    users: &[u32],
    positives: Option<&[u32]>,
    candidates: &[u32],
    parallel: bool,
    out: &mut [f32],
) -> Result<()> {
    let (num_users, num_items) = (
        interactions.num_users() as u64,
        interactions.num_items() as u64,
    );
    check_ids("users", users, num_users)?;
    check_ids("candidates", candidates, num_items)?;
    if let Some(p) = positives {
        check_ids("positives", p, num_items)?;
        if p.len() != users.len() {
            return Err(Error::LengthMismatch {
                name: "positives",
                len: p.len(),
                expected: format!("users.length ({})", users.len()),
            });
        }
    }
    mask_len(users.len(), candidates.len(), out.len())?;
    let sorted = sorted_with_positions(candidates);
    let fill = |r: usize, row_out: &mut [f32]| {
        row_out.fill(0.0);
        mark_row(interactions.row(users[r]), candidates, &sorted, row_out);
        if let Some(p) = positives {
            mark_item(p[r], &sorted, row_out);
        }
    };
    run_rows(out, candidates.len(), parallel, fill);
    Ok(())
}

/// Writes the in-batch accidental-hit mask (`users.len()` x `users.len()`)
/// into `out`: entry `(r, c)` is 1 where `c != r` and `items[c]` is a
/// training positive of `users[r]` (CSR) or equals `items[r]`; the diagonal
/// (each row's label) is 0.
///
/// # Errors
/// [`Error::LengthMismatch`] for `items` or `out`; [`Error::OutOfRange`] if
/// the mask is larger than an output can be.
///
/// # Performance
/// As [`accidental_hits_into`] with `S = B`.
pub fn in_batch_hits_into(
    interactions: &Interactions,
    users: &[u32],
    items: &[u32],
    parallel: bool,
    out: &mut [f32],
) -> Result<()> {
    check_ids("users", users, interactions.num_users() as u64)?;
    check_ids("items", items, interactions.num_items() as u64)?;
    if items.len() != users.len() {
        return Err(Error::LengthMismatch {
            name: "items",
            len: items.len(),
            expected: format!("users.length ({})", users.len()),
        });
    }
    mask_len(users.len(), items.len(), out.len())?;
    let sorted = sorted_with_positions(items);
    let fill = |r: usize, row_out: &mut [f32]| {
        row_out.fill(0.0);
        mark_row(interactions.row(users[r]), items, &sorted, row_out);
        mark_item(items[r], &sorted, row_out);
        row_out[r] = 0.0;
    };
    run_rows(out, items.len(), parallel, fill);
    Ok(())
}

/// `(item, position)` pairs sorted by item, then position.
fn sorted_with_positions(items: &[u32]) -> Vec<(u32, u32)> {
    let mut sorted: Vec<(u32, u32)> = items
        .iter()
        .enumerate()
        .map(|(i, &c)| (c, i as u32))
        .collect();
    sorted.sort_unstable();
    sorted
}

/// Sets 1 at every column whose item is `item`.
fn mark_item(item: u32, sorted: &[(u32, u32)], row_out: &mut [f32]) {
    let start = sorted.partition_point(|&(c, _)| c < item);
    for &(c, pos) in &sorted[start..] {
        if c != item {
            break;
        }
        row_out[pos as usize] = 1.0;
    }
}

/// Sets 1 at every column whose item is in the sorted `row`.
fn mark_row(row: &[u32], columns: &[u32], sorted: &[(u32, u32)], row_out: &mut [f32]) {
    if row.is_empty() || sorted.is_empty() {
        return;
    }
    if row.len() * 16 < sorted.len() {
        for &item in row {
            mark_item(item, sorted, row_out);
        }
    } else if sorted.len() * 16 < row.len() {
        for (s, &c) in columns.iter().enumerate() {
            if row.binary_search(&c).is_ok() {
                row_out[s] = 1.0;
            }
        }
    } else {
        // Merge join of two sorted lists.
        let (mut a, mut b) = (0, 0);
        while a < row.len() && b < sorted.len() {
            match row[a].cmp(&sorted[b].0) {
                std::cmp::Ordering::Less => a += 1,
                std::cmp::Ordering::Greater => b += 1,
                std::cmp::Ordering::Equal => {
                    row_out[sorted[b].1 as usize] = 1.0;
                    b += 1;
                }
            }
        }
    }
}

/// Runs `fill(r, row)` for every row of a row-major mask.
fn run_rows(
    out: &mut [f32],
    columns: usize,
    parallel: bool,
    fill: impl Fn(usize, &mut [f32]) + Sync,
) {
    if columns == 0 {
        return;
    }
    if parallel && out.len() >= 1 << 16 {
        out.par_chunks_mut(columns)
            .enumerate()
            .for_each(|(r, row)| fill(r, row));
    } else {
        for (r, row) in out.chunks_mut(columns).enumerate() {
            fill(r, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenwick_finds_and_removes() {
        let mut t = Fenwick::new(vec![0.5, 0.0, 0.25, 0.25]);
        assert_eq!(t.total(), 1.0);
        assert_eq!(t.find(0.0), 0);
        assert_eq!(t.find(0.49), 0);
        assert_eq!(t.find(0.5), 2);
        assert_eq!(t.find(0.8), 3);
        assert_eq!(t.find(1.0), 3);
        t.set_zero(0);
        assert_eq!(t.total(), 0.5);
        assert_eq!(t.find(0.0), 2);
        assert_eq!(t.find(0.3), 3);
    }

    #[test]
    fn expected_count_rules() {
        assert_eq!(expected_count(0.1, 5, 5), 0.5);
        let e = expected_count(0.1, 5, 7);
        assert!((e - (1.0 - 0.9f64.powi(7))).abs() < 1e-12);
    }
}
