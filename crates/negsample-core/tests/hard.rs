//! Dynamic hard negatives (DNS and softmax).
//!
//! (a) `Max` equals a brute-force reference: score all M candidates the call
//!     drew, sort by (score descending, position ascending), keep k; for
//!     several seeds, dims, k and both layouts.
//! (b) The same output on one thread, on the rayon pool, and inside a
//!     3-thread pool; different calls differ.
//! (c) No returned negative is a positive of its user (random matrices, and
//!     every training positive of ../shared/data/lastfm where present).
//! (d) Selection frequencies: the softmax selection of one position among
//!     fixed scores, and of an ordered pair (k = 2, without replacement),
//!     match the softmax probabilities (chi-square, 200,000 draws, p > 1e-4);
//!     end to end, the item chosen by `Max` and by `Softmax` with M = 3
//!     matches the exact distribution computed by enumerating every candidate
//!     triple under the proposal restricted to the user's non-positives.
//! (e) Log-probabilities are ln of the table's realised probabilities.
//! (f) Bad requests are named errors and write nothing.
//! (g) The selections take any scores (proptest: NaN, ±inf, ±f32::MAX,
//!     subnormals, ±0 and ordinary values, any temperature the API accepts):
//!     `best` and `select_max` give a brute-force ranking's choice (NaN as
//!     `-inf`, ties to the lower position); `select_softmax` gives `k`
//!     distinct positions, a `+inf` score first if there is one and a
//!     position whose key is above `-inf` first if there is one.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{assert_fits, chi_square, TestRng, POWER_THRESHOLD};
use negsample_core::dot::dot_scalar;
use negsample_core::hard::{
    self, hard_negatives_into, select_max, select_softmax, HardOut, Layout, Strategy, CHUNK,
    MAX_CALL,
};
use negsample_core::{
    Domain, Embeddings, Error, HardOptions, Interactions, Proposal, Sampler, Stream,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn random_matrix(rng: &mut TestRng, users: usize, items: usize, density: f64) -> Interactions {
    let (mut us, mut is) = (Vec::new(), Vec::new());
    for u in 0..users {
        for i in 0..items {
            if rng.chance(density) {
                us.push(u as u32);
                is.push(i as u32);
            }
        }
        // Every user has at least one positive (for the batches below).
        us.push(u as u32);
        is.push(rng.below(items as u64) as u32);
    }
    Interactions::from_coo(&us, &is, Some(users), Some(items)).unwrap()
}

fn random_matrix_f32(rng: &mut TestRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| (rng.unit() * 2.0 - 1.0) as f32).collect()
}

/// Every training positive as (users, items).
fn all_positives(m: &Interactions) -> (Vec<u32>, Vec<u32>) {
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for u in 0..m.num_users() as u32 {
        for &i in m.row(u) {
            users.push(u);
            items.push(i);
        }
    }
    (users, items)
}

/// The result of one call, with all optional outputs.
#[derive(Debug, Clone, PartialEq)]
struct Output {
    items: Vec<u32>,
    scores: Vec<f32>,
    log_probs: Vec<f32>,
    users: Vec<u32>,
    positives: Vec<u32>,
    labels: Vec<f32>,
    candidates: Vec<u32>,
}

fn run(
    sampler: &Sampler,
    users: &[u32],
    positives: &[u32],
    emb: &Embeddings<'_>,
    options: &HardOptions,
    call: u64,
) -> Result<Output, Error> {
    let rows = users.len() * options.layout.rows_per_positive(options.negatives);
    let mut o = Output {
        items: vec![u32::MAX; rows],
        scores: vec![f32::NAN; rows],
        log_probs: vec![f32::NAN; rows],
        users: vec![u32::MAX; rows],
        positives: vec![u32::MAX; rows],
        labels: vec![f32::NAN; rows],
        candidates: vec![u32::MAX; users.len() * options.candidates],
    };
    hard_negatives_into(
        sampler,
        users,
        positives,
        emb,
        options,
        call,
        HardOut {
            items: &mut o.items,
            scores: &mut o.scores,
            log_probs: Some(&mut o.log_probs),
            users: Some(&mut o.users),
            positives: Some(&mut o.positives),
            labels: Some(&mut o.labels),
            candidates: Some(&mut o.candidates),
        },
    )?;
    Ok(o)
}

fn options(m: usize, k: usize, strategy: Strategy, layout: Layout, parallel: bool) -> HardOptions {
    HardOptions {
        candidates: m,
        negatives: k,
        strategy,
        layout,
        parallel,
    }
}

// ---------------------------------------------------- (a) brute force

#[test]
fn max_equals_brute_force_reference() {
    let mut rng = TestRng::new(11);
    for (seed, dim, m, k, layout) in [
        (1u64, 64usize, 32usize, 1usize, Layout::Pairwise),
        (2, 7, 16, 3, Layout::Pairwise),
        (3, 1, 8, 8, Layout::Pointwise),
        (4, 100, 5, 2, Layout::Pointwise),
        (5, 16, 1, 1, Layout::Pairwise),
    ] {
        let matrix = Arc::new(random_matrix(&mut rng, 40, 300, 0.05));
        let sampler =
            Sampler::new(matrix.clone(), &Proposal::Popularity { alpha: 0.75 }, seed).unwrap();
        let ue = random_matrix_f32(&mut rng, 40 * dim);
        let mut ie = random_matrix_f32(&mut rng, 300 * dim);
        // Some exactly tied items, to exercise the tie rule.
        for i in 0..20 {
            let (a, b) = (i * dim, (i + 20) * dim);
            let row: Vec<f32> = ie[a..a + dim].to_vec();
            ie[b..b + dim].copy_from_slice(&row);
        }
        let emb = Embeddings::new(&sampler, &ue, &ie, dim).unwrap();
        let (users, positives) = all_positives(&matrix);
        let opts = options(m, k, Strategy::Max, layout, true);
        let out = run(&sampler, &users, &positives, &emb, &opts, 7).unwrap();
        let rows = layout.rows_per_positive(k);
        for (j, (&u, &p)) in users.iter().zip(&positives).enumerate() {
            let cand = &out.candidates[j * m..(j + 1) * m];
            let user = &ue[u as usize * dim..(u as usize + 1) * dim];
            let mut scored: Vec<(f32, usize)> = cand
                .iter()
                .enumerate()
                .map(|(pos, &c)| {
                    (
                        dot_scalar(user, &ie[c as usize * dim..(c as usize + 1) * dim]),
                        pos,
                    )
                })
                .collect();
            // The reference: a full sort, score descending, position ascending.
            scored.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap().then(a.1.cmp(&b.1)));
            let base = j * rows + usize::from(layout == Layout::Pointwise);
            for (t, &(score, pos)) in scored.iter().take(k).enumerate() {
                assert_eq!(
                    out.items[base + t],
                    cand[pos],
                    "seed {seed} positive {j} rank {t}"
                );
                assert_eq!(out.scores[base + t].to_bits(), score.to_bits());
                // Scores are close to the exact dot product.
                let exact: f64 = user
                    .iter()
                    .zip(&ie[cand[pos] as usize * dim..])
                    .map(|(&a, &b)| a as f64 * b as f64)
                    .sum();
                assert!((score as f64 - exact).abs() < 1e-4 * (1.0 + exact.abs()));
            }
            if layout == Layout::Pointwise {
                assert_eq!(out.items[j * rows], p);
                assert_eq!(out.labels[j * rows], 1.0);
                assert!(out.labels[j * rows + 1..(j + 1) * rows]
                    .iter()
                    .all(|&l| l == 0.0));
                let ps = dot_scalar(user, &ie[p as usize * dim..(p as usize + 1) * dim]);
                assert_eq!(out.scores[j * rows].to_bits(), ps.to_bits());
            } else {
                assert!(out.positives[j * rows..(j + 1) * rows]
                    .iter()
                    .all(|&x| x == p));
            }
            assert!(out.users[j * rows..(j + 1) * rows].iter().all(|&x| x == u));
        }
    }
}

// ---------------------------------------------------- (b) determinism

#[test]
fn same_output_on_any_thread_count() {
    let mut rng = TestRng::new(12);
    let matrix = Arc::new(random_matrix(&mut rng, 200, 1000, 0.02));
    let sampler = Sampler::new(matrix.clone(), &Proposal::Uniform, 99).unwrap();
    let dim = 24;
    let ue = random_matrix_f32(&mut rng, 200 * dim);
    let ie = random_matrix_f32(&mut rng, 1000 * dim);
    let emb = Embeddings::new(&sampler, &ue, &ie, dim).unwrap();
    let (users, positives) = all_positives(&matrix);
    assert!(users.len() > 3 * CHUNK, "several chunks: {}", users.len());
    for strategy in [Strategy::Max, Strategy::Softmax { temperature: 0.3 }] {
        let seq = run(
            &sampler,
            &users,
            &positives,
            &emb,
            &options(16, 3, strategy, Layout::Pairwise, false),
            5,
        )
        .unwrap();
        let par = run(
            &sampler,
            &users,
            &positives,
            &emb,
            &options(16, 3, strategy, Layout::Pairwise, true),
            5,
        )
        .unwrap();
        assert_eq!(seq, par);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let three = pool.install(|| {
            run(
                &sampler,
                &users,
                &positives,
                &emb,
                &options(16, 3, strategy, Layout::Pairwise, true),
                5,
            )
            .unwrap()
        });
        assert_eq!(seq, three);
        let other = run(
            &sampler,
            &users,
            &positives,
            &emb,
            &options(16, 3, strategy, Layout::Pairwise, true),
            6,
        )
        .unwrap();
        assert_ne!(seq.items, other.items);
        // A prefix of the positives gives a prefix of the output (chunks are
        // fixed by position).
        let n = CHUNK + 17;
        let prefix = run(
            &sampler,
            &users[..n],
            &positives[..n],
            &emb,
            &options(16, 3, strategy, Layout::Pairwise, true),
            5,
        )
        .unwrap();
        assert_eq!(prefix.items, seq.items[..n * 3]);
    }
}

// ---------------------------------------------------- (c) exclusion

fn assert_no_positive(matrix: &Interactions, users: &[u32], out: &Output, rows: usize, k: usize) {
    for (j, &u) in users.iter().enumerate() {
        let negs = &out.items[j * rows + (rows - k)..(j + 1) * rows];
        for &n in negs {
            assert!(
                !matrix.contains(u, n),
                "user {u} got its positive {n} as a negative"
            );
        }
    }
    for (j, &u) in users.iter().enumerate() {
        let m = out.candidates.len() / users.len();
        for &c in &out.candidates[j * m..(j + 1) * m] {
            assert!(
                !matrix.contains(u, c),
                "user {u} got its positive {c} as a candidate"
            );
        }
    }
}

#[test]
fn no_negative_is_a_positive() {
    let mut rng = TestRng::new(13);
    for trial in 0..30u64 {
        let users_n = 1 + rng.below(20) as usize;
        let items_n = 2 + rng.below(60) as usize;
        let density = rng.unit() * 0.6;
        let matrix = Arc::new(random_matrix(&mut rng, users_n, items_n, density));
        let proposal = match trial % 3 {
            0 => Proposal::Uniform,
            1 => Proposal::Popularity { alpha: 1.0 },
            _ => Proposal::Weights((0..items_n).map(|_| rng.unit() + 0.01).collect()),
        };
        let sampler = Sampler::new(matrix.clone(), &proposal, trial).unwrap();
        let (users, positives): (Vec<u32>, Vec<u32>) = {
            let (u, p) = all_positives(&matrix);
            u.into_iter()
                .zip(p)
                .filter(|&(u, _)| sampler.has_negative(u))
                .unzip()
        };
        if users.is_empty() {
            continue;
        }
        let dim = 3;
        let ue = random_matrix_f32(&mut rng, users_n * dim);
        let ie = random_matrix_f32(&mut rng, items_n * dim);
        let emb = Embeddings::new(&sampler, &ue, &ie, dim).unwrap();
        for strategy in [Strategy::Max, Strategy::Softmax { temperature: 1.0 }] {
            for layout in [Layout::Pairwise, Layout::Pointwise] {
                let opts = options(6, 2, strategy, layout, true);
                let out = run(&sampler, &users, &positives, &emb, &opts, trial).unwrap();
                assert_no_positive(&matrix, &users, &out, layout.rows_per_positive(2), 2);
            }
        }
    }
}

/// Reads `train.txt` of an adjacency-lines data set.
fn load_adjacency(path: &std::path::Path) -> Option<Interactions> {
    let text = std::fs::read_to_string(path).ok()?;
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let mut ids = line.split_whitespace().map(|t| t.parse::<u32>().unwrap());
        let Some(u) = ids.next() else { continue };
        for i in ids {
            users.push(u);
            items.push(i);
        }
    }
    Some(Interactions::from_coo(&users, &items, None, None).unwrap())
}

pub fn lastfm() -> Option<Interactions> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/lastfm/train.txt");
    let m = load_adjacency(&path);
    if m.is_none() {
        eprintln!("skipped: {} is absent", path.display());
    }
    m
}

#[test]
fn lastfm_no_hard_negative_is_a_positive() {
    let Some(matrix) = lastfm() else { return };
    let matrix = Arc::new(matrix);
    let sampler =
        Sampler::new(matrix.clone(), &Proposal::Popularity { alpha: 0.75 }, 2024).unwrap();
    let dim = 16;
    let mut rng = TestRng::new(14);
    let ue = random_matrix_f32(&mut rng, matrix.num_users() * dim);
    let ie = random_matrix_f32(&mut rng, matrix.num_items() * dim);
    let emb = Embeddings::new(&sampler, &ue, &ie, dim).unwrap();
    let (users, positives) = all_positives(&matrix);
    for strategy in [Strategy::Max, Strategy::Softmax { temperature: 0.5 }] {
        let out = run(
            &sampler,
            &users,
            &positives,
            &emb,
            &options(8, 2, strategy, Layout::Pairwise, true),
            1,
        )
        .unwrap();
        assert_no_positive(&matrix, &users, &out, 2, 2);
    }
}

// ---------------------------------------------------- (d) frequencies

fn softmax(scores: &[f32], temperature: f64) -> Vec<f64> {
    let top = scores.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
    let w: Vec<f64> = scores
        .iter()
        .map(|&s| ((s as f64 - top) / temperature).exp())
        .collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

#[test]
fn softmax_selection_matches_softmax_distribution() {
    let scores = [0.3f32, -1.0, 2.0, 0.0, 1.5, 0.3, -0.5, 1.0];
    let temperature = 0.7;
    let p = softmax(&scores, temperature);
    let stream = Stream::new(77, Domain::HardNegatives, 0, 0);
    let mut weights = vec![0.0; 8];
    let mut order = Vec::new();
    let draws = 200_000u64;
    let mut single = vec![0u64; 8];
    let mut pairs = vec![0u64; 64];
    for t in 0..draws {
        select_softmax(
            &scores,
            1,
            temperature,
            &stream,
            t,
            &mut weights,
            &mut order,
        );
        single[order[0] as usize] += 1;
        select_softmax(
            &scores,
            2,
            temperature,
            &stream,
            1_000_000 + 2 * t,
            &mut weights,
            &mut order,
        );
        assert_ne!(order[0], order[1], "without replacement");
        pairs[order[0] as usize * 8 + order[1] as usize] += 1;
    }
    assert_fits("softmax k=1", chi_square(&single, &p));
    let pair_p: Vec<f64> = (0..64)
        .map(|ij| {
            let (i, j) = (ij / 8, ij % 8);
            if i == j {
                0.0
            } else {
                p[i] * p[j] / (1.0 - p[i])
            }
        })
        .collect();
    assert_fits("softmax k=2 ordered pairs", chi_square(&pairs, &pair_p));
    // Negative control: the test can fail (uniform is not softmax here).
    let uniform = vec![1.0; 8];
    assert!(chi_square(&single, &uniform).p < POWER_THRESHOLD);
}

/// The exact distribution of the chosen item with M = 3, k = 1, by
/// enumerating every ordered candidate triple under the restricted proposal.
fn exact_choice(q: &[f64], scores: &[f32], strategy: Strategy) -> Vec<f64> {
    let n = q.len();
    let mut out = vec![0.0; n];
    for a in 0..n {
        for b in 0..n {
            for c in 0..n {
                let pr = q[a] * q[b] * q[c];
                if pr == 0.0 {
                    continue;
                }
                let s = [scores[a], scores[b], scores[c]];
                let items = [a, b, c];
                match strategy {
                    Strategy::Max => {
                        let mut best = 0;
                        for t in 1..3 {
                            if s[t] > s[best] {
                                best = t;
                            }
                        }
                        out[items[best]] += pr;
                    }
                    Strategy::Softmax { temperature } => {
                        let w = softmax(&s, temperature);
                        for t in 0..3 {
                            out[items[t]] += pr * w[t];
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn end_to_end_choice_frequencies_match_enumeration() {
    // One user with positives {1, 4}; 8 items; popularity-like weights.
    let weights = vec![1.0, 3.0, 2.0, 0.5, 4.0, 1.5, 2.5, 0.0];
    let n = weights.len();
    let matrix = Arc::new(Interactions::from_coo(&[0, 0], &[1, 4], Some(1), Some(n)).unwrap());
    let sampler = Sampler::new(matrix.clone(), &Proposal::Weights(weights.clone()), 31).unwrap();
    let dim = 1;
    let ue = vec![1.0f32];
    let ie: Vec<f32> = vec![0.2, 9.0, -0.4, 0.9, 9.0, 0.5, 0.1, 3.0];
    let emb = Embeddings::new(&sampler, &ue, &ie, dim).unwrap();
    // The restricted proposal, from the table's realised probabilities.
    let mut q: Vec<f64> = (0..n as u32)
        .map(|i| {
            if matrix.contains(0, i) {
                0.0
            } else {
                sampler.probability(i)
            }
        })
        .collect();
    let total: f64 = q.iter().sum();
    q.iter_mut().for_each(|x| *x /= total);
    let positives = 100_000;
    let users = vec![0u32; positives];
    let items = vec![1u32; positives];
    for strategy in [Strategy::Max, Strategy::Softmax { temperature: 0.4 }] {
        let out = run(
            &sampler,
            &users,
            &items,
            &emb,
            &options(3, 1, strategy, Layout::Pairwise, true),
            3,
        )
        .unwrap();
        let counts = common::histogram(&out.items, n);
        let expected = exact_choice(&q, &ie, strategy);
        assert_fits(
            &format!("end to end {strategy:?}"),
            chi_square(&counts, &expected),
        );
    }
}

// ---------------------------------------------------- (e) log q

#[test]
fn log_probs_are_the_tables_probabilities() {
    let mut rng = TestRng::new(15);
    let matrix = Arc::new(random_matrix(&mut rng, 30, 200, 0.05));
    let sampler = Sampler::new(matrix.clone(), &Proposal::Popularity { alpha: 0.75 }, 8).unwrap();
    let masses = sampler.table().masses();
    let total: u64 = masses.iter().sum();
    let dim = 4;
    let ue = random_matrix_f32(&mut rng, 30 * dim);
    let ie = random_matrix_f32(&mut rng, 200 * dim);
    let emb = Embeddings::new(&sampler, &ue, &ie, dim).unwrap();
    let (users, positives) = all_positives(&matrix);
    let out = run(
        &sampler,
        &users,
        &positives,
        &emb,
        &options(10, 3, Strategy::Max, Layout::Pointwise, false),
        0,
    )
    .unwrap();
    for (&item, &lp) in out.items.iter().zip(&out.log_probs) {
        let q = masses[item as usize] as f64 / total as f64;
        assert_eq!(lp, q.ln() as f32, "item {item}");
    }
}

// ---------------------------------------------------- (f) errors

#[test]
fn bad_requests_are_named_errors_and_write_nothing() {
    let matrix =
        Arc::new(Interactions::from_coo(&[0, 1, 1], &[0, 1, 2], Some(2), Some(5)).unwrap());
    let sampler = Sampler::new(matrix.clone(), &Proposal::Uniform, 1).unwrap();
    let ue = vec![0.5f32; 2 * 4];
    let ie = vec![0.25f32; 5 * 4];

    let err = Embeddings::new(&sampler, &ue[..7], &ie, 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "user_embeddings.length is 7, expected num_users * dim = 2 * 4 = 8"
    );
    let err = Embeddings::new(&sampler, &ue, &ie[..12], 4).unwrap_err();
    assert_eq!(
        err.to_string(),
        "item_embeddings.length is 12, expected num_items * dim = 5 * 4 = 20"
    );
    assert!(Embeddings::new(&sampler, &ue, &ie, 0)
        .unwrap_err()
        .to_string()
        .starts_with("dim must be"));

    let emb = Embeddings::new(&sampler, &ue, &ie, 4).unwrap();
    let users = [0u32, 1];
    let positives = [0u32, 1];
    let check = |opts: HardOptions, users: &[u32], positives: &[u32], call: u64| {
        let rows = users.len() * opts.layout.rows_per_positive(opts.negatives);
        let mut items = vec![9u32; rows];
        let mut scores = vec![9f32; rows];
        let r = hard_negatives_into(
            &sampler,
            users,
            positives,
            &emb,
            &opts,
            call,
            HardOut {
                items: &mut items,
                scores: &mut scores,
                ..Default::default()
            },
        );
        assert!(
            items.iter().all(|&i| i == 9) && scores.iter().all(|&s| s == 9.0),
            "nothing written"
        );
        r.unwrap_err().to_string()
    };
    let base = options(4, 2, Strategy::Max, Layout::Pairwise, false);
    assert_eq!(
        check(HardOptions { candidates: 1, ..base }, &users, &positives, 0),
        "negatives must be an integer in [1, candidates] = [1, 1]: k negatives are chosen among the candidates, got 2"
    );
    assert!(check(
        HardOptions {
            candidates: 0,
            ..base
        },
        &users,
        &positives,
        0
    )
    .starts_with("candidates must be"));
    assert!(check(
        HardOptions {
            negatives: 0,
            ..base
        },
        &users,
        &positives,
        0
    )
    .starts_with("negatives must be"));
    for t in [f64::NAN, 0.0, -1.0, f64::INFINITY] {
        assert_eq!(
            check(
                HardOptions {
                    strategy: Strategy::Softmax { temperature: t },
                    ..base
                },
                &users,
                &positives,
                0
            ),
            format!("temperature must be a finite number > 0, got {t}")
        );
    }
    assert_eq!(
        check(base, &users, &positives[..1], 0),
        "positives.length is 1, expected users.length (2)"
    );
    assert_eq!(
        check(base, &users, &[0, 5], 0),
        "positives[1] = 5 is out of range: ids must be in [0, 5)"
    );
    assert!(check(base, &users, &positives, MAX_CALL + 1).starts_with("call must be"));
    // Output buffers of the wrong length.
    let mut items = vec![0u32; 3];
    let mut scores = vec![0f32; 4];
    let err = hard_negatives_into(
        &sampler,
        &users,
        &positives,
        &emb,
        &base,
        0,
        HardOut {
            items: &mut items,
            scores: &mut scores,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "out.items.length is 3, expected 4 (users.length * 2)"
    );
    // A user with every item as a positive has no negative.
    let full = Arc::new(Interactions::from_coo(&[0, 0], &[0, 1], Some(1), Some(2)).unwrap());
    let s2 = Sampler::new(full, &Proposal::Uniform, 1).unwrap();
    let e2 = Embeddings::new(&s2, &[1.0], &[1.0, 2.0], 1).unwrap();
    let mut items = vec![0u32; 1];
    let mut scores = vec![0f32; 1];
    let err = hard_negatives_into(
        &s2,
        &[0],
        &[0],
        &e2,
        &options(1, 1, Strategy::Max, Layout::Pairwise, false),
        0,
        HardOut {
            items: &mut items,
            scores: &mut scores,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err, Error::NoNegative { user: 0 });
}

#[test]
fn nan_scores_rank_last_and_are_returned() {
    let matrix = Arc::new(Interactions::from_coo(&[0], &[0], Some(1), Some(4)).unwrap());
    let sampler = Sampler::new(matrix, &Proposal::Uniform, 5).unwrap();
    let ue = vec![1.0f32];
    let ie = vec![0.0f32, f32::NAN, 2.0, f32::NAN];
    let emb = Embeddings::new(&sampler, &ue, &ie, 1).unwrap();
    let users = vec![0u32; 500];
    let positives = vec![0u32; 500];
    let out = run(
        &sampler,
        &users,
        &positives,
        &emb,
        &options(3, 1, Strategy::Max, Layout::Pairwise, false),
        0,
    )
    .unwrap();
    for j in 0..500 {
        let cand: BTreeSet<u32> = out.candidates[j * 3..j * 3 + 3].iter().copied().collect();
        // Item 0 is the positive: candidates come from {1, 2, 3}; only item 2
        // has a number as its score, and all-NaN ties go to position 0.
        let expected = if cand.contains(&2) {
            2
        } else {
            out.candidates[j * 3]
        };
        assert_eq!(out.items[j], expected);
        assert_eq!(out.scores[j].is_nan(), expected == 1 || expected == 3);
    }
    let soft = run(
        &sampler,
        &users,
        &positives,
        &emb,
        &options(
            3,
            2,
            Strategy::Softmax { temperature: 1.0 },
            Layout::Pairwise,
            false,
        ),
        1,
    )
    .unwrap();
    assert!(soft.items.iter().all(|&i| i != 0), "never the positive");
}

#[test]
fn candidate_calls_are_distinct_and_outside_ordinary_calls() {
    // The space [2^62, 2^63): above ordinary calls, below shard calls.
    let a = hard::candidate_call(0, 0);
    assert!(a >= 1 << 62);
    assert!(hard::candidate_call(MAX_CALL, (1 << 23) - 1) < 1 << 63);
    assert_ne!(hard::candidate_call(1, 0), hard::candidate_call(0, 1));
    assert_ne!(
        hard::candidate_call(MAX_CALL, (1 << 23) - 1),
        hard::candidate_call(MAX_CALL - 1, (1 << 23) - 1)
    );
}

/// A score from the awkward corners of `f32` or an ordinary value.
fn any_score() -> impl proptest::strategy::Strategy<Value = f32> {
    prop_oneof![
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::MAX),
        Just(f32::MIN),
        Just(f32::MIN_POSITIVE / 4.0),
        Just(-f32::MIN_POSITIVE / 4.0),
        Just(0.0f32),
        Just(-0.0f32),
        Just(1.0f32),
        -3.0f32..3.0,
        any::<f32>(),
    ]
}

/// Positions by key (NaN as `-inf`) descending, then position ascending.
fn reference_ranking(scores: &[f32]) -> Vec<u32> {
    let key = |s: f32| if s.is_nan() { f32::NEG_INFINITY } else { s };
    let mut order: Vec<u32> = (0..scores.len() as u32).collect();
    order.sort_by(|&a, &b| {
        key(scores[b as usize])
            .partial_cmp(&key(scores[a as usize]))
            .unwrap()
            .then(a.cmp(&b))
    });
    order
}

proptest! {
    #![proptest_config(Config {
        cases: 2000,
        rng_seed: RngSeed::Fixed(0x6861_7264),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn selections_take_any_scores(
        scores in prop::collection::vec(any_score(), 1..40),
        k_seed in any::<usize>(),
        temperature in prop_oneof![
            Just(f64::from_bits(1)),
            Just(1e-6),
            Just(0.1),
            Just(1.0),
            Just(1e6),
            Just(f64::MAX),
        ],
        word_seed in any::<u64>(),
    ) {
        let k = 1 + k_seed % scores.len();
        let ranking = reference_ranking(&scores);

        prop_assert_eq!(hard::best(&scores) as u32, ranking[0]);
        let mut order = Vec::new();
        select_max(&scores, 1, &mut order);
        prop_assert_eq!(&order[..], &ranking[..1]);
        select_max(&scores, k, &mut order);
        // Equal keys (NaN and -inf, -0 and +0 included) by lower position.
        prop_assert_eq!(&order[..], &ranking[..k]);

        let stream = Stream::new(word_seed, Domain::HardNegatives, 0, 0);
        let mut weights = vec![0.0f64; scores.len()];
        select_softmax(&scores, k, temperature, &stream, 0, &mut weights, &mut order);
        prop_assert_eq!(order.len(), k);
        let distinct: BTreeSet<u32> = order.iter().copied().collect();
        prop_assert_eq!(distinct.len(), k, "positions repeat: {:?}", order);
        prop_assert!(order.iter().all(|&p| (p as usize) < scores.len()));
        let first = scores[order[0] as usize];
        if scores.contains(&f32::INFINITY) {
            prop_assert_eq!(first, f32::INFINITY);
        } else if scores.iter().any(|s| !s.is_nan() && *s > f32::NEG_INFINITY) {
            prop_assert!(!first.is_nan() && first > f32::NEG_INFINITY, "first pick {}", first);
        }
    }
}
