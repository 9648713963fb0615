//! Dynamic hard negatives: DNS (Zhang et al., "Optimizing top-n
//! collaborative filtering via dynamic negative item sampling", SIGIR 2013)
//! and its softmax variant.
//!
//! For each positive `(user, item)`:
//!
//! 1. draw `M` candidates from the sampler's proposal **with exclusion** of the
//!    user's positives (each candidate independently, as
//!    [`Sampler::negatives_into`] draws them: duplicates are possible);
//! 2. score each as `dot(userEmbeddings[user], itemEmbeddings[candidate])`
//!    ([`crate::dot`]: the same bits on every instruction set);
//! 3. keep `k` of them:
//!    - [`Strategy::Max`]: the `k` highest scores, hardest first; equal scores
//!      go to the lower candidate position;
//!    - [`Strategy::Softmax`]: `k` distinct positions drawn one after another
//!      without replacement, each with probability proportional to
//!      `exp(score / temperature)` among the positions not yet drawn. A high
//!      temperature tends to uniform (plain sampling); a low one to `Max`.
//!
//! # Determinism and threads
//! Positives are processed in chunks of [`CHUNK`]. Chunk `c` of call `call`
//! draws its candidates as the sampler's call number
//! `2^62 | call << 23 | c` (a number that no ordinary call can take, since
//! those count up from 0), and its softmax choices from the stream
//! `(seed, HardNegatives, call, c)`. So every chunk's randomness is its own,
//! and the output is the same on one thread or many, on any instruction set.
//!
//! # Scores that are not finite
//! NaN in an embedding gives NaN scores; they are ranked below every other
//! score (as `-inf`), so a candidate with a NaN score is kept only when fewer
//! than `k` candidates have a number, and its NaN score is returned, visible
//! to the caller. Under softmax a NaN score has weight 0; if some score is
//! `+inf`, only the `+inf` positions have weight; if none has weight, all
//! positions have equal weight. The negatives returned are valid negatives in
//! every case.
//!
//! # Performance
//! Per positive: `M` alias draws with exclusion (the user's `M` candidates
//! compared with its positives in vector registers when its row is short),
//! `M` dot products of `dim` (one row read of `4 * dim` bytes each,
//! prefetched 16 candidates ahead; dims 16, 32, 64 and 128 have kernels that
//! keep the user row in registers), and an `O(M)` selection (branch-free for
//! `k = 1`; `O(M * k)` for softmax). Each thread reuses its working memory
//! across chunks, so a call allocates only once per thread. Chunks run on the
//! rayon pool when [`HardOptions::parallel`] is set and there is more than
//! one. On the benchmark workload (`benches/hard_speed.rs`: 40,000 items,
//! dim 64, M = 32, k = 1, AVX-512) about 0.4 us per positive on one thread:
//! a third in the draws with exclusion, the rest in scoring, which waits on
//! the 32 random rows it reads from the item matrix.

use rayon::prelude::*;

use crate::dot::{self, Path};
use crate::draw::rng::{Domain, Stream};
use crate::error::{Error, Result};
use crate::sampler::{Sampler, Scratch};

/// Positives per chunk: the unit of random streams and of parallel work.
pub const CHUNK: usize = 256;

/// How many candidates ahead item rows are prefetched while scoring.
const PREFETCH: usize = 16;

/// The largest number of candidates per positive.
pub const MAX_CANDIDATES: usize = 1 << 16;

/// The largest call number a hard-negatives call can have (`2^39 - 1`): the
/// chunk's candidate-call number packs it with the chunk index into the
/// space `[2^62, 2^63)` (see [`crate::sampler::Sampler::next_call`]).
pub const MAX_CALL: u64 = (1 << 39) - 1;

/// How `k` negatives are chosen among a positive's `M` scored candidates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// The `k` highest-scoring candidates (DNS), hardest first.
    Max,
    /// `k` candidates drawn without replacement by softmax of
    /// `score / temperature`.
    Softmax {
        /// Finite and `> 0`.
        temperature: f64,
    },
}

/// What a hard-negatives call is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HardOptions {
    /// Candidates drawn per positive (`M`): `1..=MAX_CANDIDATES`.
    pub candidates: usize,
    /// Negatives kept per positive (`k`): `1..=candidates`.
    pub negatives: usize,
    /// How they are kept.
    pub strategy: Strategy,
    /// The row layout of the output.
    pub layout: Layout,
    /// Spread chunks of positives over the rayon pool (the output is the same
    /// either way).
    pub parallel: bool,
}

impl HardOptions {
    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `candidates`, `negatives` or
    /// `temperature`.
    pub fn check(&self) -> Result<()> {
        if self.candidates == 0 || self.candidates > MAX_CANDIDATES {
            return Err(Error::OutOfRange {
                name: "candidates",
                value: self.candidates.to_string(),
                expected: format!("an integer in [1, {MAX_CANDIDATES}]"),
            });
        }
        if self.negatives == 0 || self.negatives > self.candidates {
            return Err(Error::OutOfRange {
                name: "negatives",
                value: self.negatives.to_string(),
                expected: format!(
                    "an integer in [1, candidates] = [1, {}]: k negatives are chosen among the candidates",
                    self.candidates
                ),
            });
        }
        if let Strategy::Softmax { temperature } = self.strategy {
            if !temperature.is_finite() || temperature <= 0.0 {
                return Err(Error::OutOfRange {
                    name: "temperature",
                    value: temperature.to_string(),
                    expected: "a finite number > 0".into(),
                });
            }
        }
        Ok(())
    }
}

/// Snapshots of the model's embeddings: row-major `f32` matrices.
#[derive(Debug, Clone, Copy)]
pub struct Embeddings<'a> {
    users: &'a [f32],
    items: &'a [f32],
    dim: usize,
}

impl<'a> Embeddings<'a> {
    /// Checks the shapes against the sampler's interaction matrix:
    /// `users.len() == numUsers * dim`, `items.len() == numItems * dim`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for `dim == 0`; [`Error::LengthMismatch`] naming
    /// `userEmbeddings` or `itemEmbeddings`, its length, and the product it
    /// had to equal.
    pub fn new(sampler: &Sampler, users: &'a [f32], items: &'a [f32], dim: usize) -> Result<Self> {
        if dim == 0 {
            return Err(Error::OutOfRange {
                name: "dim",
                value: "0".into(),
                expected: "an integer >= 1".into(),
            });
        }
        let m = sampler.interactions();
        for (name, len, count, what) in [
            ("user_embeddings", users.len(), m.num_users(), "num_users"),
            ("item_embeddings", items.len(), m.num_items(), "num_items"),
        ] {
            if count.checked_mul(dim) != Some(len) {
                return Err(Error::LengthMismatch {
                    name,
                    len,
                    expected: format!(
                        "{what} * dim = {count} * {dim} = {}",
                        count as u128 * dim as u128
                    ),
                });
            }
        }
        Ok(Embeddings { users, items, dim })
    }

    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// User `u`'s row.
    #[inline]
    pub fn user(&self, u: u32) -> &'a [f32] {
        &self.users[u as usize * self.dim..(u as usize + 1) * self.dim]
    }

    /// Item `i`'s row.
    #[inline]
    pub fn item(&self, i: u32) -> &'a [f32] {
        &self.items[i as usize * self.dim..(i as usize + 1) * self.dim]
    }

    /// The item matrix.
    pub fn items(&self) -> &'a [f32] {
        self.items
    }
}

/// The row layout of a hard-negatives output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `k` rows per positive: its negatives (hardest first for `Max`).
    /// With `users` and `positives` buffers, this is the pairwise (BPR)
    /// layout `(user, positive, negative)`.
    Pairwise,
    /// `1 + k` rows per positive: the positive (label 1, its own score),
    /// then its `k` negatives (label 0).
    Pointwise,
}

impl Layout {
    /// Output rows per positive for `k` negatives.
    pub fn rows_per_positive(self, k: usize) -> usize {
        match self {
            Layout::Pairwise => k,
            Layout::Pointwise => k + 1,
        }
    }
}

/// Caller buffers of a hard-negatives call. `items`, `scores` and every
/// other per-row buffer hold `positives * rows_per_positive` rows;
/// `candidates` holds `positives * M`.
#[derive(Debug, Default)]
pub struct HardOut<'a> {
    /// Pairwise: the chosen negatives. Pointwise: each positive followed by
    /// its negatives.
    pub items: &'a mut [u32],
    /// The score (dot product) of each row's item for the row's user.
    pub scores: &'a mut [f32],
    /// Optional: `ln q(item)` under the proposal, per row.
    pub log_probs: Option<&'a mut [f32]>,
    /// Optional: the user of each row.
    pub users: Option<&'a mut [u32]>,
    /// Optional (pairwise): the positive of each row.
    pub positives: Option<&'a mut [u32]>,
    /// Optional (pointwise): 1 for a positive, 0 for a negative.
    pub labels: Option<&'a mut [f32]>,
    /// Optional: every candidate drawn, `M` per positive, in draw order.
    pub candidates: Option<&'a mut [u32]>,
}

/// One chunk's share of a [`HardOut`].
struct ChunkOut<'a> {
    items: &'a mut [u32],
    scores: &'a mut [f32],
    log_probs: Option<&'a mut [f32]>,
    users: Option<&'a mut [u32]>,
    positives: Option<&'a mut [u32]>,
    labels: Option<&'a mut [f32]>,
    candidates: Option<&'a mut [u32]>,
}

/// Splits an optional buffer into `chunks` pieces of `size` (the last may be
/// shorter), or `chunks` `None`s.
fn split<T>(buffer: Option<&mut [T]>, size: usize, chunks: usize) -> Vec<Option<&mut [T]>> {
    match buffer {
        Some(b) => b.chunks_mut(size.max(1)).map(Some).collect(),
        None => (0..chunks).map(|_| None).collect(),
    }
}

/// Checks a whole hard-negatives request before anything is drawn (and
/// before a call number is taken).
///
/// `outputs` names every per-row buffer with its length; `candidates` names
/// the candidates buffer with its length, if there is one.
///
/// # Errors
/// [`HardOptions::check`]'s errors, then [`Sampler::check_request`]'s
/// (`positives` as long as `users` and in range, every output
/// `users.length * rows` long, every user with a possible negative), and
/// [`Error::LengthMismatch`] for the candidates buffer.
pub fn check_request(
    sampler: &Sampler,
    users: &[u32],
    positives: &[u32],
    options: &HardOptions,
    outputs: &[(&'static str, usize)],
    candidates: Option<(&'static str, usize)>,
) -> Result<()> {
    options.check()?;
    let (k, layout) = (options.negatives, options.layout);
    sampler.check_request(
        users,
        Some(("positives", positives)),
        k,
        layout.rows_per_positive(k),
        outputs,
    )?;
    if let Some((name, len)) = candidates {
        let expected = users.len() as u128 * options.candidates as u128;
        if len as u128 != expected {
            return Err(Error::LengthMismatch {
                name,
                len,
                expected: format!("{expected} (users.length * candidates)"),
            });
        }
    }
    Ok(())
}

/// Hard negatives for each positive `(users[j], positives[j])`, as call
/// number `call`, into `out` laid out as `options.layout`.
///
/// # Errors
/// As [`check_request`], and [`Error::OutOfRange`] naming `call` past
/// [`MAX_CALL`]. Nothing is written unless all checks pass.
///
/// # Performance
/// See the module docs. Memory: `CHUNK * M` candidate ids and `M` scores per
/// chunk in flight.
pub fn hard_negatives_into(
    sampler: &Sampler,
    users: &[u32],
    positives: &[u32],
    embeddings: &Embeddings<'_>,
    options: &HardOptions,
    call: u64,
    out: HardOut<'_>,
) -> Result<()> {
    let layout = options.layout;
    let rows = layout.rows_per_positive(options.negatives);
    let mut outputs = vec![
        ("out.items", out.items.len()),
        ("out.scores", out.scores.len()),
    ];
    for (name, len) in [
        ("out.log_probs", out.log_probs.as_ref().map(|b| b.len())),
        ("out.users", out.users.as_ref().map(|b| b.len())),
        ("out.positives", out.positives.as_ref().map(|b| b.len())),
        ("out.labels", out.labels.as_ref().map(|b| b.len())),
    ] {
        if let Some(len) = len {
            outputs.push((name, len));
        }
    }
    check_request(
        sampler,
        users,
        positives,
        options,
        &outputs,
        out.candidates.as_ref().map(|b| ("out.candidates", b.len())),
    )?;
    if call > MAX_CALL {
        return Err(Error::OutOfRange {
            name: "call",
            value: call.to_string(),
            expected: format!("at most {MAX_CALL} for hard negatives"),
        });
    }

    let n = users.len();
    let chunks = n.div_ceil(CHUNK);
    let m = options.candidates;
    let row_size = CHUNK * rows;
    let pieces = split(Some(out.items), row_size, chunks)
        .into_iter()
        .zip(split(Some(out.scores), row_size, chunks))
        .zip(split(out.log_probs, row_size, chunks))
        .zip(split(out.users, row_size, chunks))
        .zip(split(out.positives, row_size, chunks))
        .zip(split(out.labels, row_size, chunks))
        .zip(split(out.candidates, CHUNK * m, chunks))
        .enumerate()
        .map(
            |(c, ((((((items, scores), log_probs), users), positives), labels), candidates))| {
                (
                    c,
                    ChunkOut {
                        items: items.expect("always given"),
                        scores: scores.expect("always given"),
                        log_probs,
                        users,
                        positives,
                        labels,
                        candidates,
                    },
                )
            },
        );
    let job = Job {
        sampler,
        embeddings,
        options,
        layout,
        call,
        path: Path::best(),
        log_q: sampler.log_probabilities(),
    };
    let run = |work: &mut Work, (c, piece): (usize, ChunkOut<'_>)| {
        let range = c * CHUNK..((c + 1) * CHUNK).min(n);
        job.chunk(c, &users[range.clone()], &positives[range], piece, work);
    };
    if options.parallel && chunks > 1 {
        pieces
            .collect::<Vec<_>>()
            .into_par_iter()
            .for_each_init(Work::default, run);
    } else {
        let mut work = Work::default();
        pieces.for_each(|piece| run(&mut work, piece));
    }
    Ok(())
}

/// Working memory of a thread, reused across the chunks it computes (so a
/// chunk allocates nothing once its thread has done one).
#[derive(Debug, Default)]
struct Work {
    /// The chunk's candidates, `M` per positive.
    candidates: Vec<u32>,
    /// One positive's scores.
    scores: Vec<f32>,
    /// The chosen positions.
    order: Vec<u32>,
    /// Softmax weights.
    weights: Vec<f64>,
    /// The exclusion pass's working memory.
    scratch: Scratch,
}

/// Everything a chunk needs, shared by all chunks of a call.
struct Job<'a> {
    sampler: &'a Sampler,
    embeddings: &'a Embeddings<'a>,
    options: &'a HardOptions,
    layout: Layout,
    call: u64,
    path: Path,
    log_q: &'a [f32],
}

/// The sampler call number under which chunk `chunk` of call `call` draws
/// its candidates: in `[2^62, 2^63)`, the space reserved for these draws
/// (ordinary calls stay below `2^62`, shard calls are `2^63` and above), and
/// distinct for every `(call, chunk)` with `call <= MAX_CALL` and
/// `chunk < 2^23` (a call has at most `2^31 / CHUNK = 2^23` chunks).
pub const fn candidate_call(call: u64, chunk: u64) -> u64 {
    (1 << 62) | (call << 23) | chunk
}

impl Job<'_> {
    fn chunk(
        &self,
        c: usize,
        users: &[u32],
        positives: &[u32],
        out: ChunkOut<'_>,
        work: &mut Work,
    ) {
        let m = self.options.candidates;
        let k = self.options.negatives;
        let Work {
            candidates,
            scores,
            order,
            weights,
            scratch,
        } = work;
        // Every element is written by the draws: no need to clear.
        candidates.resize(users.len() * m, 0);
        let candidates = &mut candidates[..users.len() * m];
        // Users were checked by `check_request`.
        self.sampler.negatives_serial_into(
            users,
            m,
            candidate_call(self.call, c as u64),
            candidates,
            scratch,
        );
        let candidates = &*candidates;
        let stream = Stream::new(
            self.sampler.seed(),
            Domain::HardNegatives,
            self.call,
            c as u64,
        );
        scores.resize(m, 0.0);
        let scores = &mut scores[..m];
        if matches!(self.options.strategy, Strategy::Softmax { .. }) {
            weights.resize(m, 0.0);
        }
        let rows = self.layout.rows_per_positive(k);
        let ChunkOut {
            items,
            scores: out_scores,
            mut log_probs,
            users: mut out_users,
            positives: mut out_positives,
            mut labels,
            candidates: out_candidates,
        } = out;
        for (j, (&u, &p)) in users.iter().zip(positives).enumerate() {
            let cand = &candidates[j * m..(j + 1) * m];
            let user = self.embeddings.user(u);
            if let Some(&next) = users.get(j + 2) {
                dot::prefetch(self.embeddings.user(next));
            }
            // Prefetch rows PREFETCH candidates ahead, across positives.
            let ahead = &candidates[(j * m + PREFETCH).min(candidates.len())
                ..((j + 1) * m + PREFETCH).min(candidates.len())];
            // SAFETY: the user row has `dim` floats, `scores` has `m`; every
            // candidate is an item id below numItems (drawn by the sampler),
            // and the item matrix holds numItems * dim floats (checked by
            // `Embeddings::new`).
            unsafe {
                dot::scores_into_unchecked(
                    self.path,
                    user,
                    self.embeddings.items(),
                    self.embeddings.dim(),
                    cand,
                    ahead,
                    scores,
                )
            };
            let first = j * rows;
            let neg = match self.layout {
                Layout::Pairwise => first,
                Layout::Pointwise => {
                    items[first] = p;
                    out_scores[first] = dot::dot_with(self.path, user, self.embeddings.item(p));
                    first + 1
                }
            };
            let chosen = &mut items[neg..neg + k];
            let chosen_scores = &mut out_scores[neg..neg + k];
            match self.options.strategy {
                Strategy::Max if k == 1 => {
                    let pos = best(scores);
                    chosen[0] = cand[pos];
                    chosen_scores[0] = scores[pos];
                }
                Strategy::Max => select_max(scores, k, order),
                Strategy::Softmax { temperature } => select_softmax(
                    scores,
                    k,
                    temperature,
                    &stream,
                    (j * k) as u64,
                    &mut weights[..m],
                    order,
                ),
            }
            if !(k == 1 && self.options.strategy == Strategy::Max) {
                for ((item, score), &pos) in chosen.iter_mut().zip(chosen_scores).zip(&*order) {
                    *item = cand[pos as usize];
                    *score = scores[pos as usize];
                }
            }
            if let Some(lp) = log_probs.as_deref_mut() {
                for r in first..first + rows {
                    lp[r] = self.log_q[items[r] as usize];
                }
            }
            if let Some(ou) = out_users.as_deref_mut() {
                ou[first..first + rows].fill(u);
            }
            if let Some(op) = out_positives.as_deref_mut() {
                op[first..first + rows].fill(p);
            }
            if let Some(l) = labels.as_deref_mut() {
                l[first..first + rows].fill(0.0);
                if self.layout == Layout::Pointwise {
                    l[first] = 1.0;
                }
            }
        }
        if let Some(oc) = out_candidates {
            oc.copy_from_slice(candidates);
        }
    }
}

/// A score as a ranking key: NaN ranks as `-inf`.
#[inline(always)]
fn key(score: f32) -> f32 {
    if score.is_nan() {
        f32::NEG_INFINITY
    } else {
        score
    }
}

/// The position of the highest key (NaN as `-inf`), the lowest such
/// position if several are equal: what [`select_max`] gives for `k = 1`,
/// without a branch per score.
///
/// # Panics
/// If `scores` is empty.
#[inline]
pub fn best(scores: &[f32]) -> usize {
    // The highest key, lane by lane (no NaN among keys), then the first
    // position holding it. -0 and +0 are equal keys, so the first of either
    // is found, as by a scan with `>`.
    let mut lanes = [f32::NEG_INFINITY; 16];
    let mut blocks = scores.chunks_exact(16);
    for block in &mut blocks {
        for (lane, &s) in lanes.iter_mut().zip(block) {
            let k = key(s);
            *lane = if k > *lane { k } else { *lane };
        }
    }
    for half in [8, 4, 2, 1] {
        for l in 0..half {
            lanes[l] = if lanes[l + half] > lanes[l] {
                lanes[l + half]
            } else {
                lanes[l]
            };
        }
    }
    let mut top = lanes[0];
    for &s in blocks.remainder() {
        let k = key(s);
        top = if k > top { k } else { top };
    }
    if top == f32::NEG_INFINITY {
        // Every key is -inf: the first position.
        return 0;
    }
    // A finite or +inf top: only a score equal to it has that key.
    scores
        .iter()
        .position(|&s| s == top)
        .expect("the highest key is some score's")
}

/// The positions of the `k` highest keys, highest first, equal keys by lower
/// position, into `order`.
pub fn select_max(scores: &[f32], k: usize, order: &mut Vec<u32>) {
    order.clear();
    if k == 1 {
        let mut best = 0usize;
        let mut best_key = key(scores[0]);
        for (i, &s) in scores.iter().enumerate().skip(1) {
            if key(s) > best_key {
                best = i;
                best_key = key(s);
            }
        }
        order.push(best as u32);
        return;
    }
    order.extend(0..scores.len() as u32);
    let before = |a: &u32, b: &u32| {
        key(scores[*b as usize])
            .partial_cmp(&key(scores[*a as usize]))
            .expect("keys are never NaN")
            .then(a.cmp(b))
    };
    if k < order.len() {
        order.select_nth_unstable_by(k - 1, before);
        order.truncate(k);
    }
    order.sort_unstable_by(before);
}

/// `k` distinct positions drawn one after another, each with probability
/// proportional to `exp(key / temperature)` among those not yet drawn, from
/// words `first..first + k` of `stream`, into `order`.
pub fn select_softmax(
    scores: &[f32],
    k: usize,
    temperature: f64,
    stream: &Stream,
    first: u64,
    weights: &mut [f64],
    order: &mut Vec<u32>,
) {
    order.clear();
    let top = scores
        .iter()
        .map(|&s| key(s))
        .fold(f32::NEG_INFINITY, f32::max) as f64;
    for (w, &s) in weights.iter_mut().zip(scores) {
        let s = key(s) as f64;
        *w = if top == f64::NEG_INFINITY {
            1.0
        } else if top == f64::INFINITY {
            if s == f64::INFINITY {
                1.0
            } else {
                0.0
            }
        } else {
            ((s - top) / temperature).exp()
        };
    }
    for t in 0..k as u64 {
        let mut total: f64 = weights.iter().sum();
        if total <= 0.0 {
            // Only zero weights are left (underflow): the rest equally.
            for (i, w) in weights.iter_mut().enumerate() {
                *w = if order.contains(&(i as u32)) {
                    0.0
                } else {
                    1.0
                };
            }
            total = weights.iter().sum();
        }
        let x = unit(stream.word(first + t)) * total;
        let mut running = 0.0;
        let mut pick = None;
        for (i, &w) in weights.iter().enumerate() {
            if w > 0.0 {
                running += w;
                pick = Some(i);
                if x < running {
                    break;
                }
            }
        }
        let pick = pick.expect("some weight is positive");
        weights[pick] = 0.0;
        order.push(pick as u32);
    }
}

/// A uniform number in `[0, 1)` from the top 53 bits of a word.
#[inline(always)]
pub fn unit(word: u64) -> f64 {
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
