//! Sampled-softmax support.
//!
//! (a) Shared candidates without `unique` follow the proposal (chi-square on
//!     200,000 draws, p > 1e-4), and the expected count `S * q` matches the
//!     Monte-Carlo mean count of every item within 5 standard errors.
//! (b) With `unique`: the ordered sequence of distinct candidates follows the
//!     exact law of "draw until S distinct" (enumerated), including a
//!     proposal where one item holds 95% of the mass (the complement phase);
//!     the mean of `num_tries` matches its exact expectation; inclusion
//!     frequencies match TensorFlow's expected counts within the
//!     approximation TensorFlow documents (checked at 3% relative error where
//!     q is small).
//! (c) Log Q is ln of the table's realised probabilities.
//! (d) Accidental-hit masks equal a brute-force check against BTreeSets of
//!     the rows, on random matrices and on ../shared/data/lastfm.
//! (e) Bad requests are named errors.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use common::{assert_fits, chi_square, histogram, TestRng};
use negsample_core::sampled_softmax::{
    accidental_hits_into, check_candidates, expected_count, in_batch_hits_into, sample_candidates,
};
use negsample_core::{Interactions, Proposal, Sampler};

fn sampler(weights: Vec<f64>, seed: u64) -> Sampler {
    let n = weights.len();
    let m = Interactions::from_coo(&[0], &[0], Some(1), Some(n)).unwrap();
    Sampler::new(Arc::new(m), &Proposal::Weights(weights), seed).unwrap()
}

// ---------------------------------------------------- (a) with replacement

#[test]
fn candidates_follow_the_proposal_and_expected_counts_match() {
    let weights: Vec<f64> = (0..50).map(|i| 1.0 + (i % 7) as f64).collect();
    let s = sampler(weights.clone(), 3);
    let num_sampled = 20;
    let calls = 10_000u64;
    let mut draws = Vec::new();
    for call in 0..calls {
        let c = sample_candidates(&s, num_sampled, false, call).unwrap();
        assert_eq!(c.num_tries, num_sampled as u64);
        draws.extend(c.items);
    }
    assert_fits(
        "shared candidates",
        chi_square(&histogram(&draws, 50), &weights),
    );
    // Mean count per batch vs S * q (the expected count for unique = false).
    let counts = histogram(&draws, 50);
    for i in 0..50u32 {
        let q = s.probability(i);
        let e = expected_count(q, num_sampled, num_sampled as u64);
        let mean = counts[i as usize] as f64 / calls as f64;
        // Count per batch is Binomial(S, q): variance S q (1 - q).
        let se = (num_sampled as f64 * q * (1.0 - q) / calls as f64).sqrt();
        assert!(
            (mean - e).abs() < 5.0 * se,
            "item {i}: mean {mean} vs expected {e}"
        );
    }
}

// ---------------------------------------------------- (b) unique

/// Probability of each ordered sequence of `s` distinct items under "draw
/// with replacement until s distinct", and E[num_tries].
fn unique_law(q: &[f64], s: usize) -> (HashMap<Vec<u32>, f64>, f64) {
    let mut law = HashMap::new();
    let mut tries = 0.0;
    #[allow(clippy::too_many_arguments)]
    fn rec(
        q: &[f64],
        s: usize,
        seq: &mut Vec<u32>,
        p: f64,
        held: f64,
        tries: f64,
        law: &mut HashMap<Vec<u32>, f64>,
        mean: &mut f64,
    ) {
        if seq.len() == s {
            law.insert(seq.clone(), p);
            *mean += p * tries;
            return;
        }
        for i in 0..q.len() {
            if q[i] == 0.0 || seq.contains(&(i as u32)) {
                continue;
            }
            seq.push(i as u32);
            // Next new item is i with probability q_i / (1 - held); the
            // number of draws to get a new item is Geometric(1 - held).
            rec(
                q,
                s,
                seq,
                p * q[i] / (1.0 - held),
                held + q[i],
                tries + 1.0 / (1.0 - held),
                law,
                mean,
            );
            seq.pop();
        }
    }
    rec(q, s, &mut Vec::new(), 1.0, 0.0, 0.0, &mut law, &mut tries);
    (law, tries)
}

fn check_unique_law(weights: Vec<f64>, s: usize, calls: u64, label: &str) {
    let sm = sampler(weights.clone(), 17);
    let q: Vec<f64> = (0..weights.len() as u32)
        .map(|i| sm.probability(i))
        .collect();
    let (law, mean_tries) = unique_law(&q, s);
    let mut keys: Vec<Vec<u32>> = law.keys().cloned().collect();
    keys.sort();
    let index: HashMap<Vec<u32>, usize> = keys
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect();
    let mut observed = vec![0u64; keys.len()];
    let mut tries = Vec::with_capacity(calls as usize);
    for call in 0..calls {
        let c = sample_candidates(&sm, s, true, call).unwrap();
        let distinct: BTreeSet<u32> = c.items.iter().copied().collect();
        assert_eq!(distinct.len(), s, "unique");
        assert!(c.num_tries >= s as u64);
        observed[index[&c.items]] += 1;
        tries.push(c.num_tries as f64);
    }
    let expected: Vec<f64> = keys.iter().map(|k| law[k]).collect();
    assert_fits(label, chi_square(&observed, &expected));
    let mean = tries.iter().sum::<f64>() / calls as f64;
    let var = tries.iter().map(|t| (t - mean) * (t - mean)).sum::<f64>() / (calls as f64 - 1.0);
    let se = (var / calls as f64).sqrt();
    println!("{label}: mean num_tries {mean:.4} vs exact {mean_tries:.4} (se {se:.4})");
    assert!(
        (mean - mean_tries).abs() < 5.0 * se,
        "{label}: num_tries mean {mean} vs {mean_tries}"
    );
}

#[test]
fn unique_sequences_follow_the_exact_law() {
    // Rejection phase only (no item holds half the mass until late).
    check_unique_law(
        vec![1.0, 2.0, 3.0, 1.0, 2.0, 1.5],
        3,
        200_000,
        "unique, balanced",
    );
    // One item holds 95%: once drawn, the complement phase takes over.
    check_unique_law(
        vec![95.0, 1.0, 1.0, 1.0, 2.0, 0.0, 0.5],
        4,
        200_000,
        "unique, heavy item",
    );
}

#[test]
fn unique_never_spins_and_expected_counts_approximate_inclusion() {
    // A tiny-probability item must still be reachable: S = every drawable item.
    let mut w = vec![1e-9; 5];
    w[0] = 1.0;
    let s = sampler(w, 1);
    let c = sample_candidates(&s, 5, true, 0).unwrap();
    assert_eq!(c.items.iter().copied().collect::<BTreeSet<_>>().len(), 5);
    assert!(
        c.num_tries > 1_000_000,
        "the geometric redraws are counted: {}",
        c.num_tries
    );

    // Inclusion frequency vs TensorFlow's expected count, averaged over calls.
    let weights: Vec<f64> = (0..400).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let sm = sampler(weights, 2);
    let (num_sampled, calls) = (40usize, 20_000u64);
    let mut included = vec![0u64; 400];
    let mut reported = vec![0f64; 400];
    for call in 0..calls {
        let c = sample_candidates(&sm, num_sampled, true, call).unwrap();
        for &i in &c.items {
            included[i as usize] += 1;
        }
        for (i, r) in reported.iter_mut().enumerate() {
            *r += expected_count(sm.probability(i as u32), num_sampled, c.num_tries);
        }
    }
    for i in (0..400).step_by(37) {
        let freq = included[i] as f64 / calls as f64;
        let mean = reported[i] / calls as f64;
        let se = (freq * (1.0 - freq) / calls as f64).sqrt();
        println!("item {i}: inclusion {freq:.4}, expected count {mean:.4}");
        if sm.probability(i as u32) < 0.01 {
            assert!(
                (freq - mean).abs() < 0.03 * mean + 5.0 * se,
                "item {i}: {freq} vs {mean}"
            );
        } else {
            // For heavy items the approximation is known to be loose; it
            // must still be a probability near the frequency.
            assert!((freq - mean).abs() < 0.1, "item {i}: {freq} vs {mean}");
        }
    }
}

// ---------------------------------------------------- (c) log Q

#[test]
fn log_q_is_ln_of_realised_probability() {
    let s = sampler(vec![0.1, 3.0, 0.0, 7.5], 1);
    let masses = s.table().masses();
    let total: u64 = masses.iter().sum();
    for i in 0..4u32 {
        let q = masses[i as usize] as f64 / total as f64;
        assert_eq!(s.log_probabilities()[i as usize], q.ln() as f32);
    }
    assert_eq!(s.log_probabilities()[2], f32::NEG_INFINITY);
}

// ---------------------------------------------------- (d) accidental hits

fn brute_mask(
    rows: &[BTreeSet<u32>],
    users: &[u32],
    positives: Option<&[u32]>,
    cand: &[u32],
) -> Vec<f32> {
    let mut out = Vec::new();
    for (r, &u) in users.iter().enumerate() {
        for &c in cand {
            let hit = rows[u as usize].contains(&c) || positives.is_some_and(|p| p[r] == c);
            out.push(if hit { 1.0 } else { 0.0 });
        }
    }
    out
}

fn brute_in_batch(rows: &[BTreeSet<u32>], users: &[u32], items: &[u32]) -> Vec<f32> {
    let mut out = Vec::new();
    for (r, &u) in users.iter().enumerate() {
        for (c, &i) in items.iter().enumerate() {
            let hit = c != r && (rows[u as usize].contains(&i) || items[r] == i);
            out.push(if hit { 1.0 } else { 0.0 });
        }
    }
    out
}

fn check_masks(m: &Interactions, rng: &mut TestRng, batch: usize, num_candidates: usize) {
    let rows: Vec<BTreeSet<u32>> = (0..m.num_users() as u32)
        .map(|u| m.row(u).iter().copied().collect())
        .collect();
    let users: Vec<u32> = (0..batch)
        .map(|_| rng.below(m.num_users() as u64) as u32)
        .collect();
    // Positives of the rows: mostly training positives, some arbitrary items.
    let positives: Vec<u32> = users
        .iter()
        .map(|&u| {
            let row = m.row(u);
            if !row.is_empty() && rng.chance(0.8) {
                row[rng.below(row.len() as u64) as usize]
            } else {
                rng.below(m.num_items() as u64) as u32
            }
        })
        .collect();
    // Candidates: half popular items from rows (so hits happen), half random.
    let cand: Vec<u32> = (0..num_candidates)
        .map(|j| {
            if j % 2 == 0 {
                positives[rng.below(batch as u64) as usize]
            } else {
                rng.below(m.num_items() as u64) as u32
            }
        })
        .collect();
    for parallel in [false, true] {
        let mut out = vec![9f32; batch * num_candidates];
        accidental_hits_into(m, &users, Some(&positives), &cand, parallel, &mut out).unwrap();
        assert_eq!(out, brute_mask(&rows, &users, Some(&positives), &cand));
        accidental_hits_into(m, &users, None, &cand, parallel, &mut out).unwrap();
        assert_eq!(out, brute_mask(&rows, &users, None, &cand));
        let mut inb = vec![9f32; batch * batch];
        in_batch_hits_into(m, &users, &positives, parallel, &mut inb).unwrap();
        assert_eq!(inb, brute_in_batch(&rows, &users, &positives));
        assert!(out.contains(&1.0), "the check saw hits");
    }
}

#[test]
fn masks_match_brute_force_on_random_matrices() {
    let mut rng = TestRng::new(21);
    for _ in 0..20 {
        let users = 1 + rng.below(30) as usize;
        let items = 1 + rng.below(200) as usize;
        let density = rng.unit() * 0.5;
        let (mut us, mut is) = (Vec::new(), Vec::new());
        for u in 0..users {
            for i in 0..items {
                if rng.chance(density) {
                    us.push(u as u32);
                    is.push(i as u32);
                }
            }
        }
        let m = Interactions::from_coo(&us, &is, Some(users), Some(items)).unwrap();
        let batch = 1 + rng.below(50) as usize;
        let s = 1 + rng.below(300) as usize;
        check_masks(&m, &mut rng, batch, s);
    }
}

#[test]
fn masks_match_brute_force_on_lastfm() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/lastfm/train.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} is absent", path.display());
        return;
    };
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let mut ids = line.split_whitespace().map(|t| t.parse::<u32>().unwrap());
        let Some(u) = ids.next() else { continue };
        for i in ids {
            users.push(u);
            items.push(i);
        }
    }
    let m = Interactions::from_coo(&users, &items, None, None).unwrap();
    let mut rng = TestRng::new(22);
    check_masks(&m, &mut rng, 1024, 2048);
    check_masks(&m, &mut rng, 64, 8);
}

// ---------------------------------------------------- (e) errors

#[test]
fn bad_requests_are_named_errors() {
    let s = sampler(vec![1.0, 0.0, 2.0], 1);
    assert_eq!(
        check_candidates(&s, 3, true).unwrap_err().to_string(),
        "num_sampled must be at most 2 with unique: true (the items the proposal can draw), got 3"
    );
    assert!(check_candidates(&s, 3, false).is_ok());
    assert!(check_candidates(&s, 0, false)
        .unwrap_err()
        .to_string()
        .starts_with("num_sampled must be"));
    let m = Interactions::from_coo(&[0], &[0], Some(2), Some(3)).unwrap();
    let mut out = vec![0f32; 5];
    assert_eq!(
        accidental_hits_into(&m, &[0, 1], None, &[0, 1, 2], false, &mut out)
            .unwrap_err()
            .to_string(),
        "out.length is 5, expected 6 (rows * columns = 2 * 3)"
    );
    assert_eq!(
        accidental_hits_into(&m, &[0, 1], Some(&[0]), &[0, 1, 2], false, &mut out)
            .unwrap_err()
            .to_string(),
        "positives.length is 1, expected users.length (2)"
    );
    assert_eq!(
        in_batch_hits_into(&m, &[0, 1], &[0], false, &mut out)
            .unwrap_err()
            .to_string(),
        "items.length is 1, expected users.length (2)"
    );
}
