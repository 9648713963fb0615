//! Shards for data-parallel training: `world_size` workers (threads,
//! processes or hosts) each take one `rank`, and together they cover every
//! training positive exactly once per epoch, with no coordination.
//!
//! # The partition
//! Epoch `e` orders the positives (numbered `0..nnz` in CSR order) by a
//! pseudo-random permutation keyed by `(seed, e)`, the same on every worker;
//! shard `rank` takes positions `[nnz * rank / W, nnz * (rank + 1) / W)` of
//! that order. So the shards of one epoch are disjoint and cover everything,
//! each shard's positives arrive shuffled, and the split changes from epoch
//! to epoch. The permutation is an 8-round Feistel network on the smallest
//! even number of bits that holds `nnz`, with cycle-walking down to `nnz`:
//! a bijection computed position by position, so a worker touches only its
//! own shard: O(nnz / W) time and no O(nnz) array per epoch.
//!
//! # Random streams
//! A shard's sampling calls use call numbers `2^63 + rank * 2^40 + c`, where
//! `c` counts the shard's own calls: disjoint from the sampler's own call
//! numbers (which count from 0) and from every other rank's. So each shard
//! draws from independent streams, and its output depends on (seed, rank,
//! its sequence of calls, arguments) only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use crate::draw::rng::{mix64, Domain, Stream};
use crate::error::{Error, Result};
use crate::sampler::Sampler;

/// The largest world size: ranks must fit 23 bits of the call number.
pub const MAX_WORLD_SIZE: usize = 1 << 23;
/// The number of sampling calls one shard can make.
pub const MAX_SHARD_CALLS: u64 = 1 << 40;

/// The call number of a shard's `local`-th sampling call.
#[inline]
pub const fn shard_call(rank: u32, local: u64) -> u64 {
    (1 << 63) | ((rank as u64) << 40) | local
}

/// Feistel rounds. Four suffice for wide domains; small ones (a few bits
/// per half) need more to mix well, and the cost is per position only.
const ROUNDS: usize = 8;

/// A pseudo-random bijection of `0..n`, keyed.
#[derive(Debug, Clone, Copy)]
pub struct Permutation {
    n: u64,
    half: u32,
    mask: u64,
    keys: [u64; ROUNDS],
}

impl Permutation {
    /// The permutation of `0..n` for one key stream.
    pub fn new(n: u64, stream: &Stream) -> Self {
        let bits = 64 - n.saturating_sub(1).leading_zeros();
        let half = bits.div_ceil(2).max(1);
        Permutation {
            n,
            half,
            mask: (1u64 << half) - 1,
            keys: std::array::from_fn(|j| stream.word(j as u64)),
        }
    }

    #[inline]
    fn feistel(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half, x & self.mask);
        for k in self.keys {
            let t = l ^ (mix64(r ^ k) & self.mask);
            l = r;
            r = t;
        }
        (l << self.half) | r
    }

    /// The element at position `i` (`i < n`).
    ///
    /// # Performance
    /// Eight mixes per step, fewer than four steps on average (the Feistel
    /// domain is less than 4n).
    #[inline]
    pub fn at(&self, i: u64) -> u64 {
        debug_assert!(i < self.n);
        let mut x = self.feistel(i);
        while x >= self.n {
            x = self.feistel(x);
        }
        x
    }
}

/// One worker's share of the training positives, with its own streams.
#[derive(Debug)]
pub struct Shard {
    sampler: Arc<Sampler>,
    rank: u32,
    world_size: u32,
    calls: AtomicU64,
}

impl Shard {
    /// Shard `rank` of `world_size` over `sampler`'s positives.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] unless `1 <= world_size <= MAX_WORLD_SIZE` and
    /// `rank < world_size`.
    pub fn new(sampler: Arc<Sampler>, rank: usize, world_size: usize) -> Result<Self> {
        if world_size == 0 || world_size > MAX_WORLD_SIZE {
            return Err(Error::OutOfRange {
                name: "world_size",
                value: world_size.to_string(),
                expected: format!("an integer in [1, {MAX_WORLD_SIZE}]"),
            });
        }
        if rank >= world_size {
            return Err(Error::OutOfRange {
                name: "rank",
                value: rank.to_string(),
                expected: format!("an integer in [0, {world_size}) (world_size is {world_size})"),
            });
        }
        Ok(Shard {
            sampler,
            rank: rank as u32,
            world_size: world_size as u32,
            calls: AtomicU64::new(0),
        })
    }

    /// The sampler whose positives and proposal the shard uses.
    pub fn sampler(&self) -> &Arc<Sampler> {
        &self.sampler
    }

    /// This shard's rank.
    pub fn rank(&self) -> usize {
        self.rank as usize
    }

    /// The number of shards.
    pub fn world_size(&self) -> usize {
        self.world_size as usize
    }

    /// Positions `[start, end)` of the epoch order that this shard takes.
    pub fn range(&self) -> (u64, u64) {
        let n = self.sampler.interactions().nnz() as u128;
        let (r, w) = (self.rank as u128, self.world_size as u128);
        ((n * r / w) as u64, (n * (r + 1) / w) as u64)
    }

    /// How many positives this shard covers per epoch (the shards' sizes
    /// differ by at most one).
    pub fn len(&self) -> usize {
        let (a, b) = self.range();
        (b - a) as usize
    }

    /// Whether the shard has no positives.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The permutation of epoch `epoch` (the same on every rank).
    pub fn permutation(&self, epoch: u64) -> Permutation {
        let stream = Stream::new(self.sampler.seed(), Domain::ShardOrder, epoch, 0);
        Permutation::new(self.sampler.interactions().nnz() as u64, &stream)
    }

    /// Checks that positions `start .. start + count` lie within the
    /// shard (before a caller allocates `count` of anything).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `start`.
    pub fn check_range(&self, start: usize, count: usize) -> Result<()> {
        let len = self.len();
        if start > len || count > len - start {
            return Err(Error::OutOfRange {
                name: "start",
                value: start.to_string(),
                expected: format!(
                    "a range within the shard's {len} positives (asked for {count} from {start})"
                ),
            });
        }
        Ok(())
    }

    /// Writes this shard's positives `start .. start + users.len()` of epoch
    /// `epoch`, in the shard's order, into `users` and `items`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `users` and `items` differ in length;
    /// [`Error::OutOfRange`] if the range passes the shard's end.
    ///
    /// # Performance
    /// Per positive: the permutation (about a dozen 64-bit mixes) and a
    /// binary search over the users; in parallel for long ranges.
    pub fn positives_into(
        &self,
        epoch: u64,
        start: usize,
        users: &mut [u32],
        items: &mut [u32],
    ) -> Result<()> {
        if users.len() != items.len() {
            return Err(Error::LengthMismatch {
                name: "items",
                len: items.len(),
                expected: format!("users.length ({})", users.len()),
            });
        }
        self.check_range(start, users.len())?;
        let perm = self.permutation(epoch);
        let m = self.sampler.interactions();
        let first = self.range().0 + start as u64;
        const PIECE: usize = 1 << 14;
        users
            .par_chunks_mut(PIECE)
            .zip(items.par_chunks_mut(PIECE))
            .enumerate()
            .for_each(|(p, (us, is))| {
                let base = first + (p * PIECE) as u64;
                for (k, (u, i)) in us.iter_mut().zip(is.iter_mut()).enumerate() {
                    let j = perm.at(base + k as u64) as usize;
                    *u = m.user_of(j);
                    *i = m.indices()[j];
                }
            });
        Ok(())
    }

    /// All of this shard's positives for epoch `epoch`: `(users, items)`.
    pub fn positives(&self, epoch: u64) -> (Vec<u32>, Vec<u32>) {
        let n = self.len();
        let (mut users, mut items) = (vec![0u32; n], vec![0u32; n]);
        self.positives_into(epoch, 0, &mut users, &mut items)
            .expect("the whole shard is in range");
        (users, items)
    }

    /// Takes the call number of this shard's next sampling call (pass it to
    /// the sampler's `..._into` methods).
    ///
    /// # Panics
    /// After [`MAX_SHARD_CALLS`] calls.
    pub fn next_call(&self) -> u64 {
        let local = self.calls.fetch_add(1, Ordering::Relaxed);
        assert!(local < MAX_SHARD_CALLS, "a shard makes at most 2^40 calls");
        shard_call(self.rank, local)
    }

    /// How many sampling calls this shard has made.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection_for_every_size() {
        for n in [1u64, 2, 3, 4, 5, 7, 8, 9, 100, 1023, 1024, 1025, 4097] {
            let p = Permutation::new(n, &Stream::new(9, Domain::ShardOrder, n, 0));
            let mut seen = vec![false; n as usize];
            for i in 0..n {
                let x = p.at(i) as usize;
                assert!(!seen[x], "n = {n}: {x} twice");
                seen[x] = true;
            }
        }
    }

    #[test]
    fn shard_calls_are_disjoint_from_sampler_calls() {
        assert_eq!(shard_call(0, 0), 1 << 63);
        assert_ne!(shard_call(1, 0), shard_call(0, 1));
        assert!(shard_call((MAX_WORLD_SIZE - 1) as u32, MAX_SHARD_CALLS - 1) > 1 << 63);
    }
}
