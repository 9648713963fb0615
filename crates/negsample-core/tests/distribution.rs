//! Goodness of fit of the proposal distributions.
//!
//! Every test draws at least 1,000,000 items with a fixed seed, counts them,
//! and runs Pearson's chi-square test against probabilities computed here,
//! independently of the engine (never from `Sampler::probability` or the
//! alias table's masses). Bins with an expected count below 5 are pooled.
//! The p-value is exact: the regularized upper incomplete gamma function
//! Q(df/2, chi2/2) by series / continued fraction (see `common::gamma_q`), not
//! the Wilson-Hilferty normal approximation.
//!
//! Threshold: a test passes when p > 1e-4 (`common::P_THRESHOLD`). The
//! negative controls show the test has power: the same draws tested against
//! a slightly wrong distribution must give p < 1e-6.
//!
//! Draws go through both public paths: `Sampler::negatives_into` for users
//! with empty rows (so that no exclusion applies), and `AliasTable::pick`
//! over the words of an `rng::Stream`.

mod common;

use std::sync::Arc;

use common::{assert_fits, chi_square, histogram, POWER_THRESHOLD};
use negsample_core::{AliasTable, Domain, Interactions, Proposal, Sampler, Stream};

const DRAWS: usize = 1_000_000;

/// `DRAWS` negatives from the sampler, spread over the given users (all with
/// empty rows), `DRAWS / users.len()` each, in one call.
fn sampler_draws(sampler: &Sampler, empty_users: &[u32]) -> Vec<u32> {
    for &u in empty_users {
        assert!(
            sampler.interactions().row(u).is_empty(),
            "user {u} must have an empty row"
        );
    }
    let k = DRAWS / 1000;
    let users: Vec<u32> = (0..1000)
        .map(|j| empty_users[j % empty_users.len()])
        .collect();
    let mut out = vec![0u32; users.len() * k];
    sampler
        .negatives_into(&users, k, sampler.next_call(), &mut out)
        .unwrap();
    out
}

/// `DRAWS` picks from `table`, word `i` of one stream for draw `i`.
fn alias_draws(table: &AliasTable, seed: u64) -> Vec<u32> {
    let stream = Stream::new(seed, Domain::Negatives, 0, 0);
    (0..DRAWS as u64)
        .map(|i| table.pick(stream.word(i)))
        .collect()
}

// ---------------------------------------------------------------- uniform

const UNIFORM_ITEMS: usize = 1000;

fn uniform_expected() -> Vec<f64> {
    vec![1.0 / UNIFORM_ITEMS as f64; UNIFORM_ITEMS]
}

#[test]
fn uniform_through_sampler() {
    // Users 0 and 1 have positives; 2, 3 and 4 have none.
    let m = Interactions::from_coo(&[0, 0, 1], &[3, 999, 5], Some(5), Some(UNIFORM_ITEMS)).unwrap();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Uniform, 20_240_601).unwrap();
    let draws = sampler_draws(&sampler, &[2, 3, 4]);
    let counts = histogram(&draws, UNIFORM_ITEMS);
    assert_fits(
        "uniform / sampler",
        chi_square(&counts, &uniform_expected()),
    );
}

#[test]
fn uniform_through_alias_table() {
    let table = AliasTable::uniform(UNIFORM_ITEMS).unwrap();
    assert!(table.is_uniform());
    let counts = histogram(&alias_draws(&table, 77), UNIFORM_ITEMS);
    assert_fits("uniform / alias", chi_square(&counts, &uniform_expected()));
}

// ------------------------------------------------------------- popularity

const POP_ITEMS: usize = 1000;
const POP_USERS: usize = 5000;
/// Users `POP_USERS..POP_USERS + EMPTY_USERS` have no positives.
const EMPTY_USERS: usize = 4;
/// Items nobody interacted with: weight 0 under a popularity proposal.
const UNSEEN: [usize; 3] = [100, 500, 998];

/// Zipf-like counts: item i is liked by floor(5000 / (i + 1)^1.07) users
/// (5000 down to 3), except the `UNSEEN` items, liked by nobody.
fn zipf_counts() -> Vec<u32> {
    (0..POP_ITEMS)
        .map(|i| {
            if UNSEEN.contains(&i) {
                0
            } else {
                (POP_USERS as f64 / ((i + 1) as f64).powf(1.07)).floor() as u32
            }
        })
        .collect()
}

/// A matrix whose popularity is `zipf_counts()`: item i's users are a run
/// of consecutive ids (mod `POP_USERS`) from a pseudo-random start, and a
/// few pairs are repeated (duplicates must not count twice).
fn zipf_interactions() -> Interactions {
    let counts = zipf_counts();
    let mut rng = common::TestRng::new(3);
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for (i, &c) in counts.iter().enumerate() {
        let start = rng.below(POP_USERS as u64) as usize;
        for j in 0..c as usize {
            users.push(((start + j) % POP_USERS) as u32);
            items.push(i as u32);
        }
    }
    for j in (0..users.len()).step_by(97) {
        users.push(users[j]);
        items.push(items[j]);
    }
    Interactions::from_coo(
        &users,
        &items,
        Some(POP_USERS + EMPTY_USERS),
        Some(POP_ITEMS),
    )
    .unwrap()
}

/// count^alpha (not normalised; `chi_square` divides by the sum).
fn popularity_expected(alpha: f64) -> Vec<f64> {
    zipf_counts()
        .iter()
        .map(|&c| if c == 0 { 0.0 } else { (c as f64).powf(alpha) })
        .collect()
}

fn popularity_sampler_draws() -> Vec<u32> {
    let m = zipf_interactions();
    assert_eq!(m.popularity(), zipf_counts());
    let sampler = Sampler::new(Arc::new(m), &Proposal::Popularity { alpha: 0.75 }, 99).unwrap();
    let empty: Vec<u32> = (POP_USERS..POP_USERS + EMPTY_USERS)
        .map(|u| u as u32)
        .collect();
    sampler_draws(&sampler, &empty)
}

#[test]
fn popularity_through_sampler() {
    let counts = histogram(&popularity_sampler_draws(), POP_ITEMS);
    for &i in &UNSEEN {
        assert_eq!(counts[i], 0, "unseen item {i} was drawn");
    }
    assert_fits(
        "popularity^0.75 / sampler",
        chi_square(&counts, &popularity_expected(0.75)),
    );
}

#[test]
fn popularity_through_alias_table() {
    let table = AliasTable::from_weights(&popularity_expected(0.75)).unwrap();
    let counts = histogram(&alias_draws(&table, 5), POP_ITEMS);
    assert_fits(
        "popularity^0.75 / alias",
        chi_square(&counts, &popularity_expected(0.75)),
    );
}

#[test]
fn negative_control_popularity_wrong_exponent() {
    // The same draws against count^0.72 instead of count^0.75.
    let counts = histogram(&popularity_sampler_draws(), POP_ITEMS);
    let result = chi_square(&counts, &popularity_expected(0.72));
    println!(
        "negative control, alpha 0.72: chi2 = {:.1}, p = {:e}",
        result.stat, result.p
    );
    assert!(result.p < POWER_THRESHOLD, "p = {:e}", result.p);
}

// ----------------------------------------------------------- custom weights

const WEIGHT_ITEMS: usize = 2000;
const ZERO_WEIGHTS: [usize; 5] = [2, 7, 64, 1000, 1999];

/// Item 0 holds exactly half the mass; a few items have weight 0; the rest
/// is a long tail i^-1.5 whose last items expect fewer than 5 draws (so the
/// pooling is exercised).
fn skewed_weights() -> Vec<f64> {
    let mut w: Vec<f64> = (0..WEIGHT_ITEMS)
        .map(|i| {
            if i == 0 || ZERO_WEIGHTS.contains(&i) {
                0.0
            } else {
                (i as f64).powf(-1.5)
            }
        })
        .collect();
    w[0] = w.iter().sum();
    w
}

fn weights_sampler_draws() -> Vec<u32> {
    // Users 0..3 have positives (including item 0); users 3..6 have none.
    let m = Interactions::from_coo(&[0, 0, 1, 2], &[0, 5, 0, 1999], Some(6), Some(WEIGHT_ITEMS))
        .unwrap();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Weights(skewed_weights()), 1234).unwrap();
    sampler_draws(&sampler, &[3, 4, 5])
}

fn check_zero_weights_never_drawn(counts: &[u64]) {
    for &i in &ZERO_WEIGHTS {
        assert_eq!(counts[i], 0, "zero-weight item {i} was drawn");
    }
}

#[test]
fn custom_weights_through_sampler() {
    let counts = histogram(&weights_sampler_draws(), WEIGHT_ITEMS);
    check_zero_weights_never_drawn(&counts);
    let result = chi_square(&counts, &skewed_weights());
    assert!(
        result.bins < WEIGHT_ITEMS - ZERO_WEIGHTS.len(),
        "the tail must be pooled"
    );
    assert_fits("custom weights / sampler", result);
}

#[test]
fn custom_weights_through_alias_table() {
    let table = AliasTable::from_weights(&skewed_weights()).unwrap();
    let counts = histogram(&alias_draws(&table, 31_337), WEIGHT_ITEMS);
    check_zero_weights_never_drawn(&counts);
    assert_fits(
        "custom weights / alias",
        chi_square(&counts, &skewed_weights()),
    );
}

#[test]
fn negative_control_heavy_item_off_by_three_percent() {
    // The same draws against a distribution where item 0 has 3% more than
    // its true probability (0.515 instead of 0.5; `chi_square` renormalises).
    let counts = histogram(&weights_sampler_draws(), WEIGHT_ITEMS);
    let mut wrong = skewed_weights();
    let tail: f64 = wrong[1..].iter().sum();
    wrong[0] = tail * 0.515 / 0.485;
    let result = chi_square(&counts, &wrong);
    println!(
        "negative control, heavy item +3%: chi2 = {:.1}, p = {:e}",
        result.stat, result.p
    );
    assert!(result.p < POWER_THRESHOLD, "p = {:e}", result.p);
}

#[test]
fn negative_control_uniform_against_slight_tilt() {
    // Uniform draws against a linear tilt of +-5% across the catalogue.
    let table = AliasTable::uniform(UNIFORM_ITEMS).unwrap();
    let counts = histogram(&alias_draws(&table, 77), UNIFORM_ITEMS);
    let tilted: Vec<f64> = (0..UNIFORM_ITEMS)
        .map(|i| 0.95 + 0.1 * i as f64 / (UNIFORM_ITEMS - 1) as f64)
        .collect();
    let result = chi_square(&counts, &tilted);
    println!(
        "negative control, uniform vs tilt: chi2 = {:.1}, p = {:e}",
        result.stat, result.p
    );
    assert!(result.p < POWER_THRESHOLD, "p = {:e}", result.p);
}

// --------------------------------------------- the statistics themselves

#[test]
fn ln_gamma_known_values() {
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    assert!(close(common::ln_gamma(1.0), 0.0));
    assert!(close(
        common::ln_gamma(0.5),
        0.5 * std::f64::consts::PI.ln()
    ));
    assert!(close(common::ln_gamma(10.0), 362_880f64.ln()));
    assert!(close(common::ln_gamma(100.0), 359.134_205_369_575_4));
}

#[test]
fn p_value_matches_closed_forms_and_tables() {
    // Even df = 2a: Q(a, x) = e^-x * sum_{j < a} x^j / j!, exactly.
    let closed = |a: u32, x: f64| {
        let (mut term, mut sum) = (1.0f64, 0.0f64);
        for j in 0..a {
            if j > 0 {
                term *= x / j as f64;
            }
            sum += term;
        }
        (-x).exp() * sum
    };
    for &(a, x) in &[
        (1u32, 0.3),
        (1, 7.0),
        (2, 1.5),
        (5, 3.0),
        (5, 9.0),
        (100, 80.0),
        (100, 120.0),
    ] {
        let q = common::gamma_q(a as f64, x);
        let want = closed(a, x);
        assert!(
            (q - want).abs() <= 1e-10 * want.max(1e-300),
            "Q({a}, {x}) = {q}, want {want}"
        );
    }
    // 95% quantiles of chi-square tables.
    for &(df, q95) in &[
        (1usize, 3.841_458_820_694_124),
        (10, 18.307_038_053_275_146),
        (100, 124.342_113_404_004_1),
    ] {
        let p = common::chi_square_p_value(q95, df);
        assert!((p - 0.05).abs() < 1e-9, "df {df}: p = {p}");
    }
    // Far tails stay positive and tiny, not 0 or negative.
    let p = common::chi_square_p_value(2000.0, 999);
    assert!(p > 0.0 && p < 1e-50, "{p}");
}

#[test]
fn pooling_and_zero_bins() {
    // 10 draws over 4 items: every bin is small, so all pool into 2 bins.
    let result = chi_square(&[3, 2, 2, 3], &[0.25; 4]);
    assert_eq!(result.bins, 2);
    assert_eq!(result.df, 1);
    assert!(result.stat.abs() < 1e-12);
    // A zero-probability item that was never drawn is simply left out.
    let result = chi_square(&[500, 0, 500], &[1.0, 0.0, 1.0]);
    assert_eq!((result.bins, result.df), (2, 1));
}

#[test]
#[should_panic(expected = "has probability 0 but was drawn")]
fn pooling_rejects_draws_of_impossible_items() {
    chi_square(&[500, 1, 500], &[1.0, 0.0, 1.0]);
}

// ------------------------------------------------------------- shuffles

#[test]
fn shuffles_are_uniform_over_permutations() {
    // 4 positives, 24 orders; one shuffle per call number, 1,000,000 calls.
    let m = Interactions::from_coo(&[0, 0, 1, 2], &[0, 1, 0, 3], None, None).unwrap();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Uniform, 2718).unwrap();
    let original: Vec<(u32, u32)> = vec![(0, 0), (0, 1), (1, 0), (2, 3)];
    let mut counts = vec![0u64; 24];
    for _ in 0..DRAWS {
        let (users, items) = sampler.shuffled_positives(sampler.next_call());
        // Lehmer code of the permutation -> index in 0..24.
        let order: Vec<usize> = users
            .iter()
            .zip(&items)
            .map(|(&u, &i)| original.iter().position(|&p| p == (u, i)).unwrap())
            .collect();
        let mut index = 0;
        for a in 0..4 {
            let smaller_later = order[a + 1..].iter().filter(|&&b| b < order[a]).count();
            index = index * (4 - a) + smaller_later;
        }
        counts[index] += 1;
    }
    assert_fits("shuffle permutations", chi_square(&counts, &[1.0; 24]));
}
