//! A compact filter of the (user, item) positives: the first, cheap half of
//! the membership test when each user has few candidates (the trainer's
//! shape: one to eight negatives per positive, users in shuffled order).
//!
//! A binary search in a user's row costs `log2(r)` dependent reads, each a
//! likely cache miss when users come in random order; the filter answers
//! the common question ("is this candidate surely *not* a positive?") with
//! one read of one 64-bit word, whatever the row length, and the reads of
//! many candidates are independent, so the CPU overlaps their misses.
//!
//! It is a register-blocked Bloom filter (Putze, Sanders and Singler,
//! "Cache-, hash- and space-efficient Bloom filters", WEA 2007): each pair
//! hashes to one 64-bit word and sets [`BITS_PER_PAIR`] bits in it. A query
//! is one word read and one mask compare. There are no false negatives, so
//! "no" is final; "maybe" goes to the exact test (bitmap, vector compare
//! or binary search: [`super::Positives::contains_exact`]), so the output is
//! exactly what the exact test alone gives. At [`WORD_BITS_PER_PAIR`] bits
//! of filter per positive (2 bytes) about 0.5% of non-positive candidates
//! take the exact test as well.

use crate::draw::kernel::Kernel;
use crate::memory::hugepages::HugeBuf;

/// Bits of filter per positive: 16 (2 bytes), four pairs per word on
/// average.
pub(crate) const WORD_BITS_PER_PAIR: usize = 16;

/// How many pairs ahead of its write the build asks for a word.
const BUILD_AHEAD: usize = 16;

/// Bits set per pair, all in its word.
const BITS_PER_PAIR: u32 = 4;

/// The filter: `words.len()` 64-bit words.
#[derive(Debug)]
pub(crate) struct PairFilter {
    /// On huge pages if large: the reads land anywhere in the filter, and
    /// with 4 KiB pages nearly every one would also miss the TLB.
    words: HugeBuf,
}

/// The 64-bit hash of a pair: two multiply-xorshift rounds of `user << 32 |
/// item` (bijective, so distinct pairs give distinct hashes).
#[inline(always)]
fn hash(user: u32, item: u32) -> u64 {
    let mut h = (u64::from(user) << 32) | u64::from(item);
    h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h = (h ^ (h >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^ (h >> 32)
}

/// The mask of a pair's bits, from the low 24 bits of its hash (6 bits
/// each).
#[inline(always)]
fn mask_of(h: u64) -> u64 {
    let mut mask = 0u64;
    for b in 0..BITS_PER_PAIR {
        mask |= 1u64 << ((h >> (6 * b)) & 63);
    }
    mask
}

/// The word index (from the hash's top 32 bits, by multiply-shift) and the
/// mask of the pair's bits (from its low 24 bits, 6 bits each).
#[inline(always)]
fn place(h: u64, words: usize) -> (usize, u64) {
    let word = (((h >> 32) * words as u64) >> 32) as usize;
    (word, mask_of(h))
}

impl PairFilter {
    /// The filter of every pair `(u, row(u)[j])` of `pairs` (rows given as
    /// `(user, items)`), sized for `count` pairs.
    ///
    /// # Performance
    /// O(count) time; `count * WORD_BITS_PER_PAIR / 8` bytes (at least one
    /// word), on huge pages from 4 MiB. One random read-modify-write per
    /// pair: about 15 ns per pair for filters far beyond the caches (a
    /// 5*10^7-pair matrix took 0.76 s against 0.13 s for the rest of
    /// `Sampler::new`, `node benches/loading.bench.mjs`), well under 1 ns
    /// for filters in them.
    pub(crate) fn build<'a>(count: usize, rows: impl Iterator<Item = (u32, &'a [u32])>) -> Self {
        let len = (count * WORD_BITS_PER_PAIR)
            .div_ceil(64)
            .clamp(1, u32::MAX as usize);
        let mut words = HugeBuf::zeroed(len);
        // The words are set `BUILD_AHEAD` pairs after they are placed and
        // asked for: the writes land all over the filter, and this keeps
        // many of their cache misses in flight.
        let mut ring = [(0usize, 0u64); BUILD_AHEAD];
        let mut placed = 0usize;
        for (u, row) in rows {
            for &i in row {
                let (w, mask) = place(hash(u, i), len);
                crate::memory::prefetch::prefetch(&words, w);
                let slot = &mut ring[placed % BUILD_AHEAD];
                if placed >= BUILD_AHEAD {
                    words[slot.0] |= slot.1;
                }
                *slot = (w, mask);
                placed += 1;
            }
        }
        for &(w, mask) in ring.iter().take(placed.min(BUILD_AHEAD)) {
            words[w] |= mask;
        }
        PairFilter { words }
    }

    /// Whether `(user, item)` may be a positive: `false` is certain, `true`
    /// needs the exact test.
    #[inline(always)]
    pub(crate) fn may_contain(&self, user: u32, item: u32) -> bool {
        let (w, mask) = place(hash(user, item), self.words.len());
        // `w < len` by the multiply-shift.
        self.words[w] & mask == mask
    }

    /// Writes to `maybe` (in increasing order) the positions `c` where
    /// `(owners[c], items[c])` may be a positive, and returns how many: the
    /// positions [`PairFilter::may_contain`] does not clear. `kernel` says
    /// which instructions run (the AVX-512 one tests 8 pairs per step); the
    /// answer is the same.
    ///
    /// # Panics
    /// If `owners` and `items` differ in length or `maybe` is shorter, or
    /// if `owners.len() > 65536`.
    pub(crate) fn screen(
        &self,
        kernel: Kernel,
        owners: &[u32],
        items: &[u32],
        maybe: &mut [u16],
    ) -> usize {
        assert!(
            owners.len() == items.len() && maybe.len() >= items.len() && items.len() <= 1 << 16
        );
        #[cfg(target_arch = "x86_64")]
        if kernel == Kernel::Avx512 && std::arch::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU has AVX-512 F and DQ (the kernel was checked
            // when the sampler took it, and DQ just above); lengths were
            // asserted above.
            return unsafe { x86::screen_avx512(&self.words, owners, items, maybe) };
        }
        let _ = kernel;
        screen_tail(&self.words, owners, items, maybe, 0, 0)
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::BITS_PER_PAIR;

    /// [`super::PairFilter::screen`] with AVX-512 F and DQ: per step, the
    /// hashes, word indices and masks of 8 pairs in vector registers, one
    /// 8-lane gather of their words and one compare.
    ///
    /// # Safety
    /// AVX-512 F and DQ; `owners.len() == items.len() <= maybe.len()`,
    /// at most 2^16 pairs; `words.len() < 2^32`.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) unsafe fn screen_avx512(
        words: &[u64],
        owners: &[u32],
        items: &[u32],
        maybe: &mut [u16],
    ) -> usize {
        let len = items.len();
        let c1 = _mm512_set1_epi64(0xD6E8_FEB8_6659_FD93u64 as i64);
        let count = _mm512_set1_epi64(words.len() as i64);
        let sixty_three = _mm512_set1_epi64(63);
        let one = _mm512_set1_epi64(1);
        let base = words.as_ptr().cast::<i64>();
        let mut n = 0usize;
        let mut c = 0usize;
        while c + 8 <= len {
            // SAFETY: `c + 8 <= len` for both arrays.
            let (u, i) = unsafe {
                (
                    _mm512_cvtepu32_epi64(_mm256_loadu_si256(owners.as_ptr().add(c).cast())),
                    _mm512_cvtepu32_epi64(_mm256_loadu_si256(items.as_ptr().add(c).cast())),
                )
            };
            // The scalar `hash`, lane by lane.
            let mut h = _mm512_or_si512(_mm512_slli_epi64::<32>(u), i);
            h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64::<32>(h)), c1);
            h = _mm512_mullo_epi64(_mm512_xor_si512(h, _mm512_srli_epi64::<32>(h)), c1);
            h = _mm512_xor_si512(h, _mm512_srli_epi64::<32>(h));
            // The scalar `place`: word = (h >> 32) * len >> 32.
            let w = _mm512_srli_epi64::<32>(_mm512_mul_epu32(_mm512_srli_epi64::<32>(h), count));
            let mut mask = _mm512_setzero_si512();
            let mut bits = h;
            for _ in 0..BITS_PER_PAIR {
                mask = _mm512_or_si512(
                    mask,
                    _mm512_sllv_epi64(one, _mm512_and_si512(bits, sixty_three)),
                );
                bits = _mm512_srli_epi64::<6>(bits);
            }
            // SAFETY: every index is below `words.len()` (multiply-shift).
            let v = unsafe { _mm512_i64gather_epi64::<8>(w, base) };
            let mut hit = _mm512_cmpeq_epi64_mask(_mm512_and_si512(v, mask), mask);
            while hit != 0 {
                maybe[n] = (c + hit.trailing_zeros() as usize) as u16;
                n += 1;
                hit &= hit - 1;
            }
            c += 8;
        }
        super::screen_tail(words, owners, items, maybe, c, n)
    }
}

/// [`PairFilter::screen`] one pair at a time, from position `from` with
/// the first `n` entries of `maybe` written (the scalar kernel, and the
/// vector kernels' tail).
fn screen_tail(
    words: &[u64],
    owners: &[u32],
    items: &[u32],
    maybe: &mut [u16],
    from: usize,
    mut n: usize,
) -> usize {
    for c in from..items.len() {
        let (w, mask) = place(hash(owners[c], items[c]), words.len());
        maybe[n] = c as u16;
        n += usize::from(words[w] & mask == mask);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        // 2,000 users with 25 items each out of 50,000.
        let rows: Vec<(u32, Vec<u32>)> = (0..2000u32)
            .map(|u| {
                (
                    u,
                    (0..25u32).map(|j| (u * 7919 + j * 1999) % 50_000).collect(),
                )
            })
            .collect();
        let filter = PairFilter::build(50_000, rows.iter().map(|(u, r)| (*u, &r[..])));
        for (u, row) in &rows {
            for &i in row {
                assert!(filter.may_contain(*u, i), "pair ({u}, {i}) was inserted");
            }
        }
        let mut maybe = 0usize;
        let mut tried = 0usize;
        for (u, row) in &rows {
            for i in (0..50_000u32).step_by(97) {
                if !row.contains(&i) {
                    tried += 1;
                    maybe += usize::from(filter.may_contain(*u, i));
                }
            }
        }
        let rate = maybe as f64 / tried as f64;
        assert!(rate < 0.01, "false-positive rate {rate}");
        assert_eq!(filter.bytes(), 50_000 * 2);
    }
}
