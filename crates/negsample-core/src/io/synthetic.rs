//! Seeded synthetic implicit feedback with power-law popularity, for
//! benchmarks and scale tests.
//!
//! Item `i` of popularity rank `r` has weight `(r + 1)^-item_exponent`
//! (Zipf); user `u` of activity rank `r` gets a share of the interactions
//! proportional to `(r + 1)^-user_exponent`. Ranks are assigned to ids by a
//! seeded shuffle, so popular items are spread over the id range as in real
//! catalogues.
//!
//! Every user has at least one interaction when there are at least as many
//! interactions as users; degrees are the shares rounded so that they sum
//! exactly to `num_interactions`, then capped at half the catalogue (what a
//! cap removes is dropped). Each user's items are drawn from the Zipf
//! proposal without repeats, by redrawing repeats (bounded: a user that
//! still lacks items after `32 * degree + 64` draws keeps fewer), so `nnz`
//! equals `num_interactions` except in those capped or bounded cases.
//!
//! All randomness comes from [`rng::Stream`](crate::draw::rng::Stream)s in
//! [`Domain::Synthetic`]: the shuffles from calls 1 and 2, user `u`'s row
//! from call 3, block `u`. The output depends on the options and the seed
//! only, never on the number of threads.

use rayon::prelude::*;

use crate::draw::alias::AliasTable;
use crate::draw::rng::{Domain, Stream};
use crate::error::{Error, Result};
use crate::interactions::{Interactions, MAX_IDS};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticOptions {
    /// Number of users (>= 1, at most 2^31 - 1).
    pub num_users: usize,
    /// Number of items (>= 2, at most 2^31 - 1).
    pub num_items: usize,
    /// Number of (user, item) positives to draw.
    pub num_interactions: u64,
    /// Zipf exponent of item popularity (>= 0; 0 is uniform). Typical: 0.8-1.2.
    pub item_exponent: f64,
    /// Power-law exponent of user activity (>= 0; 0 gives equal degrees).
    pub user_exponent: f64,
    /// The seed of every random stream.
    pub seed: u64,
}

impl Default for SyntheticOptions {
    /// 1,000 users, 1,000 items, 10,000 interactions, exponents 1.0 (items)
    /// and 0.5 (users), seed 0.
    fn default() -> Self {
        SyntheticOptions {
            num_users: 1000,
            num_items: 1000,
            num_interactions: 10_000,
            item_exponent: 1.0,
            user_exponent: 0.5,
            seed: 0,
        }
    }
}

/// Users per parallel task.
const USERS_PER_TASK: usize = 1024;

/// A seeded permutation of `0..n` (Fisher-Yates from one stream).
fn permutation(n: usize, stream: &Stream) -> Vec<u32> {
    let mut p: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = stream.below(i as u64, i as u64 + 1) as usize;
        p.swap(i, j);
    }
    p
}

fn check(opts: &SyntheticOptions) -> Result<()> {
    let bad = |name: &'static str, value: String, expected: &str| {
        Err(Error::OutOfRange {
            name,
            value,
            expected: expected.into(),
        })
    };
    if opts.num_users == 0 || opts.num_users > MAX_IDS {
        return bad(
            "num_users",
            opts.num_users.to_string(),
            "an integer in [1, 2^31 - 1]",
        );
    }
    if opts.num_items < 2 || opts.num_items > MAX_IDS {
        return bad(
            "num_items",
            opts.num_items.to_string(),
            "an integer in [2, 2^31 - 1]",
        );
    }
    let most = opts.num_users as u64 * (opts.num_items as u64 / 2);
    if opts.num_interactions > most {
        return bad(
            "num_interactions",
            opts.num_interactions.to_string(),
            &format!("at most num_users * floor(num_items / 2) = {most}"),
        );
    }
    for (name, v) in [
        ("item_exponent", opts.item_exponent),
        ("user_exponent", opts.user_exponent),
    ] {
        if !v.is_finite() || !(0.0..=16.0).contains(&v) {
            return bad(name, v.to_string(), "a number in [0, 16]");
        }
    }
    Ok(())
}

/// Each user's degree: shares of `n` by the power law, rounded so they sum
/// to `n` (at least 1 each when `n >= users`), capped at `cap`.
fn degrees(opts: &SyntheticOptions, user_rank: &[u32], cap: u64) -> Vec<u64> {
    let users = opts.num_users;
    let n = opts.num_interactions;
    let base = u64::from(n >= users as u64);
    let rest = n - base * users as u64;
    let weight = |r: usize| ((r + 1) as f64).powf(-opts.user_exponent);
    let total: f64 = (0..users).map(weight).sum();
    // Systematic rounding of cumulative shares: sums exactly to `rest`.
    let mut by_rank = Vec::with_capacity(users);
    let (mut cumulative, mut given) = (0.0f64, 0u64);
    for r in 0..users {
        cumulative += weight(r);
        let upto = if r + 1 == users {
            rest
        } else {
            ((cumulative / total * rest as f64).round() as u64).min(rest)
        };
        let upto = upto.max(given);
        by_rank.push(upto - given);
        given = upto;
    }
    let mut d = vec![0u64; users];
    for (u, &r) in user_rank.iter().enumerate() {
        d[u] = (base + by_rank[r as usize]).min(cap);
    }
    d
}

/// Draws `degree` distinct items for one user into `row` (sorted); returns
/// how many it found.
fn fill_row(table: &AliasTable, stream: &Stream, row: &mut [u32], scratch: &mut Vec<u32>) -> usize {
    let degree = row.len();
    scratch.clear();
    let mut counter = 0u64;
    let limit = 32 * degree as u64 + 64;
    while scratch.len() < degree && counter < limit {
        let want = degree - scratch.len();
        for _ in 0..want {
            scratch.push(table.pick(stream.word(counter)));
            counter += 1;
        }
        scratch.sort_unstable();
        scratch.dedup();
    }
    let found = scratch.len().min(degree);
    row[..found].copy_from_slice(&scratch[..found]);
    found
}

/// Generates a matrix as described in the module documentation.
///
/// # Errors
/// [`Error::OutOfRange`] naming the option: counts out of range, more
/// interactions than `num_users * floor(num_items / 2)`, an exponent outside
/// `[0, 16]`.
///
/// # Performance
/// O(num_items + num_users + num_interactions * log(degree)), on all cores.
/// Memory: the output (4 bytes per interaction, 8 per user) plus 8 bytes per
/// user and 12 per item while building.
pub fn generate(opts: &SyntheticOptions) -> Result<Interactions> {
    check(opts)?;
    let item_rank = permutation(
        opts.num_items,
        &Stream::new(opts.seed, Domain::Synthetic, 1, 0),
    );
    let user_rank = permutation(
        opts.num_users,
        &Stream::new(opts.seed, Domain::Synthetic, 2, 0),
    );
    let mut weights = vec![0.0f64; opts.num_items];
    for (i, &r) in item_rank.iter().enumerate() {
        weights[i] = ((r as usize + 1) as f64).powf(-opts.item_exponent);
    }
    drop(item_rank);
    let table = AliasTable::from_weights(&weights)?;
    drop(weights);
    let cap = opts.num_items as u64 / 2;
    let degree = degrees(opts, &user_rank, cap);
    drop(user_rank);
    let mut indptr = Vec::with_capacity(opts.num_users + 1);
    indptr.push(0u64);
    for &d in &degree {
        indptr.push(indptr[indptr.len() - 1] + d);
    }
    let mut indices = vec![0u32; *indptr.last().expect("one offset") as usize];
    // Rows, in parallel groups of users; each group records what it found.
    let mut groups: Vec<(usize, &mut [u32])> = Vec::new();
    let mut rest = &mut indices[..];
    for first in (0..opts.num_users).step_by(USERS_PER_TASK) {
        let last = (first + USERS_PER_TASK).min(opts.num_users);
        let (g, tail) = rest.split_at_mut((indptr[last] - indptr[first]) as usize);
        groups.push((first, g));
        rest = tail;
    }
    let found: Vec<Vec<u32>> = groups
        .into_par_iter()
        .map(|(first, group)| {
            let last = (first + USERS_PER_TASK).min(opts.num_users);
            let base = indptr[first];
            let mut scratch = Vec::new();
            (first..last)
                .map(|u| {
                    let row =
                        &mut group[(indptr[u] - base) as usize..(indptr[u + 1] - base) as usize];
                    let stream = Stream::new(opts.seed, Domain::Synthetic, 3, u as u64);
                    fill_row(&table, &stream, row, &mut scratch) as u32
                })
                .collect()
        })
        .collect();
    // Compact rows that came up short (rare).
    let found: Vec<u32> = found.concat();
    if found.iter().zip(&degree).any(|(&f, &d)| f as u64 != d) {
        let mut write = 0usize;
        let mut compact = vec![0u64; opts.num_users + 1];
        for u in 0..opts.num_users {
            let start = indptr[u] as usize;
            let len = found[u] as usize;
            indices.copy_within(start..start + len, write);
            write += len;
            compact[u + 1] = write as u64;
        }
        indices.truncate(write);
        indptr = compact;
    }
    Ok(Interactions::from_storage(
        opts.num_items,
        indptr.into(),
        indices.into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_and_canonical_rows() {
        let opts = SyntheticOptions {
            num_users: 300,
            num_items: 5000,
            num_interactions: 20_000,
            seed: 7,
            ..Default::default()
        };
        let m = generate(&opts).unwrap();
        assert_eq!((m.num_users(), m.num_items(), m.nnz()), (300, 5000, 20_000));
        for u in 0..300 {
            let row = m.row(u);
            assert!(!row.is_empty(), "user {u} has at least one item");
            assert!(row.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(generate(&opts).unwrap(), m, "same seed, same data");
        let other = generate(&SyntheticOptions { seed: 8, ..opts }).unwrap();
        assert_ne!(other, m);
    }

    #[test]
    fn popularity_follows_a_power_law() {
        // Few interactions per user, so that rows without repeats do not
        // saturate the head: the log-log slope of count against rank over
        // ranks 10..300 estimates -item_exponent.
        for exponent in [0.8, 1.2] {
            let opts = SyntheticOptions {
                num_users: 50_000,
                num_items: 2000,
                num_interactions: 150_000,
                item_exponent: exponent,
                seed: 3,
                ..Default::default()
            };
            let m = generate(&opts).unwrap();
            let mut pop = m.popularity();
            pop.sort_unstable_by(|a, b| b.cmp(a));
            let points: Vec<(f64, f64)> = (10..300)
                .map(|r| (((r + 1) as f64).ln(), (pop[r] as f64).ln()))
                .collect();
            let n = points.len() as f64;
            let (mx, my) = (
                points.iter().map(|p| p.0).sum::<f64>() / n,
                points.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let slope = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>()
                / points.iter().map(|p| (p.0 - mx).powi(2)).sum::<f64>();
            assert!(
                (slope + exponent).abs() < 0.1,
                "exponent {exponent}: fitted slope {slope}"
            );
        }
    }

    #[test]
    fn options_are_checked() {
        for (opts, name) in [
            (
                SyntheticOptions {
                    num_users: 0,
                    ..Default::default()
                },
                "num_users",
            ),
            (
                SyntheticOptions {
                    num_items: 1,
                    ..Default::default()
                },
                "num_items",
            ),
            (
                SyntheticOptions {
                    num_interactions: 1000 * 500 + 1,
                    ..Default::default()
                },
                "num_interactions",
            ),
            (
                SyntheticOptions {
                    item_exponent: f64::NAN,
                    ..Default::default()
                },
                "item_exponent",
            ),
            (
                SyntheticOptions {
                    user_exponent: -1.0,
                    ..Default::default()
                },
                "user_exponent",
            ),
        ] {
            let err = generate(&opts).unwrap_err();
            assert!(
                matches!(err, Error::OutOfRange { name: n, .. } if n == name),
                "{err}"
            );
        }
    }
}
