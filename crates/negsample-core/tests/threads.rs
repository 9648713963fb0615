//! Large calls spread their blocks over a thread pool; the output must not
//! depend on the thread count (1, 2, 7 and the default), on whether a call
//! is large enough to be spread at all, or on the membership test
//! (bitmaps or binary search).

mod common;

use std::sync::Arc;

use common::TestRng;
use negsample_core::{
    default_threads, Error, Exclusion, Interactions, Proposal, Sampler, MAX_THREADS, PARALLEL_MIN,
};

/// 2,000 users over 3,000 items: most light, every 50th heavy (sampled from
/// its complement), every 7th with a long row (a bitmap), some with none.
fn matrix() -> Arc<Interactions> {
    let mut rng = TestRng::new(42);
    let (num_users, num_items) = (2000usize, 3000usize);
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for u in 0..num_users {
        let count = if u % 50 == 0 {
            2400
        } else if u % 7 == 0 {
            400
        } else if u % 11 == 0 {
            0
        } else {
            1 + rng.below(30) as usize
        };
        for _ in 0..count {
            users.push(u as u32);
            items.push(rng.below(num_items as u64) as u32);
        }
    }
    Arc::new(Interactions::from_coo(&users, &items, Some(num_users), Some(num_items)).unwrap())
}

fn sampler(m: &Arc<Interactions>, proposal: &Proposal, threads: usize) -> Sampler {
    Sampler::new(m.clone(), proposal, 77)
        .unwrap()
        .with_threads(threads)
        .unwrap()
}

#[test]
fn output_is_the_same_for_1_2_and_7_threads() {
    let m = matrix();
    let mut rng = TestRng::new(5);
    // Below, at, and well above the threshold of the parallel path, and
    // a length that ends in a partial block.
    let sizes = [
        1000,
        PARALLEL_MIN / 4,
        PARALLEL_MIN / 4 + 1,
        PARALLEL_MIN * 3 + 777,
    ];
    for proposal in [Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }] {
        let one = sampler(&m, &proposal, 1);
        assert!(one.exclusion_bytes() > 4 * 2000, "some users have bitmaps");
        assert!((0..2000).any(|u| one.uses_complement(u)));
        for &positives in &sizes {
            let users: Vec<u32> = (0..positives).map(|_| rng.below(2000) as u32).collect();
            let k = 4;
            let mut expected = vec![0u32; users.len() * k];
            one.negatives_into(&users, k, 3, &mut expected).unwrap();
            for threads in [2, 7, default_threads()] {
                let many = sampler(&m, &proposal, threads);
                assert_eq!(many.threads(), threads);
                let mut got = vec![0u32; users.len() * k];
                many.negatives_into(&users, k, 3, &mut got).unwrap();
                assert_eq!(
                    got, expected,
                    "{threads} threads, {positives} users, {proposal:?}"
                );
            }
            // No negative is a positive of its user.
            for (j, chunk) in expected.chunks(k).enumerate() {
                for &i in chunk {
                    assert!(
                        !m.contains(users[j], i),
                        "user {} got positive {i}",
                        users[j]
                    );
                }
            }
        }
    }
}

#[test]
fn batches_are_the_same_for_any_thread_count() {
    let m = matrix();
    let mut rng = TestRng::new(6);
    let users: Vec<u32> = (0..PARALLEL_MIN / 2)
        .map(|_| rng.below(2000) as u32)
        .collect();
    let items: Vec<u32> = users.iter().map(|&u| u % 3000).collect();
    let one = sampler(&m, &Proposal::Uniform, 1);
    let seven = sampler(&m, &Proposal::Uniform, 7);
    assert_eq!(
        one.pairwise(&users, &items, 3, 9).unwrap(),
        seven.pairwise(&users, &items, 3, 9).unwrap()
    );
    assert_eq!(
        one.pointwise(&users, &items, 2, 10).unwrap(),
        seven.pointwise(&users, &items, 2, 10).unwrap()
    );
}

#[test]
fn concurrent_calls_on_a_shared_sampler_are_independent() {
    let m = matrix();
    let shared = Arc::new(sampler(&m, &Proposal::Uniform, 2));
    let users: Vec<u32> = (0..PARALLEL_MIN as u32 / 2).map(|i| i % 2000).collect();
    let expected: Vec<Vec<u32>> = (0..4u64)
        .map(|call| {
            let mut out = vec![0u32; users.len() * 2];
            sampler(&m, &Proposal::Uniform, 1)
                .negatives_into(&users, 2, call, &mut out)
                .unwrap();
            out
        })
        .collect();
    let handles: Vec<_> = (0..4u64)
        .map(|call| {
            let (shared, users) = (shared.clone(), users.clone());
            std::thread::spawn(move || {
                let mut out = vec![0u32; users.len() * 2];
                shared.negatives_into(&users, 2, call, &mut out).unwrap();
                out
            })
        })
        .collect();
    for (call, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.join().unwrap(), expected[call], "call {call}");
    }
}

#[test]
fn bitmaps_and_binary_search_give_the_same_output() {
    let m = matrix();
    let mut rng = TestRng::new(8);
    let users: Vec<u32> = (0..50_000).map(|_| rng.below(2000) as u32).collect();
    for proposal in [Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }] {
        let auto = sampler(&m, &proposal, 1);
        let search = sampler(&m, &proposal, 1).with_exclusion(Exclusion::Search);
        assert_eq!(auto.exclusion(), Exclusion::Auto);
        assert_eq!(search.exclusion(), Exclusion::Search);
        // One code per user (4 bytes) and the pair filter (2 bytes per
        // positive, in 8-byte words) for both; bitmaps only for `auto`.
        let filter = m.nnz().div_ceil(4) * 8;
        assert_eq!(search.exclusion_bytes(), 4 * m.num_users() + filter);
        assert!(auto.exclusion_bytes() > 4 * m.num_users() + filter);
        let (mut a, mut b) = (vec![0u32; users.len() * 3], vec![0u32; users.len() * 3]);
        auto.negatives_into(&users, 3, 1, &mut a).unwrap();
        search.negatives_into(&users, 3, 1, &mut b).unwrap();
        assert_eq!(a, b, "{proposal:?}");
    }
}

#[test]
fn thread_counts_are_checked() {
    let m = matrix();
    for bad in [0, MAX_THREADS + 1] {
        let err = Sampler::new(m.clone(), &Proposal::Uniform, 1)
            .unwrap()
            .with_threads(bad)
            .unwrap_err();
        assert_eq!(
            err,
            Error::OutOfRange {
                name: "threads",
                value: bad.to_string(),
                expected: format!("an integer in [1, {MAX_THREADS}]"),
            }
        );
    }
    assert!(default_threads() >= 1);
    assert_eq!(
        Sampler::new(m, &Proposal::Uniform, 1).unwrap().threads(),
        default_threads()
    );
}

/// The definition of a rejection block, written plainly: first draws from
/// counters `0..len`, then, in output order, each draw that is a positive
/// of its user is replaced by draws from counters `BLOCK, BLOCK + 1, ...`
/// until it is not. (Only for matrices without complement users.)
fn reference_negatives(sampler: &Sampler, users: &[u32], k: usize, call: u64) -> Vec<u32> {
    use negsample_core::{fill_picks_scalar, Domain, Stream, BLOCK};
    let m = sampler.interactions();
    let mut out = vec![0u32; users.len() * k];
    for (block, chunk) in out.chunks_mut(BLOCK).enumerate() {
        let stream = Stream::new(sampler.seed(), Domain::Negatives, call, block as u64);
        fill_picks_scalar(sampler.table(), &stream, 0, chunk);
        let mut redraw = BLOCK as u64;
        for (c, item) in chunk.iter_mut().enumerate() {
            let u = users[(block * BLOCK + c) / k];
            assert!(!sampler.uses_complement(u));
            while m.contains(u, *item) {
                *item = sampler.table().pick(stream.word(redraw));
                redraw += 1;
            }
        }
    }
    out
}

#[test]
fn the_block_pass_matches_its_plain_definition() {
    // User 0 holds items 0..40 of 100 (40% of the uniform mass: rejection,
    // about 0.67 redraws per draw, so a block needs far more redraws than
    // it has hits); user 1 holds a long row (a bitmap); user 2 a short one
    // (binary search); user 3 none.
    let mut coo = (Vec::new(), Vec::new());
    for i in 0..40 {
        coo.0.push(0);
        coo.1.push(i);
    }
    for i in (0..100).step_by(3) {
        coo.0.push(1);
        coo.1.push(i);
    }
    for i in [5, 50, 95] {
        coo.0.push(2);
        coo.1.push(i);
    }
    let m = Arc::new(Interactions::from_coo(&coo.0, &coo.1, Some(4), Some(100)).unwrap());
    let mut rng = TestRng::new(21);
    let weights = Proposal::Weights((0..100).map(|i| (i % 7 + 1) as f64).collect());
    for proposal in [Proposal::Uniform, weights] {
        let sampler = sampler(&m, &proposal, 1);
        assert!(sampler.exclusion_bytes() > 4 * 4, "user 1 has a bitmap");
        assert!(!sampler.uses_complement(0));
        for (users, k) in [
            (vec![0u32], 10_000usize),
            (
                (0..5000).map(|_| rng.below(4) as u32).collect::<Vec<_>>(),
                3,
            ),
            (vec![3, 2, 1, 0], 4097),
        ] {
            let users: Vec<u32> = users
                .into_iter()
                .filter(|&u| sampler.has_negative(u))
                .collect();
            let mut got = vec![0u32; users.len() * k];
            sampler.negatives_into(&users, k, 4, &mut got).unwrap();
            assert_eq!(
                got,
                reference_negatives(&sampler, &users, k, 4),
                "{proposal:?}"
            );
        }
    }
}
