//! Membership in a user's sorted row by binary search, and the prefetch
//! of the lines such a search reads first.

use crate::memory::prefetch::prefetch;

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
