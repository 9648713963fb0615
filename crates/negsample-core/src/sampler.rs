//! Negatives with exclusion: draws from the proposal, restricted to the items
//! each user has not interacted with.
//!
//! Two exact methods, chosen per user when the sampler is built:
//!
//! - **Rejection** (most users): draw from the alias table; if the item is a
//!   positive of the user (binary search in the sorted row), draw again from
//!   the next redraw counter of the block. Conditioning a distribution on
//!   "not a positive" by rejection gives exactly the restricted distribution.
//! - **Complement** (users whose positives hold at least half of the
//!   proposal's mass, where rejection would need two or more draws on
//!   average): the user's non-positives form the gaps between consecutive
//!   sorted positives; a prefix sum over the gaps' masses (precomputed for
//!   these users only) picks a gap, and a binary search in the global prefix
//!   sum of item masses picks the item in it. Masses are the integers the
//!   alias table realises (see [`AliasTable::masses`]), so both methods
//!   sample the same distribution exactly and the complement method never
//!   spins.
//!
//! A user whose positives hold all of the mass has no possible negative: any
//! request for one is an [`Error::NoNegative`] naming that user.
//!
//! The membership test of rejection (is this candidate a positive of its
//! user?) is the crate's `membership` module: a pair filter, then a bitmap
//! for long rows, a binary search or a vector compare for the others, all
//! with the same answers. Large calls spread their blocks of output over a
//! thread pool (at least [`crate::PARALLEL_MIN`] outputs).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::ThreadPool;

use crate::draw::alias::AliasTable;
use crate::draw::kernel::{fill_picks_with, Kernel, BLOCK};
use crate::draw::parallel;
use crate::draw::rng::{Domain, Stream};
use crate::error::{check_ids, Error, Result};
use crate::interactions::Interactions;
use crate::membership::{Exclusion, Hits, Membership, Positives, PREFETCH_AHEAD};

/// The largest output of one call, in elements: what an `Int32Array` holds.
pub const MAX_OUTPUT: usize = i32::MAX as usize;

/// Redraw candidates drawn ahead beyond one per hit (more are drawn one at
/// a time if a block needs them).
const REDRAW_SLACK: usize = 32;

/// The largest `k` whose blocks are tested output by output through the
/// pair filter (the trainer's shape); larger `k` test each user's
/// candidates together (bitmap, search or vector scan of its row), which
/// wins once a user's candidates share the reads of its row. On one thread
/// of a Xeon (`node benches/trainer-shape.bench.mjs`, negatives over every
/// positive's user): per-output 234 M/s against 24 M/s per-user at k = 4
/// on the Gowalla-shaped set; hard negatives' M = 32 candidates cost 284
/// against 124 ns per positive (`hard_speed` example).
const PER_OUTPUT_MAX_K: usize = 8;

/// As [`PER_OUTPUT_MAX_K`], for matrices whose positives are mostly in
/// rows with bitmaps (dense catalogues such as MovieLens-1M): there a
/// user's `k` candidates share its bitmap, and the per-user pass wins from
/// `k = 3` (ml-1m, uniform, k = 4: 159 against 147 M/s; k = 2: 111 against
/// 133 M/s).
const PER_OUTPUT_MAX_K_DENSE: usize = 2;

/// Working memory of the exclusion pass, reused across the blocks of a call
/// (and across the chunks of a hard-negatives call).
///
/// (The field order is the order the buffers are freed in: this one leaves
/// the heap so that the next call's buffers grow in place, where others
/// made `realloc` copy them: 0.6% more instructions in the per-output pass
/// of `epoch_cost`, under callgrind.)
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Candidates of the redraw counters `BLOCK, BLOCK + 1, ...`.
    picks: Vec<u32>,
    /// The user of each output of a block (per-output pass, `k > 1`).
    owners: Vec<u32>,
    /// The first draws that hit one of their user's positives, in output
    /// order, and the membership tests' working memory.
    hits: Hits,
}

/// Which distribution negatives are proposed from (before exclusion).
#[derive(Debug, Clone, PartialEq)]
pub enum Proposal {
    /// Every item equally likely.
    Uniform,
    /// Item `i` with weight `count(i)^alpha`, where `count(i)` is the number
    /// of users who interacted with it; items nobody interacted with get
    /// weight 0. `alpha = 0.75` is word2vec's choice.
    Popularity {
        /// Exponent: finite and `>= 0`.
        alpha: f64,
    },
    /// Caller weights, one per item: finite, `>= 0`, not all zero.
    Weights(Vec<f64>),
}

/// word2vec's exponent for the unigram distribution (Mikolov et al. 2013).
pub const DEFAULT_ALPHA: f64 = 0.75;

impl Proposal {
    /// The proposal called `name` (`"uniform"`, `"popularity"` with `alpha`,
    /// default [`DEFAULT_ALPHA`], or `"weights"` with `weights`).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `proposal` for another name, or
    /// `weights` if the `"weights"` proposal comes without them.
    pub fn named(name: &str, alpha: Option<f64>, weights: Option<Vec<f64>>) -> Result<Self> {
        match (name, weights) {
            ("uniform", _) => Ok(Proposal::Uniform),
            ("popularity", _) => Ok(Proposal::Popularity {
                alpha: alpha.unwrap_or(DEFAULT_ALPHA),
            }),
            ("weights", Some(weights)) => Ok(Proposal::Weights(weights)),
            ("weights", None) => Err(Error::OutOfRange {
                name: "weights",
                value: "none".into(),
                expected: "given for the 'weights' proposal".into(),
            }),
            (other, _) => Err(Error::OutOfRange {
                name: "proposal",
                value: format!("'{other}'"),
                expected: "'uniform', 'popularity' or 'weights'".into(),
            }),
        }
    }

    /// The alias table of this proposal over `interactions`' items.
    pub(crate) fn table(&self, interactions: &Interactions) -> Result<AliasTable> {
        let n = interactions.num_items();
        match self {
            Proposal::Uniform => AliasTable::uniform(n),
            Proposal::Popularity { alpha } => {
                if !alpha.is_finite() || *alpha < 0.0 {
                    return Err(Error::OutOfRange {
                        name: "alpha",
                        value: alpha.to_string(),
                        expected: "a finite number >= 0".into(),
                    });
                }
                let counts = interactions.popularity();
                if n > 0 && counts.iter().all(|&c| c == 0) {
                    return Err(Error::AllZeroWeights);
                }
                // count^alpha relative to the largest count: no overflow for
                // any alpha.
                let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
                let weights: Vec<f64> = counts
                    .iter()
                    .map(|&c| {
                        if c == 0 {
                            0.0
                        } else {
                            // A huge alpha may underflow: an item someone
                            // interacted with still keeps a positive weight.
                            (c as f64 / max).powf(*alpha).max(f64::MIN_POSITIVE)
                        }
                    })
                    .collect();
                AliasTable::from_weights(&weights)
            }
            Proposal::Weights(weights) => {
                if weights.len() != n {
                    return Err(Error::LengthMismatch {
                        name: "weights",
                        len: weights.len(),
                        expected: format!("num_items ({n})"),
                    });
                }
                AliasTable::from_weights(weights)
            }
        }
    }
}

/// How a user's negatives are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Rejection,
    Complement,
    Impossible,
}

/// A seeded negative sampler over one interaction matrix and one proposal.
///
/// Every call that draws randomness takes the next *call number* from an
/// atomic counter; its output is a pure function of (seed, call number,
/// arguments). So the same seed and the same sequence of calls give the same
/// output, on any thread count and any instruction set.
///
/// # Memory
/// The alias table (8 bytes per item), the prefix sums of the realised item
/// masses (8 bytes per item), one byte per user, for users whose positives
/// hold at least half the proposal mass 8 bytes per positive, a 4-byte
/// test code per user, a 2-byte share of the pair filter per positive, and
/// the exclusion bitmaps of long rows (at most [`crate::BITMAP_COST`] times
/// the rows that get one; see [`Sampler::exclusion_bytes`]).
///
/// # Threads and kernels
/// A call of at least [`crate::PARALLEL_MIN`] outputs is spread over
/// [`Sampler::threads`] threads (default: all cores), a smaller one runs on
/// the calling thread; draws use [`Sampler::kernel`] (default: the fastest
/// this CPU runs, or what `NEGSAMPLE_KERNEL` names). Neither changes the
/// output.
#[derive(Debug)]
pub struct Sampler {
    interactions: Arc<Interactions>,
    table: AliasTable,
    /// `cumulative[i]` = total realised mass of items `0..i` (`n + 1` values,
    /// the last one `n * 2^32`).
    cumulative: Box<[u64]>,
    methods: Box<[Method]>,
    /// Whether some user has no possible negative (`Method::Impossible`).
    any_impossible: bool,
    /// For complement users: prefix sums of the masses of the gaps between
    /// their positives (`row.len() + 2` values, starting at 0).
    gaps: HashMap<u32, Box<[u64]>>,
    log_probs: OnceLock<Box<[f32]>>,
    seed: u64,
    calls: AtomicU64,
    /// Whether some user is sampled by the complement method.
    any_complement: bool,
    /// The largest `k` of the per-output pass ([`PER_OUTPUT_MAX_K`], or
    /// [`PER_OUTPUT_MAX_K_DENSE`] when bitmap rows hold most positives).
    per_output_max_k: usize,
    /// The membership test of rejection: test codes, bitmaps of long rows,
    /// the filter of every positive pair.
    membership: Membership,
    kernel: Kernel,
    threads: usize,
    /// The order buffer of the last finished epoch ([`crate::epoch`]).
    epoch_buffer: std::sync::Mutex<Box<[u64]>>,
    /// The shared pool of the `threads - 1` helpers of the calling thread,
    /// if `threads > 1`.
    pool: Option<Arc<ThreadPool>>,
}

impl Sampler {
    /// Builds the proposal's alias table and classifies every user.
    ///
    /// It uses every core ([`crate::default_threads`]) and the kernel of
    /// [`Kernel::from_env`]; see [`Sampler::with_threads`] and
    /// [`Sampler::with_kernel`].
    ///
    /// # Errors
    /// [`Error::EmptyCatalogue`] if there are no items; the proposal's own
    /// errors ([`Error::OutOfRange`] for `alpha`, [`Error::LengthMismatch`],
    /// [`Error::InvalidWeight`] or [`Error::AllZeroWeights`] for weights);
    /// [`Error::OutOfRange`] naming `NEGSAMPLE_KERNEL` if that variable
    /// names a kernel this CPU cannot run.
    ///
    /// # Performance
    /// O(numItems + nnz), plus O(r) for each heavy user with r positives,
    /// plus the bitmaps of long rows and the pair filter (2 bytes per
    /// positive).
    pub fn new(interactions: Arc<Interactions>, proposal: &Proposal, seed: u64) -> Result<Self> {
        let table = proposal.table(&interactions)?;
        Self::from_table(interactions, table, seed)
    }

    /// As [`Sampler::new`], with the proposal's alias table already built
    /// (for instance read from a file by [`crate::io::file_format`]): the
    /// same table gives the same output, draw for draw.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless the table has one slot per item.
    ///
    /// # Performance
    /// O(numItems + nnz), plus O(r) for each heavy user with r positives.
    pub fn from_table(
        interactions: Arc<Interactions>,
        table: AliasTable,
        seed: u64,
    ) -> Result<Self> {
        if table.len() != interactions.num_items() {
            return Err(Error::LengthMismatch {
                name: "table",
                len: table.len(),
                expected: format!("num_items ({})", interactions.num_items()),
            });
        }
        let mut cumulative = Vec::with_capacity(table.len() + 1);
        cumulative.push(0u64);
        let mut running = 0u64;
        for m in table.masses() {
            running += m;
            cumulative.push(running);
        }
        let total = running;
        let mass = |i: u32| cumulative[i as usize + 1] - cumulative[i as usize];

        let mut methods = Vec::with_capacity(interactions.num_users());
        let mut gaps = HashMap::new();
        for u in 0..interactions.num_users() as u32 {
            let row = interactions.row(u);
            let positive: u64 = row.iter().map(|&i| mass(i)).sum();
            let method = if positive == total {
                Method::Impossible
            } else if 2 * positive >= total {
                gaps.insert(u, gap_prefix(row, &cumulative));
                Method::Complement
            } else {
                Method::Rejection
            };
            methods.push(method);
        }
        let kernel = Kernel::from_env()?;
        let membership = Membership::build(&interactions, Exclusion::default(), |u| {
            methods[u as usize] == Method::Rejection
        });
        let per_output_max_k = per_output_max_k(&membership, &interactions);
        let sampler = Sampler {
            any_complement: methods.contains(&Method::Complement),
            per_output_max_k,
            interactions,
            table,
            cumulative: cumulative.into_boxed_slice(),
            any_impossible: methods.contains(&Method::Impossible),
            methods: methods.into_boxed_slice(),
            gaps,
            log_probs: OnceLock::new(),
            seed,
            calls: AtomicU64::new(0),
            membership,
            kernel,
            threads: 1,
            pool: None,
            epoch_buffer: Default::default(),
        };
        sampler.with_threads(parallel::default_threads())
    }

    /// The same sampler, spreading calls of at least
    /// [`crate::PARALLEL_MIN`] outputs over `threads` threads (a pool
    /// shared by all samplers with that count). The output does not depend
    /// on it.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `threads` unless it is in
    /// `[1, crate::MAX_THREADS]` (or if the system cannot start them).
    pub fn with_threads(mut self, threads: usize) -> Result<Self> {
        let threads = parallel::check_threads(threads)?;
        // The calling thread is one of the `threads`: the pool holds the others.
        self.pool = if threads > 1 {
            Some(parallel::pool(threads - 1)?)
        } else {
            None
        };
        self.threads = threads;
        Ok(self)
    }

    /// The same sampler, drawing with `kernel`. The output does not depend
    /// on it; this is for tests and benchmarks.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `kernel` if this CPU cannot run it.
    pub fn with_kernel(mut self, kernel: Kernel) -> Result<Self> {
        self.kernel = Kernel::checked("kernel", kernel.name())?;
        Ok(self)
    }

    /// The same sampler, with the membership test `exclusion` (rebuilding
    /// the bitmaps). The output does not depend on it; this is for tests
    /// and benchmarks.
    pub fn with_exclusion(mut self, exclusion: Exclusion) -> Self {
        let methods = &self.methods;
        self.membership
            .set_policy(&self.interactions, exclusion, |u| {
                methods[u as usize] == Method::Rejection
            });
        self.per_output_max_k = per_output_max_k(&self.membership, &self.interactions);
        self
    }

    /// The pool of the calling thread's `threads - 1` helpers, if any.
    pub(crate) fn pool(&self) -> Option<&ThreadPool> {
        self.pool.as_deref()
    }

    /// The buffer a finished epoch left for the next one (empty if none).
    pub(crate) fn take_epoch_buffer(&self) -> Box<[u64]> {
        std::mem::take(&mut *self.epoch_buffer.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Keeps a finished epoch's buffer for the next epoch.
    pub(crate) fn keep_epoch_buffer(&self, buffer: Box<[u64]>) {
        *self.epoch_buffer.lock().unwrap_or_else(|e| e.into_inner()) = buffer;
    }

    /// Whether some user has no possible negative.
    pub(crate) fn has_impossible_users(&self) -> bool {
        self.any_impossible
    }

    /// How many threads a large call uses.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The draw kernel.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// The membership test of rejection sampling.
    pub fn exclusion(&self) -> Exclusion {
        self.membership.policy()
    }

    /// Bytes held by the membership tests of rejection sampling: 4 per user,
    /// the pair filter (2 per positive), and the bitmaps of long rows.
    pub fn exclusion_bytes(&self) -> usize {
        self.membership.bytes()
    }

    /// The interaction matrix whose positives are excluded.
    pub fn interactions(&self) -> &Arc<Interactions> {
        &self.interactions
    }

    /// The proposal's alias table.
    pub fn table(&self) -> &AliasTable {
        &self.table
    }

    /// The seed given at construction.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Takes the next call number. Each sampling call should take exactly
    /// one, on the caller's thread, before any work is handed elsewhere.
    ///
    /// # Call-number spaces
    /// Call numbers key the random streams, so two jobs must never share one.
    /// They are split in three disjoint spaces:
    /// - `[0, 2^62)`: ordinary calls, counted up from 0 by this method;
    /// - `[2^62, 2^63)`: the candidate draws of hard-negatives calls
    ///   ([`crate::hard::candidate_call`]);
    /// - `[2^63, 2^64)`: the calls of data-parallel shards
    ///   ([`crate::shard::shard_call`]).
    pub fn next_call(&self) -> u64 {
        self.calls.fetch_add(1, Ordering::Relaxed)
    }

    /// How many call numbers have been taken.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Whether user `u` (a valid id) has at least one possible negative.
    pub fn has_negative(&self, u: u32) -> bool {
        self.methods[u as usize] != Method::Impossible
    }

    /// `user` as a user id of this sampler's matrix.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `name` if `user` is not below
    /// `num_users`.
    pub fn user(&self, name: &'static str, user: u64) -> Result<u32> {
        self.interactions.user(name, user)
    }

    /// The natural log of the proposal probability of each of `items`, into
    /// `out` (as [`Sampler::log_probabilities`]).
    ///
    /// # Errors
    /// [`Error::IdOutOfRange`] naming `items`, or [`Error::LengthMismatch`]
    /// naming `out`. Nothing is written unless both checks pass.
    pub fn log_probabilities_into(&self, items: &[u32], out: &mut [f32]) -> Result<()> {
        check_ids("items", items, self.interactions.num_items() as u64)?;
        if out.len() != items.len() {
            return Err(Error::LengthMismatch {
                name: "out",
                len: out.len(),
                expected: format!("items.length ({})", items.len()),
            });
        }
        let table = self.log_probabilities();
        for (o, &i) in out.iter_mut().zip(items) {
            *o = table[i as usize];
        }
        Ok(())
    }

    /// Whether user `u`'s negatives come from the complement method.
    pub fn uses_complement(&self, u: u32) -> bool {
        self.methods[u as usize] == Method::Complement
    }

    /// The probability the proposal gives item `i`, as realised by the table.
    pub fn probability(&self, i: u32) -> f64 {
        let m = self.cumulative[i as usize + 1] - self.cumulative[i as usize];
        m as f64 / *self.cumulative.last().expect("n + 1 values") as f64
    }

    /// The natural log of each proposal probability (for sampled-softmax
    /// logQ corrections), computed once on first use (4 bytes per item).
    pub fn log_probabilities(&self) -> &[f32] {
        self.log_probs.get_or_init(|| {
            (0..self.table.len() as u32)
                .map(|i| self.probability(i).ln() as f32)
                .collect()
        })
    }

    /// Checks `users` for the sampling calls: every id in range and every
    /// user with a possible negative.
    ///
    /// # Errors
    /// [`Error::IdOutOfRange`] or [`Error::NoNegative`], for the first bad user.
    pub fn check_users(&self, users: &[u32]) -> Result<()> {
        let bound = self.interactions.num_users();
        // The usual case in one vectorised pass (the largest id): a large
        // call checks its users on the calling thread before its blocks are
        // shared out, so this pass bounds its speed-up on many cores.
        let largest = users.iter().copied().max().unwrap_or(0);
        if (largest as usize) < bound && !self.any_impossible {
            return Ok(());
        }
        for (index, &u) in users.iter().enumerate() {
            if u as usize >= bound {
                return Err(Error::IdOutOfRange {
                    name: "users",
                    index,
                    value: u as i64,
                    bound: bound as u64,
                });
            }
            if self.methods[u as usize] == Method::Impossible {
                return Err(Error::NoNegative { user: u });
            }
        }
        Ok(())
    }

    /// `users.len() * k`, checked: `k >= 1` and the product fits an output.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `k`.
    pub fn output_len(users: usize, k: usize) -> Result<usize> {
        Self::output_rows(users, k, k)
    }

    /// `users.len() * rows_per_positive` for a request of `k` negatives per
    /// positive (`rows_per_positive` is `k` for pairwise layouts, `k + 1`
    /// for pointwise ones), checked: `k >= 1` and the rows fit an output.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `k` and the largest `k` that would fit.
    pub fn output_rows(users: usize, k: usize, rows_per_positive: usize) -> Result<usize> {
        if k == 0 {
            return Err(Error::OutOfRange {
                name: "k",
                value: "0".into(),
                expected: "an integer >= 1".into(),
            });
        }
        match users.checked_mul(rows_per_positive) {
            Some(len) if len <= MAX_OUTPUT => Ok(len),
            _ => Err(Error::OutOfRange {
                name: "k",
                value: k.to_string(),
                expected: format!(
                    "at most {} for {users} users (the output holds at most {MAX_OUTPUT} rows)",
                    (MAX_OUTPUT / users.max(1)).saturating_sub(rows_per_positive.saturating_sub(k))
                ),
            }),
        }
    }

    /// Checks a whole request before anything is drawn (and before a call
    /// number is taken): `k >= 1`; `users.len() * rows_per_positive` rows
    /// fit an output; every user in range with a possible negative;
    /// `items` (the positives, if any) as long as `users` with ids in range
    /// (`items` comes with the name the caller gives it); every output as
    /// long as the rows.
    ///
    /// # Errors
    /// The first failing check, as [`Error::OutOfRange`] (`k`),
    /// [`Error::LengthMismatch`], [`Error::IdOutOfRange`] or
    /// [`Error::NoNegative`].
    pub fn check_request(
        &self,
        users: &[u32],
        items: Option<(&'static str, &[u32])>,
        k: usize,
        rows_per_positive: usize,
        outputs: &[(&'static str, usize)],
    ) -> Result<()> {
        let rows = Self::output_rows(users.len(), k, rows_per_positive)?;
        self.check_users(users)?;
        if let Some((name, items)) = items {
            if items.len() != users.len() {
                return Err(Error::LengthMismatch {
                    name,
                    len: items.len(),
                    expected: format!("users.length ({})", users.len()),
                });
            }
            check_ids(name, items, self.interactions.num_items() as u64)?;
        }
        for &(name, len) in outputs {
            if len != rows {
                return Err(Error::LengthMismatch {
                    name,
                    len,
                    expected: format!("{rows} (users.length * {rows_per_positive})"),
                });
            }
        }
        Ok(())
    }

    /// Draws `k` negatives for each of `users` into `out` (`users.len() * k`
    /// of them; `out[j * k .. (j + 1) * k]` belong to `users[j]`), as call
    /// number `call`.
    ///
    /// # Errors
    /// As [`Sampler::check_request`]. Nothing is written unless all checks
    /// pass.
    ///
    /// # Performance
    /// One alias draw per negative (vector kernel), plus a membership test
    /// (one bitmap read, or a binary search in the user's row), plus the
    /// (rare) redraws; complement users pay two binary searches. Calls of
    /// at least [`crate::PARALLEL_MIN`] outputs use
    /// [`Sampler::threads`] threads.
    pub fn negatives_into(
        &self,
        users: &[u32],
        k: usize,
        call: u64,
        out: &mut [u32],
    ) -> Result<()> {
        self.check_request(users, None, k, k, &[("out", out.len())])?;
        let fill = |scratch: &mut Scratch, (block, chunk): (usize, &mut [u32])| {
            self.fill_call_block(users, k, call, block, chunk, scratch)
        };
        let pool = self.pool().filter(|_| out.len() >= parallel::PARALLEL_MIN);
        parallel::run_jobs(
            pool.map(|p| (p, self.threads - 1)),
            out.chunks_mut(BLOCK).enumerate(),
            fill,
        );
        Ok(())
    }

    /// As [`Sampler::negatives_into`] on the calling thread, without its
    /// checks and with the caller's working memory: for callers that have
    /// checked `users` (ids in range, each with a possible negative) and
    /// `out.len() == users.len() * k` already, and that make many small
    /// calls (the chunks of [`crate::hard::hard_negatives_into`]).
    pub(crate) fn negatives_serial_into(
        &self,
        users: &[u32],
        k: usize,
        call: u64,
        out: &mut [u32],
        scratch: &mut Scratch,
    ) {
        debug_assert_eq!(out.len(), users.len() * k);
        for (block, chunk) in out.chunks_mut(BLOCK).enumerate() {
            self.fill_call_block(users, k, call, block, chunk, scratch);
        }
    }

    /// Output block number `block` of a call (all inputs already checked).
    ///
    /// 1. Every first draw of the block, `out[c] = pick(word(c))`, by the
    ///    vector kernel.
    /// 2. One pass over the block's users in output order: a complement
    ///    user's draws are replaced by picks from its complement (from the
    ///    same words); a rejection user's draws are tested against its
    ///    positives without a branch per draw, and the positions that hit
    ///    are listed.
    /// 3. The listed positions, in output order, are redrawn from the
    ///    block's redraw counters `BLOCK, BLOCK + 1, ...`, each until it is
    ///    no positive.
    ///
    /// The result is the same as redrawing each hit as soon as it is found,
    /// in output order (the only thing that consumes redraw counters).
    pub(crate) fn fill_block(
        &self,
        users: &[u32],
        k: usize,
        stream: &Stream,
        first: usize,
        out: &mut [u32],
        scratch: &mut Scratch,
    ) {
        if k <= self.per_output_max_k {
            return self.fill_block_per_output(users, k, stream, first, out, scratch);
        }
        fill_picks_with(self.kernel, &self.table, stream, 0, out);
        let positives = self.positives();
        let len = out.len();
        // The block's outputs of users[j] end here.
        let end_of = |j: usize| ((j + 1) * k - first).min(len);
        // A second cursor runs PREFETCH_AHEAD users ahead and asks for the
        // memory the test of its user's candidates will read, so that the
        // reads of many users are in flight at once.
        let (mut ahead, mut ahead_start) = (first / k, 0usize);
        let mut prefetch_next = |out: &[u32]| {
            if ahead_start < len {
                let ahead_end = end_of(ahead);
                positives.prefetch_user(users, ahead, &out[ahead_start..ahead_end]);
                ahead_start = ahead_end;
                ahead += 1;
            }
        };
        for _ in 0..PREFETCH_AHEAD {
            prefetch_next(out);
        }
        scratch.hits.clear();
        let (mut start, mut j) = (0usize, first / k);
        while start < len {
            prefetch_next(out);
            let end = end_of(j);
            let u = users[j];
            if !positives.list_user_hits(u, start, &out[start..end], &mut scratch.hits) {
                assert!(
                    self.methods[u as usize] == Method::Complement,
                    "users are checked before drawing"
                );
                for (c, item) in out.iter_mut().enumerate().take(end).skip(start) {
                    *item = self.complement_pick(u, stream.word(c as u64));
                }
            }
            start = end;
            j += 1;
        }
        if !scratch.hits.is_empty() {
            self.redraw_hits::<false>(stream, out, scratch);
        }
    }

    /// [`Sampler::fill_block`] for small `k`, output by output: the same
    /// steps and the same result, with no per-user work but the test.
    ///
    /// 1. Every first draw of the block, by the vector kernel.
    /// 2. Complement users' outputs replaced by picks from their complement
    ///    (only if the sampler has such users).
    /// 3. Every output tested against the pair filter: independent
    ///    one-word reads, the positions it cannot clear listed without a
    ///    branch per output.
    /// 4. The listed positions tested exactly, in output order; the hits
    ///    redrawn as in [`Sampler::fill_block`].
    #[inline(never)]
    fn fill_block_per_output(
        &self,
        users: &[u32],
        k: usize,
        stream: &Stream,
        first: usize,
        out: &mut [u32],
        scratch: &mut Scratch,
    ) {
        fill_picks_with(self.kernel, &self.table, stream, 0, out);
        let len = out.len();
        let owners: &[u32] = if k == 1 {
            &users[first..first + len]
        } else {
            let owners = &mut scratch.owners;
            owners.clear();
            let (mut j, mut left) = (first / k, k - first % k);
            for _ in 0..len {
                owners.push(users[j]);
                left -= 1;
                if left == 0 {
                    j += 1;
                    left = k;
                }
            }
            owners
        };
        if self.any_complement {
            for (c, (item, &u)) in out.iter_mut().zip(owners).enumerate() {
                if self.methods[u as usize] == Method::Complement {
                    *item = self.complement_pick(u, stream.word(c as u64));
                }
            }
        }
        // Complement users' picks are never positives: the exact test
        // clears them.
        self.positives()
            .list_output_hits(owners, out, &mut scratch.hits);
        if !scratch.hits.is_empty() {
            self.redraw_hits::<true>(stream, out, scratch);
        }
    }

    /// Output block number `block` of call number `call` of
    /// [`Sampler::negatives_into`]: [`Sampler::fill_block`] with the
    /// block's stream.
    #[inline]
    fn fill_call_block(
        &self,
        users: &[u32],
        k: usize,
        call: u64,
        block: usize,
        out: &mut [u32],
        scratch: &mut Scratch,
    ) {
        let stream = Stream::new(self.seed, Domain::Negatives, call, block as u64);
        self.fill_block(users, k, &stream, block * BLOCK, out, scratch)
    }

    /// The membership test of this sampler's positives.
    #[inline(always)]
    fn positives(&self) -> Positives<'_> {
        self.membership.of(&self.interactions, self.kernel)
    }

    /// Redraws the listed hits of a block in output order, each from the
    /// next redraw counters until it is no positive of its user.
    ///
    /// The candidates of the redraw counters are drawn ahead by the vector
    /// kernel, and the memory each test will read is prefetched a few hits
    /// ahead (assuming one redraw per hit, which is by far the most common).
    /// `SCREENED` (the per-output pass): each redraw goes through the pair
    /// filter first (the users' rows are not in cache); otherwise straight
    /// to the exact test (the per-user pass has just read the rows).
    fn redraw_hits<const SCREENED: bool>(
        &self,
        stream: &Stream,
        out: &mut [u32],
        scratch: &mut Scratch,
    ) {
        const AHEAD: usize = 8;
        let positives = self.positives();
        let hits = scratch.hits.listed();
        let picks = &mut scratch.picks;
        picks.resize(hits.len() + REDRAW_SLACK, 0);
        fill_picks_with(self.kernel, &self.table, stream, BLOCK as u64, picks);
        let mut used = 0usize;
        for h in 0..hits.len() {
            if let (Some(&(_, later)), Some(&guess)) =
                (hits.get(h + AHEAD), picks.get(used + AHEAD))
            {
                positives.prefetch_test::<SCREENED>(later, guess);
            }
            let (c, u) = hits[h];
            out[c as usize] = loop {
                let item = match picks.get(used) {
                    Some(&item) => item,
                    None => self.table.pick(stream.word((BLOCK + used) as u64)),
                };
                used += 1;
                let positive = if SCREENED {
                    positives.contains(u, item)
                } else {
                    positives.contains_exact(u, item)
                };
                if !positive {
                    break item;
                }
            };
        }
    }

    /// The item that random word `word` selects among user `u`'s
    /// non-positives, by the gap prefix sums.
    fn complement_pick(&self, u: u32, word: u64) -> u32 {
        let prefix = &self.gaps[&u];
        let total = *prefix.last().expect("row.len() + 2 values");
        let x = ((word as u128 * total as u128) >> 64) as u64;
        let gap = prefix.partition_point(|&p| p <= x) - 1;
        let row = self.interactions.row(u);
        let start = if gap == 0 {
            0
        } else {
            row[gap - 1] as usize + 1
        };
        let end = row.get(gap).map_or(self.table.len(), |&i| i as usize);
        let target = self.cumulative[start] + (x - prefix[gap]);
        let offset = self.cumulative[start..=end].partition_point(|&c| c <= target) - 1;
        (start + offset) as u32
    }
}

/// The largest `k` of the per-output pass for this membership index:
/// smaller when rows with bitmaps hold at least half of the positives.
fn per_output_max_k(membership: &Membership, m: &Interactions) -> usize {
    if membership.mostly_bitmaps(m) {
        PER_OUTPUT_MAX_K_DENSE
    } else {
        PER_OUTPUT_MAX_K
    }
}

/// Prefix sums of the masses of the gaps around the sorted positives `row`:
/// gap 0 is `[0, row[0])`, gap j is `(row[j-1], row[j])`, the last gap is
/// `(row[r-1], n)`.
fn gap_prefix(row: &[u32], cumulative: &[u64]) -> Box<[u64]> {
    let n = cumulative.len() - 1;
    let mut prefix = Vec::with_capacity(row.len() + 2);
    prefix.push(0u64);
    let mut start = 0usize;
    let mut running = 0u64;
    for end in row.iter().map(|&i| i as usize).chain(std::iter::once(n)) {
        running += cumulative[end] - cumulative[start];
        prefix.push(running);
        start = end + 1;
    }
    prefix.into_boxed_slice()
}
