//! Membership of many candidates in one short sorted row, by comparing
//! every candidate with every positive in vector registers.
//!
//! The exclusion pass tests each candidate against its user's positives.
//! For a row of `r` positives a binary search costs about `log2(r)`
//! dependent steps per candidate; when a user has many candidates at once
//! (hard negatives draw `M` per positive, batches draw `k`), comparing all
//! of them with each positive in turn is cheaper: on AVX-512 one compare
//! tests 16 candidates against one positive, so `n` candidates cost
//! `r * ceil(n / 16)` compares, with no dependent loads and no branches.
//!
//! The answer is the same set membership as [`super::search::search`]
//! (tested against it), so the output of a call does not depend on which
//! test ran.
//!
//! # When it is used
//! [`worth_scanning`]: on x86-64 with the AVX-512 or AVX2 draw kernel, when
//! the row is short relative to the number of candidates tested together
//! (`r <= SCAN_RATIO * n` lanes' worth). Elsewhere the binary search runs.

use crate::draw::kernel::Kernel;

/// Candidates tested per call of [`hit_mask`] (one bit each of a `u64`).
pub(crate) const GROUP: usize = 64;

/// A row is scanned when `row.len() <= SCAN_RATIO * candidates` (and at most
/// [`MAX_SCAN_ROW`]). The scan costs about `r * (1 + 2 * ceil(n / 16)) / 2`
/// cycles on AVX-512 (two vector operations per positive and vector of 16
/// candidates), a binary search about `4 * log2(r)` instructions per
/// candidate; they meet near `r = 6 * n` for `n = 32`. 4 keeps the scan on
/// the side where it wins clearly.
const SCAN_RATIO: usize = 4;

/// The longest row ever scanned.
const MAX_SCAN_ROW: usize = 256;

/// The longest row [`contains`] is used for (one to four AVX-512 compares).
pub(crate) const SHORT_ROW: usize = 64;

/// Whether `kernel` is a vector kernel with a scan here (x86-64 AVX-512 or
/// AVX2; the sampler only holds kernels its CPU runs).
#[inline(always)]
pub(crate) fn has_vectors(kernel: Kernel) -> bool {
    matches!(kernel, Kernel::Avx512 | Kernel::Avx2)
}

/// Whether `item` is in `row` (`row.len() <= SHORT_ROW`), by comparing it
/// with every positive in vector registers: the answer of
/// [`super::search::search`], with no dependent loads.
#[inline]
pub(crate) fn contains(kernel: Kernel, row: &[u32], item: u32) -> bool {
    debug_assert!(row.len() <= SHORT_ROW);
    #[cfg(target_arch = "x86_64")]
    {
        if kernel == Kernel::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { x86::contains_avx512(row, item) };
        }
        if kernel == Kernel::Avx2 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { x86::contains_avx2(row, item) };
        }
    }
    let _ = kernel;
    super::search::search(row, item)
}

/// Whether `n` candidates of one user with a row of `r` positives are better
/// tested by [`hit_mask`] than by binary search, with draw kernel `kernel`
/// (which says what the CPU runs).
#[inline(always)]
pub(crate) fn worth_scanning(kernel: Kernel, r: usize, n: usize) -> bool {
    has_vectors(kernel) && r <= MAX_SCAN_ROW && r <= SCAN_RATIO * n && n >= 2
}

/// Bit `c` is set iff `items[c]` is in `row`, for `items.len() <= GROUP`.
///
/// # Panics
/// If `items.len() > GROUP`, or if `kernel` is not a vector kernel this CPU
/// runs (callers ask [`worth_scanning`] first).
#[inline]
pub(crate) fn hit_mask(kernel: Kernel, row: &[u32], items: &[u32]) -> u64 {
    assert!(items.len() <= GROUP, "hit_mask: at most {GROUP} items");
    #[cfg(target_arch = "x86_64")]
    {
        if kernel == Kernel::Avx512 && std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { x86::hit_mask_avx512(row, items) };
        }
        if kernel == Kernel::Avx2 && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { x86::hit_mask_avx2(row, items) };
        }
    }
    let _ = kernel;
    hit_mask_scalar(row, items)
}

/// The definition of [`hit_mask`], one binary search per item.
pub(crate) fn hit_mask_scalar(row: &[u32], items: &[u32]) -> u64 {
    items.iter().enumerate().fold(0u64, |mask, (c, &i)| {
        mask | (u64::from(super::search::search(row, i)) << c)
    })
}

/// All ones in the low `n` bits (`n <= 64`).
#[inline(always)]
fn low_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::low_bits;

    /// [`super::hit_mask`] with AVX-512F: up to four vectors of 16
    /// candidates, each compared with every positive (broadcast).
    ///
    /// # Safety
    /// AVX-512F; `items.len() <= 64`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn hit_mask_avx512(row: &[u32], items: &[u32]) -> u64 {
        let n = items.len();
        match n.div_ceil(16) {
            0 => 0,
            1 => scan512::<1>(row, items),
            2 => scan512::<2>(row, items),
            3 => scan512::<3>(row, items),
            _ => scan512::<4>(row, items),
        }
    }

    /// `G` vectors of candidates against the whole row. Per positive and
    /// vector: `acc = min(acc, candidates ^ positive)` (unsigned), which is
    /// 0 in a lane exactly when some positive equals its candidate: two
    /// vector operations, no mask-register traffic, and a dependency chain
    /// of one-cycle operations.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn scan512<const G: usize>(row: &[u32], items: &[u32]) -> u64 {
        let n = items.len();
        let p = items.as_ptr().cast::<i32>();
        // Lanes past the end are loaded as 0 and their bits cleared below.
        let v: [__m512i; G] = std::array::from_fn(|g| {
            let m = low_bits(n.saturating_sub(16 * g).min(16)) as __mmask16;
            // SAFETY: a masked load reads only the lanes of `items`.
            unsafe { _mm512_maskz_loadu_epi32(m, p.add(16 * g)) }
        });
        let mut acc = [_mm512_set1_epi32(-1); G];
        for &r in row {
            let b = _mm512_set1_epi32(r as i32);
            for g in 0..G {
                acc[g] = _mm512_min_epu32(acc[g], _mm512_xor_si512(v[g], b));
            }
        }
        let mut mask = 0u64;
        for (g, &a) in acc.iter().enumerate() {
            let hit = _mm512_cmpeq_epi32_mask(a, _mm512_setzero_si512());
            mask |= u64::from(hit) << (16 * g);
        }
        mask & low_bits(n)
    }

    /// [`super::contains`] with AVX-512F: up to four vectors of 16
    /// positives compared with the item.
    ///
    /// # Safety
    /// AVX-512F; `row.len() <= 64`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn contains_avx512(row: &[u32], item: u32) -> bool {
        let b = _mm512_set1_epi32(item as i32);
        let p = row.as_ptr().cast::<i32>();
        let mut hit: __mmask16 = 0;
        let mut g = 0;
        while g < row.len() {
            let m = low_bits((row.len() - g).min(16)) as __mmask16;
            // SAFETY: a masked load reads only the lanes of `row`; masked-off
            // lanes never compare (the compare is masked too).
            hit |= _mm512_mask_cmpeq_epi32_mask(m, _mm512_maskz_loadu_epi32(m, p.add(g)), b);
            g += 16;
        }
        hit != 0
    }

    /// [`super::contains`] with AVX2: vectors of 8 positives, the last one
    /// loaded under a mask.
    ///
    /// # Safety
    /// AVX2; `row.len() <= 64`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn contains_avx2(row: &[u32], item: u32) -> bool {
        let b = _mm256_set1_epi32(item as i32);
        let mut acc = _mm256_setzero_si256();
        let mut blocks = row.chunks_exact(8);
        for block in &mut blocks {
            let v = _mm256_loadu_si256(block.as_ptr().cast::<__m256i>());
            acc = _mm256_or_si256(acc, _mm256_cmpeq_epi32(v, b));
        }
        let tail = blocks.remainder();
        if !tail.is_empty() {
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let m = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail.len() as i32), lanes);
            // A masked load never touches a masked-off address; masked-off
            // lanes read as 0 and are masked off again after the compare.
            let v = _mm256_maskload_epi32(tail.as_ptr().cast::<i32>(), m);
            acc = _mm256_or_si256(acc, _mm256_and_si256(m, _mm256_cmpeq_epi32(v, b)));
        }
        _mm256_movemask_ps(_mm256_castsi256_ps(acc)) != 0
    }

    /// [`super::hit_mask`] with AVX2: up to eight vectors of 8 candidates.
    ///
    /// # Safety
    /// AVX2; `items.len() <= 64`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn hit_mask_avx2(row: &[u32], items: &[u32]) -> u64 {
        let mut mask = 0u64;
        // At most four vectors per pass over the row (16 registers).
        for (q, quarter) in items.chunks(32).enumerate() {
            let part = match quarter.len().div_ceil(8) {
                1 => scan256::<1>(row, quarter),
                2 => scan256::<2>(row, quarter),
                3 => scan256::<3>(row, quarter),
                _ => scan256::<4>(row, quarter),
            };
            mask |= part << (32 * q);
        }
        mask
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn scan256<const G: usize>(row: &[u32], items: &[u32]) -> u64 {
        let n = items.len();
        let mut lanes = [0u32; 32];
        lanes[..n].copy_from_slice(items);
        let p = lanes.as_ptr().cast::<__m256i>();
        // SAFETY: `lanes` holds 32 values, G <= 4 vectors of 8.
        let v: [__m256i; G] = std::array::from_fn(|g| unsafe { _mm256_loadu_si256(p.add(g)) });
        // As in `scan512`: 0 in a lane exactly when a positive equals it.
        let mut acc = [_mm256_set1_epi32(-1); G];
        for &r in row {
            let b = _mm256_set1_epi32(r as i32);
            for g in 0..G {
                acc[g] = _mm256_min_epu32(acc[g], _mm256_xor_si256(v[g], b));
            }
        }
        let mut mask = 0u64;
        for (g, &a) in acc.iter().enumerate() {
            let hit = _mm256_cmpeq_epi32(a, _mm256_setzero_si256());
            let bits = _mm256_movemask_ps(_mm256_castsi256_ps(hit)) as u8;
            mask |= u64::from(bits) << (8 * g);
        }
        mask & low_bits(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::rng::{Domain, Stream};

    #[test]
    fn every_kernel_matches_the_binary_search() {
        let stream = Stream::new(11, Domain::Negatives, 0, 0);
        let mut word = 0u64;
        let mut next = |bound: u64| {
            word += 1;
            stream.below(word, bound)
        };
        for trial in 0..3000u64 {
            let universe = 1 + next(300);
            let r = next(80) as usize;
            let mut row: Vec<u32> = (0..r).map(|_| next(universe) as u32).collect();
            row.sort_unstable();
            row.dedup();
            let n = next(GROUP as u64 + 1) as usize;
            let items: Vec<u32> = (0..n)
                .map(|c| {
                    // Some ids past the universe, and 0 (the padding value).
                    if c % 7 == 3 {
                        0
                    } else {
                        next(universe + 5) as u32
                    }
                })
                .collect();
            let want = hit_mask_scalar(&row, &items);
            if row.len() <= SHORT_ROW {
                for (c, &i) in items.iter().enumerate() {
                    for kernel in Kernel::available() {
                        assert_eq!(
                            contains(kernel, &row, i),
                            want >> c & 1 == 1,
                            "contains, {kernel}, trial {trial}: row {row:?}, item {i}"
                        );
                    }
                }
            }
            for kernel in Kernel::available() {
                assert_eq!(
                    hit_mask(kernel, &row, &items),
                    want,
                    "{kernel}, trial {trial}: row {row:?}, items {items:?}"
                );
            }
        }
    }
}
