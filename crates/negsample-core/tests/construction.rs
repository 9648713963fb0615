//! Construction of the interaction matrix, the alias tables and samplers:
//! CSR from COO and from CSR agree, rows are sorted and de-duplicated,
//! popularity counts are right, and every `Error` variant is reachable from
//! the public constructors with its exact message (naming the argument and
//! the value).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::TestRng;
use negsample_core::interactions::MAX_IDS;
use negsample_core::sampler::MAX_OUTPUT;
use negsample_core::{AliasTable, Error, Interactions, Proposal, Sampler, MAX_ITEMS};

/// Asserts `result` is the error `expected` with the message `message`.
#[track_caller]
fn assert_error<T: std::fmt::Debug>(result: Result<T, Error>, expected: Error, message: &str) {
    let err = result.unwrap_err();
    assert_eq!(err, expected);
    assert_eq!(err.to_string(), message);
}

fn out_of_range(name: &'static str, value: &str, expected: &str) -> Error {
    Error::OutOfRange {
        name,
        value: value.into(),
        expected: expected.into(),
    }
}

// ------------------------------------------------------------- matrices

/// Random rows as sets, with the COO and CSR inputs that describe them
/// (shuffled, with repeated pairs).
struct RandomInput {
    rows: Vec<BTreeSet<u32>>,
    num_items: usize,
    coo_users: Vec<u32>,
    coo_items: Vec<u32>,
    indptr: Vec<u64>,
    indices: Vec<u32>,
}

fn random_input(rng: &mut TestRng) -> RandomInput {
    let num_users = rng.below(12) as usize;
    let num_items = 1 + rng.below(30) as usize;
    let density = rng.unit() * 0.6;
    let mut rows = vec![BTreeSet::new(); num_users];
    let (mut coo_users, mut coo_items) = (Vec::new(), Vec::new());
    let (mut indptr, mut indices) = (vec![0u64], Vec::new());
    for (u, row) in rows.iter_mut().enumerate() {
        let mut row_input = Vec::new();
        for i in 0..num_items {
            if rng.chance(density) {
                row.insert(i as u32);
                let copies = 1 + (rng.below(4) == 0) as usize;
                for _ in 0..copies {
                    row_input.push(i as u32);
                    coo_users.push(u as u32);
                    coo_items.push(i as u32);
                }
            }
        }
        // Rows of the CSR input in a random order.
        for j in (1..row_input.len()).rev() {
            row_input.swap(j, rng.below(j as u64 + 1) as usize);
        }
        indices.extend_from_slice(&row_input);
        indptr.push(indices.len() as u64);
    }
    for j in (1..coo_users.len()).rev() {
        let r = rng.below(j as u64 + 1) as usize;
        coo_users.swap(j, r);
        coo_items.swap(j, r);
    }
    RandomInput {
        rows,
        num_items,
        coo_users,
        coo_items,
        indptr,
        indices,
    }
}

#[test]
fn coo_and_csr_agree_with_the_rows() {
    let mut rng = TestRng::new(17);
    for case in 0..500 {
        let input = random_input(&mut rng);
        let num_users = input.rows.len();
        let coo = Interactions::from_coo(
            &input.coo_users,
            &input.coo_items,
            Some(num_users),
            Some(input.num_items),
        )
        .unwrap();
        let csr =
            Interactions::from_csr(&input.indptr, &input.indices, Some(input.num_items)).unwrap();
        assert_eq!(coo, csr, "case {case}");

        assert_eq!(coo.num_users(), num_users);
        assert_eq!(coo.num_items(), input.num_items);
        let nnz: usize = input.rows.iter().map(BTreeSet::len).sum();
        assert_eq!(coo.nnz(), nnz);
        assert_eq!(coo.indptr().len(), num_users + 1);
        assert_eq!(coo.indptr()[num_users], nnz as u64);
        let mut popularity = vec![0u32; input.num_items];
        let mut j = 0;
        for (u, row) in input.rows.iter().enumerate() {
            let want: Vec<u32> = row.iter().copied().collect();
            assert_eq!(coo.row(u as u32), &want[..], "case {case} user {u}");
            assert_eq!(coo.indptr()[u], j as u64);
            for &i in row {
                popularity[i as usize] += 1;
                assert_eq!(coo.user_of(j), u as u32, "case {case}: interaction {j}");
                j += 1;
            }
            for i in 0..input.num_items as u32 {
                assert_eq!(coo.contains(u as u32, i), row.contains(&i));
            }
        }
        assert_eq!(coo.indices().len(), nnz);
        assert_eq!(coo.popularity(), popularity, "case {case}");
    }
}

#[test]
fn counts_default_to_the_largest_id_plus_one() {
    let m = Interactions::from_coo(&[4, 1, 4], &[2, 7, 2], None, None).unwrap();
    assert_eq!((m.num_users(), m.num_items(), m.nnz()), (5, 8, 2));
    assert_eq!(m.row(4), &[2]);
    assert_eq!(m.row(0), &[] as &[u32]);
    assert_eq!(m.popularity(), vec![0, 0, 1, 0, 0, 0, 0, 1]);

    // Explicit counts may exceed the ids.
    let m = Interactions::from_coo(&[0], &[0], Some(3), Some(10)).unwrap();
    assert_eq!((m.num_users(), m.num_items()), (3, 10));

    let m = Interactions::from_coo(&[], &[], None, None).unwrap();
    assert_eq!((m.num_users(), m.num_items(), m.nnz()), (0, 0, 0));

    let m = Interactions::from_csr(&[0, 2, 2, 3], &[6, 1, 6], None).unwrap();
    assert_eq!((m.num_users(), m.num_items(), m.nnz()), (3, 7, 3));
    assert_eq!(m.row(0), &[1, 6]);
    let m = Interactions::from_csr(&[0], &[], None).unwrap();
    assert_eq!((m.num_users(), m.num_items(), m.nnz()), (0, 0, 0));
    let m = Interactions::from_csr(&[0, 0, 0], &[], Some(4)).unwrap();
    assert_eq!((m.num_users(), m.num_items(), m.nnz()), (2, 4, 0));
}

#[test]
fn duplicates_are_kept_once_and_rows_sorted() {
    let m = Interactions::from_coo(&[1, 1, 1, 0, 1, 1], &[9, 3, 9, 5, 3, 0], None, None).unwrap();
    assert_eq!(m.row(0), &[5]);
    assert_eq!(m.row(1), &[0, 3, 9]);
    assert_eq!(m.nnz(), 4);
    assert_eq!(m.indptr(), &[0, 1, 4]);
    assert_eq!(m.indices(), &[5, 0, 3, 9]);
    assert_eq!(m.popularity()[3], 1, "a repeated pair counts once");
    let c = Interactions::from_csr(&[0, 1, 6], &[5, 9, 3, 9, 3, 0], None).unwrap();
    assert_eq!(m, c);
}

// ------------------------------------------------- errors: interactions

#[test]
fn from_coo_errors() {
    assert_error(
        Interactions::from_coo(&[0, 1], &[1], None, None),
        Error::LengthMismatch {
            name: "items",
            len: 1,
            expected: "users.length (2)".into(),
        },
        "items.length is 1, expected users.length (2)",
    );
    assert_error(
        // Ids past every possible count (a binding's negative ids) are
        // named, and not taken for a count.
        Interactions::from_coo(&[0, u32::MAX - 2, 2], &[0, 0, 0], None, None),
        Error::IdOutOfRange {
            name: "users",
            index: 1,
            value: 4294967293,
            bound: 3,
        },
        "users[1] = 4294967293 is out of range: ids must be in [0, 3)",
    );
    assert_error(
        Interactions::from_coo(&[0, 3], &[1, 1], Some(3), None),
        Error::IdOutOfRange {
            name: "users",
            index: 1,
            value: 3,
            bound: 3,
        },
        "users[1] = 3 is out of range: ids must be in [0, 3)",
    );
    assert_error(
        Interactions::from_coo(&[0, 1, 1], &[0, 4, 5], None, Some(5)),
        Error::IdOutOfRange {
            name: "items",
            index: 2,
            value: 5,
            bound: 5,
        },
        "items[2] = 5 is out of range: ids must be in [0, 5)",
    );
    assert_error(
        Interactions::from_coo(&[0], &[u32::MAX], None, None),
        Error::IdOutOfRange {
            name: "items",
            index: 0,
            value: 4294967295,
            bound: 0,
        },
        "items[0] = 4294967295 is out of range: ids must be in [0, 0)",
    );
    assert_error(
        Interactions::from_coo(&[], &[], Some(MAX_IDS + 1), None),
        out_of_range("num_users", "2147483648", "at most 2147483647"),
        "num_users must be at most 2147483647, got 2147483648",
    );
    assert_error(
        Interactions::from_coo(&[], &[], None, Some(usize::MAX)),
        out_of_range("num_items", "18446744073709551615", "at most 2147483647"),
        "num_items must be at most 2147483647, got 18446744073709551615",
    );
    // The largest possible id implies 2^31 users: one too many.
    assert_error(
        Interactions::from_coo(&[i32::MAX as u32], &[0], None, None),
        out_of_range("num_users", "2147483648", "at most 2147483647"),
        "num_users must be at most 2147483647, got 2147483648",
    );
}

#[test]
fn from_csr_errors() {
    assert_error(
        Interactions::from_csr(&[], &[], None),
        Error::InvalidIndptr {
            index: 0,
            value: 0,
            expected: "at least one offset (indptr.length = num_users + 1)".into(),
        },
        "indptr[0] = 0 is invalid: expected at least one offset (indptr.length = num_users + 1)",
    );
    assert_error(
        Interactions::from_csr(&[1, 2], &[0, 1], None),
        Error::InvalidIndptr {
            index: 0,
            value: 1,
            expected: "0".into(),
        },
        "indptr[0] = 1 is invalid: expected 0",
    );
    assert_error(
        Interactions::from_csr(&[0, 2, 1], &[0, 1], None),
        Error::InvalidIndptr {
            index: 2,
            value: 1,
            expected: "a value >= indptr[1] = 2".into(),
        },
        "indptr[2] = 1 is invalid: expected a value >= indptr[1] = 2",
    );
    assert_error(
        Interactions::from_csr(&[0, 1, 1], &[0, 1], None),
        Error::InvalidIndptr {
            index: 2,
            value: 1,
            expected: "indices.length = 2".into(),
        },
        "indptr[2] = 1 is invalid: expected indices.length = 2",
    );
    assert_error(
        Interactions::from_csr(&[0, 3], &[0, 1], None),
        Error::InvalidIndptr {
            index: 1,
            value: 3,
            expected: "indices.length = 2".into(),
        },
        "indptr[1] = 3 is invalid: expected indices.length = 2",
    );
    assert_error(
        Interactions::from_csr(&[0, 2], &[0, 7], Some(5)),
        Error::IdOutOfRange {
            name: "indices",
            index: 1,
            value: 7,
            bound: 5,
        },
        "indices[1] = 7 is out of range: ids must be in [0, 5)",
    );
    assert_error(
        Interactions::from_csr(&[0, 2], &[0, u32::MAX], None),
        Error::IdOutOfRange {
            name: "indices",
            index: 1,
            value: 4294967295,
            bound: 1,
        },
        "indices[1] = 4294967295 is out of range: ids must be in [0, 1)",
    );
    assert_error(
        Interactions::from_csr(&[0], &[], Some(MAX_IDS + 1)),
        out_of_range("num_items", "2147483648", "at most 2147483647"),
        "num_items must be at most 2147483647, got 2147483648",
    );
}

// ------------------------------------------------- errors: alias tables

#[test]
fn alias_table_errors() {
    let empty = "num_items is 0: the catalogue has no items";
    assert_error(AliasTable::uniform(0), Error::EmptyCatalogue, empty);
    assert_error(AliasTable::from_weights(&[]), Error::EmptyCatalogue, empty);
    assert_error(
        AliasTable::uniform(MAX_ITEMS + 1),
        out_of_range("num_items", "2147483648", "at most 2147483647"),
        "num_items must be at most 2147483647, got 2147483648",
    );
    assert_error(
        AliasTable::from_weights(&[1.0, -0.5, -1.0]),
        Error::InvalidWeight {
            index: 1,
            value: -0.5,
        },
        "weights[1] = -0.5 is invalid: weights must be finite and >= 0",
    );
    assert_error(
        AliasTable::from_weights(&[1.0, 2.0, f64::INFINITY]),
        Error::InvalidWeight {
            index: 2,
            value: f64::INFINITY,
        },
        "weights[2] = inf is invalid: weights must be finite and >= 0",
    );
    assert_error(
        AliasTable::from_weights(&[f64::NEG_INFINITY]),
        Error::InvalidWeight {
            index: 0,
            value: f64::NEG_INFINITY,
        },
        "weights[0] = -inf is invalid: weights must be finite and >= 0",
    );
    // NaN != NaN, so compare the message and the index only.
    let err = AliasTable::from_weights(&[f64::NAN, 1.0]).unwrap_err();
    assert!(matches!(err, Error::InvalidWeight { index: 0, value } if value.is_nan()));
    assert_eq!(
        err.to_string(),
        "weights[0] = NaN is invalid: weights must be finite and >= 0"
    );
    assert_error(
        AliasTable::from_weights(&[0.0, -0.0, 0.0]),
        Error::AllZeroWeights,
        "weights are all zero: at least one item must have a positive weight",
    );
}

#[test]
fn alias_table_masses_follow_the_weights() {
    // The realised masses are within 2^-32 per slot of the requested
    // probabilities, sum to n * 2^32, and are 0 exactly for weight 0
    // (including -0.0).
    let mut rng = TestRng::new(8);
    for _ in 0..200 {
        let n = 1 + rng.below(300) as usize;
        let mut w: Vec<f64> = (0..n)
            .map(|_| match rng.below(6) {
                0 => 0.0,
                1 => -0.0,
                2 => rng.unit() * 1e-9,
                _ => rng.unit() * 100.0,
            })
            .collect();
        w[rng.below(n as u64) as usize] = 1.0;
        let table = AliasTable::from_weights(&w).unwrap();
        assert_eq!(table.len(), n);
        assert!(!table.is_uniform());
        let masses = table.masses();
        assert_eq!(masses.iter().sum::<u64>(), (n as u64) << 32);
        let total: f64 = w.iter().sum();
        for (i, (&wi, &mi)) in w.iter().zip(&masses).enumerate() {
            let realised = mi as f64 / (n as f64 * 4_294_967_296.0);
            assert!(
                (realised - wi / total).abs() <= 4.0 / 4_294_967_296.0,
                "item {i}"
            );
            assert_eq!(mi == 0, wi == 0.0, "item {i}: weight {wi}, mass {mi}");
        }
    }
    let u = AliasTable::uniform(7).unwrap();
    assert!(u.is_uniform() && !u.is_empty());
    assert_eq!(u.masses(), vec![1u64 << 32; 7]);
}

/// Regression: a positive weight `w` whose ratio `w / max` underflows to
/// 0.0 used to go on no work list, so its slot kept threshold 0 / alias 0
/// and item 0 got that whole slot (with `[5e-324, 3.0]`, item 0 was drawn
/// half of the time). It must keep its own slot, with the floor threshold.
#[test]
fn underflowing_positive_weight_keeps_its_own_slot() {
    let table = AliasTable::from_weights(&[5e-324, 3.0]).unwrap();
    let m = table.masses();
    // Its true share is ~1.6e-324: a threshold of 1 (the documented floor
    // for a positive weight) is the most it should get.
    assert!(
        m[0] <= 16,
        "weight 5e-324 next to 3.0 has mass {} of {}",
        m[0],
        2u64 << 32
    );
    let table = AliasTable::from_weights(&[3.0, 5e-324, 1.0]).unwrap();
    let m = table.masses();
    assert!(m[1] >= 1, "a positive weight must keep some mass: {m:?}");
    assert!(m[1] <= 16, "{m:?}");
}

// ----------------------------------------------------- errors: samplers

fn small_matrix() -> Arc<Interactions> {
    // 3 users, 4 items; user 2 has every item.
    Arc::new(
        Interactions::from_coo(&[0, 1, 2, 2, 2, 2], &[1, 3, 0, 1, 2, 3], Some(3), Some(4)).unwrap(),
    )
}

#[test]
fn proposals_by_name() {
    assert_eq!(
        Proposal::named("uniform", Some(2.0), None),
        Ok(Proposal::Uniform)
    );
    assert_eq!(
        Proposal::named("popularity", None, None),
        Ok(Proposal::Popularity { alpha: 0.75 })
    );
    assert_eq!(
        Proposal::named("popularity", Some(0.5), None),
        Ok(Proposal::Popularity { alpha: 0.5 })
    );
    assert_eq!(
        Proposal::named("weights", None, Some(vec![1.0, 2.0])),
        Ok(Proposal::Weights(vec![1.0, 2.0]))
    );
    let missing = Proposal::named("weights", None, None).unwrap_err();
    assert!(matches!(
        missing,
        Error::OutOfRange {
            name: "weights",
            ..
        }
    ));
    let unknown = Proposal::named("zipf", None, None).unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "proposal must be 'uniform', 'popularity' or 'weights', got 'zipf'"
    );
}

#[test]
fn sampler_construction_errors() {
    let empty = "num_items is 0: the catalogue has no items";
    let no_items = Arc::new(Interactions::from_coo(&[], &[], Some(3), Some(0)).unwrap());
    for p in [
        Proposal::Uniform,
        Proposal::Popularity { alpha: 0.75 },
        Proposal::Weights(vec![]),
    ] {
        assert_error(
            Sampler::new(no_items.clone(), &p, 0),
            Error::EmptyCatalogue,
            empty,
        );
    }
    let m = small_matrix();
    for (alpha, shown) in [
        (-1.0, "-1"),
        (-0.25, "-0.25"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
    ] {
        assert_error(
            Sampler::new(m.clone(), &Proposal::Popularity { alpha }, 0),
            out_of_range("alpha", shown, "a finite number >= 0"),
            &format!("alpha must be a finite number >= 0, got {shown}"),
        );
    }
    // Nobody interacted with anything: popularity has no mass.
    let nobody = Arc::new(Interactions::from_coo(&[], &[], Some(2), Some(4)).unwrap());
    assert_error(
        Sampler::new(nobody, &Proposal::Popularity { alpha: 0.75 }, 0),
        Error::AllZeroWeights,
        "weights are all zero: at least one item must have a positive weight",
    );
    assert_error(
        Sampler::new(m.clone(), &Proposal::Weights(vec![1.0, 2.0]), 0),
        Error::LengthMismatch {
            name: "weights",
            len: 2,
            expected: "num_items (4)".into(),
        },
        "weights.length is 2, expected num_items (4)",
    );
    assert_error(
        Sampler::new(m.clone(), &Proposal::Weights(vec![1.0, 2.0, -3.0, 4.0]), 0),
        Error::InvalidWeight {
            index: 2,
            value: -3.0,
        },
        "weights[2] = -3 is invalid: weights must be finite and >= 0",
    );
    assert_error(
        Sampler::new(m.clone(), &Proposal::Weights(vec![0.0; 4]), 0),
        Error::AllZeroWeights,
        "weights are all zero: at least one item must have a positive weight",
    );
    // alpha = 0 is allowed: every item someone liked weighs the same.
    let s = Sampler::new(m, &Proposal::Popularity { alpha: 0.0 }, 0).unwrap();
    assert!((0..4).all(|i| (s.probability(i) - 0.25).abs() < 1e-12));
}

#[test]
fn sampling_call_errors() {
    let s = Sampler::new(small_matrix(), &Proposal::Uniform, 0).unwrap();
    let mut out = vec![0u32; 6];
    assert_error(
        s.negatives_into(&[0, 1], 0, 0, &mut out[..0]),
        out_of_range("k", "0", "an integer >= 1"),
        "k must be an integer >= 1, got 0",
    );
    assert_error(
        s.negatives_into(&[0, 1], MAX_OUTPUT, 0, &mut out),
        out_of_range(
            "k",
            "2147483647",
            "at most 1073741823 for 2 users (the output holds at most 2147483647 rows)",
        ),
        "k must be at most 1073741823 for 2 users (the output holds at most 2147483647 rows), got 2147483647",
    );
    let err = s.negatives_into(&[0, 1], 3, 0, &mut out[..5]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                name: "out",
                len: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("out.length is 5, expected 6"),
        "{err}"
    );
    assert_error(
        s.negatives_into(&[0, 9], 3, 0, &mut out),
        Error::IdOutOfRange {
            name: "users",
            index: 1,
            value: 9,
            bound: 3,
        },
        "users[1] = 9 is out of range: ids must be in [0, 3)",
    );
    assert_error(
        s.negatives_into(&[0, 2], 3, 0, &mut out),
        Error::NoNegative { user: 2 },
        "user 2 has no possible negative: it has interacted with every item that has a positive weight",
    );
    assert_error(
        s.check_users(&[1, 0, 3]),
        Error::IdOutOfRange {
            name: "users",
            index: 2,
            value: 3,
            bound: 3,
        },
        "users[2] = 3 is out of range: ids must be in [0, 3)",
    );
    assert_eq!(s.check_users(&[0, 1, 1]), Ok(()));
    assert_eq!(Sampler::output_len(0, 5), Ok(0));
    assert_eq!(Sampler::output_len(3, 5), Ok(15));
    assert_eq!(Sampler::output_len(1, MAX_OUTPUT), Ok(MAX_OUTPUT));
    assert!(Sampler::output_len(usize::MAX, 2).is_err());
}

/// Regression: the row count of a pointwise batch, `users.len() * (k + 1)`,
/// used to be checked as if `k + 1` had been given, so the error reported
/// `k + 1` and a bound for it. It must report the `k` given and the largest
/// `k` that fits.
#[test]
fn pointwise_k_error_reports_the_k_given() {
    let s = Sampler::new(small_matrix(), &Proposal::Uniform, 0).unwrap();
    let k = MAX_OUTPUT / 2; // 1073741823: 2 * (k + 1) = 2^31 rows, one too many
    let err = s.pointwise(&[0, 1], &[1, 3], k, 0).unwrap_err();
    let message = err.to_string();
    assert!(message.ends_with("got 1073741823"), "{message}");
    assert!(message.contains("at most 1073741822"), "{message}");
}

#[test]
fn proposal_probabilities_are_reported() {
    // Popularity^alpha over the matrix's counts: items 0..4 liked by 1, 2,
    // 3, 0 users; the probabilities and their logs follow count^alpha.
    let m = Arc::new(
        Interactions::from_coo(&[0, 0, 1, 0, 1, 2], &[0, 1, 1, 2, 2, 2], Some(3), Some(4)).unwrap(),
    );
    let alpha = 0.75f64;
    let w: Vec<f64> = [1.0f64, 2.0, 3.0, 0.0]
        .iter()
        .map(|c| c.powf(alpha))
        .collect();
    let total: f64 = w.iter().sum();
    let s = Sampler::new(m, &Proposal::Popularity { alpha }, 1).unwrap();
    let logs = s.log_probabilities();
    assert_eq!(logs.len(), 4);
    for i in 0..4u32 {
        let want = w[i as usize] / total;
        assert!((s.probability(i) - want).abs() < 1e-9, "item {i}");
        if want > 0.0 {
            assert!(
                (logs[i as usize] as f64 - want.ln()).abs() < 1e-6,
                "item {i}"
            );
        } else {
            assert_eq!(logs[i as usize], f32::NEG_INFINITY);
        }
    }
    assert!(((0..4).map(|i| s.probability(i)).sum::<f64>() - 1.0).abs() < 1e-12);
    assert_eq!(s.seed(), 1);
    assert_eq!(s.table().len(), 4);
    assert_eq!(s.interactions().nnz(), 6);
}
