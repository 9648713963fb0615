//! Vose's alias method with 8-byte slots.
//!
//! The table holds, per item, one `u32` threshold and one `u32` alias packed
//! into a single `u64`, so that a draw reads one 8-byte slot. A draw turns one
//! 64-bit random word `w` into
//!
//! ```text
//! slot = floor(w * n / 2^64)            (multiply-shift: no modulo, no division)
//! coin = bits 32..64 of (w * n mod 2^64)
//! item = if coin < threshold[slot] { slot } else { alias[slot] }
//! ```
//!
//! Both come from one 64x32-bit product, computed as two 32x32-bit products so
//! that SIMD kernels (which have only 32x32 -> 64 multiplies) produce the very
//! same bits. Given the slot, the fractional part `w * n mod 2^64` is uniform
//! to within `n / 2^64`, so slot and coin are as good as independent.
//!
//! # Exact probabilities
//! Quantising thresholds to 32 bits makes the realised distribution differ
//! from the requested one by at most about `2^-32` per slot. The engine does
//! not pretend otherwise: [`AliasTable::masses`] returns the integer masses the
//! table *realises* (out of `n * 2^32`), and everything else in the engine
//! (the complement sampler for heavy users, log-probabilities) uses them. So
//! the rejection path and the complement path sample exactly the same
//! distribution, and reported probabilities are the true ones.
//!
//! Reference: M. D. Vose, "A linear algorithm for generating random numbers
//! with a given distribution", IEEE TSE 17(9), 1991.

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::memory::hugepages::HugeBuf;
use crate::memory::storage::Storage;

/// The largest catalogue: ids must fit a JavaScript `Int32Array`.
pub const MAX_ITEMS: usize = i32::MAX as usize;

/// One slot: threshold in the low 32 bits, alias in the high 32 bits.
type Slot = u64;

#[inline(always)]
const fn pack(threshold: u32, alias: u32) -> Slot {
    ((alias as u64) << 32) | threshold as u64
}

/// Splits a 64-bit random word into `(slot, coin)` for a table of `n` slots.
///
/// `slot = floor(word * n / 2^64)` and `coin` is the top half of the low 64
/// bits of `word * n`. SIMD kernels must reproduce exactly this arithmetic.
#[inline(always)]
pub const fn split_word(word: u64, n: u32) -> (u32, u32) {
    // One 64x64 -> 128-bit multiply on 64-bit targets. The vector kernels
    // build the same bits from two 32x32 -> 64-bit products.
    let product = word as u128 * n as u128;
    ((product >> 64) as u32, (product >> 32) as u32)
}

/// A proposal distribution over `0..n` in Vose alias form.
///
/// # Performance
/// Construction is O(n) time with two `u32` work lists; a draw is one
/// multiply-shift and one 8-byte read (none for a uniform table). Memory:
/// 8 bytes per item, and 4 more once the AVX-512 kernel has drawn from a
/// non-uniform table of at most 2^20 - 1 items ([`CompactSlots`]).
///
/// # Example
/// ```
/// use negsample_core::{AliasTable, Domain, Stream};
/// let table = AliasTable::from_weights(&[1.0, 0.0, 3.0]).unwrap();
/// let stream = Stream::new(42, Domain::Negatives, 0, 0);
/// let item = table.pick(stream.word(0));
/// assert!(item == 0 || item == 2);
/// ```
#[derive(Debug, Clone)]
pub struct AliasTable {
    /// On huge pages if built here and large (see
    /// [`crate::memory::hugepages`]), or inside a memory-mapped file (see
    /// [`crate::memory::storage`]).
    slots: Storage<Slot>,
    uniform: bool,
    /// The 4-byte digest of each slot that the AVX-512 kernel reads instead
    /// of the slot itself (see [`CompactSlots`]), built on first use (so an
    /// opened file allocates nothing, and other kernels never pay for it);
    /// `None` for uniform tables and tables of more than
    /// [`COMPACT_MAX_ITEMS`] items.
    compact: OnceLock<Option<CompactSlots>>,
}

/// Tables are equal if they draw the same: the digests derive from the slots.
impl PartialEq for AliasTable {
    fn eq(&self, other: &Self) -> bool {
        self.uniform == other.uniform && *self.slots == *other.slots
    }
}

impl Eq for AliasTable {}

/// Tables of at most this many items (2^20 - 1, the tables the kernels read
/// without prefetching) also get [`CompactSlots`]: their aliases take at
/// most 20 bits, which leaves at least 12 bits of each threshold in a
/// 4-byte slot.
pub const COMPACT_MAX_ITEMS: usize = (1 << 20) - 1;

/// A 4-byte digest of each slot of a table of `n` items: the alias in the
/// low `alias_bits` bits (`alias_bits` = the bits of `n - 1`), the top
/// `32 - alias_bits` bits of the threshold above it.
///
/// Half the bytes of the 8-byte slots, so twice as many slots per vector
/// read (16 per AVX-512 gather instead of 8) and half the cache footprint.
/// The draw it gives is exactly the 8-byte slot's: with `coin` and the
/// digest `c`, if the top `32 - alias_bits` bits of `coin` and `c` differ,
/// `coin < c` exactly when `coin < threshold`; where they are equal (one
/// draw in `2^(32 - alias_bits)` at most, at least 4,096 draws apart on
/// average), the kernel reads the full slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactSlots {
    digests: Box<[u32]>,
    alias_bits: u32,
}

impl CompactSlots {
    /// The digests of `slots`, or `None` if there are more than
    /// [`COMPACT_MAX_ITEMS`].
    fn of(slots: &[Slot]) -> Option<Self> {
        if slots.is_empty() || slots.len() > COMPACT_MAX_ITEMS {
            return None;
        }
        let alias_bits = u32::BITS - ((slots.len() - 1) as u32).leading_zeros();
        let low = Self::alias_mask_of(alias_bits);
        let digests = slots
            .iter()
            .map(|&s| (s as u32 & !low) | (s >> 32) as u32)
            .collect();
        Some(CompactSlots {
            digests,
            alias_bits,
        })
    }

    fn alias_mask_of(alias_bits: u32) -> u32 {
        ((1u64 << alias_bits) - 1) as u32
    }

    /// One digest per item.
    #[inline(always)]
    pub fn digests(&self) -> &[u32] {
        &self.digests
    }

    /// The mask of a digest's alias bits (`2^alias_bits - 1`); a coin and a
    /// digest whose xor is at most this mask need the full slot.
    #[inline(always)]
    pub fn alias_mask(&self) -> u32 {
        Self::alias_mask_of(self.alias_bits)
    }

    /// The item that `slot` and `coin` (from [`split_word`]) select, read
    /// from the digest alone: `None` where the coin falls on the digest's
    /// threshold bits and only the full slot can decide. The rule the
    /// AVX-512 kernel applies 16 lanes at a time.
    #[inline]
    pub fn pick(&self, slot: u32, coin: u32) -> Option<u32> {
        let digest = self.digests[slot as usize];
        let alias_mask = self.alias_mask();
        if coin ^ digest <= alias_mask {
            None
        } else if coin < digest {
            Some(slot)
        } else {
            Some(digest & alias_mask)
        }
    }
}

impl AliasTable {
    /// The uniform distribution over `0..n`.
    ///
    /// # Errors
    /// [`Error::EmptyCatalogue`] if `n == 0`; [`Error::OutOfRange`] if `n`
    /// exceeds [`MAX_ITEMS`].
    pub fn uniform(n: usize) -> Result<Self> {
        check_len(n)?;
        let mut slots = HugeBuf::zeroed(n);
        for (i, s) in slots.iter_mut().enumerate() {
            *s = pack(u32::MAX, i as u32);
        }
        Ok(AliasTable {
            slots: slots.into(),
            uniform: true,
            compact: OnceLock::new(),
        })
    }

    /// The distribution proportional to `weights`.
    ///
    /// Sums are taken in `f64` over weights scaled by their maximum (so that
    /// no sum overflows), with Neumaier compensation. An item with weight 0
    /// is never drawn; an item with a positive weight always can be (its
    /// threshold is at least 1, even where rounding would give 0).
    ///
    /// # Errors
    /// - [`Error::EmptyCatalogue`]: `weights` is empty.
    /// - [`Error::OutOfRange`]: more than [`MAX_ITEMS`] weights.
    /// - [`Error::InvalidWeight`]: a weight is NaN, infinite or negative
    ///   (the first such one is named).
    /// - [`Error::AllZeroWeights`]: no weight is positive.
    pub fn from_weights(weights: &[f64]) -> Result<Self> {
        let n = weights.len();
        check_len(n)?;
        let mut max = 0.0f64;
        for (index, &value) in weights.iter().enumerate() {
            if !value.is_finite() || value < 0.0 {
                return Err(Error::InvalidWeight { index, value });
            }
            max = max.max(value);
        }
        if max == 0.0 {
            return Err(Error::AllZeroWeights);
        }

        // Scale to mean 1: p[i] = w[i] / max * n / sum(w / max).
        let sum = neumaier_sum(weights.iter().map(|&w| w / max));
        let factor = n as f64 / sum;
        let mut p: Vec<f64> = weights.iter().map(|&w| w / max * factor).collect();

        // Work lists. Zero-weight items go on the small list last, so that
        // they are popped (and paired with a large item) first and can never
        // be left over by rounding at the end.
        let mut small: Vec<u32> = Vec::new();
        let mut large: Vec<u32> = Vec::new();
        // Classify by the weight, not by `p`: a positive weight whose scaled
        // value underflows to 0 is still a (small) item of its own.
        for (i, (&pi, &w)) in p.iter().zip(weights).enumerate() {
            if pi >= 1.0 {
                large.push(i as u32);
            } else if w > 0.0 {
                small.push(i as u32);
            }
        }
        small.extend(
            weights
                .iter()
                .enumerate()
                .filter(|&(_, &w)| w == 0.0)
                .map(|(i, _)| i as u32),
        );

        let mut slots = HugeBuf::zeroed(n);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            slots[s as usize] = pack(quantise(p[s as usize], weights[s as usize]), l);
            // Vose's update, in the order that loses the least precision.
            p[l as usize] = (p[l as usize] + p[s as usize]) - 1.0;
            if p[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left has probability 1 up to rounding: it is its own alias.
        // A zero-weight item cannot be left (see the order of `small`); should
        // rounding ever leave one, it still gets no mass.
        let heaviest = weights
            .iter()
            .position(|&w| w == max)
            .expect("max is one of the weights") as u32;
        for i in large.into_iter().chain(small) {
            slots[i as usize] = if weights[i as usize] > 0.0 {
                pack(u32::MAX, i)
            } else {
                pack(0, heaviest)
            };
        }
        Ok(AliasTable {
            slots: slots.into(),
            uniform: false,
            compact: OnceLock::new(),
        })
    }

    /// A table from slots already built (on the heap or in a mapped file).
    /// The caller has checked that `slots` is not empty, that every alias is
    /// below `slots.len()`, and that `uniform` tables have the uniform
    /// layout.
    pub(crate) fn from_storage(slots: Storage<Slot>, uniform: bool) -> Self {
        AliasTable {
            slots,
            uniform,
            compact: OnceLock::new(),
        }
    }

    /// Number of items.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Always false: a table has at least one item.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether every item has the same probability (draws skip the table).
    #[inline(always)]
    pub fn is_uniform(&self) -> bool {
        self.uniform
    }

    /// The packed slots (threshold in the low half, alias in the high half),
    /// for SIMD kernels.
    #[inline(always)]
    pub fn slots(&self) -> &[u64] {
        &self.slots
    }

    /// The 4-byte digests of the slots, for the AVX-512 kernel: `None` for a
    /// uniform table or one of more than 2^20 - 1 items.
    ///
    /// # Performance
    /// The first call on a table builds them: O(n) time, 4 bytes per item
    /// (at most 4 MiB). Later calls are one atomic load.
    #[inline]
    pub fn compact(&self) -> Option<&CompactSlots> {
        if self.uniform {
            return None;
        }
        self.compact
            .get_or_init(|| CompactSlots::of(&self.slots))
            .as_ref()
    }

    /// The item that random word `word` selects.
    #[inline(always)]
    pub fn pick(&self, word: u64) -> u32 {
        let (slot, coin) = split_word(word, self.slots.len() as u32);
        if self.uniform {
            return slot;
        }
        let s = self.slots[slot as usize];
        if coin < s as u32 {
            slot
        } else {
            (s >> 32) as u32
        }
    }

    /// The probability mass each item receives from the table as built, in
    /// units of `2^-32 / n`: the masses sum to exactly `n * 2^32`.
    ///
    /// # Performance
    /// O(n) time, 8 bytes per item.
    pub fn masses(&self) -> Vec<u64> {
        let mut m = vec![0u64; self.slots.len()];
        for (i, &s) in self.slots.iter().enumerate() {
            let (threshold, alias) = (s as u32, (s >> 32) as u32);
            if alias as usize == i {
                m[i] += 1 << 32;
            } else {
                m[i] += threshold as u64;
                m[alias as usize] += (1u64 << 32) - threshold as u64;
            }
        }
        m
    }
}

fn check_len(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::EmptyCatalogue);
    }
    if n > MAX_ITEMS {
        return Err(Error::OutOfRange {
            name: "num_items",
            value: n.to_string(),
            expected: format!("at most {MAX_ITEMS}"),
        });
    }
    Ok(())
}

/// `p` (in [0, 1)) as a 32-bit threshold; at least 1 for a positive weight.
fn quantise(p: f64, weight: f64) -> u32 {
    let t = (p * 4_294_967_296.0).round();
    if t >= 4_294_967_295.0 {
        u32::MAX
    } else if t < 1.0 {
        u32::from(weight > 0.0)
    } else {
        t as u32
    }
}

/// Neumaier's compensated sum.
fn neumaier_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        c += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(t: &AliasTable) -> u64 {
        t.masses().iter().sum()
    }

    #[test]
    fn split_word_is_multiply_shift() {
        for &(w, n) in &[
            (0u64, 1u32),
            (u64::MAX, 1),
            (u64::MAX, u32::MAX),
            (0x8000_0000_0000_0000, 3),
            (0x1234_5678_9ABC_DEF0, 1_000_003),
        ] {
            let p = w as u128 * n as u128;
            let (slot, coin) = split_word(w, n);
            assert_eq!(slot as u128, p >> 64);
            assert_eq!(coin as u128, (p >> 32) & 0xFFFF_FFFF);
            assert!(slot < n);
        }
    }

    #[test]
    fn compact_digests_hold_the_alias_and_the_top_threshold_bits() {
        let w = [1.0, 2.0, 3.0, 0.0, 10.0, 1e-12, 7.5];
        let t = AliasTable::from_weights(&w).unwrap();
        let c = t.compact().expect("a small weighted table has digests");
        // 7 items: aliases take 3 bits.
        assert_eq!(c.alias_mask(), 0b111);
        for (&s, &d) in t.slots().iter().zip(c.digests()) {
            assert_eq!(d & 0b111, (s >> 32) as u32);
            assert_eq!(d & !0b111, s as u32 & !0b111);
        }
        // One item: no alias bits, the digest is the threshold itself.
        let one = AliasTable::from_weights(&[4.0]).unwrap();
        let c = one.compact().unwrap();
        assert_eq!((c.alias_mask(), c.digests()), (0, &[u32::MAX][..]));
        // Uniform tables draw without a table; large ones keep 8-byte slots.
        assert!(AliasTable::uniform(10).unwrap().compact().is_none());
        let large = vec![1.0; COMPACT_MAX_ITEMS + 1];
        assert!(AliasTable::from_weights(&large)
            .unwrap()
            .compact()
            .is_none());
        let largest = vec![1.0; COMPACT_MAX_ITEMS];
        let c = AliasTable::from_weights(&largest).unwrap();
        assert_eq!(c.compact().unwrap().alias_mask(), (1 << 20) - 1);
    }

    /// Where a coin and a digest differ in the digest's threshold bits, the
    /// digest alone gives the 8-byte slot's decision.
    #[test]
    fn a_digest_decides_as_its_slot_does_outside_its_alias_bits() {
        let w: Vec<f64> = (0..1000).map(|i| 1.0 + (i % 13) as f64).collect();
        let t = AliasTable::from_weights(&w).unwrap();
        let c = t.compact().unwrap();
        let stream = crate::draw::rng::Stream::new(5, crate::draw::rng::Domain::Negatives, 0, 0);
        let (mut decided, mut undecided) = (0, 0);
        for i in 0..200_000 {
            let word = stream.word(i);
            let (slot, coin) = split_word(word, 1000);
            match c.pick(slot, coin) {
                Some(item) => {
                    assert_eq!(item, t.pick(word), "word {word:#x}");
                    decided += 1;
                }
                None => undecided += 1,
            }
        }
        // 10 alias bits: about one coin in 2^22 is undecided.
        assert!(decided > 199_000 && undecided < 10, "{decided} {undecided}");
    }

    #[test]
    fn masses_sum_to_n_times_2_pow_32() {
        let w = [1.0, 2.0, 3.0, 0.0, 10.0, 1e-12, 7.5];
        let t = AliasTable::from_weights(&w).unwrap();
        assert_eq!(total(&t), 7u64 << 32);
        let u = AliasTable::uniform(5).unwrap();
        assert_eq!(u.masses(), vec![1u64 << 32; 5]);
    }

    #[test]
    fn masses_are_close_to_the_weights() {
        let w = [1.0, 2.0, 3.0, 0.0, 10.0, 1e-12, 7.5];
        let sum: f64 = w.iter().sum();
        let t = AliasTable::from_weights(&w).unwrap();
        let m = t.masses();
        for (i, (&wi, &mi)) in w.iter().zip(&m).enumerate() {
            let realised = mi as f64 / (7.0 * 4_294_967_296.0);
            assert!((realised - wi / sum).abs() < 1e-8, "item {i}");
        }
        assert_eq!(m[3], 0, "zero weight gets no mass");
        assert!(m[5] > 0, "a tiny positive weight keeps some mass");
    }

    #[test]
    fn errors_are_checked_up_front() {
        assert_eq!(AliasTable::from_weights(&[]), Err(Error::EmptyCatalogue));
        assert_eq!(AliasTable::uniform(0), Err(Error::EmptyCatalogue));
        assert_eq!(
            AliasTable::from_weights(&[0.0, 0.0]),
            Err(Error::AllZeroWeights)
        );
        assert_eq!(
            AliasTable::from_weights(&[1.0, -1.0]),
            Err(Error::InvalidWeight {
                index: 1,
                value: -1.0
            })
        );
        assert!(matches!(
            AliasTable::from_weights(&[f64::NAN]),
            Err(Error::InvalidWeight { index: 0, .. })
        ));
        assert!(matches!(
            AliasTable::from_weights(&[1.0, f64::INFINITY]),
            Err(Error::InvalidWeight { index: 1, .. })
        ));
    }

    #[test]
    fn huge_weights_do_not_overflow() {
        let t = AliasTable::from_weights(&[f64::MAX, f64::MAX, f64::MAX / 2.0]).unwrap();
        let m = t.masses();
        assert_eq!(m.iter().sum::<u64>(), 3u64 << 32);
        assert!((m[2] as f64 / m[0] as f64 - 0.5).abs() < 1e-8);
    }

    #[test]
    fn underflowing_positive_weight_keeps_its_own_slot() {
        for w in [[5e-324, 3.0, 1.0], [3.0, 5e-324, 1.0], [1e300, 1e-300, 1.0]] {
            let m = AliasTable::from_weights(&w).unwrap().masses();
            let tiny = w.iter().position(|&x| x < 1e-200).unwrap();
            assert!(m[tiny] > 0, "{w:?}: a positive weight stays drawable");
            assert!(
                m[tiny] < 16,
                "{w:?}: and gets (almost) no mass, got {}",
                m[tiny]
            );
            assert_eq!(m.iter().sum::<u64>(), 3u64 << 32);
        }
    }

    #[test]
    fn single_item_always_drawn() {
        let t = AliasTable::from_weights(&[0.3]).unwrap();
        for w in [0, 1, u64::MAX, 0x5555_5555_5555_5555] {
            assert_eq!(t.pick(w), 0);
        }
    }
}
