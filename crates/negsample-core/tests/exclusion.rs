//! Exclusion of positives.
//!
//! (a) No negative is ever a positive of its user, over many random small
//!     matrices and all three proposals; zero-weight items are never drawn.
//! (b) For a light user (rejection path) and a heavy user (positives hold
//!     more than half the proposal mass, complement path), the negatives
//!     follow the proposal restricted to the user's non-positives
//!     (chi-square on 1,000,000 draws each; expected probabilities computed
//!     here as w_i / sum of the non-positives' weights; p > 1e-4 to pass).
//! (c) A user holding every positive-weight item gets `Error::NoNegative`.
//! (d) Pairwise and pointwise batches are laid out as documented.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{assert_fits, chi_square, histogram, TestRng, POWER_THRESHOLD};
use negsample_core::batch::{PairwiseOut, PointwiseOut};
use negsample_core::{Error, Interactions, Proposal, Sampler};

// ------------------------------------------------ (a) random small matrices

/// A random matrix: its distinct (user, item) pairs as sorted rows, and the
/// matrix built from a shuffled COO list with some pairs repeated.
fn random_matrix(rng: &mut TestRng) -> (Vec<BTreeSet<u32>>, Interactions) {
    let num_users = 1 + rng.below(8) as usize;
    let num_items = 1 + rng.below(24) as usize;
    let density = rng.unit();
    let mut rows = vec![BTreeSet::new(); num_users];
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for (u, row) in rows.iter_mut().enumerate() {
        // Sometimes a user with everything, sometimes nothing.
        let d = match rng.below(10) {
            0 => 1.0,
            1 => 0.0,
            _ => density,
        };
        for i in 0..num_items {
            if rng.chance(d) {
                row.insert(i as u32);
                let copies = if rng.chance(0.2) { 2 } else { 1 };
                for _ in 0..copies {
                    users.push(u as u32);
                    items.push(i as u32);
                }
            }
        }
    }
    // Shuffle the COO order.
    for j in (1..users.len()).rev() {
        let r = rng.below(j as u64 + 1) as usize;
        users.swap(j, r);
        items.swap(j, r);
    }
    let m = Interactions::from_coo(&users, &items, Some(num_users), Some(num_items)).unwrap();
    (rows, m)
}

/// A random proposal and its weights as computed here (None: construction
/// must fail because no item has weight).
fn random_proposal(
    rng: &mut TestRng,
    rows: &[BTreeSet<u32>],
    num_items: usize,
) -> (Proposal, Vec<f64>) {
    match rng.below(3) {
        0 => (Proposal::Uniform, vec![1.0; num_items]),
        1 => {
            let alpha = [0.0, 0.5, 0.75, 1.0, 2.0][rng.below(5) as usize];
            let mut counts = vec![0u32; num_items];
            for row in rows {
                for &i in row {
                    counts[i as usize] += 1;
                }
            }
            let w = counts
                .iter()
                .map(|&c| if c == 0 { 0.0 } else { (c as f64).powf(alpha) })
                .collect();
            (Proposal::Popularity { alpha }, w)
        }
        _ => {
            let w: Vec<f64> = (0..num_items)
                .map(|_| {
                    if rng.chance(0.25) {
                        0.0
                    } else {
                        rng.unit() * 10.0 + 1e-3
                    }
                })
                .collect();
            (Proposal::Weights(w.clone()), w)
        }
    }
}

#[test]
fn negatives_are_never_positives_on_random_matrices() {
    let mut rng = TestRng::new(2024);
    let (mut checked_users, mut impossible_users, mut complement_users) = (0, 0, 0);
    for case in 0..600 {
        let (rows, m) = random_matrix(&mut rng);
        let num_items = m.num_items();
        let (proposal, weights) = random_proposal(&mut rng, &rows, num_items);
        let result = Sampler::new(Arc::new(m), &proposal, case);
        if weights.iter().all(|&w| w == 0.0) {
            assert_eq!(result.unwrap_err(), Error::AllZeroWeights, "case {case}");
            continue;
        }
        let sampler = result.unwrap();
        let users: Vec<u32> = (0..rows.len() as u32).collect();
        for (u, row) in rows.iter().enumerate() {
            let u = u as u32;
            let row_vec: Vec<u32> = row.iter().copied().collect();
            assert_eq!(sampler.interactions().row(u), &row_vec[..], "case {case}");
            let free_mass: f64 = (0..num_items)
                .filter(|i| !row.contains(&(*i as u32)))
                .map(|i| weights[i])
                .sum();
            let total: f64 = weights.iter().sum();
            assert_eq!(
                sampler.has_negative(u),
                free_mass > 0.0,
                "case {case} user {u}"
            );
            if !sampler.has_negative(u) {
                impossible_users += 1;
                let mut out = vec![0u32; 3];
                assert_eq!(
                    sampler.negatives_into(&[u], 3, sampler.next_call(), &mut out),
                    Err(Error::NoNegative { user: u })
                );
                continue;
            }
            // The documented rule: complement iff positives hold >= half.
            // Skip the knife edge, where the realised (quantised) masses
            // decide.
            let held = 1.0 - free_mass / total;
            if (held - 0.5).abs() > 1e-6 {
                assert_eq!(
                    sampler.uses_complement(u),
                    held > 0.5,
                    "case {case} user {u}"
                );
            }
            complement_users += sampler.uses_complement(u) as u32;
            checked_users += 1;
            let k = 200;
            let mut out = vec![0u32; k];
            sampler
                .negatives_into(&[u], k, sampler.next_call(), &mut out)
                .unwrap();
            for &item in &out {
                assert!((item as usize) < num_items, "case {case}");
                assert!(
                    !row.contains(&item),
                    "case {case}: user {u} got its positive {item}"
                );
                assert!(
                    weights[item as usize] > 0.0,
                    "case {case}: zero-weight item {item}"
                );
            }
        }
        // All users of the matrix in one call: the same guarantees per row.
        let ok: Vec<u32> = users
            .iter()
            .copied()
            .filter(|&u| sampler.has_negative(u))
            .collect();
        let k = 7;
        let mut out = vec![0u32; ok.len() * k];
        sampler
            .negatives_into(&ok, k, sampler.next_call(), &mut out)
            .unwrap();
        for (j, &u) in ok.iter().enumerate() {
            for &item in &out[j * k..(j + 1) * k] {
                assert!(!rows[u as usize].contains(&item), "case {case}");
                assert!(weights[item as usize] > 0.0, "case {case}");
            }
        }
    }
    // The generator must actually reach every path.
    assert!(checked_users > 1000, "{checked_users}");
    assert!(impossible_users > 50, "{impossible_users}");
    assert!(complement_users > 100, "{complement_users}");
}

#[test]
fn negatives_are_never_positives_across_many_blocks() {
    // A larger case: 5,000 items, 50 users of varied density, 20,000 draws
    // per user in one call spanning many 4096-draw blocks.
    let mut rng = TestRng::new(7);
    let num_items = 5000usize;
    let mut rows = vec![BTreeSet::new(); 50];
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for (u, row) in rows.iter_mut().enumerate() {
        let density = u as f64 / 50.0;
        for i in 0..num_items {
            if rng.chance(density) {
                row.insert(i as u32);
                users.push(u as u32);
                items.push(i as u32);
            }
        }
    }
    let m = Arc::new(Interactions::from_coo(&users, &items, Some(50), Some(num_items)).unwrap());
    let weights: Vec<f64> = (0..num_items).map(|i| 1.0 / (1.0 + i as f64)).collect();
    for proposal in [
        Proposal::Uniform,
        Proposal::Popularity { alpha: 0.75 },
        Proposal::Weights(weights),
    ] {
        let sampler = Sampler::new(m.clone(), &proposal, 11).unwrap();
        let all: Vec<u32> = (0..50).collect();
        let k = 20_000;
        let mut out = vec![0u32; all.len() * k];
        sampler
            .negatives_into(&all, k, sampler.next_call(), &mut out)
            .unwrap();
        for (u, chunk) in out.chunks(k).enumerate() {
            assert!(
                chunk.iter().all(|i| !rows[u].contains(i)),
                "{proposal:?}, user {u}"
            );
        }
    }
}

// -------------------------------------------- (b) restricted distributions

const DRAWS: usize = 1_000_000;

/// `DRAWS` negatives for user `u` (4 calls of 250,000).
fn draws_for(sampler: &Sampler, u: u32) -> Vec<u32> {
    let mut all = Vec::with_capacity(DRAWS);
    for _ in 0..4 {
        let users = vec![u; 1000];
        let mut out = vec![0u32; DRAWS / 4];
        sampler
            .negatives_into(&users, DRAWS / 4000, sampler.next_call(), &mut out)
            .unwrap();
        all.extend_from_slice(&out);
    }
    all
}

/// The proposal weights restricted to `u`'s non-positives (not normalised).
fn restricted(weights: &[f64], positives: &[u32]) -> Vec<f64> {
    let mut w = weights.to_vec();
    for &i in positives {
        w[i as usize] = 0.0;
    }
    w
}

fn mass_share(weights: &[f64], positives: &[u32]) -> f64 {
    let held: f64 = positives.iter().map(|&i| weights[i as usize]).sum();
    held / weights.iter().sum::<f64>()
}

/// Runs the test for a light user `0` and a heavy user `1` of `m`.
fn check_light_and_heavy(
    label: &str,
    m: Interactions,
    proposal: Proposal,
    weights: &[f64],
    seed: u64,
) {
    let m = Arc::new(m);
    let sampler = Sampler::new(m.clone(), &proposal, seed).unwrap();
    let (light, heavy) = (0u32, 1u32);

    let light_share = mass_share(weights, m.row(light));
    let heavy_share = mass_share(weights, m.row(heavy));
    println!("{label}: light user holds {light_share:.3} of the mass, heavy user {heavy_share:.3}");
    assert!(light_share > 0.05 && light_share < 0.5, "{light_share}");
    assert!(heavy_share > 0.5, "{heavy_share}");
    assert!(!sampler.uses_complement(light));
    assert!(sampler.uses_complement(heavy));

    for (name, u) in [("light", light), ("heavy", heavy)] {
        let counts = histogram(&draws_for(&sampler, u), m.num_items());
        for &i in m.row(u) {
            assert_eq!(
                counts[i as usize], 0,
                "{label}: {name} user got its positive {i}"
            );
        }
        for (i, &w) in weights.iter().enumerate() {
            if w == 0.0 {
                assert_eq!(counts[i], 0, "{label}: zero-weight item {i} drawn");
            }
        }
        let expected = restricted(weights, m.row(u));
        assert_fits(
            &format!("{label} / {name} user"),
            chi_square(&counts, &expected),
        );
    }
}

#[test]
fn restricted_uniform() {
    let n = 1000usize;
    let mut rng = TestRng::new(41);
    // Light user: 120 random items (12%); heavy user: 700 random items.
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for (u, count) in [(0, 120), (1, 700)] {
        let mut chosen = BTreeSet::new();
        while chosen.len() < count {
            chosen.insert(rng.below(n as u64) as u32);
        }
        for i in chosen {
            users.push(u);
            items.push(i);
        }
    }
    let m = Interactions::from_coo(&users, &items, Some(2), Some(n)).unwrap();
    check_light_and_heavy("uniform", m, Proposal::Uniform, &vec![1.0; n], 5);
}

#[test]
fn restricted_popularity() {
    // 600 items; item i is liked by floor(400 / (i + 1)^0.9) background users
    // (users 2..402), plus users 0 and 1 below. Counts (and weights) are
    // computed here from the distinct pairs.
    let n = 600usize;
    let background = 400usize;
    let mut rng = TestRng::new(43);
    let mut pairs = BTreeSet::new();
    for i in 0..n {
        let c = (background as f64 / ((i + 1) as f64).powf(0.9)).floor() as usize;
        let start = rng.below(background as u64) as usize;
        for j in 0..c {
            pairs.insert((2 + (start + j) % background, i));
        }
    }
    // Light user: the most popular item and a few tail items.
    for i in [0usize, 2, 300, 301, 450, 599] {
        pairs.insert((0, i));
    }
    // Heavy user: the 60 most popular items and every third item after them.
    for i in (0..60).chain((60..n).step_by(3)) {
        pairs.insert((1, i));
    }
    let mut counts = vec![0u32; n];
    for &(_, i) in &pairs {
        counts[i] += 1;
    }
    let weights: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
    let users: Vec<u32> = pairs.iter().map(|&(u, _)| u as u32).collect();
    let items: Vec<u32> = pairs.iter().map(|&(_, i)| i as u32).collect();
    let m = Interactions::from_coo(&users, &items, None, Some(n)).unwrap();
    assert_eq!(m.popularity(), counts);
    check_light_and_heavy(
        "popularity",
        m,
        Proposal::Popularity { alpha: 0.75 },
        &weights,
        6,
    );
}

#[test]
fn restricted_custom_weights() {
    // Item 0 holds half the mass, a few zeros, a long tail.
    let n = 1500usize;
    let zeros = [3usize, 4, 10, 700, 1499];
    let mut weights: Vec<f64> = (0..n)
        .map(|i| {
            if i == 0 || zeros.contains(&i) {
                0.0
            } else {
                (i as f64).powf(-1.2)
            }
        })
        .collect();
    weights[0] = weights.iter().sum();
    // Light user: items 1 and 2 (heavy-ish), a zero-weight item and tail
    // items. Heavy user: item 0 and a run of the tail, around the zeros (so
    // that the complement method meets zero-mass items inside its gaps).
    let light = [1u32, 2, 4, 900, 1200];
    let heavy: Vec<u32> = [0u32, 5, 6]
        .into_iter()
        .chain(20..40)
        .chain(1000..1100)
        .collect();
    let users: Vec<u32> = light
        .iter()
        .map(|_| 0)
        .chain(heavy.iter().map(|_| 1))
        .collect();
    let items: Vec<u32> = light.iter().chain(&heavy).copied().collect();
    let m = Interactions::from_coo(&users, &items, Some(2), Some(n)).unwrap();
    check_light_and_heavy(
        "custom weights",
        m,
        Proposal::Weights(weights.clone()),
        &weights,
        7,
    );
}

#[test]
fn negative_control_heavy_user_against_unrestricted_shape() {
    // A heavy user's negatives tested against the proposal restricted to
    // its non-positives, but with one non-positive item's probability
    // raised by 3%: the test must notice.
    let n = 50usize;
    let weights: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
    let heavy: Vec<u32> = (0..35).collect();
    let m = Interactions::from_coo(&vec![0; heavy.len()], &heavy, Some(1), Some(n)).unwrap();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Weights(weights.clone()), 8).unwrap();
    assert!(sampler.uses_complement(0));
    let counts = histogram(&draws_for(&sampler, 0), n);
    let mut expected = restricted(&weights, &heavy);
    assert_fits("control baseline", chi_square(&counts, &expected));
    expected[40] *= 1.03;
    let result = chi_square(&counts, &expected);
    println!(
        "negative control, heavy user, item 40 +3%: p = {:e}",
        result.p
    );
    assert!(result.p < POWER_THRESHOLD, "p = {:e}", result.p);
}

#[test]
fn complement_threshold_is_half_the_mass() {
    // Uniform over 10 items: 4 positives -> rejection, 5 -> complement (the
    // documented rule is "at least half").
    let m = Interactions::from_coo(
        &[0, 0, 0, 0, 1, 1, 1, 1, 1],
        &[0, 1, 2, 3, 0, 1, 2, 3, 4],
        Some(3),
        Some(10),
    )
    .unwrap();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Uniform, 0).unwrap();
    assert!(!sampler.uses_complement(0));
    assert!(sampler.uses_complement(1));
    assert!(!sampler.uses_complement(2));
    assert!((0..3).all(|u| sampler.has_negative(u)));
}

// ------------------------------------------------ (c) no possible negative

#[test]
fn user_with_every_positive_weight_item_has_no_negative() {
    let n = 6usize;
    // User 0 has everything; user 1 has items 1, 3, 5; user 2 nothing.
    let users = [0, 0, 0, 0, 0, 0, 1, 1, 1];
    let items = [0, 1, 2, 3, 4, 5, 1, 3, 5];
    let m = Arc::new(Interactions::from_coo(&users, &items, Some(3), Some(n)).unwrap());
    let message = |u: u32| {
        format!(
            "user {u} has no possible negative: it has interacted with every item that has a positive weight"
        )
    };
    let proposals = [
        // Uniform: user 0 has every item.
        (Proposal::Uniform, vec![0u32]),
        // Weights with zeros on 0, 2, 4: user 1 has all the positive ones.
        (
            Proposal::Weights(vec![0.0, 1.0, 0.0, 2.0, 0.0, 3.0]),
            vec![0, 1],
        ),
        // Popularity: every item someone liked is one of user 0's.
        (Proposal::Popularity { alpha: 0.75 }, vec![0]),
    ];
    for (proposal, impossible) in proposals {
        let sampler = Sampler::new(m.clone(), &proposal, 3).unwrap();
        for u in 0..3u32 {
            assert_eq!(
                sampler.has_negative(u),
                !impossible.contains(&u),
                "{proposal:?} {u}"
            );
        }
        for &u in &impossible {
            let sentinel = 77u32;
            let mut out = vec![sentinel; 8];
            // The impossible user after a good one: nothing is written.
            let err = sampler
                .negatives_into(&[2, u], 4, sampler.next_call(), &mut out)
                .unwrap_err();
            assert_eq!(err, Error::NoNegative { user: u });
            assert_eq!(err.to_string(), message(u));
            assert!(
                out.iter().all(|&x| x == sentinel),
                "output written before the error"
            );
            assert_eq!(
                sampler.check_users(&[2, u, 2]),
                Err(Error::NoNegative { user: u })
            );
            // Batch layouts report it too.
            assert_eq!(
                sampler
                    .pairwise(&[u], &[1], 2, sampler.next_call())
                    .unwrap_err(),
                Error::NoNegative { user: u }
            );
            assert_eq!(
                sampler
                    .pointwise(&[u], &[1], 2, sampler.next_call())
                    .unwrap_err(),
                Error::NoNegative { user: u }
            );
        }
        // The possible users still work.
        let ok: Vec<u32> = (0..3).filter(|u| !impossible.contains(u)).collect();
        let mut out = vec![0u32; ok.len() * 100];
        sampler
            .negatives_into(&ok, 100, sampler.next_call(), &mut out)
            .unwrap();
    }
}

#[test]
fn single_free_item_is_always_drawn() {
    // Only one negative possible: every draw must be it, on either path.
    let n = 1000usize;
    let items: Vec<u32> = (0..n as u32).filter(|&i| i != 613).collect();
    let m = Interactions::from_coo(&vec![0; items.len()], &items, Some(1), Some(n)).unwrap();
    let weights: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
    for proposal in [Proposal::Uniform, Proposal::Weights(weights)] {
        let sampler = Sampler::new(Arc::new(m.clone()), &proposal, 9).unwrap();
        assert!(sampler.uses_complement(0));
        let mut out = vec![0u32; 10_000];
        sampler
            .negatives_into(&[0], 10_000, sampler.next_call(), &mut out)
            .unwrap();
        assert!(out.iter().all(|&i| i == 613));
    }
}

// ------------------------------------------------ (d) batch layouts

fn layout_sampler() -> (Vec<BTreeSet<u32>>, Sampler) {
    let n = 40usize;
    let mut rng = TestRng::new(55);
    let mut rows = vec![BTreeSet::new(); 5];
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for (u, row) in rows.iter_mut().enumerate() {
        // User 4 is heavy (complement path).
        let density = if u == 4 { 0.8 } else { 0.2 };
        for i in 0..n {
            if rng.chance(density) {
                row.insert(i as u32);
                users.push(u as u32);
                items.push(i as u32);
            }
        }
    }
    let m = Interactions::from_coo(&users, &items, Some(5), Some(n)).unwrap();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Popularity { alpha: 0.5 }, 12).unwrap();
    assert!(sampler.uses_complement(4));
    (rows, sampler)
}

#[test]
fn pairwise_layout() {
    let (rows, sampler) = layout_sampler();
    // Positives of the batch, with a user repeated and in no particular order.
    let users = [3u32, 0, 4, 3, 1, 4];
    let items: Vec<u32> = users
        .iter()
        .enumerate()
        .map(|(j, &u)| {
            *rows[u as usize]
                .iter()
                .nth(j % rows[u as usize].len())
                .unwrap()
        })
        .collect();
    for k in [1usize, 3, 5] {
        let call = sampler.next_call();
        let batch = sampler.pairwise(&users, &items, k, call).unwrap();
        assert_eq!(batch.users.len(), users.len() * k);
        assert_eq!(batch.positives.len(), users.len() * k);
        assert_eq!(batch.negatives.len(), users.len() * k);
        for row in 0..users.len() * k {
            let j = row / k;
            assert_eq!(batch.users[row], users[j]);
            assert_eq!(batch.positives[row], items[j]);
            assert!(!rows[users[j] as usize].contains(&batch.negatives[row]));
        }
        // The negatives are those of `negatives_into` for the same call.
        let mut negatives = vec![0u32; users.len() * k];
        sampler
            .negatives_into(&users, k, call, &mut negatives)
            .unwrap();
        assert_eq!(batch.negatives, negatives);
        // The `_into` form writes the same.
        let (mut u, mut p, mut q) = (
            vec![9; users.len() * k],
            vec![9; users.len() * k],
            vec![9; users.len() * k],
        );
        let out = PairwiseOut {
            users: &mut u,
            positives: &mut p,
            negatives: &mut q,
        };
        sampler.pairwise_into(&users, &items, k, call, out).unwrap();
        assert_eq!((u, p, q), (batch.users, batch.positives, batch.negatives));
    }
}

#[test]
fn pointwise_layout() {
    let (rows, sampler) = layout_sampler();
    let users = [4u32, 4, 2, 0, 1, 3, 2];
    let items: Vec<u32> = users
        .iter()
        .map(|&u| *rows[u as usize].iter().next().unwrap())
        .collect();
    for k in [1usize, 2, 4] {
        let call = sampler.next_call();
        let batch = sampler.pointwise(&users, &items, k, call).unwrap();
        let rows_per = k + 1;
        assert_eq!(batch.users.len(), users.len() * rows_per);
        assert_eq!(batch.items.len(), users.len() * rows_per);
        assert_eq!(batch.labels.len(), users.len() * rows_per);
        let mut negatives = vec![0u32; users.len() * k];
        sampler
            .negatives_into(&users, k, call, &mut negatives)
            .unwrap();
        for (j, &u) in users.iter().enumerate() {
            let group = j * rows_per..(j + 1) * rows_per;
            assert!(batch.users[group.clone()].iter().all(|&x| x == u));
            assert_eq!(batch.items[j * rows_per], items[j]);
            assert_eq!(batch.labels[j * rows_per], 1.0);
            assert!(batch.labels[j * rows_per + 1..group.end]
                .iter()
                .all(|&l| l == 0.0));
            let negs = &batch.items[j * rows_per + 1..group.end];
            // The negatives, in order, are those of `negatives_into`.
            assert_eq!(negs, &negatives[j * k..(j + 1) * k]);
            assert!(negs.iter().all(|i| !rows[u as usize].contains(i)));
        }
        let n = users.len() * rows_per;
        let (mut u, mut it, mut l) = (vec![9; n], vec![9; n], vec![9.0; n]);
        let out = PointwiseOut {
            users: &mut u,
            items: &mut it,
            labels: &mut l,
        };
        sampler
            .pointwise_into(&users, &items, k, call, out)
            .unwrap();
        assert_eq!(u, batch.users);
        assert_eq!(it, batch.items);
        assert_eq!(l, batch.labels);
    }
}

#[test]
fn batch_layouts_with_large_outputs_span_blocks() {
    // 3,000 positives x k = 3 crosses two 4096-row blocks; the pointwise
    // in-place move of negatives must keep every group intact.
    let (rows, sampler) = layout_sampler();
    let mut rng = TestRng::new(66);
    let users: Vec<u32> = (0..3000).map(|_| rng.below(5) as u32).collect();
    let items: Vec<u32> = users
        .iter()
        .map(|&u| *rows[u as usize].iter().next().unwrap())
        .collect();
    let k = 3;
    let call = sampler.next_call();
    let mut negatives = vec![0u32; users.len() * k];
    sampler
        .negatives_into(&users, k, call, &mut negatives)
        .unwrap();
    let point = sampler.pointwise(&users, &items, k, call).unwrap();
    let pair = sampler.pairwise(&users, &items, k, call).unwrap();
    assert_eq!(pair.negatives, negatives);
    for j in 0..users.len() {
        assert_eq!(point.items[j * (k + 1)], items[j]);
        assert_eq!(
            &point.items[j * (k + 1) + 1..(j + 1) * (k + 1)],
            &negatives[j * k..(j + 1) * k]
        );
    }
}

#[test]
fn batch_errors_write_nothing() {
    let (_, sampler) = layout_sampler();
    let users = [0u32, 1];
    let items = [0u32, 1];
    let (mut u, mut p, mut q) = (vec![9u32; 4], vec![9u32; 3], vec![9u32; 4]);
    let out = PairwiseOut {
        users: &mut u,
        positives: &mut p,
        negatives: &mut q,
    };
    let err = sampler
        .pairwise_into(&users, &items, 2, 0, out)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                name: "out.positives",
                len: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("out.positives.length is 3, expected 4"),
        "{err}"
    );
    assert!(u.iter().chain(&p).chain(&q).all(|&x| x == 9));

    let (mut u, mut it, mut l) = (vec![9u32; 6], vec![9u32; 6], vec![9.0f32; 5]);
    let out = PointwiseOut {
        users: &mut u,
        items: &mut it,
        labels: &mut l,
    };
    let err = sampler
        .pointwise_into(&users, &items, 2, 0, out)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                name: "out.labels",
                len: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("out.labels.length is 5, expected 6"),
        "{err}"
    );
    assert!(u.iter().chain(&it).all(|&x| x == 9) && l.iter().all(|&x| x == 9.0));

    let err = sampler.pairwise(&users, &[0], 2, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "items.length is 1, expected users.length (2)"
    );
    let err = sampler.pointwise(&users, &[0, 40], 2, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "items[1] = 40 is out of range: ids must be in [0, 40)"
    );
    let err = sampler.pairwise(&[0, 5], &[0, 1], 2, 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "users[1] = 5 is out of range: ids must be in [0, 5)"
    );
    let err = sampler.pointwise(&users, &items, 0, 0).unwrap_err();
    assert_eq!(err.to_string(), "k must be an integer >= 1, got 0");
    let err = sampler.pairwise(&users, &items, 0, 0).unwrap_err();
    assert_eq!(err.to_string(), "k must be an integer >= 1, got 0");
}

#[test]
fn empty_batches_are_fine() {
    let (_, sampler) = layout_sampler();
    let pair = sampler.pairwise(&[], &[], 3, 0).unwrap();
    assert!(pair.users.is_empty() && pair.positives.is_empty() && pair.negatives.is_empty());
    let point = sampler.pointwise(&[], &[], 3, 0).unwrap();
    assert!(point.users.is_empty() && point.items.is_empty() && point.labels.is_empty());
    let mut out: [u32; 0] = [];
    sampler.negatives_into(&[], 5, 0, &mut out).unwrap();
}
