//! The aarch64 NEON kernel: 4 draws per step (two vectors of 2 `u64` words).
//!
//! Per lane it computes exactly the scalar formula (see the x86 module's
//! header for it). NEON has no 64x64-bit multiply, so the low 64 bits of a
//! product with a constant `c` are built from 32-bit ones:
//! `lo(a) lo(c) + ((lo(a) hi(c) + hi(a) lo(c)) mod 2^32) << 32`, the widening
//! `vmull_u32` for the first and the 32-bit `vmul_u32` for the cross terms.
//! The slot and the coin come from two widening 32x32 -> 64 products, as in
//! [`crate::draw::alias::split_word`]. NEON has no gather: the 4 table
//! slots are read with ordinary loads.

use std::arch::aarch64::*;

use super::pick_scalar;
use crate::draw::rng::{GAMMA, MIX64_M1 as M1, MIX64_M2 as M2};

/// The low 64 bits of `a * c` in each lane.
#[inline]
#[target_feature(enable = "neon")]
fn mul64(a: uint64x2_t, c: u64) -> uint64x2_t {
    let (c_lo, c_hi) = (vdup_n_u32(c as u32), vdup_n_u32((c >> 32) as u32));
    let (a_lo, a_hi) = (vmovn_u64(a), vshrn_n_u64::<32>(a));
    let cross = vadd_u32(vmul_u32(a_lo, c_hi), vmul_u32(a_hi, c_lo));
    vaddq_u64(vmull_u32(a_lo, c_lo), vshll_n_u32::<32>(cross))
}

/// SplitMix64's output function on 2 lanes.
#[inline]
#[target_feature(enable = "neon")]
fn mix64(z: uint64x2_t) -> uint64x2_t {
    let z = veorq_u64(z, vshrq_n_u64::<30>(z));
    let z = mul64(z, M1);
    let z = veorq_u64(z, vshrq_n_u64::<27>(z));
    let z = mul64(z, M2);
    veorq_u64(z, vshrq_n_u64::<31>(z))
}

/// `(slot, coin)` of 2 words, each as 2 `u32`.
#[inline]
#[target_feature(enable = "neon")]
fn split(w: uint64x2_t, n: uint32x2_t) -> (uint32x2_t, uint32x2_t) {
    let lo = vmull_u32(vmovn_u64(w), n);
    let hi = vmull_u32(vshrn_n_u64::<32>(w), n);
    // Bits 32 to 95 of w * n: hi + (lo >> 32), in one shift-and-add.
    let mid = vsraq_n_u64::<32>(hi, lo);
    (vshrn_n_u64::<32>(mid), vmovn_u64(mid))
}

/// The NEON kernel: `out[i] = pick(word(first + i))`, 4 at a time.
///
/// # Safety
/// The CPU must support NEON; `slots` must not be empty.
#[target_feature(enable = "neon")]
pub(super) unsafe fn fill_picks_neon(
    slots: &[u64],
    uniform: bool,
    key: u64,
    first: u64,
    out: &mut [u32],
) {
    let n = vdup_n_u32(slots.len() as u32);
    let x0 = |lane: u64| key.wrapping_add(first.wrapping_add(1 + lane).wrapping_mul(GAMMA));
    let mut xa = vcombine_u64(vcreate_u64(x0(0)), vcreate_u64(x0(1)));
    let mut xb = vcombine_u64(vcreate_u64(x0(2)), vcreate_u64(x0(3)));
    let step = vdupq_n_u64(GAMMA.wrapping_mul(4));
    // For a table beyond the caches, each step also asks for the slots of
    // the draws PREFETCH_AHEAD further on, so that many reads are in flight.
    let ahead = vdupq_n_u64(GAMMA.wrapping_mul(super::PREFETCH_AHEAD as u64));
    let far = !uniform && slots.len() >= super::FAR_TABLE;

    let done = (out.len() / 4 * 4) as u64;
    let mut chunks = out.chunks_exact_mut(4);
    for chunk in &mut chunks {
        if far {
            let (pa, _) = split(mix64(vaddq_u64(xa, ahead)), n);
            let (pb, _) = split(mix64(vaddq_u64(xb, ahead)), n);
            let mut lanes = [0u32; 4];
            vst1q_u32(lanes.as_mut_ptr(), vcombine_u32(pa, pb));
            for slot in lanes {
                super::prefetch(slots, slot as usize);
            }
        }
        let (slot_a, coin_a) = split(mix64(xa), n);
        let (slot_b, coin_b) = split(mix64(xb), n);
        xa = vaddq_u64(xa, step);
        xb = vaddq_u64(xb, step);
        let slot = vcombine_u32(slot_a, slot_b);
        let items = if uniform {
            slot
        } else {
            let mut lanes = [0u32; 4];
            vst1q_u32(lanes.as_mut_ptr(), slot);
            // Every slot is below the table's length (multiply-shift).
            let s = lanes.map(|i| slots[i as usize]);
            let threshold = vcombine_u32(
                vmovn_u64(vcombine_u64(vcreate_u64(s[0]), vcreate_u64(s[1]))),
                vmovn_u64(vcombine_u64(vcreate_u64(s[2]), vcreate_u64(s[3]))),
            );
            let alias = vcombine_u32(
                vshrn_n_u64::<32>(vcombine_u64(vcreate_u64(s[0]), vcreate_u64(s[1]))),
                vshrn_n_u64::<32>(vcombine_u64(vcreate_u64(s[2]), vcreate_u64(s[3]))),
            );
            let keep = vcltq_u32(vcombine_u32(coin_a, coin_b), threshold);
            vbslq_u32(keep, slot, alias)
        };
        // SAFETY: the chunk holds exactly 4 u32.
        unsafe { vst1q_u32(chunk.as_mut_ptr(), items) };
    }
    for (i, item) in chunks.into_remainder().iter_mut().enumerate() {
        *item = pick_scalar(slots, uniform, key, first.wrapping_add(done + i as u64));
    }
}
