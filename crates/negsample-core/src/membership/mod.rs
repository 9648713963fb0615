//! The membership test of rejection sampling: is a candidate one of its
//! user's positives?
//!
//! Every way of answering lives here, behind one entry, [`Membership`] (the
//! index built with the sampler) and its view [`Positives`] (that index with
//! the matrix and the draw kernel, what the sampler's loops call):
//!
//! - **Binary search** in the user's sorted CSR row (`search`): no extra
//!   memory, `log2(r)` dependent reads for a row of `r` items.
//! - **A bitmap** of the user's positives (`bitmap`, `numItems` bits): one
//!   read, for rows long enough that the bitmap costs at most
//!   [`BITMAP_COST`] times the row itself (`r >= numItems / (32 *
//!   BITMAP_COST)`); [`Exclusion`] says whether bitmaps are built at all.
//! - **A vector scan** of a short row (`row_scan`): many candidates of one
//!   user compared with every positive in vector registers (hard negatives
//!   draw `M` per positive), or one candidate against a row of at most 64.
//! - **The pair filter** (`pair_filter`): a blocked Bloom filter of every
//!   (user, item) positive, one word read per candidate, which clears most
//!   candidates before any exact test when users come with few candidates
//!   each in random order (the trainer's shape).
//!
//! All of them answer the same question with the same answer, so the
//! candidates accepted and rejected, and therefore the output, do not depend
//! on which ran (tested). The benchmarks (`cargo bench`, `BENCHMARKS.md`)
//! compare bitmap and search on MovieLens-1M.
//!
//! The sampler's two passes over a block's first draws call one method
//! each: [`Positives::list_user_hits`] (per user: its candidates against
//! its bitmap or row) and [`Positives::list_output_hits`] (per output: the
//! filter, then the exact test of what it cannot clear); redraws ask
//! [`Positives::contains`] or [`Positives::contains_exact`]. The hits are
//! listed in [`Hits`], in output order.

mod bitmap;
mod exclusion;
mod pair_filter;
mod row_scan;
mod search;

pub use exclusion::{Exclusion, BITMAP_COST};

use crate::draw::kernel::{Kernel, BLOCK};
use crate::interactions::Interactions;
use crate::memory::prefetch::prefetch;
use bitmap::{Bitmaps, Test};
use pair_filter::PairFilter;

/// How many users ahead of the one being tested the per-user pass asks for
/// memory (see [`Positives::prefetch_user`]).
pub(crate) const PREFETCH_AHEAD: usize = 16;

/// How many listed positions ahead the exact tests of the per-output pass
/// ask for the memory they read (offsets twice as far ahead).
const EXACT_AHEAD: usize = 8;

/// The membership index of a sampler: one test code per user, the bitmaps
/// of long rows (rejection users only) and the filter of every positive
/// pair.
#[derive(Debug)]
pub(crate) struct Membership {
    /// Bitmaps of the positives of long rows (rejection users only).
    bitmaps: Bitmaps,
    /// The filter of every positive pair, tested first by the per-output
    /// pass.
    filter: PairFilter,
    policy: Exclusion,
}

impl Membership {
    /// The index of `m`'s positives under `policy`; `rejection(u)` says
    /// which users are sampled by rejection (the others are never tested).
    ///
    /// # Performance
    /// O(numUsers + nnz), plus the bits of the bitmaps built: 4 bytes per
    /// user, 2 bytes per positive (the filter), at most [`BITMAP_COST`]
    /// times the rows that get a bitmap.
    pub(crate) fn build(
        m: &Interactions,
        policy: Exclusion,
        rejection: impl Fn(u32) -> bool,
    ) -> Self {
        let bitmaps = Bitmaps::build(m, policy, rejection);
        let filter = PairFilter::build(m.nnz(), (0..m.num_users() as u32).map(|u| (u, m.row(u))));
        Membership {
            bitmaps,
            filter,
            policy,
        }
    }

    /// The same index under `policy` (the bitmaps rebuilt, the filter
    /// kept).
    pub(crate) fn set_policy(
        &mut self,
        m: &Interactions,
        policy: Exclusion,
        rejection: impl Fn(u32) -> bool,
    ) {
        self.bitmaps = Bitmaps::build(m, policy, rejection);
        self.policy = policy;
    }

    /// The policy the index was built with.
    pub(crate) fn policy(&self) -> Exclusion {
        self.policy
    }

    /// Bytes held: 4 per user, the filter (2 per positive) and the bitmaps.
    pub(crate) fn bytes(&self) -> usize {
        self.bitmaps.bytes() + self.filter.bytes()
    }

    /// Whether rows with bitmaps hold at least half of `m`'s positives
    /// (a dense catalogue such as MovieLens-1M).
    pub(crate) fn mostly_bitmaps(&self, m: &Interactions) -> bool {
        2 * self.bitmaps.positives_covered(m) >= m.nnz()
    }

    /// The test against `m`'s positives (the matrix the index was built
    /// from), with the instructions of `kernel`.
    #[inline(always)]
    pub(crate) fn of<'a>(&'a self, m: &'a Interactions, kernel: Kernel) -> Positives<'a> {
        Positives {
            index: self,
            m,
            kernel,
        }
    }
}

/// The membership test of one sampler: its index, its matrix and its draw
/// kernel (which says which vector instructions the CPU runs).
#[derive(Clone, Copy)]
pub(crate) struct Positives<'a> {
    index: &'a Membership,
    m: &'a Interactions,
    kernel: Kernel,
}

impl Positives<'_> {
    /// The per-user pass: lists in `hits` the positions (from `start`) of
    /// user `u`'s candidates `items` that are positives of `u`, without a
    /// branch per candidate. Returns `false`, listing nothing, if `u` is
    /// not sampled by rejection (the caller draws it another way).
    #[inline(always)]
    pub(crate) fn list_user_hits(
        &self,
        u: u32,
        start: usize,
        items: &[u32],
        hits: &mut Hits,
    ) -> bool {
        // One read says what to do: nothing, a bitmap, a search, or (for a
        // user sampled otherwise) something else.
        match self.index.bitmaps.test(u) {
            Test::Skip => {}
            Test::Bits(bits) => hits.list(u, start, items, |i| bitmap::bit(bits, i)),
            Test::Search => {
                let row = self.m.row(u);
                if row_scan::worth_scanning(self.kernel, row.len(), items.len()) {
                    // Many candidates against a short row: compare them all
                    // with every positive (same answer as a search).
                    hits.list_scanned(self.kernel, u, start, items, row);
                } else {
                    hits.list(u, start, items, |i| search::search(row, i));
                }
            }
            Test::Other => return false,
        }
        true
    }

    /// Asks for the memory that [`Positives::list_user_hits`] will read to
    /// test `items` (candidates of `users[j]`), and for the row offsets of
    /// the user [`PREFETCH_AHEAD`] further on.
    #[inline(always)]
    pub(crate) fn prefetch_user(&self, users: &[u32], j: usize, items: &[u32]) {
        // What this user's own prefetch below will read, for the user
        // PREFETCH_AHEAD further on: no load here waits for memory.
        if let Some(&later) = users.get(j + PREFETCH_AHEAD) {
            self.prefetch_offsets(later);
        }
        match self.index.bitmaps.test(users[j]) {
            Test::Bits(bits) => {
                for &i in items.iter().take(8) {
                    prefetch(bits, i as usize / 64);
                }
            }
            Test::Search => search::prefetch_row(self.m.row(users[j])),
            Test::Skip | Test::Other => {}
        }
    }

    /// The per-output pass: lists in `hits` (replacing what it held) the
    /// positions `c` where `items[c]` is a positive of `owners[c]`, in
    /// increasing order. The filter clears most positions with one read
    /// each; the rest take the exact test, their memory asked for ahead.
    /// Outputs of users sampled otherwise must hold non-positives already
    /// (the exact test clears them).
    ///
    /// # Panics
    /// If `owners` and `items` differ in length or hold more than
    /// [`BLOCK`] outputs.
    #[inline(always)]
    pub(crate) fn list_output_hits(&self, owners: &[u32], items: &[u32], hits: &mut Hits) {
        let maybe = &mut hits.maybe;
        if maybe.len() < BLOCK {
            maybe.resize(BLOCK, 0);
        }
        let n = self.index.filter.screen(self.kernel, owners, items, maybe);
        let maybe = &maybe[..n];
        if hits.list.len() < n {
            hits.list.resize(n, (0, 0));
        }
        let mut count = 0usize;
        for (m, &c) in maybe.iter().enumerate() {
            // The exact tests read rows or bitmaps of random users: ask for
            // them ahead, the offsets first, then what they point to.
            if let Some(&far) = maybe.get(m + 2 * EXACT_AHEAD) {
                self.prefetch_offsets(owners[far as usize]);
            }
            if let Some(&near) = maybe.get(m + EXACT_AHEAD) {
                self.prefetch_test::<true>(owners[near as usize], items[near as usize]);
            }
            let u = owners[c as usize];
            if self.contains_exact(u, items[c as usize]) {
                hits.list[count] = (c, u);
                count += 1;
            }
        }
        hits.count = count;
    }

    /// Whether `item` is a positive of rejection user `u`: one bitmap read
    /// for a user with a bitmap; otherwise the filter first, and the exact
    /// test where it cannot clear the pair.
    #[inline(always)]
    pub(crate) fn contains(&self, u: u32, item: u32) -> bool {
        let bitmap = matches!(self.index.bitmaps.test(u), Test::Bits(_));
        (bitmap || self.index.filter.may_contain(u, item)) && self.contains_exact(u, item)
    }

    /// Whether `item` is a positive of user `u`, by the user's exact test
    /// (bitmap, vector compare or binary search in its row).
    #[inline(always)]
    pub(crate) fn contains_exact(&self, u: u32, item: u32) -> bool {
        match self.index.bitmaps.test(u) {
            Test::Bits(bits) => bitmap::bit(bits, item),
            _ => {
                let row = self.m.row(u);
                if row.len() <= row_scan::SHORT_ROW && row_scan::has_vectors(self.kernel) {
                    // A short row: one vector compare per 16 positives
                    // (the same answer as the search).
                    row_scan::contains(self.kernel, row, item)
                } else {
                    search::search(row, item)
                }
            }
        }
    }

    /// Asks for the memory that testing `item` against user `u` reads.
    /// `FAR`: the user's row was not read moments ago (the per-output
    /// pass), so short rows are asked for too.
    #[inline(always)]
    pub(crate) fn prefetch_test<const FAR: bool>(&self, u: u32, item: u32) {
        match self.index.bitmaps.test(u) {
            Test::Bits(bits) => prefetch(bits, item as usize / 64),
            _ => {
                let row = self.m.row(u);
                // After the per-user pass a short row is still in cache.
                if FAR || row.len() > row_scan::SHORT_ROW || !row_scan::has_vectors(self.kernel) {
                    search::prefetch_row(row)
                }
            }
        }
    }

    /// Asks for user `u`'s row offsets and test code (what the tests of its
    /// candidates read first).
    #[inline(always)]
    fn prefetch_offsets(&self, u: u32) {
        prefetch(self.m.indptr(), u as usize);
        self.index.bitmaps.prefetch_code(u);
    }
}

/// The positions of a block's outputs that hit a positive of their user,
/// in output order, and the working memory of the tests that list them
/// (reused across the blocks of a call).
#[derive(Debug, Default)]
pub(crate) struct Hits {
    /// `(position in the block, user)` of each listed hit.
    list: Vec<(u16, u32)>,
    /// How many of `list` are listed (the rest is room).
    count: usize,
    /// Positions in the block that the filter could not clear (per-output
    /// pass).
    maybe: Vec<u16>,
}

impl Hits {
    /// Forgets the listed hits (before a per-user pass).
    #[inline(always)]
    pub(crate) fn clear(&mut self) {
        self.count = 0;
    }

    /// Whether no hit is listed.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The listed hits, `(position in the block, user)` in output order.
    #[inline(always)]
    pub(crate) fn listed(&self) -> &[(u16, u32)] {
        &self.list[..self.count]
    }

    /// Appends the positions (from `start`) of `items` that `hit`, without
    /// a branch per item.
    #[inline(always)]
    fn list(&mut self, u: u32, start: usize, items: &[u32], hit: impl Fn(u32) -> bool) {
        if self.list.len() < BLOCK {
            // First use in this call: room for a whole block (positions
            // are below BLOCK, so at most BLOCK hits).
            self.list.resize(BLOCK, (0, 0));
        }
        let mut n = self.count;
        for (c, &item) in items.iter().enumerate() {
            // Always written, kept only if it hit: `list` has room for a
            // whole block.
            self.list[n] = ((start + c) as u16, u);
            n += usize::from(hit(item));
        }
        self.count = n;
    }

    /// As [`Hits::list`] for the candidates `items` of a user with the
    /// short sorted `row`, tested by [`row_scan::hit_mask`].
    #[inline(always)]
    fn list_scanned(&mut self, kernel: Kernel, u: u32, start: usize, items: &[u32], row: &[u32]) {
        for (g, group) in items.chunks(row_scan::GROUP).enumerate() {
            let mut mask = row_scan::hit_mask(kernel, row, group);
            if mask != 0 && self.list.len() < BLOCK {
                self.list.resize(BLOCK, (0, 0));
            }
            while mask != 0 {
                let c = mask.trailing_zeros() as usize;
                self.list[self.count] = ((start + g * row_scan::GROUP + c) as u16, u);
                self.count += 1;
                mask &= mask - 1;
            }
        }
    }
}
