//! The trainer's path (issue 13): epochs filled natively, the per-output
//! exclusion pass of small `k`, and the bucket shuffle.
//!
//! - the block rules, restated from scratch, give exactly the engine's
//!   negatives for every `k` (both the per-output pass of `k <= 8` and the
//!   per-user pass above);
//! - an epoch covers every positive once, never returns a positive of its
//!   user, and gives the same batches on every kernel, thread count and run
//!   length, whatever other calls the sampler makes;
//! - a shard's epoch walks the shard's positives in the shard's order;
//! - the shuffle is uniform (chi-square of positions, and of pair orders);
//! - on sets shaped like the public benchmarks (Gowalla, Yelp2018,
//!   Amazon-Book), full epochs contain no positive, and the negatives of a
//!   light and a heavy user follow the restricted proposal (chi-square).

mod common;

use std::sync::Arc;

use common::{assert_fits, chi_square, TestRng};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::shard::Shard;
use negsample_core::{
    Domain, Epoch, EpochOptions, Interactions, Kernel, PairwiseBatch, PairwiseOut, PointwiseBatch,
    Proposal, Sampler, Shape, Stream, BLOCK,
};

fn synthetic(users: usize, items: usize, nnz: u64, seed: u64) -> Arc<Interactions> {
    Arc::new(
        generate(&SyntheticOptions {
            num_users: users,
            num_items: items,
            num_interactions: nnz,
            item_exponent: 1.0,
            user_exponent: 0.5,
            seed,
        })
        .unwrap(),
    )
}

fn sampler(m: &Arc<Interactions>, proposal: &Proposal, seed: u64, threads: usize) -> Arc<Sampler> {
    Arc::new(
        Sampler::new(m.clone(), proposal, seed)
            .unwrap()
            .with_threads(threads)
            .unwrap(),
    )
}

fn pairwise(batch_size: usize, k: usize) -> EpochOptions {
    EpochOptions {
        batch_size,
        k,
        shape: Shape::Pairwise,
        drop_last: false,
    }
}

/// Every batch of a pairwise epoch, filled `run` batches per call.
fn fill_all(epoch: &Epoch, run: usize) -> PairwiseBatch {
    let rows = epoch.rows(0, epoch.batches()).unwrap();
    let mut all = PairwiseBatch::zeroed(rows);
    let (mut b, mut at) = (0, 0);
    while b < epoch.batches() {
        let count = run.min(epoch.batches() - b);
        let r = epoch.rows(b, count).unwrap();
        epoch
            .pairwise_into(
                b,
                count,
                PairwiseOut {
                    users: &mut all.users[at..at + r],
                    positives: &mut all.positives[at..at + r],
                    negatives: &mut all.negatives[at..at + r],
                },
            )
            .unwrap();
        b += count;
        at += r;
    }
    all
}

/// The block rules of `Sampler::negatives_into`, restated for matrices
/// without complement users: per block of `BLOCK` outputs, first draws from
/// counters `0..BLOCK`, then each positive, in output order, redrawn from
/// the counters `BLOCK, BLOCK + 1, ...` until it is no positive.
fn reference(s: &Sampler, users: &[u32], k: usize, call: u64) -> Vec<u32> {
    let m = s.interactions();
    let mut out = vec![0u32; users.len() * k];
    for (block, chunk) in out.chunks_mut(BLOCK).enumerate() {
        let stream = Stream::new(s.seed(), Domain::Negatives, call, block as u64);
        for (c, item) in chunk.iter_mut().enumerate() {
            *item = s.table().pick(stream.word(c as u64));
        }
        let mut next = BLOCK as u64;
        for (c, item) in chunk.iter_mut().enumerate() {
            let u = users[(block * BLOCK + c) / k];
            while m.contains(u, *item) {
                *item = s.table().pick(stream.word(next));
                next += 1;
            }
        }
    }
    out
}

#[test]
fn negatives_follow_the_block_rules_for_every_k() {
    // A sparse matrix (per-output pass up to k = 8) and a dense one, whose
    // rows mostly have bitmaps (per-output pass up to k = 2).
    for m in [
        synthetic(3000, 5000, 60_000, 3),
        synthetic(1000, 2000, 60_000, 3),
    ] {
        for proposal in [Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }] {
            let s = sampler(&m, &proposal, 11, 1);
            // The reference knows rejection only: users sampled from their
            // complement are left out.
            let rejection: Vec<u32> = (0..m.num_users() as u32)
                .filter(|&u| !s.uses_complement(u))
                .collect();
            let mut rng = TestRng::new(5);
            let users: Vec<u32> = (0..9_000)
                .map(|_| rejection[rng.below(rejection.len() as u64) as usize])
                .collect();
            for k in 1..=10 {
                for kernel in Kernel::available() {
                    let s = Sampler::new(m.clone(), &proposal, 11)
                        .unwrap()
                        .with_threads(2)
                        .unwrap()
                        .with_kernel(kernel)
                        .unwrap();
                    let mut out = vec![0u32; users.len() * k];
                    s.negatives_into(&users, k, 4, &mut out).unwrap();
                    assert_eq!(
                        out,
                        reference(&s, &users, k, 4),
                        "{} users, {proposal:?}, k = {k}, {kernel}",
                        m.num_users()
                    );
                }
            }
        }
    }
}

#[test]
fn an_epoch_covers_every_positive_once_with_no_positive_negative() {
    let m = synthetic(2000, 3000, 40_000, 7);
    for proposal in [Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }] {
        for k in [1usize, 3] {
            let s = sampler(&m, &proposal, 21, 2);
            let epoch = Epoch::new(s.clone(), pairwise(1000, k)).unwrap();
            assert_eq!(epoch.batches(), 40);
            let all = fill_all(&epoch, 7);
            let mut seen: Vec<(u32, u32)> = all
                .users
                .chunks(k)
                .zip(all.positives.chunks(k))
                .map(|(u, p)| {
                    assert!(u.iter().all(|&x| x == u[0]) && p.iter().all(|&x| x == p[0]));
                    (u[0], p[0])
                })
                .collect();
            seen.sort_unstable();
            let mut expected: Vec<(u32, u32)> = (0..m.num_users() as u32)
                .flat_map(|u| m.row(u).iter().map(move |&i| (u, i)))
                .collect();
            expected.sort_unstable();
            assert_eq!(seen, expected, "{proposal:?}, k = {k}");
            for (&u, &n) in all.users.iter().zip(&all.negatives) {
                assert!(!m.contains(u, n), "negative {n} of user {u} is a positive");
            }
        }
    }
}

#[test]
fn epochs_are_the_same_on_every_kernel_thread_count_and_run_length() {
    let m = synthetic(3000, 4000, 70_000, 9);
    let reference = {
        let s = sampler(&m, &Proposal::Popularity { alpha: 0.75 }, 5, 1);
        s.next_call();
        fill_all(&Epoch::new(s, pairwise(777, 2)).unwrap(), 1)
    };
    for threads in [1usize, 2, 7] {
        for kernel in Kernel::available() {
            for run in [1usize, 7, 1000] {
                let s = Arc::new(
                    Sampler::new(m.clone(), &Proposal::Popularity { alpha: 0.75 }, 5)
                        .unwrap()
                        .with_threads(threads)
                        .unwrap()
                        .with_kernel(kernel)
                        .unwrap(),
                );
                s.next_call();
                let epoch = Epoch::new(s.clone(), pairwise(777, 2)).unwrap();
                // Calls between batches do not change them.
                s.negatives_into(&[0, 1], 4, s.next_call(), &mut [0; 8])
                    .unwrap();
                let all = fill_all(&epoch, run);
                assert_eq!(all, reference, "threads {threads}, {kernel}, run {run}");
            }
        }
    }
}

#[test]
fn pointwise_epochs_hold_each_positive_then_its_negatives() {
    let m = synthetic(500, 800, 9_000, 2);
    let s = sampler(&m, &Proposal::Uniform, 8, 1);
    let options = EpochOptions {
        batch_size: 256,
        k: 4,
        shape: Shape::Pointwise,
        drop_last: true,
    };
    let epoch = Epoch::new(s.clone(), options).unwrap();
    assert_eq!(epoch.batches(), 9_000 / 256);
    let rows = epoch.rows(0, epoch.batches()).unwrap();
    assert_eq!(rows, 9_000 / 256 * 256 * 5);
    let mut batch = PointwiseBatch::zeroed(rows);
    epoch
        .pointwise_into(0, epoch.batches(), batch.as_out())
        .unwrap();
    for (j, row) in batch.items.chunks(5).enumerate() {
        let u = batch.users[j * 5];
        assert!(batch.users[j * 5..j * 5 + 5].iter().all(|&x| x == u));
        assert_eq!(&batch.labels[j * 5..j * 5 + 5], &[1.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(m.contains(u, row[0]));
        assert!(row[1..].iter().all(|&n| !m.contains(u, n)));
    }
    // The pairwise form is refused on a pointwise epoch, and so are runs
    // past the end and buffers of the wrong length; nothing is written.
    let mut small = PairwiseBatch::zeroed(256 * 4);
    assert!(epoch.pairwise_into(0, 1, small.as_out()).is_err());
    assert!(epoch.rows(epoch.batches(), 1).is_err());
    assert!(epoch.rows(0, epoch.batches() + 1).is_err());
    let mut wrong = PointwiseBatch::zeroed(7);
    assert!(epoch.pointwise_into(0, 1, wrong.as_out()).is_err());
    assert!(wrong.users.iter().all(|&x| x == 0));
}

#[test]
fn a_shard_epoch_walks_the_shard_in_its_order() {
    let m = synthetic(1000, 2000, 30_000, 4);
    let s = sampler(&m, &Proposal::Uniform, 3, 2);
    for rank in 0..3 {
        let shard = Shard::new(s.clone(), rank, 3).unwrap();
        let (users, items) = shard.positives(6);
        let epoch = Epoch::for_shard(&shard, 6, pairwise(1000, 1)).unwrap();
        let all = fill_all(&epoch, 3);
        assert_eq!(all.users, users);
        assert_eq!(all.positives, items);
        assert!(all
            .users
            .iter()
            .zip(&all.negatives)
            .all(|(&u, &n)| !m.contains(u, n)));
        assert_eq!(shard.calls(), 1, "one call number per epoch");
    }
}

#[test]
fn the_bucket_shuffle_is_uniform() {
    // 40,000 pairs: 4 buckets. Over 4,000 shuffles, where the first and the
    // last positive land (40 bins of positions each) and how often one
    // comes before the other (p = 1/2).
    let m = synthetic(400, 5000, 40_000, 12);
    let s = sampler(&m, &Proposal::Uniform, 1, 1);
    let n = m.nnz();
    // User 0 (high bits 0) and its first item.
    let first = u64::from(m.row(0)[0]);
    let last_user = (0..m.num_users() as u32)
        .rev()
        .find(|&u| !m.row(u).is_empty())
        .unwrap();
    let last = (u64::from(last_user) << 32) | u64::from(*m.row(last_user).last().unwrap());
    let (mut a_bins, mut b_bins, mut before) = (vec![0u64; 40], vec![0u64; 40], 0u64);
    let rounds = 4000u64;
    for call in 0..rounds {
        let order = s.shuffled_pairs(call, Box::default());
        let pa = order.iter().position(|&p| p == first).unwrap();
        let pb = order.iter().position(|&p| p == last).unwrap();
        a_bins[pa * 40 / n] += 1;
        b_bins[pb * 40 / n] += 1;
        before += u64::from(pa < pb);
    }
    let expected: Vec<f64> = (0..40)
        .map(|b| ((b + 1) * n / 40 - b * n / 40) as f64)
        .collect();
    assert_fits(
        "position of the first positive",
        chi_square(&a_bins, &expected),
    );
    assert_fits(
        "position of the last positive",
        chi_square(&b_bins, &expected),
    );
    assert_fits(
        "first before last",
        chi_square(&[before, rounds - before], &[1.0, 1.0]),
    );
}

/// Sets shaped like the usual public benchmarks (users, items, positives).
const PUBLIC_SHAPES: [(&str, usize, usize, u64); 3] = [
    ("gowalla-shaped", 29_858, 40_981, 810_128),
    ("yelp2018-shaped", 31_668, 38_048, 1_561_406),
    ("amazon-book-shaped", 52_643, 91_599, 2_984_108),
];

#[test]
fn public_shapes_full_epochs_have_no_positive_and_restricted_distributions() {
    for (name, users, items, nnz) in PUBLIC_SHAPES {
        let m = synthetic(users, items, nnz, 1);
        for proposal in [Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }] {
            let s = sampler(&m, &proposal, 77, 2);
            let epoch = Epoch::new(s.clone(), pairwise(2048, 1)).unwrap();
            let all = fill_all(&epoch, 32);
            assert_eq!(all.users.len(), m.nnz());
            let hits = all
                .users
                .iter()
                .zip(&all.negatives)
                .filter(|&(&u, &n)| m.contains(u, n))
                .count();
            assert_eq!(hits, 0, "{name}, {proposal:?}: {hits} positives returned");
            // A light user (fewest positives, at least one) and the heaviest
            // rejection user: 400,000 negatives each against the proposal
            // restricted to their non-positives.
            let rejection = |u: &u32| !m.row(*u).is_empty() && !s.uses_complement(*u);
            let all_users = 0..m.num_users() as u32;
            let light = all_users
                .clone()
                .filter(rejection)
                .min_by_key(|&u| m.row(u).len())
                .unwrap();
            let heavy = all_users
                .filter(rejection)
                .max_by_key(|&u| m.row(u).len())
                .unwrap();
            for u in [light, heavy] {
                let draws = 400_000;
                let mut out = vec![0u32; draws];
                s.negatives_into(&vec![u; draws], 1, s.next_call(), &mut out)
                    .unwrap();
                let observed = common::histogram(&out, m.num_items());
                let expected: Vec<f64> = (0..m.num_items() as u32)
                    .map(|i| {
                        if m.contains(u, i) {
                            0.0
                        } else {
                            s.probability(i)
                        }
                    })
                    .collect();
                assert_fits(
                    &format!(
                        "{name}, {proposal:?}, user {u} ({} positives)",
                        m.row(u).len()
                    ),
                    chi_square(&observed, &expected),
                );
            }
        }
    }
}

#[test]
fn the_shuffle_is_the_same_on_any_thread_count() {
    // 300,000 positives: up to four parts of the parallel scatter.
    let m = synthetic(5000, 8000, 300_000, 13);
    let reference = sampler(&m, &Proposal::Uniform, 2, 1).shuffled_pairs(5, Box::default());
    let mut sorted = reference.to_vec();
    sorted.sort_unstable();
    let mut expected: Vec<u64> = (0..m.num_users() as u32)
        .flat_map(|u| {
            m.row(u)
                .iter()
                .map(move |&i| (u64::from(u) << 32) | u64::from(i))
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(sorted, expected, "a permutation of the positives");
    for threads in [2usize, 3, 4, 7] {
        let s = sampler(&m, &Proposal::Uniform, 2, threads);
        // A reused buffer gives the same order as a fresh one.
        let reuse = vec![7u64; m.nnz()].into_boxed_slice();
        assert_eq!(s.shuffled_pairs(5, reuse), reference, "threads {threads}");
    }
}
