//! Dot products of `f32` vectors with one summation order on every
//! instruction set, so that scores (and therefore the hard negatives chosen
//! from them) are **bit-for-bit the same** on the scalar, AVX2+FMA, AVX-512
//! and NEON paths.
//!
//! # The one order of operations
//! A dot product of two vectors of length `d` is *defined* as:
//!
//! 1. Pad both vectors with zeros to a multiple of 16 and split them into
//!    blocks of 16. Sixteen accumulators `acc[0..16]` start at `+0.0`; for
//!    each block, in order, `acc[l] = fma(a[l], b[l], acc[l])` for every lane
//!    `l` (a fused multiply-add: one rounding).
//! 2. Reduce by halves: `r8[l] = acc[l] + acc[l + 8]` (`l < 8`),
//!    `r4[l] = r8[l] + r8[l + 4]`, `r2[l] = r4[l] + r4[l + 2]`, and the result
//!    is `r2[0] + r2[1]`.
//!
//! Every path performs exactly these IEEE-754 operations on the same operands
//! in the same order: AVX-512 holds the 16 accumulators in one register,
//! AVX2 in two, NEON in four, the scalar path in an array (with
//! [`f32::mul_add`], which is fused on every platform). A padded lane adds
//! `fma(0, 0, acc) = acc + 0`, which the scalar path writes as `acc + 0.0`.
//! So the paths agree exactly, and the **tolerance between paths is zero**;
//! the tests check every path this machine has against the scalar one bit for
//! bit, on random vectors of every length up to 300.
//!
//! Against the exact (real-number) dot product the result carries ordinary
//! `f32` rounding error: at most about `(d / 16 + 4) * 2^-24 * sum |a_i b_i|`
//! (the per-lane chains have `d / 16` fused steps, the reduction 4 additions).
//!
//! # Performance
//! `d / 16` fused multiply-adds of 16 lanes plus a 4-step reduction. For
//! `d = 64`: 4 AVX-512 FMAs (8 on AVX2) and about 10 shuffles and adds.
//! [`scores_into`] dispatches once for many dot products and prefetches the
//! rows it will read next (every cache line of a row, also when the row does
//! not start on a line); for `dim` 16, 32, 64 and 128 (AVX-512; 16 to 64 on
//! AVX2) it keeps the user row in registers and unrolls the row loop, with
//! the same operations in the same order (so the same bits).

use std::sync::OnceLock;

/// Accumulator lanes of the canonical order (see the module docs).
pub const LANES: usize = 16;

/// An implementation of the canonical dot product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Path {
    /// Portable Rust (fused multiply-adds through [`f32::mul_add`]).
    Scalar,
    /// x86-64 with AVX2 and FMA: two 8-lane accumulators.
    Avx2,
    /// x86-64 with AVX-512F: one 16-lane accumulator.
    Avx512,
    /// AArch64 NEON: four 4-lane accumulators.
    Neon,
}

impl Path {
    /// Every path, fastest first.
    pub const ALL: [Path; 4] = [Path::Avx512, Path::Avx2, Path::Neon, Path::Scalar];

    /// Whether this CPU can run the path.
    pub fn is_available(self) -> bool {
        match self {
            Path::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(target_arch = "aarch64")]
            Path::Neon => true,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The paths this CPU can run, fastest first.
    pub fn available() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_available()).collect()
    }

    /// The fastest path this CPU can run (detected once).
    pub fn best() -> Path {
        static BEST: OnceLock<Path> = OnceLock::new();
        *BEST.get_or_init(|| Path::available()[0])
    }

    /// A short name (`"avx512"`, `"avx2"`, `"neon"`, `"scalar"`).
    pub fn name(self) -> &'static str {
        match self {
            Path::Scalar => "scalar",
            Path::Avx2 => "avx2",
            Path::Avx512 => "avx512",
            Path::Neon => "neon",
        }
    }
}

/// The dot product of `a` and `b` (same length) on the fastest path.
///
/// # Panics
/// If the lengths differ.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dot_with(Path::best(), a, b)
}

/// The dot product on a given path; a path this CPU cannot run falls back to
/// the scalar one (which gives the same bits).
///
/// # Panics
/// If the lengths differ.
pub fn dot_with(path: Path, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot: lengths differ");
    let path = if path.is_available() {
        path
    } else {
        Path::Scalar
    };
    match path {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX-512F (checked just above).
        Path::Avx512 => unsafe { x86::dot_avx512(a, b) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        Path::Avx2 => unsafe { x86::dot_avx2(a, b) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON is part of the AArch64 baseline.
        Path::Neon => unsafe { neon::dot_neon(a, b) },
        _ => dot_scalar(a, b),
    }
}

/// `out[i] = dot(user, items[candidates[i] * dim .. (candidates[i] + 1) * dim])`
/// for every `i`, on `path` (a path this CPU cannot run falls back to the
/// scalar one). Before scoring candidate `i`, the row of `prefetch[i]` (if
/// there is one) is prefetched on x86-64: pass the candidates some distance
/// ahead, so that their rows arrive from memory in time.
///
/// # Panics
/// If `user.len() != dim`, `out.len() != candidates.len()`, or a candidate's
/// row lies outside `items` (callers check ids first).
pub fn scores_into(
    path: Path,
    user: &[f32],
    items: &[f32],
    dim: usize,
    candidates: &[u32],
    prefetch: &[u32],
    out: &mut [f32],
) {
    assert_eq!(user.len(), dim, "scores_into: user row length");
    assert_eq!(out.len(), candidates.len(), "scores_into: output length");
    assert!(
        candidates
            .iter()
            .chain(prefetch)
            .all(|&c| (c as usize + 1) * dim <= items.len()),
        "scores_into: a row lies outside items"
    );
    // SAFETY: the lengths and every row were checked just above.
    unsafe { scores_into_unchecked(path, user, items, dim, candidates, prefetch, out) }
}

/// [`scores_into`] without its checks, for callers that have checked the
/// ids already (the hard-negatives loop: candidates come from the sampler,
/// whose ids are below `numItems`, and the embedding shapes were checked).
///
/// # Safety
/// `user.len() == dim`, `out.len() == candidates.len()`, and every id in
/// `candidates` and `prefetch` is below `items.len() / dim`.
pub(crate) unsafe fn scores_into_unchecked(
    path: Path,
    user: &[f32],
    items: &[f32],
    dim: usize,
    candidates: &[u32],
    prefetch: &[u32],
    out: &mut [f32],
) {
    debug_assert_eq!(user.len(), dim);
    debug_assert_eq!(out.len(), candidates.len());
    let path = if path.is_available() {
        path
    } else {
        Path::Scalar
    };
    match path {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU supports AVX-512F (checked above); rows are in
        // bounds (the caller's contract).
        Path::Avx512 => unsafe {
            // Common dims: the user row in registers, loops unrolled.
            match dim {
                16 => x86::scores_avx512_fixed::<1>(user, items, candidates, prefetch, out),
                32 => x86::scores_avx512_fixed::<2>(user, items, candidates, prefetch, out),
                64 => x86::scores_avx512_fixed::<4>(user, items, candidates, prefetch, out),
                128 => x86::scores_avx512_fixed::<8>(user, items, candidates, prefetch, out),
                _ => x86::scores_avx512(user, items, dim, candidates, prefetch, out),
            }
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, for AVX2 and FMA.
        Path::Avx2 => unsafe {
            match dim {
                16 => x86::scores_avx2_fixed::<1>(user, items, candidates, prefetch, out),
                32 => x86::scores_avx2_fixed::<2>(user, items, candidates, prefetch, out),
                64 => x86::scores_avx2_fixed::<4>(user, items, candidates, prefetch, out),
                _ => x86::scores_avx2(user, items, dim, candidates, prefetch, out),
            }
        },
        #[cfg(target_arch = "aarch64")]
        Path::Neon => {
            for (o, &c) in out.iter_mut().zip(candidates) {
                let row = &items[c as usize * dim..(c as usize + 1) * dim];
                // SAFETY: NEON is part of the AArch64 baseline.
                *o = unsafe { neon::dot_neon(user, row) };
            }
        }
        _ => {
            for (o, &c) in out.iter_mut().zip(candidates) {
                *o = dot_scalar(user, &items[c as usize * dim..(c as usize + 1) * dim]);
            }
        }
    }
}

/// Asks the CPU to bring `row` into L1 soon (x86-64; a no-op elsewhere).
#[inline(always)]
pub fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86-64 baseline; a prefetch never faults and
    // the addresses lie inside `row`.
    unsafe {
        x86::prefetch_row(row.as_ptr(), row.len())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// The canonical order's final reduction of 16 accumulators.
#[inline(always)]
fn reduce16(acc: &[f32; LANES]) -> f32 {
    let mut r8 = [0f32; 8];
    for l in 0..8 {
        r8[l] = acc[l] + acc[l + 8];
    }
    let mut r4 = [0f32; 4];
    for l in 0..4 {
        r4[l] = r8[l] + r8[l + 4];
    }
    let r2 = [r4[0] + r4[2], r4[1] + r4[3]];
    r2[0] + r2[1]
}

/// The canonical dot product in portable Rust: the reference every other
/// path must match bit for bit.
pub fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot: lengths differ");
    let mut acc = [0f32; LANES];
    let mut blocks_a = a.chunks_exact(LANES);
    let mut blocks_b = b.chunks_exact(LANES);
    for (x, y) in (&mut blocks_a).zip(&mut blocks_b) {
        for l in 0..LANES {
            acc[l] = x[l].mul_add(y[l], acc[l]);
        }
    }
    let (x, y) = (blocks_a.remainder(), blocks_b.remainder());
    if !x.is_empty() {
        for l in 0..LANES {
            acc[l] = if l < x.len() {
                x[l].mul_add(y[l], acc[l])
            } else {
                // fma(0, 0, acc): what a zero-padded lane computes.
                acc[l] + 0.0
            };
        }
    }
    reduce16(&acc)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::LANES;

    /// 8 -> 1 of the canonical reduction, from `r8` in one 256-bit register.
    #[inline(always)]
    unsafe fn reduce8(r8: __m256) -> f32 {
        let r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps::<1>(r8));
        // [r4[0] + r4[2], r4[1] + r4[3], ...]
        let r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
        let r1 = _mm_add_ss(r2, _mm_shuffle_ps::<0b01>(r2, r2));
        _mm_cvtss_f32(r1)
    }

    /// [`super::scores_into`] with AVX-512F, four candidates at a time.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; every row of `candidates` and
    /// `prefetch` lies inside `items`; `user.len() == dim`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn scores_avx512(
        user: &[f32],
        items: &[f32],
        dim: usize,
        candidates: &[u32],
        prefetch: &[u32],
        out: &mut [f32],
    ) {
        let base = items.as_ptr();
        let groups = candidates.len() / 4;
        for g in 0..groups {
            for c in 4 * g..4 * g + 4 {
                if let Some(&ahead) = prefetch.get(c) {
                    prefetch_row(base.add(ahead as usize * dim), dim);
                }
            }
            let rows = [0, 1, 2, 3].map(|c| base.add(candidates[4 * g + c] as usize * dim));
            _mm_storeu_ps(
                out.as_mut_ptr().add(4 * g),
                dots4_avx512(user.as_ptr(), rows, dim),
            );
        }
        for c in 4 * groups..candidates.len() {
            if let Some(&ahead) = prefetch.get(c) {
                prefetch_row(base.add(ahead as usize * dim), dim);
            }
            let row = std::slice::from_raw_parts(base.add(candidates[c] as usize * dim), dim);
            out[c] = dot_avx512(user, row);
        }
    }

    /// [`super::scores_into`] with AVX2 and FMA, four candidates at a time.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; as [`scores_avx512`] otherwise.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scores_avx2(
        user: &[f32],
        items: &[f32],
        dim: usize,
        candidates: &[u32],
        prefetch: &[u32],
        out: &mut [f32],
    ) {
        let base = items.as_ptr();
        let groups = candidates.len() / 4;
        for g in 0..groups {
            for c in 4 * g..4 * g + 4 {
                if let Some(&ahead) = prefetch.get(c) {
                    prefetch_row(base.add(ahead as usize * dim), dim);
                }
            }
            let rows = [0, 1, 2, 3].map(|c| base.add(candidates[4 * g + c] as usize * dim));
            _mm_storeu_ps(
                out.as_mut_ptr().add(4 * g),
                dots4_avx2(user.as_ptr(), rows, dim),
            );
        }
        for c in 4 * groups..candidates.len() {
            if let Some(&ahead) = prefetch.get(c) {
                prefetch_row(base.add(ahead as usize * dim), dim);
            }
            let row = std::slice::from_raw_parts(base.add(candidates[c] as usize * dim), dim);
            out[c] = dot_avx2(user, row);
        }
    }

    /// The canonical dot products of `user` with four rows, as
    /// `[dot0, dot1, dot2, dot3]`: each candidate's 16 lanes accumulate
    /// exactly as in [`dot_avx2`], and [`reduce4`] performs each candidate's
    /// reduction steps on the same operands.
    ///
    /// # Safety
    /// AVX2 and FMA; `user` and every row hold `dim` floats.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn dots4_avx2(user: *const f32, rows: [*const f32; 4], dim: usize) -> __m128 {
        let mut lo = [_mm256_setzero_ps(); 4];
        let mut hi = [_mm256_setzero_ps(); 4];
        let full = dim - dim % LANES;
        let mut i = 0;
        while i < full {
            let ul = _mm256_loadu_ps(user.add(i));
            let uh = _mm256_loadu_ps(user.add(i + 8));
            for c in 0..4 {
                lo[c] = _mm256_fmadd_ps(_mm256_loadu_ps(rows[c].add(i)), ul, lo[c]);
                hi[c] = _mm256_fmadd_ps(_mm256_loadu_ps(rows[c].add(i + 8)), uh, hi[c]);
            }
            i += LANES;
        }
        if full < dim {
            let rest = (dim - full) as i32;
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let mask_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest), lanes);
            let mask_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest - 8), lanes);
            let ul = _mm256_maskload_ps(user.add(full), mask_lo);
            let uh = _mm256_maskload_ps(user.wrapping_add(full + 8), mask_hi);
            for c in 0..4 {
                lo[c] = _mm256_fmadd_ps(_mm256_maskload_ps(rows[c].add(full), mask_lo), ul, lo[c]);
                hi[c] = _mm256_fmadd_ps(
                    _mm256_maskload_ps(rows[c].wrapping_add(full + 8), mask_hi),
                    uh,
                    hi[c],
                );
            }
        }
        reduce4([0, 1, 2, 3].map(|c| _mm256_add_ps(lo[c], hi[c])))
    }

    /// As [`dots4_avx2`], with the 16 lanes of each candidate in one AVX-512
    /// register (as in [`dot_avx512`]).
    ///
    /// # Safety
    /// AVX-512F; `user` and every row hold `dim` floats.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn dots4_avx512(user: *const f32, rows: [*const f32; 4], dim: usize) -> __m128 {
        let mut acc = [_mm512_setzero_ps(); 4];
        let full = dim - dim % LANES;
        let mut i = 0;
        while i < full {
            let u = _mm512_loadu_ps(user.add(i));
            for c in 0..4 {
                acc[c] = _mm512_fmadd_ps(_mm512_loadu_ps(rows[c].add(i)), u, acc[c]);
            }
            i += LANES;
        }
        if full < dim {
            let mask: __mmask16 = (1u32 << (dim - full)) as u16 - 1;
            let u = _mm512_maskz_loadu_ps(mask, user.add(full));
            for c in 0..4 {
                acc[c] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, rows[c].add(full)), u, acc[c]);
            }
        }
        reduce4(acc.map(|a| {
            let low = _mm512_castps512_ps256(a);
            let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(a)));
            _mm256_add_ps(low, high)
        }))
    }

    /// The canonical reduction from `r8` (8 lanes) to one sum, for four
    /// candidates at once: every candidate's `r4[l] = r8[l] + r8[l + 4]`,
    /// `r2[l] = r4[l] + r4[l + 2]` and `r2[0] + r2[1]` are computed on the same
    /// operands as in [`reduce8`], two or four candidates per instruction.
    /// Returns `[sum0, sum1, sum2, sum3]`.
    #[inline(always)]
    unsafe fn reduce4(r8: [__m256; 4]) -> __m128 {
        // [r4 of candidate 0 | r4 of candidate 1] and likewise for 2 and 3.
        let x = _mm256_add_ps(
            _mm256_permute2f128_ps::<0x20>(r8[0], r8[1]),
            _mm256_permute2f128_ps::<0x31>(r8[0], r8[1]),
        );
        let y = _mm256_add_ps(
            _mm256_permute2f128_ps::<0x20>(r8[2], r8[3]),
            _mm256_permute2f128_ps::<0x31>(r8[2], r8[3]),
        );
        // Per 128-bit half: [x0 + x2, x1 + x3, y0 + y2, y1 + y3] = r2 of two
        // candidates (0 and 2 in the low half, 1 and 3 in the high half).
        let r2 = _mm256_add_ps(
            _mm256_shuffle_ps::<0x44>(x, y),
            _mm256_shuffle_ps::<0xEE>(x, y),
        );
        // Per half: [r2a[0] + r2a[1], r2b[0] + r2b[1], ...].
        let r1 = _mm256_add_ps(
            _mm256_shuffle_ps::<0x88>(r2, r2),
            _mm256_shuffle_ps::<0xDD>(r2, r2),
        );
        // Low half [s0, s2, ..], high half [s1, s3, ..] -> [s0, s1, s2, s3].
        _mm_unpacklo_ps(_mm256_castps256_ps128(r1), _mm256_extractf128_ps::<1>(r1))
    }

    /// Prefetches the cache lines of the `dim` floats at `row` into L1
    /// (every line the row touches, also when it does not start on a line:
    /// typed arrays are often only 16-byte aligned).
    #[inline(always)]
    pub unsafe fn prefetch_row(row: *const f32, dim: usize) {
        if dim == 0 {
            return;
        }
        let base = row.cast::<i8>();
        let mut offset = 0;
        while offset < dim * 4 {
            // A prefetch is a hint and never faults; the address is in bounds.
            _mm_prefetch::<_MM_HINT_T0>(base.add(offset));
            offset += 64;
        }
        // The last float: its line is past the ones above when the row
        // starts inside a line.
        _mm_prefetch::<_MM_HINT_T0>(row.add(dim - 1).cast::<i8>());
    }

    /// [`prefetch_row`] for `dim = 16 * B`, unrolled.
    #[inline(always)]
    unsafe fn prefetch_fixed<const B: usize>(row: *const f32) {
        for b in 0..B {
            _mm_prefetch::<_MM_HINT_T0>(row.add(16 * b).cast::<i8>());
        }
        _mm_prefetch::<_MM_HINT_T0>(row.add(16 * B - 1).cast::<i8>());
    }

    /// [`super::scores_into`] with AVX-512F for `dim = 16 * B`: the user row
    /// stays in `B` registers, four candidates at a time, each with the
    /// operations of [`dots4_avx512`] (so the same bits).
    ///
    /// # Safety
    /// AVX-512F; `user.len() == 16 * B`; every row of `candidates` and
    /// `prefetch` lies inside `items`.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn scores_avx512_fixed<const B: usize>(
        user: &[f32],
        items: &[f32],
        candidates: &[u32],
        prefetch: &[u32],
        out: &mut [f32],
    ) {
        let dim = 16 * B;
        let base = items.as_ptr();
        let u: [__m512; B] = std::array::from_fn(|b| {
            // SAFETY: `user` holds 16 * B floats.
            unsafe { _mm512_loadu_ps(user.as_ptr().add(16 * b)) }
        });
        let groups = candidates.len() / 4;
        for g in 0..groups {
            for c in 4 * g..4 * g + 4 {
                if let Some(&ahead) = prefetch.get(c) {
                    prefetch_fixed::<B>(base.add(ahead as usize * dim));
                }
            }
            let mut acc = [_mm512_setzero_ps(); 4];
            for (c, acc) in acc.iter_mut().enumerate() {
                let row = base.add(*candidates.get_unchecked(4 * g + c) as usize * dim);
                for (b, &ub) in u.iter().enumerate() {
                    *acc = _mm512_fmadd_ps(_mm512_loadu_ps(row.add(16 * b)), ub, *acc);
                }
            }
            _mm_storeu_ps(
                out.as_mut_ptr().add(4 * g),
                reduce4(acc.map(|a| {
                    let low = _mm512_castps512_ps256(a);
                    let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(a)));
                    _mm256_add_ps(low, high)
                })),
            );
        }
        for c in 4 * groups..candidates.len() {
            if let Some(&ahead) = prefetch.get(c) {
                prefetch_fixed::<B>(base.add(ahead as usize * dim));
            }
            let row = std::slice::from_raw_parts(base.add(candidates[c] as usize * dim), dim);
            out[c] = dot_avx512(user, row);
        }
    }

    /// [`super::scores_into`] with AVX2 and FMA for `dim = 16 * B`: the
    /// user row stays in `2 * B` registers (for `B <= 4`), with the
    /// operations of [`dots4_avx2`].
    ///
    /// # Safety
    /// AVX2 and FMA; as [`scores_avx512_fixed`] otherwise.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scores_avx2_fixed<const B: usize>(
        user: &[f32],
        items: &[f32],
        candidates: &[u32],
        prefetch: &[u32],
        out: &mut [f32],
    ) {
        let dim = 16 * B;
        let base = items.as_ptr();
        let u: [[__m256; 2]; B] = std::array::from_fn(|b| {
            // SAFETY: `user` holds 16 * B floats.
            unsafe {
                [
                    _mm256_loadu_ps(user.as_ptr().add(16 * b)),
                    _mm256_loadu_ps(user.as_ptr().add(16 * b + 8)),
                ]
            }
        });
        let groups = candidates.len() / 4;
        for g in 0..groups {
            for c in 4 * g..4 * g + 4 {
                if let Some(&ahead) = prefetch.get(c) {
                    prefetch_fixed::<B>(base.add(ahead as usize * dim));
                }
            }
            let mut lo = [_mm256_setzero_ps(); 4];
            let mut hi = [_mm256_setzero_ps(); 4];
            for c in 0..4 {
                let row = base.add(*candidates.get_unchecked(4 * g + c) as usize * dim);
                for (b, ub) in u.iter().enumerate() {
                    lo[c] = _mm256_fmadd_ps(_mm256_loadu_ps(row.add(16 * b)), ub[0], lo[c]);
                    hi[c] = _mm256_fmadd_ps(_mm256_loadu_ps(row.add(16 * b + 8)), ub[1], hi[c]);
                }
            }
            _mm_storeu_ps(
                out.as_mut_ptr().add(4 * g),
                reduce4([0, 1, 2, 3].map(|c| _mm256_add_ps(lo[c], hi[c]))),
            );
        }
        for c in 4 * groups..candidates.len() {
            if let Some(&ahead) = prefetch.get(c) {
                prefetch_fixed::<B>(base.add(ahead as usize * dim));
            }
            let row = std::slice::from_raw_parts(base.add(candidates[c] as usize * dim), dim);
            out[c] = dot_avx2(user, row);
        }
    }

    /// The canonical dot product with AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA; `a.len() == b.len()`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut lo = _mm256_setzero_ps();
        let mut hi = _mm256_setzero_ps();
        let full = n - n % LANES;
        let mut i = 0;
        while i < full {
            lo = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), lo);
            hi = _mm256_fmadd_ps(
                _mm256_loadu_ps(pa.add(i + 8)),
                _mm256_loadu_ps(pb.add(i + 8)),
                hi,
            );
            i += LANES;
        }
        if full < n {
            let rest = (n - full) as i32;
            let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let mask_lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest), lanes);
            let mask_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest - 8), lanes);
            lo = _mm256_fmadd_ps(
                _mm256_maskload_ps(pa.add(full), mask_lo),
                _mm256_maskload_ps(pb.add(full), mask_lo),
                lo,
            );
            // Lanes 8..16 of the last block: a masked load never touches a
            // masked-off address, so pointers past the end are not read.
            hi = _mm256_fmadd_ps(
                _mm256_maskload_ps(pa.wrapping_add(full + 8), mask_hi),
                _mm256_maskload_ps(pb.wrapping_add(full + 8), mask_hi),
                hi,
            );
        }
        reduce8(_mm256_add_ps(lo, hi))
    }

    /// The canonical dot product with AVX-512F.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `a.len() == b.len()`.
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let full = n - n % LANES;
        let mut i = 0;
        while i < full {
            acc = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i)), acc);
            i += LANES;
        }
        if full < n {
            let mask: __mmask16 = (1u32 << (n - full)) as u16 - 1;
            acc = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(mask, pa.add(full)),
                _mm512_maskz_loadu_ps(mask, pb.add(full)),
                acc,
            );
        }
        let low = _mm512_castps512_ps256(acc);
        let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(acc)));
        reduce8(_mm256_add_ps(low, high))
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use std::arch::aarch64::*;

    use super::LANES;

    /// The canonical dot product with NEON (four 4-lane accumulators:
    /// lanes 0..4, 4..8, 8..12, 12..16).
    ///
    /// # Safety
    /// `a.len() == b.len()`.
    #[target_feature(enable = "neon")]
    pub unsafe fn dot_neon(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [vdupq_n_f32(0.0); 4];
        let full = n - n % LANES;
        let mut i = 0;
        while i < full {
            for (q, acc) in acc.iter_mut().enumerate() {
                *acc = vfmaq_f32(
                    *acc,
                    vld1q_f32(pa.add(i + 4 * q)),
                    vld1q_f32(pb.add(i + 4 * q)),
                );
            }
            i += LANES;
        }
        if full < n {
            let mut x = [0f32; LANES];
            let mut y = [0f32; LANES];
            x[..n - full].copy_from_slice(&a[full..]);
            y[..n - full].copy_from_slice(&b[full..]);
            for (q, acc) in acc.iter_mut().enumerate() {
                *acc = vfmaq_f32(
                    *acc,
                    vld1q_f32(x.as_ptr().add(4 * q)),
                    vld1q_f32(y.as_ptr().add(4 * q)),
                );
            }
        }
        // r8 = acc[l] + acc[l + 8]: lanes 0..4 and 4..8.
        let r8a = vaddq_f32(acc[0], acc[2]);
        let r8b = vaddq_f32(acc[1], acc[3]);
        let r4 = vaddq_f32(r8a, r8b);
        let r2 = vadd_f32(vget_low_f32(r4), vget_high_f32(r4));
        vget_lane_f32::<0>(r2) + vget_lane_f32::<1>(r2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::rng::{Domain, Stream};

    fn vector(stream: &Stream, from: u64, len: usize) -> Vec<f32> {
        (0..len as u64)
            .map(|i| {
                let w = stream.word(from + i);
                // Mixed magnitudes and signs, so that rounding matters.
                let unit = (w >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                unit * [1.0f32, 1e-3, 37.0, 1e4][(w & 3) as usize]
            })
            .collect()
    }

    #[test]
    fn every_path_matches_scalar_bit_for_bit() {
        let stream = Stream::new(5, Domain::Negatives, 0, 0);
        let paths = Path::available();
        assert!(paths.contains(&Path::Scalar));
        for len in 0..300usize {
            for rep in 0..4u64 {
                let a = vector(&stream, (len as u64 * 4 + rep) * 1000, len);
                let b = vector(&stream, (len as u64 * 4 + rep) * 1000 + 500, len);
                let reference = dot_scalar(&a, &b);
                for &path in &paths {
                    let got = dot_with(path, &a, &b);
                    assert_eq!(
                        got.to_bits(),
                        reference.to_bits(),
                        "{} differs at len {len}: {got} vs {reference}",
                        path.name()
                    );
                }
            }
        }
    }

    #[test]
    fn close_to_exact_sum() {
        let stream = Stream::new(9, Domain::Negatives, 0, 0);
        for len in [1usize, 7, 16, 64, 100, 257] {
            let a = vector(&stream, 0, len);
            let b = vector(&stream, 10_000, len);
            let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let magnitude: f64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as f64 * y as f64).abs())
                .sum();
            let bound = (len as f64 / 16.0 + 5.0) * f64::powi(2.0, -24) * magnitude;
            let got = dot(&a, &b) as f64;
            assert!((got - exact).abs() <= bound, "len {len}: {got} vs {exact}");
        }
    }

    #[test]
    fn signed_zero_and_empty() {
        assert_eq!(dot(&[], &[]).to_bits(), 0f32.to_bits());
        let a = [-0.0f32; 5];
        let b = [1.0f32; 5];
        for path in Path::available() {
            assert_eq!(
                dot_with(path, &a, &b).to_bits(),
                dot_scalar(&a, &b).to_bits()
            );
        }
    }

    #[test]
    fn scores_into_matches_dot() {
        let stream = Stream::new(3, Domain::Negatives, 0, 0);
        // The dims with their own kernels (16, 32, 64, 128) and others; 199
        // candidates: groups of four and a tail.
        for dim in [1, 5, 16, 32, 37, 64, 100, 128, 144] {
            // One float of offset: rows that do not start on a cache line.
            let items = vector(&stream, 0, 50 * dim + 1);
            let items = &items[1..];
            let user = vector(&stream, 100_000, dim);
            let candidates: Vec<u32> = (0..199)
                .map(|i| stream.below(200_000 + i, 50) as u32)
                .collect();
            for path in Path::available() {
                let mut out = vec![0f32; candidates.len()];
                scores_into(
                    path,
                    &user,
                    items,
                    dim,
                    &candidates,
                    &candidates[5..],
                    &mut out,
                );
                for (o, &c) in out.iter().zip(&candidates) {
                    let row = &items[c as usize * dim..(c as usize + 1) * dim];
                    assert_eq!(
                        o.to_bits(),
                        dot_scalar(&user, row).to_bits(),
                        "{} at dim {dim}",
                        path.name()
                    );
                }
            }
        }
    }
}
