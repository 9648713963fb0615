//! Full-ranking evaluation of an embedding model: for each user, score every
//! item (dot product of the user's and the item's embedding), drop the user's
//! training positives, keep the `K` best, and compare them with the user's
//! held-out positives.
//!
//! # Metrics
//! For a user `u` with held-out positives `T_u` (non-empty) and top-`K` list
//! `R_u` (best first, ranks `r = 1..=K`):
//!
//! - **Recall@K** `= |R_u ∩ T_u| / |T_u|` (the convention of LightGCN and its
//!   successors; a user with more than `K` held-out items cannot reach 1).
//! - **NDCG@K** `= DCG / IDCG`, with `DCG = Σ_{r: R_u[r] ∈ T_u} 1 / log2(r + 1)`
//!   and `IDCG = Σ_{r = 1..=min(K, |T_u|)} 1 / log2(r + 1)`: binary relevance,
//!   normalised by the best possible list.
//! - **HitRate@K** `= 1` if `R_u ∩ T_u` is non-empty, else `0`.
//!
//! Users with no held-out positive are not evaluated (their metrics are
//! undefined). Held-out items that are also training positives of the user can
//! never be ranked (training positives are excluded) but still count in
//! `|T_u|`: splits are expected to be disjoint.
//!
//! # Ranking
//! Items are ordered by score, highest first; equal scores by item id,
//! lowest first; a NaN score ranks below every number. Each score is an
//! `f32` dot product summed in dimension order (no fused multiply-add), so
//! the vector and scalar paths give bit-identical scores and the same ranking
//! on every CPU.
//!
//! # Performance
//! `O(users x items x dim)` multiply-adds: the item matrix is repacked once
//! into panels of eight items (dimension-major inside a panel), and a tile of
//! [`TILE`] users is scored against one panel at a time in `TILE` vector
//! accumulators, vectorised across the panel's items (AVX2 where the CPU has
//! it, chosen at run time, else the baseline SSE2 / NEON code). Tiles are
//! spread over threads (rayon's global pool). Selection is one pass over the
//! scores with a `K`-slot list. Memory: a packed copy of the item matrix,
//! plus `TILE x items` floats per thread.

use rayon::prelude::*;

use crate::error::{check_ids, Error, Result};
use crate::interactions::Interactions;

/// Users scored together against each item row (one register accumulator
/// each).
pub const TILE: usize = 8;

/// The largest `K` accepted.
pub const MAX_K: usize = 1 << 16;

/// Per-user metrics of one evaluation, for the users that have at least one
/// held-out positive, in the order they were asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `K`, the length of each top list.
    pub k: usize,
    /// The users evaluated (those asked for that have a held-out positive).
    pub users: Vec<u32>,
    /// Recall@K of each evaluated user.
    pub recall: Vec<f64>,
    /// NDCG@K of each evaluated user.
    pub ndcg: Vec<f64>,
    /// HitRate@K (0 or 1) of each evaluated user.
    pub hit_rate: Vec<f64>,
    /// With `keep_top`: the `K` best items of each evaluated user, best first
    /// (`users.len() x k`); `u32::MAX` pads a list when the user has fewer
    /// than `K` candidate items.
    pub top_items: Option<Vec<u32>>,
}

impl Evaluation {
    fn mean(values: &[f64]) -> f64 {
        if values.is_empty() {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / values.len() as f64
        }
    }

    /// Mean Recall@K over the evaluated users (NaN if there are none).
    pub fn mean_recall(&self) -> f64 {
        Self::mean(&self.recall)
    }

    /// Mean NDCG@K over the evaluated users (NaN if there are none).
    pub fn mean_ndcg(&self) -> f64 {
        Self::mean(&self.ndcg)
    }

    /// Mean HitRate@K over the evaluated users (NaN if there are none).
    pub fn mean_hit_rate(&self) -> f64 {
        Self::mean(&self.hit_rate)
    }
}

/// What to evaluate: the embedding snapshots and the split.
#[derive(Debug, Clone, Copy)]
pub struct EvaluateInput<'a> {
    /// Training positives: excluded from every user's ranking.
    pub train: &'a Interactions,
    /// Held-out positives: at most as many users and items as `train`.
    pub test: &'a Interactions,
    /// Users to evaluate; `None` for every user with a held-out positive.
    pub users: Option<&'a [u32]>,
    /// `train.num_users() x dim` floats, row-major.
    pub user_embeddings: &'a [f32],
    /// `train.num_items() x dim` floats, row-major.
    pub item_embeddings: &'a [f32],
    /// Embedding width, at least 1.
    pub dim: usize,
    /// Length of the top lists, in `[1, MAX_K]`.
    pub k: usize,
    /// Whether to return each user's top list.
    pub keep_top: bool,
}

/// Ranks every item for each user and computes Recall@K, NDCG@K and
/// HitRate@K against the held-out positives (see the module docs for the
/// definitions).
///
/// # Errors
/// - [`Error::OutOfRange`]: `dim` is 0, `k` is 0 or above [`MAX_K`], or
///   `test` has more users or items than `train`.
/// - [`Error::LengthMismatch`]: an embedding array is not `rows x dim` long.
/// - [`Error::NonFinite`]: an embedding value is NaN or infinite.
/// - [`Error::IdOutOfRange`]: a user id is out of range.
///
/// # Performance
/// `O(users x items x dim)` multiply-adds over all cores (see the module
/// docs); the inputs are read in place, never copied.
pub fn evaluate(input: &EvaluateInput<'_>) -> Result<Evaluation> {
    let EvaluateInput {
        train,
        test,
        users,
        user_embeddings,
        item_embeddings,
        dim,
        k,
        keep_top,
    } = *input;
    if dim == 0 {
        return Err(Error::OutOfRange {
            name: "dim",
            value: "0".into(),
            expected: "an integer >= 1".into(),
        });
    }
    if k == 0 || k > MAX_K {
        return Err(Error::OutOfRange {
            name: "k",
            value: k.to_string(),
            expected: format!("an integer in [1, {MAX_K}]"),
        });
    }
    let (num_users, num_items) = (train.num_users(), train.num_items());
    if test.num_users() > num_users {
        return Err(Error::OutOfRange {
            name: "test.num_users",
            value: test.num_users().to_string(),
            expected: format!("at most train.num_users ({num_users})"),
        });
    }
    if test.num_items() > num_items {
        return Err(Error::OutOfRange {
            name: "test.num_items",
            value: test.num_items().to_string(),
            expected: format!("at most train.num_items ({num_items})"),
        });
    }
    check_matrix(
        "user_embeddings",
        user_embeddings,
        num_users,
        "num_users",
        dim,
    )?;
    check_matrix(
        "item_embeddings",
        item_embeddings,
        num_items,
        "num_items",
        dim,
    )?;

    let has_test = |u: u32| (u as usize) < test.num_users() && !test.row(u).is_empty();
    let users: Vec<u32> = match users {
        Some(ids) => {
            check_ids("users", ids, num_users as u64)?;
            ids.iter().copied().filter(|&u| has_test(u)).collect()
        }
        None => (0..num_users as u32).filter(|&u| has_test(u)).collect(),
    };

    let panels = pack_panels(item_embeddings, dim);
    let tiles: Vec<TileResult> = users
        .par_chunks(TILE)
        .map_init(
            || Scratch::new(num_items, dim, k),
            |scratch, tile| rank_tile(scratch, tile, train, test, user_embeddings, &panels, dim, k),
        )
        .collect();

    let n = users.len();
    let mut out = Evaluation {
        k,
        users,
        recall: Vec::with_capacity(n),
        ndcg: Vec::with_capacity(n),
        hit_rate: Vec::with_capacity(n),
        top_items: keep_top.then(|| Vec::with_capacity(n * k)),
    };
    for tile in tiles {
        out.recall.extend_from_slice(&tile.recall);
        out.ndcg.extend_from_slice(&tile.ndcg);
        out.hit_rate.extend_from_slice(&tile.hit_rate);
        if let Some(top) = out.top_items.as_mut() {
            top.extend_from_slice(&tile.top);
        }
    }
    Ok(out)
}

/// Checks that `values` is a finite `rows x dim` matrix.
fn check_matrix(
    name: &'static str,
    values: &[f32],
    rows: usize,
    rows_name: &str,
    dim: usize,
) -> Result<()> {
    let expected = rows.checked_mul(dim);
    if expected != Some(values.len()) {
        return Err(Error::LengthMismatch {
            name,
            len: values.len(),
            expected: format!(
                "{rows_name} ({rows}) x dim ({dim}) = {}",
                expected.map_or_else(|| "overflow".to_string(), |e| e.to_string())
            ),
        });
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            name,
            index,
            value: value as f64,
        });
    }
    Ok(())
}

/// Per-thread buffers, reused across tiles.
struct Scratch {
    /// The tile's user rows, dimension-major (`dim x TILE`, zero-padded).
    users: Vec<f32>,
    /// Scores of the tile's users (`TILE x items`).
    scores: Vec<f32>,
    /// The current top list of one user: (score, item).
    top: Vec<(f32, u32)>,
}

impl Scratch {
    fn new(num_items: usize, dim: usize, k: usize) -> Self {
        Scratch {
            users: vec![0.0; TILE * dim],
            scores: vec![0.0; TILE * num_items],
            top: Vec::with_capacity(k),
        }
    }
}

/// Metrics (and top lists) of one tile of users.
struct TileResult {
    recall: Vec<f64>,
    ndcg: Vec<f64>,
    hit_rate: Vec<f64>,
    top: Vec<u32>,
}

#[allow(clippy::too_many_arguments)]
fn rank_tile(
    scratch: &mut Scratch,
    tile: &[u32],
    train: &Interactions,
    test: &Interactions,
    user_embeddings: &[f32],
    panels: &[f32],
    dim: usize,
    k: usize,
) -> TileResult {
    // The tile's rows, dimension-major: users[d * TILE + t] (zero for a short tile).
    scratch.users.fill(0.0);
    for (t, &u) in tile.iter().enumerate() {
        let row = &user_embeddings[u as usize * dim..(u as usize + 1) * dim];
        for (d, &x) in row.iter().enumerate() {
            scratch.users[d * TILE + t] = x;
        }
    }
    score_tile(
        &scratch.users,
        panels,
        dim,
        train.num_items(),
        &mut scratch.scores,
    );

    let num_items = train.num_items();
    let mut result = TileResult {
        recall: Vec::with_capacity(tile.len()),
        ndcg: Vec::with_capacity(tile.len()),
        hit_rate: Vec::with_capacity(tile.len()),
        top: Vec::with_capacity(tile.len() * k),
    };
    for (t, &u) in tile.iter().enumerate() {
        let scores = &scratch.scores[t * num_items..(t + 1) * num_items];
        top_k(scores, train.row(u), k, &mut scratch.top);
        let held_out = test.row(u);
        let mut hits = 0usize;
        let mut dcg = 0.0f64;
        for (rank, &(_, item)) in scratch.top.iter().enumerate() {
            if held_out.binary_search(&item).is_ok() {
                hits += 1;
                dcg += 1.0 / ((rank + 2) as f64).log2();
            }
        }
        let ideal: f64 = (0..k.min(held_out.len()))
            .map(|rank| 1.0 / ((rank + 2) as f64).log2())
            .sum();
        result.recall.push(hits as f64 / held_out.len() as f64);
        result.ndcg.push(dcg / ideal);
        result.hit_rate.push(if hits > 0 { 1.0 } else { 0.0 });
        result.top.extend(scratch.top.iter().map(|&(_, item)| item));
        result
            .top
            .extend(std::iter::repeat_n(u32::MAX, k - scratch.top.len()));
    }
    result
}

/// The `k` best items of `scores` (highest score first, ties by lowest id,
/// NaN last), skipping the sorted `excluded` ids, into `top`.
///
/// # Performance
/// Once the list is full, scores are checked eight at a time against the
/// current `k`-th (a vectorised compare); only a chunk holding a better score
/// is looked at item by item (a binary search in `excluded`, then an `O(k)`
/// insertion). With `n` items that is about `k ln(n / k)` insertions.
fn top_k(scores: &[f32], excluded: &[u32], k: usize, top: &mut Vec<(f32, u32)>) {
    top.clear();
    let n = scores.len();
    let consider = |top: &mut Vec<(f32, u32)>, item: usize| {
        let score = if scores[item].is_nan() {
            f32::NEG_INFINITY
        } else {
            scores[item]
        };
        // Items come in increasing id order, so a tie loses to the list.
        if top.len() == k && score <= top[k - 1].0 {
            return;
        }
        if excluded.binary_search(&(item as u32)).is_ok() {
            return;
        }
        if top.len() == k {
            top.pop();
        }
        // First position whose score is strictly lower: ties stay in id order.
        let at = top.partition_point(|&(s, _)| s >= score);
        top.insert(at, (score, item as u32));
    };
    let mut item = 0;
    while item < n && top.len() < k {
        consider(top, item);
        item += 1;
    }
    while item + 8 <= n {
        let worst = top[k - 1].0;
        let chunk: &[f32; 8] = scores[item..item + 8].try_into().unwrap();
        let mut better = false;
        for &s in chunk {
            better |= s > worst;
        }
        if better {
            for j in item..item + 8 {
                consider(top, j);
            }
        }
        item += 8;
    }
    while item < n {
        consider(top, item);
        item += 1;
    }
}

/// Items per panel: the item matrix is repacked so that dimension `d` of
/// [`PANEL`] consecutive items is contiguous, one AVX2 register (two SSE2 /
/// NEON registers).
const PANEL: usize = 8;

/// The item matrix repacked into panels of [`PANEL`] items: panel `p` holds
/// `dim x PANEL` floats, `panel[d * PANEL + l]` = dimension `d` of item
/// `p * PANEL + l` (zero past the last item).
///
/// # Performance
/// One pass over the matrix; `ceil(items / PANEL) x PANEL x dim` floats.
fn pack_panels(items: &[f32], dim: usize) -> Vec<f32> {
    let num_items = items.len() / dim;
    let panels = num_items.div_ceil(PANEL);
    let mut packed = vec![0.0f32; panels * PANEL * dim];
    for (i, row) in items.chunks_exact(dim).enumerate() {
        let (p, l) = (i / PANEL, i % PANEL);
        let panel = &mut packed[p * PANEL * dim..(p + 1) * PANEL * dim];
        for (d, &x) in row.iter().enumerate() {
            panel[d * PANEL + l] = x;
        }
    }
    packed
}

/// Scores of a tile of [`TILE`] users (`users`, dimension-major:
/// `users[d * TILE + t]`) against every
/// item (`panels`, from [`pack_panels`]):
/// `out[t * num_items + i] = dot(users[t], item i)`, summed in dimension
/// order.
fn score_tile(users: &[f32], panels: &[f32], dim: usize, num_items: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { score_tile_avx2(users, panels, dim, num_items, out) };
            return;
        }
    }
    score_tile_generic(users, panels, dim, num_items, out);
}

/// [`score_tile_generic`] compiled for AVX2 (no FMA, so the rounding is the
/// same as the baseline path's).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn score_tile_avx2(users: &[f32], panels: &[f32], dim: usize, num_items: usize, out: &mut [f32]) {
    score_tile_generic(users, panels, dim, num_items, out);
}

/// The scoring loop: for each panel, `TILE x PANEL` accumulators (one vector
/// register per user), and for each dimension one panel load, one broadcast
/// per user and one multiply and one add per user. Each (user, item) sum runs
/// in dimension order in its own lane, so no reassociation is needed to
/// vectorise it and every instruction set computes the same bits.
#[inline(always)]
fn score_tile_generic(
    users: &[f32],
    panels: &[f32],
    dim: usize,
    num_items: usize,
    out: &mut [f32],
) {
    let users: &[f32] = &users[..TILE * dim];
    for (p, panel) in panels.chunks_exact(PANEL * dim).enumerate() {
        let mut acc = [[0.0f32; PANEL]; TILE];
        // Constant trip counts inside, so the accumulators stay in registers.
        for (x, u) in panel.chunks_exact(PANEL).zip(users.chunks_exact(TILE)) {
            let x: &[f32; PANEL] = x.try_into().unwrap();
            let u: &[f32; TILE] = u.try_into().unwrap();
            for t in 0..TILE {
                for l in 0..PANEL {
                    acc[t][l] += u[t] * x[l];
                }
            }
        }
        let first = p * PANEL;
        if first + PANEL <= num_items {
            for (t, lanes) in acc.iter().enumerate() {
                let row: &mut [f32; PANEL] = (&mut out[t * num_items + first..][..PANEL])
                    .try_into()
                    .unwrap();
                *row = *lanes;
            }
        } else {
            for (t, lanes) in acc.iter().enumerate() {
                let count = num_items - first;
                out[t * num_items + first..t * num_items + num_items]
                    .copy_from_slice(&lanes[..count]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_score(u: &[f32], v: &[f32]) -> f32 {
        let mut sum = 0.0f32;
        for (a, b) in u.iter().zip(v) {
            sum += a * b;
        }
        sum
    }

    #[test]
    fn tile_scores_match_a_dot_product_in_dimension_order() {
        for (dim, n) in [(1, 3), (3, 8), (8, 9), (13, 17), (64, 20)] {
            let items: Vec<f32> = (0..n * dim)
                .map(|j| ((j * 37 % 101) as f32 - 50.0) / 7.0)
                .collect();
            let users: Vec<f32> = (0..TILE * dim)
                .map(|j| ((j * 53 % 89) as f32 - 44.0) / 9.0)
                .collect();
            let panels = pack_panels(&items, dim);
            let mut tile = vec![0.0; TILE * dim];
            for t in 0..TILE {
                for d in 0..dim {
                    tile[d * TILE + t] = users[t * dim + d];
                }
            }
            let mut fast = vec![0.0; TILE * n];
            let mut baseline = vec![0.0; TILE * n];
            score_tile(&tile, &panels, dim, n, &mut fast);
            score_tile_generic(&tile, &panels, dim, n, &mut baseline);
            for t in 0..TILE {
                for i in 0..n {
                    let expected = reference_score(
                        &users[t * dim..(t + 1) * dim],
                        &items[i * dim..(i + 1) * dim],
                    );
                    let got = fast[t * n + i];
                    assert_eq!(
                        got.to_bits(),
                        expected.to_bits(),
                        "dim {dim} user {t} item {i}"
                    );
                    assert_eq!(baseline[t * n + i].to_bits(), expected.to_bits());
                }
            }
        }
    }

    #[test]
    fn top_k_orders_by_score_then_id_and_skips_excluded() {
        let scores = [0.5, 2.0, f32::NAN, 2.0, -1.0, 3.0, 2.0];
        let mut top = Vec::new();
        top_k(&scores, &[5], 3, &mut top);
        assert_eq!(
            top.iter().map(|&(_, i)| i).collect::<Vec<_>>(),
            vec![1, 3, 6]
        );
        top_k(&scores, &[], 10, &mut top);
        assert_eq!(
            top.iter().map(|&(_, i)| i).collect::<Vec<_>>(),
            vec![5, 1, 3, 6, 0, 4, 2]
        );
    }

    #[test]
    fn top_k_equals_a_full_sort_on_long_inputs() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u32
        };
        for (n, k) in [(1000, 20), (37, 5), (64, 64), (300, 1)] {
            // Few distinct values: many ties; some NaN.
            let scores: Vec<f32> = (0..n)
                .map(|_| match next() % 50 {
                    0 => f32::NAN,
                    v => (v % 17) as f32,
                })
                .collect();
            let mut excluded: Vec<u32> = (0..n as u32).filter(|_| next() % 4 == 0).collect();
            excluded.dedup();
            let mut expected: Vec<u32> = (0..n as u32)
                .filter(|i| excluded.binary_search(i).is_err())
                .collect();
            let key = |i: u32| {
                let s = scores[i as usize];
                if s.is_nan() {
                    f32::NEG_INFINITY
                } else {
                    s
                }
            };
            expected.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
            expected.truncate(k);
            let mut top = Vec::new();
            top_k(&scores, &excluded, k, &mut top);
            let got: Vec<u32> = top.iter().map(|&(_, i)| i).collect();
            assert_eq!(got, expected, "n {n} k {k}");
        }
    }

    #[test]
    fn metrics_of_a_known_ranking_and_input_errors() {
        // Two users, four items, dim 1: user 0 ranks items 3 > 2 > 1 > 0, user 1 the reverse.
        let train = Interactions::from_coo(&[0, 1], &[2, 1], Some(2), Some(4)).unwrap();
        let test = Interactions::from_coo(&[0, 0, 1], &[1, 0, 3], Some(2), Some(4)).unwrap();
        let items = [0.0f32, 1.0, 2.0, 3.0];
        let input = EvaluateInput {
            train: &train,
            test: &test,
            users: None,
            user_embeddings: &[1.0, -1.0],
            item_embeddings: &items,
            dim: 1,
            k: 2,
            keep_top: true,
        };
        let e = evaluate(&input).unwrap();
        assert_eq!(e.users, vec![0, 1]);
        // User 0: top [3, 1] (2 is a training item); held out {0, 1}: one hit at rank 2.
        // User 1: top [0, 2]; held out {3}: no hit.
        assert_eq!(e.top_items.as_deref(), Some(&[3, 1, 0, 2][..]));
        assert_eq!(e.recall, vec![0.5, 0.0]);
        assert_eq!(e.hit_rate, vec![1.0, 0.0]);
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((e.ndcg[0] - (1.0 / 3f64.log2()) / ideal).abs() < 1e-12);
        assert_eq!(e.ndcg[1], 0.0);
        assert!((e.mean_recall() - 0.25).abs() < 1e-12);

        let short = EvaluateInput {
            item_embeddings: &items[..3],
            ..input
        };
        assert_eq!(
            evaluate(&short).unwrap_err().to_string(),
            "item_embeddings.length is 3, expected num_items (4) x dim (1) = 4"
        );
        let bad = [0.0f32, f32::INFINITY, 2.0, 3.0];
        let infinite = EvaluateInput {
            item_embeddings: &bad,
            ..input
        };
        assert_eq!(
            evaluate(&infinite).unwrap_err().to_string(),
            "item_embeddings[1] = inf is invalid: values must be finite"
        );
        let zero_k = EvaluateInput { k: 0, ..input };
        assert!(matches!(
            evaluate(&zero_k),
            Err(Error::OutOfRange { name: "k", .. })
        ));
    }
}
