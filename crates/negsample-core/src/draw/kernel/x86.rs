//! The x86-64 vector kernels: AVX2 (8 draws per step) and AVX-512 (16).
//!
//! Both compute, per lane, exactly what the scalar kernel computes:
//!
//! ```text
//! x    = key + (counter + 1) * GAMMA            (lane i starts at counter first + i)
//! w    = mix64(x)                               (SplitMix64's output function)
//! lo   = (w mod 2^32) * n,  hi = (w >> 32) * n  (two 32x32 -> 64-bit products)
//! mid  = hi + (lo >> 32)                        (bits 32..96 of w * n; no overflow)
//! slot = mid >> 32,  coin = mid mod 2^32
//! item = slot                                   (uniform table)
//!      | coin < threshold[slot] ? slot : alias[slot]
//! ```
//!
//! The counter advances by adding `lanes * GAMMA` to `x` (wrapping, as in the
//! scalar `counter * GAMMA`). AVX-512 DQ multiplies 64-bit lanes directly;
//! AVX2 builds the low 64 bits of a 64x64 product from three 32x32 ones.
//! Table slots are read with a gather; AVX-512 compares the coins with the
//! thresholds in 32-bit lanes (the even ones), which saves two masks. For a
//! table with [`CompactSlots`], AVX-512 gathers 16 four-byte digests per
//! step instead of 16 eight-byte slots, and redraws from the slots the rare
//! steps the digests cannot decide. A run that does not fill a whole step
//! finishes with the scalar formula.

use std::arch::x86_64::*;

use super::pick_scalar;
use crate::draw::alias::CompactSlots;
use crate::draw::rng::{GAMMA, MIX64_M1 as M1, MIX64_M2 as M2};

// ------------------------------------------------------------------ AVX2

/// The low 64 bits of `a * c` in each lane, for a constant `c` given as its
/// low half `c_lo` and high half `c_hi` (each in the low 32 bits of a lane):
/// `lo(a) lo(c) + ((lo(a) hi(c) + hi(a) lo(c)) << 32)`.
#[inline]
#[target_feature(enable = "avx2")]
fn mul64_avx2(a: __m256i, c_lo: __m256i, c_hi: __m256i) -> __m256i {
    let low = _mm256_mul_epu32(a, c_lo);
    let cross = _mm256_add_epi64(
        _mm256_mul_epu32(a, c_hi),
        _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), c_lo),
    );
    _mm256_add_epi64(low, _mm256_slli_epi64::<32>(cross))
}

/// SplitMix64's output function on 4 lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn mix64_avx2(z: __m256i, m: &[__m256i; 4]) -> __m256i {
    let z = _mm256_xor_si256(z, _mm256_srli_epi64::<30>(z));
    let z = mul64_avx2(z, m[0], m[1]);
    let z = _mm256_xor_si256(z, _mm256_srli_epi64::<27>(z));
    let z = mul64_avx2(z, m[2], m[3]);
    _mm256_xor_si256(z, _mm256_srli_epi64::<31>(z))
}

/// Bits 32 to 95 of `word * n` for 4 words (see [`product_avx512`]).
#[inline]
#[target_feature(enable = "avx2")]
fn product_avx2(w: __m256i, n: __m256i) -> __m256i {
    let lo = _mm256_mul_epu32(w, n);
    let hi = _mm256_mul_epu32(_mm256_srli_epi64::<32>(w), n);
    _mm256_add_epi64(hi, _mm256_srli_epi64::<32>(lo))
}

/// The item of each of 4 words (in the low 32 bits of each 64-bit lane).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn pick_avx2(w: __m256i, n: __m256i, table: *const i64, uniform: bool) -> __m256i {
    let mid = product_avx2(w, n);
    let slot = _mm256_srli_epi64::<32>(mid);
    if uniform {
        return slot;
    }
    // SAFETY: every slot is below n = the table's length (multiply-shift).
    let s = unsafe { _mm256_i64gather_epi64::<8>(table, slot) };
    let mask = _mm256_set1_epi64x(0xFFFF_FFFF);
    let coin = _mm256_and_si256(mid, mask);
    let threshold = _mm256_and_si256(s, mask);
    // Both are below 2^32, so the signed 64-bit comparison is the unsigned one.
    let keep = _mm256_cmpgt_epi64(threshold, coin);
    _mm256_blendv_epi8(_mm256_srli_epi64::<32>(s), slot, keep)
}

/// Prefetches the table slots of 4 words.
#[inline]
#[target_feature(enable = "avx2")]
fn prefetch_avx2(w: __m256i, n: __m256i, slots: &[u64]) {
    let slot = _mm256_srli_epi64::<32>(product_avx2(w, n));
    let mut lanes = [0u64; 4];
    // SAFETY: `lanes` holds 4 u64.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), slot) };
    for slot in lanes {
        super::prefetch(slots, slot as usize);
    }
}

/// The AVX2 kernel: `out[i] = pick(word(first + i))`, 8 at a time.
///
/// # Safety
/// The CPU must support AVX2; `slots` must not be empty.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn fill_picks_avx2(
    slots: &[u64],
    uniform: bool,
    key: u64,
    first: u64,
    out: &mut [u32],
) {
    let half = |c: u64| {
        [
            _mm256_set1_epi64x((c & 0xFFFF_FFFF) as i64),
            _mm256_set1_epi64x((c >> 32) as i64),
        ]
    };
    let ([m1_lo, m1_hi], [m2_lo, m2_hi]) = (half(M1), half(M2));
    let m = [m1_lo, m1_hi, m2_lo, m2_hi];
    let n = _mm256_set1_epi64x(slots.len() as i64);
    let table = slots.as_ptr().cast::<i64>();
    let x0 = |lane: u64| key.wrapping_add(first.wrapping_add(1 + lane).wrapping_mul(GAMMA)) as i64;
    let mut xa = _mm256_setr_epi64x(x0(0), x0(1), x0(2), x0(3));
    let mut xb = _mm256_setr_epi64x(x0(4), x0(5), x0(6), x0(7));
    let step = _mm256_set1_epi64x(GAMMA.wrapping_mul(8) as i64);
    // For a table beyond the caches, each step also asks for the slots of
    // the draws PREFETCH_AHEAD further on, so that many reads are in flight.
    let ahead = _mm256_set1_epi64x(GAMMA.wrapping_mul(super::PREFETCH_AHEAD as u64) as i64);
    let far = !uniform && slots.len() >= super::FAR_TABLE;

    let done = (out.len() / 8 * 8) as u64;
    let mut chunks = out.chunks_exact_mut(8);
    for chunk in &mut chunks {
        if far {
            prefetch_avx2(mix64_avx2(_mm256_add_epi64(xa, ahead), &m), n, slots);
            prefetch_avx2(mix64_avx2(_mm256_add_epi64(xb, ahead), &m), n, slots);
        }
        // SAFETY (both): `slots` is the table whose length is `n`.
        let ia = unsafe { pick_avx2(mix64_avx2(xa, &m), n, table, uniform) };
        let ib = unsafe { pick_avx2(mix64_avx2(xb, &m), n, table, uniform) };
        xa = _mm256_add_epi64(xa, step);
        xb = _mm256_add_epi64(xb, step);
        // Lane j of ia holds item j in its low half. Take the low halves of
        // ia and ib, per 128-bit lane: a0 a1 b0 b1 | a2 a3 b2 b3, then move
        // the 64-bit pairs into order: a0 a1 a2 a3 b0 b1 b2 b3.
        let mixed = _mm256_castps_si256(_mm256_shuffle_ps::<0b10_00_10_00>(
            _mm256_castsi256_ps(ia),
            _mm256_castsi256_ps(ib),
        ));
        let items = _mm256_permute4x64_epi64::<0b11_01_10_00>(mixed);
        // SAFETY: the chunk holds exactly 8 u32.
        unsafe { _mm256_storeu_si256(chunk.as_mut_ptr().cast(), items) };
    }
    for (i, item) in chunks.into_remainder().iter_mut().enumerate() {
        *item = pick_scalar(slots, uniform, key, first.wrapping_add(done + i as u64));
    }
}

// --------------------------------------------------------------- AVX-512

/// SplitMix64's output function on 8 lanes.
#[doc(hidden)]
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
pub fn mix64_avx512(z: __m512i, m1: __m512i, m2: __m512i) -> __m512i {
    let z = _mm512_xor_si512(z, _mm512_srli_epi64::<30>(z));
    let z = _mm512_mullo_epi64(z, m1);
    let z = _mm512_xor_si512(z, _mm512_srli_epi64::<27>(z));
    let z = _mm512_mullo_epi64(z, m2);
    _mm512_xor_si512(z, _mm512_srli_epi64::<31>(z))
}

/// Bits 32 to 95 of `word * n` for 8 words: the slot in the high half of
/// each lane, the coin in the low half. With `lo = (w mod 2^32) n` and
/// `hi = (w >> 32) n`, that is `hi + (lo >> 32)`, which cannot overflow
/// (`hi <= (2^32 - 1)^2`).
#[doc(hidden)]
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
pub fn product_avx512(w: __m512i, n: __m512i) -> __m512i {
    let lo = _mm512_mul_epu32(w, n);
    let hi = _mm512_mul_epu32(_mm512_srli_epi64::<32>(w), n);
    _mm512_add_epi64(hi, _mm512_srli_epi64::<32>(lo))
}

/// The slots of 8 words (the high half of `word * n`), as `u64` lanes.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn slot_avx512(w: __m512i, n: __m512i) -> __m512i {
    _mm512_srli_epi64::<32>(product_avx512(w, n))
}

/// Prefetches the table slots of 8 words.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn prefetch_avx512(w: __m512i, n: __m512i, slots: &[u64]) {
    let mut lanes = [0u64; 8];
    // SAFETY: `lanes` holds 8 u64.
    unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), slot_avx512(w, n)) };
    for slot in lanes {
        super::prefetch(slots, slot as usize);
    }
}

/// The items of 8 products `mid` (see [`product_avx512`]), in the low 32
/// bits of each `u64` lane.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn pick_product_avx512(mid: __m512i, table: *const i64, uniform: bool) -> __m512i {
    let slot = _mm512_srli_epi64::<32>(mid);
    if uniform {
        return slot;
    }
    // SAFETY: every slot is below n = the table's length (multiply-shift).
    let s = unsafe { _mm512_i64gather_epi64::<8>(slot, table) };
    // The even 32-bit lanes hold the coins (of `mid`) and thresholds (of
    // `s`); the odd ones are ignored.
    let keep = _mm512_cmplt_epu32_mask(mid, s);
    _mm512_mask_blend_epi32(keep, _mm512_srli_epi64::<32>(s), slot)
}

/// The even 32-bit lanes of two vectors, in order (an index vector for
/// `_mm512_permutex2var_epi32`).
#[inline]
#[target_feature(enable = "avx512f")]
fn evens_avx512() -> __m512i {
    _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
}

/// The counter vectors of the first 16 draws from counter `first`:
/// `key + (first + 1 + lane) * GAMMA` for lanes 0..8 and 8..16.
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn start_avx512(key: u64, first: u64) -> (__m512i, __m512i) {
    let x0 = |lane: u64| key.wrapping_add(first.wrapping_add(1 + lane).wrapping_mul(GAMMA)) as i64;
    (
        _mm512_setr_epi64(x0(0), x0(1), x0(2), x0(3), x0(4), x0(5), x0(6), x0(7)),
        _mm512_setr_epi64(x0(8), x0(9), x0(10), x0(11), x0(12), x0(13), x0(14), x0(15)),
    )
}

/// The AVX-512 kernel: `out[i] = pick(word(first + i))`, 16 at a time.
///
/// A table with [`CompactSlots`] (and not beyond the caches) is read through
/// its 4-byte digests; a step in which a coin falls on a digest's threshold
/// bits is read from the full slots instead. Either way the items are the
/// scalar kernel's.
///
/// # Safety
/// The CPU must support AVX-512 F and DQ; `slots` must not be empty, and
/// `compact`, if given, must be the digests of `slots`.
#[target_feature(enable = "avx512f,avx512dq")]
pub(super) unsafe fn fill_picks_avx512(
    slots: &[u64],
    uniform: bool,
    compact: Option<&CompactSlots>,
    key: u64,
    first: u64,
    out: &mut [u32],
) {
    // Only non-uniform tables within the caches have digests (a far table is
    // prefetched slot by slot instead).
    if let Some(compact) = compact {
        debug_assert!(!uniform && slots.len() < super::FAR_TABLE);
        // SAFETY: passed on from the caller.
        return unsafe { fill_picks_compact_avx512(slots, compact, key, first, out) };
    }
    let far = !uniform && slots.len() >= super::FAR_TABLE;
    let m1 = _mm512_set1_epi64(M1 as i64);
    let m2 = _mm512_set1_epi64(M2 as i64);
    let n = _mm512_set1_epi64(slots.len() as i64);
    let table = slots.as_ptr().cast::<i64>();
    let (mut xa, mut xb) = start_avx512(key, first);
    let step = _mm512_set1_epi64(GAMMA.wrapping_mul(16) as i64);
    let evens = evens_avx512();
    // For a table beyond the caches, each step also asks for the slots of
    // the draws PREFETCH_AHEAD further on, so that many reads are in flight.
    let ahead = _mm512_set1_epi64(GAMMA.wrapping_mul(super::PREFETCH_AHEAD as u64) as i64);

    let done = (out.len() / 16 * 16) as u64;
    let mut chunks = out.chunks_exact_mut(16);
    for chunk in &mut chunks {
        if far {
            prefetch_avx512(mix64_avx512(_mm512_add_epi64(xa, ahead), m1, m2), n, slots);
            prefetch_avx512(mix64_avx512(_mm512_add_epi64(xb, ahead), m1, m2), n, slots);
        }
        let ma = product_avx512(mix64_avx512(xa, m1, m2), n);
        let mb = product_avx512(mix64_avx512(xb, m1, m2), n);
        xa = _mm512_add_epi64(xa, step);
        xb = _mm512_add_epi64(xb, step);
        // SAFETY (both): `slots` is the table whose length is `n`.
        let ia = unsafe { pick_product_avx512(ma, table, uniform) };
        let ib = unsafe { pick_product_avx512(mb, table, uniform) };
        let items = _mm512_permutex2var_epi32(ia, evens, ib);
        // SAFETY: the chunk holds exactly 16 u32.
        unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), items) };
    }
    for (i, item) in chunks.into_remainder().iter_mut().enumerate() {
        *item = pick_scalar(slots, uniform, key, first.wrapping_add(done + i as u64));
    }
}

/// The slots (high halves) and coins (low halves) of 16 products: `ma` for
/// draws 0..8, `mb` for draws 8..16 (see [`product_avx512`]).
#[doc(hidden)]
#[inline]
#[target_feature(enable = "avx512f")]
pub fn split_products_avx512(ma: __m512i, mb: __m512i) -> (__m512i, __m512i) {
    let evens = evens_avx512();
    let odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    (
        _mm512_permutex2var_epi32(ma, odds, mb),
        _mm512_permutex2var_epi32(ma, evens, mb),
    )
}

/// One step of the digest loop: the items of 16 slots and coins by
/// [`CompactSlots::pick`]'s rule, and the mask of the lanes it leaves
/// undecided (those need the full slots). `every_lane` must be all ones; see
/// [`fill_picks_compact_avx512`] for why the caller passes it in.
///
/// # Safety
/// Every slot must be below the number of digests at `digests`.
#[doc(hidden)]
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn pick_digests_avx512(
    slot: __m512i,
    coin: __m512i,
    digests: *const u32,
    alias_mask: __m512i,
    every_lane: __mmask16,
) -> (__m512i, __mmask16) {
    // SAFETY: passed on from the caller.
    let digest = unsafe {
        _mm512_mask_i32gather_epi32::<4>(_mm512_setzero_si512(), every_lane, slot, digests.cast())
    };
    let keep = _mm512_cmplt_epu32_mask(coin, digest);
    let items = _mm512_mask_blend_epi32(keep, _mm512_and_si512(digest, alias_mask), slot);
    let undecided = _mm512_cmple_epu32_mask(_mm512_xor_si512(coin, digest), alias_mask);
    (items, undecided)
}

/// [`fill_picks_avx512`] for a table read through its [`CompactSlots`].
///
/// # Safety
/// As for [`fill_picks_avx512`]; `compact` must be the digests of `slots`.
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn fill_picks_compact_avx512(
    slots: &[u64],
    compact: &CompactSlots,
    key: u64,
    first: u64,
    out: &mut [u32],
) {
    let m1 = _mm512_set1_epi64(M1 as i64);
    let m2 = _mm512_set1_epi64(M2 as i64);
    let n = _mm512_set1_epi64(slots.len() as i64);
    let digests = compact.digests().as_ptr();
    let alias_mask = _mm512_set1_epi32(compact.alias_mask() as i32);
    let (mut xa, mut xb) = start_avx512(key, first);
    let advance = _mm512_set1_epi64(GAMMA.wrapping_mul(16) as i64);

    // Steps of 16 draws go in runs of RUN_STEPS. A step in which a coin falls
    // on a digest's threshold bits is noted in a bit mask and redrawn from
    // the full slots at the end of its run, so the loop has no branch on the
    // gathered values.
    const RUN_STEPS: usize = 64;
    // The gather's all-lanes mask, opaque to the compiler so that it is
    // moved in from a register each step. Left to itself the compiler makes
    // it with `kxnorw k0, k0`, which the CPU treats as reading k0, and k0 is
    // where the step's last compare went: every gather then waited for the
    // one before it (measured 35% slower at 10^5 items).
    let every_lane: __mmask16 = std::hint::black_box(0xFFFF);
    let whole = out.len() / 16 * 16;
    let (steps, tail) = out.split_at_mut(whole);
    for (run_index, run) in steps.chunks_mut(16 * RUN_STEPS).enumerate() {
        // Bit `step` is set if that step needs the full slots.
        let mut undecided_steps = 0u64;
        for (step, chunk) in run.chunks_exact_mut(16).enumerate() {
            let ma = product_avx512(mix64_avx512(xa, m1, m2), n);
            let mb = product_avx512(mix64_avx512(xb, m1, m2), n);
            xa = _mm512_add_epi64(xa, advance);
            xb = _mm512_add_epi64(xb, advance);
            let (slot, coin) = split_products_avx512(ma, mb);
            // SAFETY: every slot is below n = the number of digests.
            let (items, undecided) =
                unsafe { pick_digests_avx512(slot, coin, digests, alias_mask, every_lane) };
            // SAFETY: the chunk holds exactly 16 u32.
            unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), items) };
            undecided_steps |= u64::from(undecided != 0) << step;
        }
        while undecided_steps != 0 {
            let step = undecided_steps.trailing_zeros() as usize;
            undecided_steps &= undecided_steps - 1;
            let at = run_index * 16 * RUN_STEPS + step * 16;
            for (i, item) in run[step * 16..step * 16 + 16].iter_mut().enumerate() {
                *item = pick_scalar(slots, false, key, first.wrapping_add((at + i) as u64));
            }
        }
    }
    for (i, item) in tail.iter_mut().enumerate() {
        *item = pick_scalar(slots, false, key, first.wrapping_add((whole + i) as u64));
    }
}
