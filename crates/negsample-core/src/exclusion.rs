//! The membership test of rejection sampling: is a candidate one of the
//! user's positives?
//!
//! Two exact representations of the same set, chosen per user when the
//! sampler is built:
//!
//! - **Binary search** in the user's sorted CSR row: no extra memory,
//!   `log2(r)` dependent reads for a row of `r` items.
//! - **A bitmap** of the user's positives (`numItems` bits): one read, for
//!   rows long enough that the bitmap costs at most [`BITMAP_COST`] times
//!   the row itself (`r >= numItems / (32 * BITMAP_COST)`).
//!
//! Both answer the same question with the same answer, so the candidates
//! accepted and rejected, and therefore the output, do not depend on the
//! choice (tested). The benchmarks (`cargo bench`, `BENCHMARKS.md`) compare
//! the two on MovieLens-1M.

use crate::csr::Interactions;

/// A user's bitmap may take at most this many times the memory of its CSR
/// row (4 bytes per positive). So all bitmaps together take at most this
/// many times the CSR's item ids.
pub const BITMAP_COST: usize = 4;

/// How the membership test is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exclusion {
    /// A bitmap for every user whose row is long enough (see
    /// [`BITMAP_COST`]), binary search for the others. The default.
    #[default]
    Auto,
    /// Binary search in every row (no extra memory).
    Search,
}

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

/// Whether `item` is in the sorted `row`: a branch-free binary search
/// (`log2(r)` conditional moves, no mispredicted branches).
#[inline(always)]
pub(crate) fn search(row: &[u32], item: u32) -> bool {
    let mut size = row.len();
    if size == 0 {
        return false;
    }
    let mut base = 0usize;
    while size > 1 {
        let half = size / 2;
        // Arithmetic, not a branch: the comparison is unpredictable.
        // (base + half < base + size <= row.len().)
        base += usize::from(row[base + half] <= item) * half;
        size -= half;
    }
    row[base] == item
}

/// Asks the CPU to bring `data[index]` into its caches, all the way to L1
/// (a hint: no effect on results; nothing if `index` is out of bounds).
#[inline(always)]
pub(crate) fn prefetch<T>(data: &[T], index: usize) {
    prefetch_to::<T, true>(data, index)
}

/// As [`prefetch`], into L2 only (x86 `prefetcht1`): for streams of reads
/// far ahead, where filling L1 would exhaust its miss buffers.
#[inline(always)]
pub(crate) fn prefetch_l2<T>(data: &[T], index: usize) {
    prefetch_to::<T, false>(data, index)
}

/// As [`prefetch`], for the address `p` (a hint: the address is never
/// dereferenced, so any value is allowed).
#[inline(always)]
pub(crate) fn prefetch_address<T>(p: *const T) {
    prefetch_pointer::<true>(p.cast::<i8>())
}

#[inline(always)]
fn prefetch_to<T, const L1: bool>(data: &[T], index: usize) {
    if let Some(x) = data.get(index) {
        prefetch_pointer::<L1>((x as *const T).cast::<i8>())
    }
}

#[inline(always)]
fn prefetch_pointer<const L1: bool>(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        if L1 {
            _mm_prefetch::<_MM_HINT_T0>(p)
        } else {
            _mm_prefetch::<_MM_HINT_T1>(p)
        }
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a prefetch never faults and reads nothing architecturally.
    unsafe {
        if L1 {
            std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) p, options(nostack, readonly, preserves_flags))
        } else {
            std::arch::asm!("prfm pldl2keep, [{0}]", in(reg) p, options(nostack, readonly, preserves_flags))
        }
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = p;
}

/// Prefetches the cache lines a binary search in `row` reads first: all of
/// a row of up to 64 items, else the middle and the quarter points.
#[inline(always)]
pub(crate) fn prefetch_row(row: &[u32]) {
    let len = row.len();
    if len <= 64 {
        for i in (0..len).step_by(16) {
            prefetch(row, i);
        }
        prefetch(row, len.saturating_sub(1));
    } else {
        for i in [len / 2, len / 4, len / 2 + len / 4] {
            prefetch(row, i);
        }
    }
}
