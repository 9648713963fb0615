//! Per-user bitmaps of the positives of long rows, and the one code per
//! user that says how its candidates are tested.

use super::exclusion::{Exclusion, BITMAP_COST};
use crate::interactions::Interactions;
use crate::memory::prefetch::prefetch;

/// Codes of [`Bitmaps::code`] above the bitmap numbers.
const SKIP: u32 = u32::MAX;
const SEARCH: u32 = u32::MAX - 1;
const OTHER: u32 = u32::MAX - 2;

/// How a user's candidates are tested, in one read of [`Bitmaps::code`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Test<'a> {
    /// A rejection user with no positives: nothing to test.
    Skip,
    /// A rejection user with a bitmap of its positives.
    Bits(&'a [u64]),
    /// A rejection user whose sorted row is searched.
    Search,
    /// A user sampled some other way (its complement).
    Other,
}

/// Per-user bitmaps of the positives of long rows, and per user one code
/// that says how its candidates are tested (so that the hot loop reads one
/// `u32` per user to know what to do).
#[derive(Debug, Default)]
pub(crate) struct Bitmaps {
    /// Per user: the number of its bitmap, or [`SKIP`], [`SEARCH`] or
    /// [`OTHER`].
    code: Box<[u32]>,
    /// 64-bit words per bitmap.
    stride: usize,
    /// The bitmaps, `stride` words each.
    words: Box<[u64]>,
}

impl Bitmaps {
    /// The tests of every user: a bitmap for the rejection users (those for
    /// which `rejection` holds) whose rows are long enough under `policy`,
    /// binary search for the other rejection users with positives.
    ///
    /// # Performance
    /// O(numUsers + the bits of the bitmaps built); memory 4 bytes per user
    /// plus at most [`BITMAP_COST`] times the rows that get a bitmap.
    pub(crate) fn build(
        m: &Interactions,
        policy: Exclusion,
        rejection: impl Fn(u32) -> bool,
    ) -> Self {
        let stride = m.num_items().div_ceil(64);
        let min_len = (m.num_items() / (32 * BITMAP_COST)).max(1);
        let qualifies =
            |u: u32| policy == Exclusion::Auto && m.row(u).len() >= min_len && rejection(u);
        let count = (0..m.num_users() as u32).filter(|&u| qualifies(u)).count();
        let mut code = vec![OTHER; m.num_users()].into_boxed_slice();
        let mut words = vec![0u64; count * stride].into_boxed_slice();
        let mut next = 0u32;
        for u in 0..m.num_users() as u32 {
            code[u as usize] = if !rejection(u) {
                OTHER
            } else if m.row(u).is_empty() {
                SKIP
            } else if !qualifies(u) {
                SEARCH
            } else {
                let bits = &mut words[next as usize * stride..(next as usize + 1) * stride];
                for &i in m.row(u) {
                    bits[i as usize / 64] |= 1 << (i % 64);
                }
                next += 1;
                next - 1
            };
        }
        Bitmaps {
            code,
            stride,
            words,
        }
    }

    /// How user `u`'s candidates are tested.
    #[inline(always)]
    pub(crate) fn test(&self, u: u32) -> Test<'_> {
        match self.code[u as usize] {
            SKIP => Test::Skip,
            SEARCH => Test::Search,
            OTHER => Test::Other,
            b => {
                let start = b as usize * self.stride;
                Test::Bits(&self.words[start..start + self.stride])
            }
        }
    }

    /// Prefetches the code of user `u`.
    #[inline(always)]
    pub(crate) fn prefetch_code(&self, u: u32) {
        prefetch(&self.code, u as usize);
    }

    /// How many positives of `m` are in rows with a bitmap.
    pub(crate) fn positives_covered(&self, m: &Interactions) -> usize {
        self.code
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c < OTHER)
            .map(|(u, _)| m.row(u as u32).len())
            .sum()
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.code.len() * 4 + self.words.len() * 8
    }
}

/// Whether `item` is set in `bits`.
#[inline(always)]
pub(crate) fn bit(bits: &[u64], item: u32) -> bool {
    (bits[item as usize / 64] >> (item % 64)) & 1 != 0
}
