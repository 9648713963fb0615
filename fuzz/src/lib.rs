//! Fuzz harnesses of the negsample engine, shared by `cargo fuzz` and by the
//! core crate's ordinary tests.
//!
//! Each harness is a function `fn(&[u8])`: it decodes the bytes into a call
//! of one engine entry point that takes outside data, makes the call, and
//! checks the call's contract with an oracle written here, independently of
//! the engine:
//!
//! - the call returns `Ok` or an `Err` (a panic is a finding; libFuzzer
//!   reports it as a crash, and the test replay fails on it);
//! - an error is exactly the error the documented checks predict (variant,
//!   argument name, position and value);
//! - a result satisfies the engine's invariants (rows sorted and unique;
//!   masses sum to `n * 2^32`; no negative is a positive of its user; batch
//!   layouts; nothing written when a call fails; same call, same output).
//!
//! The same file is compiled twice: as the library of the `fuzz/` crate
//! (whose `fuzz_targets/*.rs` are three-line wrappers), and, through a
//! `#[path]` module, into `crates/negsample-core/tests/fuzz_regressions.rs`,
//! which replays the saved regressions and corpora and a few thousand
//! generated inputs under plain `cargo test`. So the harnesses depend on
//! `negsample_core` and `std` only.
//!
//! Sizes are bounded (at most 64 users, 64 items, 2^15 output rows, ids
//! near their bounds) so that one execution takes microseconds and a run of
//! a minute covers millions of inputs. Adding a capability: write one more
//! `pub fn name(data: &[u8]) -> Outcome` here, add it to [`TARGETS`], and add
//! `fuzz_targets/name.rs` plus its `[[bin]]` in `fuzz/Cargo.toml` (see
//! RELIABILITY.md).

// The harnesses are driven by untrusted bytes: every slice access below goes
// through `Input`, which never panics on short input.

use std::collections::BTreeSet;
use std::sync::Arc;

use negsample_core::batch::{PairwiseOut, PointwiseOut};
use negsample_core::sampler::MAX_OUTPUT;
use negsample_core::{AliasTable, Error, Interactions, Proposal, Sampler};

mod files;
pub use files::{open_file, read_adjacency_bytes, read_delimited_bytes, read_movielens};

/// What a harness did with an input (tests count these to show that both
/// the success and the error paths are reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded and its result passed every check.
    Accepted,
    /// The call failed with exactly the predicted error.
    Rejected,
    /// The input decoded to a setup the harness does not call (a sampler
    /// that could not be built, or an output too large to allocate here).
    Skipped,
}

/// A harness: decodes, calls, checks; panics on any violation.
pub type Harness = fn(&[u8]) -> Outcome;

/// Every harness, by the name of its `cargo fuzz` target.
pub const TARGETS: &[(&str, Harness)] = &[
    ("csr_coo", csr_coo),
    ("csr_csr", csr_csr),
    ("alias_weights", alias_weights),
    ("sample_negatives", sample_negatives),
    ("batches", batches),
    ("read_adjacency", read_adjacency_bytes),
    ("read_delimited", read_delimited_bytes),
    ("read_movielens", read_movielens),
    ("open_file", open_file),
];

/// The largest output (rows) a harness allocates.
pub const MAX_ROWS: usize = 1 << 15;

// ------------------------------------------------------------- the decoder

/// Reads values from fuzz bytes; past the end every read gives zeros, so a
/// short input is simply a small call.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// Eight bytes, little endian.
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, j| acc | (self.u8() as u64) << (8 * j))
    }

    /// Four bytes, little endian.
    pub fn u32(&mut self) -> u32 {
        (0..4).fold(0u32, |acc, j| acc | (self.u8() as u32) << (8 * j))
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else {
            self.u32() as usize % n
        }
    }

    /// Whether any input is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// An id for an array bounded by `bound`: mostly in range, sometimes
    /// just outside it, sometimes extreme. `allow_huge` permits large
    /// positive ids (only where an explicit count rejects them before
    /// anything is allocated).
    pub fn id(&mut self, bound: usize, allow_huge: bool) -> i32 {
        let bound = bound.max(1) as i64;
        let v = match self.u8() {
            0..=229 => self.below(bound as usize) as i64,
            230..=239 => bound,
            240..=244 => -1,
            245..=247 => i32::MIN as i64,
            248..=251 if allow_huge => i32::MAX as i64,
            _ if allow_huge => self.u32() as i32 as i64,
            _ => -(self.u8() as i64) - 1,
        };
        v as i32
    }

    /// A weight: ordinary values, and the floating-point corner cases
    /// (zero, negative zero, NaN, infinities, subnormals, huge, tiny).
    pub fn weight(&mut self) -> f64 {
        match self.u8() % 24 {
            0 | 1 => 0.0,
            2 => -0.0,
            3 => f64::NAN,
            4 => f64::INFINITY,
            5 => f64::NEG_INFINITY,
            6 => f64::MIN_POSITIVE,
            7 => 5e-324,
            8 => f64::MIN_POSITIVE / 3.0,
            9 => f64::MAX,
            10 => f64::MAX / 3.0,
            11 => 1e300,
            12 => 1e-300,
            13 => -1.0,
            14 => f64::from_bits(self.u64()),
            15 => f64::EPSILON,
            _ => self.u8() as f64 / 16.0 + 1.0,
        }
    }
}

// ------------------------------------------------------------ the oracle

// The harnesses generate ids as JavaScript passes them (`Int32Array`, so
// negative ids occur) and hand them to the engine as the binding does: the
// same bits read as `u32`, so a negative id reads as 2^31 or more, which
// every engine bound rejects. The oracle predicts errors in the JavaScript
// view, and the engine's errors are compared after the binding's mapping
// back to it (`js_error` in crates/negsample-node/src/convert.rs).

/// The ids of an `Int32Array` as the binding gives them to the engine.
fn engine_ids(ids: &[i32]) -> Vec<u32> {
    ids.iter().map(|&v| v as u32).collect()
}

/// An engine error as the binding reports it: an id above `i32::MAX` (a
/// negative JavaScript id read as `u32`) is shown as that negative id.
fn as_js(error: Error) -> Error {
    match error {
        Error::IdOutOfRange {
            name,
            index,
            value,
            bound,
        } if value > i32::MAX as i64 => {
            let bits = u32::try_from(value).expect("an id value fits u32");
            Error::IdOutOfRange {
                name,
                index,
                value: bits as i32 as i64,
                bound,
            }
        }
        other => other,
    }
}

/// The first id in `ids` outside `[0, bound)`, as the engine reports it.
fn first_bad_id(name: &'static str, ids: &[i32], bound: usize) -> Option<Error> {
    ids.iter()
        .position(|&v| v < 0 || v as i64 >= bound as i64)
        .map(|index| Error::IdOutOfRange {
            name,
            index,
            value: ids[index] as i64,
            bound: bound as u64,
        })
}

/// The count the engine must use: the given one, or the largest id + 1.
fn resolved(given: Option<usize>, ids: &[i32]) -> usize {
    given.unwrap_or_else(|| ids.iter().map(|&v| v.max(-1) as i64 + 1).max().unwrap_or(0) as usize)
}

/// The rows of `num_users` users holding `pairs` (user, item).
fn rows_of(num_users: usize, pairs: &BTreeSet<(u32, u32)>) -> Vec<BTreeSet<u32>> {
    let mut rows = vec![BTreeSet::new(); num_users];
    for &(u, i) in pairs {
        rows[u as usize].insert(i);
    }
    rows
}

/// Checks the structure of a matrix and that its rows are `rows`.
fn check_matrix(m: &Interactions, num_items: usize, rows: &[BTreeSet<u32>]) {
    assert_eq!(m.num_users(), rows.len(), "num_users");
    assert_eq!(m.num_items(), num_items, "num_items");
    let indptr = m.indptr();
    assert_eq!(indptr.len(), rows.len() + 1);
    assert_eq!(indptr[0], 0);
    assert_eq!(*indptr.last().unwrap(), m.indices().len() as u64);
    let mut nnz = 0;
    for (u, expected) in rows.iter().enumerate() {
        assert!(indptr[u] <= indptr[u + 1], "indptr decreases at {u}");
        let row = m.row(u as u32);
        assert!(
            row.windows(2).all(|w| w[0] < w[1]),
            "row {u} not sorted and unique: {row:?}"
        );
        assert!(row.iter().all(|&i| (i as usize) < num_items));
        assert!(row.iter().copied().eq(expected.iter().copied()), "row {u}");
        for &i in row {
            assert!(m.contains(u as u32, i));
        }
        nnz += row.len();
    }
    assert_eq!(m.nnz(), nnz);
    for j in 0..m.nnz() {
        let u = m.user_of(j) as usize;
        assert!(indptr[u] as usize <= j && j < indptr[u + 1] as usize);
    }
    let popularity = m.popularity();
    assert_eq!(popularity.len(), num_items);
    assert_eq!(popularity.iter().map(|&c| c as usize).sum::<usize>(), nnz);
    // Round trip through the CSR arrays.
    let again = Interactions::from_csr(indptr, m.indices(), Some(num_items)).expect("round trip");
    assert_eq!(&again, m, "CSR round trip");
}

// -------------------------------------------------------------- harnesses

/// `Interactions::from_coo` on arbitrary pairs, counts and lengths.
pub fn csr_coo(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let flags = input.u8();
    let num_users = (flags & 1 != 0).then(|| input.below(65));
    let num_items = (flags & 2 != 0).then(|| input.below(65));
    let len = input.below(257);
    let other_len = if flags & 4 != 0 {
        input.below(257)
    } else {
        len
    };
    let bounds = (num_users.unwrap_or(48), num_items.unwrap_or(48));
    let users: Vec<i32> = (0..len)
        .map(|_| input.id(bounds.0, num_users.is_some()))
        .collect();
    let items: Vec<i32> = (0..other_len)
        .map(|_| input.id(bounds.1, num_items.is_some()))
        .collect();

    let result = Interactions::from_coo(
        &engine_ids(&users),
        &engine_ids(&items),
        num_users,
        num_items,
    )
    .map_err(as_js);
    let expected_error = if users.len() != items.len() {
        Some(Error::LengthMismatch {
            name: "items",
            len: items.len(),
            expected: format!("users.length ({})", users.len()),
        })
    } else {
        let (nu, ni) = (resolved(num_users, &users), resolved(num_items, &items));
        first_bad_id("users", &users, nu).or_else(|| first_bad_id("items", &items, ni))
    };
    match (result, expected_error) {
        (Err(e), Some(expected)) => {
            assert_eq!(e, expected);
            Outcome::Rejected
        }
        (Err(e), None) => panic!("unexpected error: {e}"),
        (Ok(m), Some(expected)) => panic!("expected {expected}, got {m:?}"),
        (Ok(m), None) => {
            let nu = resolved(num_users, &users);
            let ni = resolved(num_items, &items);
            let mut rows = vec![BTreeSet::new(); nu];
            for (&u, &i) in users.iter().zip(&items) {
                rows[u as usize].insert(i as u32);
            }
            check_matrix(&m, ni, &rows);
            Outcome::Accepted
        }
    }
}

/// `Interactions::from_csr` on arbitrary offsets (monotone or not, past
/// the end, huge) and item ids. Offsets are `u64`: a negative offset cannot
/// reach the engine (the binding rejects it when it reads `indptr`), so
/// none is generated here (negative ids still are).
pub fn csr_csr(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let flags = input.u8();
    let num_items = (flags & 1 != 0).then(|| input.below(65));
    let num_users = input.below(40);
    let mut indptr = Vec::with_capacity(num_users + 1);
    let mut running = 0u64;
    if flags & 2 != 0 && num_users == 0 {
        // An empty indptr.
    } else {
        indptr.push(0);
        for _ in 0..num_users {
            running += input.below(9) as u64;
            indptr.push(running);
        }
    }
    let len = match flags >> 5 {
        0 => running as usize + 1,
        1 => (running.max(1) - 1) as usize,
        _ => running as usize,
    };
    // Damage some offsets.
    for _ in 0..(flags >> 2 & 3) {
        if !indptr.is_empty() {
            let j = input.below(indptr.len());
            indptr[j] = match input.u8() % 4 {
                0 => i64::MAX as u64,
                1 => indptr[j].wrapping_add(1),
                2 => indptr[j].wrapping_sub(1),
                _ => input.u64(),
            };
        }
    }
    let indices: Vec<i32> = (0..len.min(512))
        .map(|_| input.id(num_items.unwrap_or(48), num_items.is_some()))
        .collect();

    let result = Interactions::from_csr(&indptr, &engine_ids(&indices), num_items).map_err(as_js);
    let structure_ok = !indptr.is_empty()
        && indptr[0] == 0
        && indptr.windows(2).all(|w| w[0] <= w[1])
        && *indptr.last().unwrap() == indices.len() as u64;
    match result {
        Err(Error::InvalidIndptr { index, value, .. }) => {
            assert!(!structure_ok, "InvalidIndptr on a valid indptr");
            // The first failing check, in the documented order.
            let expected = if indptr.is_empty() {
                (0, 0)
            } else if indptr[0] != 0 {
                (0, indptr[0])
            } else if let Some(j) = indptr.windows(2).position(|w| w[1] < w[0]) {
                (j + 1, indptr[j + 1])
            } else {
                (indptr.len() - 1, *indptr.last().unwrap())
            };
            // The error's value is an i64: compared by its bits, so an
            // offset above i64::MAX (not expressible from JavaScript, whose
            // offsets stop at 2^53) must still be the offset itself.
            assert_eq!((index, value as u64), expected);
            Outcome::Rejected
        }
        Err(e) => {
            assert!(structure_ok, "{e} on an invalid indptr");
            let ni = resolved(num_items, &indices);
            assert_eq!(Some(e), first_bad_id("indices", &indices, ni));
            Outcome::Rejected
        }
        Ok(m) => {
            assert!(structure_ok, "accepted an invalid indptr {indptr:?}");
            let ni = resolved(num_items, &indices);
            assert_eq!(first_bad_id("indices", &indices, ni), None);
            let rows: Vec<BTreeSet<u32>> = indptr
                .windows(2)
                .map(|w| {
                    indices[w[0] as usize..w[1] as usize]
                        .iter()
                        .map(|&i| i as u32)
                        .collect()
                })
                .collect();
            check_matrix(&m, ni, &rows);
            Outcome::Accepted
        }
    }
}

/// Checks a table's masses against `weights` (`None`: uniform over `n`).
fn check_table(table: &AliasTable, weights: Option<&[f64]>, words: &mut Input<'_>) {
    let n = table.len();
    let masses = table.masses();
    assert_eq!(masses.len(), n);
    let total: u128 = masses.iter().map(|&m| m as u128).sum();
    assert_eq!(total, (n as u128) << 32, "masses must sum to n * 2^32");
    match weights {
        None => assert!(masses.iter().all(|&m| m == 1 << 32)),
        Some(w) => {
            let max = w.iter().copied().fold(0.0f64, f64::max);
            let scaled: Vec<f64> = w.iter().map(|&x| x / max).collect();
            let sum: f64 = scaled.iter().sum();
            for (i, (&m, &s)) in masses.iter().zip(&scaled).enumerate() {
                if w[i] == 0.0 {
                    assert_eq!(m, 0, "weight 0 must get no mass (item {i})");
                } else {
                    assert!(m > 0, "positive weight {} must keep mass (item {i})", w[i]);
                }
                let realised = m as f64 / total as f64;
                let requested = s / sum;
                assert!(
                    (realised - requested).abs() <= 1e-7,
                    "item {i}: realised {realised}, requested {requested}, weights {w:?}"
                );
            }
        }
    }
    for _ in 0..16 {
        let item = table.pick(words.u64()) as usize;
        assert!(
            item < n && masses[item] > 0,
            "picked item {item} with no mass"
        );
    }
}

/// `AliasTable::from_weights` (and `uniform`) on arbitrary weights.
pub fn alias_weights(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let mode = input.u8();
    if mode.is_multiple_of(8) {
        let n = input.below(1 << 12);
        return match AliasTable::uniform(n) {
            Ok(t) => {
                check_table(&t, None, &mut input);
                Outcome::Accepted
            }
            Err(e) => {
                assert_eq!((n, e), (0, Error::EmptyCatalogue));
                Outcome::Rejected
            }
        };
    }
    let n = input.below(257);
    let weights: Vec<f64> = match mode % 8 {
        // All equal, a single special value.
        1 => vec![input.weight(); n],
        _ => (0..n).map(|_| input.weight()).collect(),
    };
    let expected_error = if n == 0 {
        Some(Error::EmptyCatalogue)
    } else if let Some(index) = weights.iter().position(|w| !w.is_finite() || *w < 0.0) {
        Some(Error::InvalidWeight {
            index,
            value: weights[index],
        })
    } else if weights.iter().all(|&w| w == 0.0) {
        Some(Error::AllZeroWeights)
    } else {
        None
    };
    match (AliasTable::from_weights(&weights), expected_error) {
        (Ok(t), None) => {
            check_table(&t, Some(&weights), &mut input);
            Outcome::Accepted
        }
        (Err(e), Some(expected)) => {
            // NaN != NaN: compare the variant and index, and the value's bits.
            match (&e, &expected) {
                (
                    Error::InvalidWeight { index, value },
                    Error::InvalidWeight { index: i, value: v },
                ) => assert_eq!((index, value.to_bits()), (i, v.to_bits())),
                _ => assert_eq!(e, expected),
            }
            Outcome::Rejected
        }
        (result, expected) => panic!("weights {weights:?}: got {result:?}, expected {expected:?}"),
    }
}

/// A random matrix and proposal decoded from `input`: the rows as sets, the
/// matrix, the proposal and its weights as computed here (`None` when the
/// proposal must be rejected).
struct Setup {
    rows: Vec<BTreeSet<u32>>,
    sampler: Option<Sampler>,
    weights: Vec<f64>,
}

fn setup(input: &mut Input<'_>) -> Setup {
    let num_users = 1 + input.below(16);
    let num_items = 1 + input.below(64);
    let mut rows = vec![BTreeSet::new(); num_users];
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for (u, row) in rows.iter_mut().enumerate() {
        // Density per user, from empty to every item: heavy users (the
        // complement path) and users with no negative are common.
        let density = match input.u8() % 8 {
            0 => 0,
            1 => 256,
            _ => input.u8() as u32,
        };
        let salt = input.u64();
        for i in 0..num_items {
            let h = negsample_core::mix64(salt ^ (i as u64).wrapping_mul(0x9E37_79B9));
            if (h & 0xFF) < density as u64 {
                row.insert(i as u32);
                users.push(u as u32);
                items.push(i as u32);
            }
        }
    }
    let m = Interactions::from_coo(&users, &items, Some(num_users), Some(num_items))
        .expect("a valid matrix");
    let (proposal, weights) = match input.u8() % 3 {
        0 => (Proposal::Uniform, vec![1.0; num_items]),
        1 => {
            let alpha = match input.u8() % 8 {
                0 => 0.0,
                1 => 0.75,
                2 => 1.0,
                3 => 1e6,
                4 => 5e-324,
                5 => 40.0,
                _ => input.u8() as f64 / 32.0,
            };
            let mut counts = vec![0u32; num_items];
            for row in &rows {
                for &i in row {
                    counts[i as usize] += 1;
                }
            }
            // Which items may be drawn is all the oracle needs: count > 0.
            let w = counts.iter().map(|&c| f64::from(c > 0)).collect();
            (Proposal::Popularity { alpha }, w)
        }
        _ => {
            let w: Vec<f64> = (0..num_items)
                .map(|_| match input.u8() % 6 {
                    0 => 0.0,
                    1 => 5e-324,
                    2 => 1e300,
                    _ => input.u8() as f64,
                })
                .collect();
            (Proposal::Weights(w.clone()), w)
        }
    };
    let seed = input.u64();
    let result = Sampler::new(Arc::new(m), &proposal, seed);
    let any_weight = weights.iter().any(|&w| w > 0.0);
    match &result {
        Ok(_) => assert!(any_weight),
        Err(e) => assert_eq!((any_weight, e), (false, &Error::AllZeroWeights)),
    }
    Setup {
        rows,
        sampler: result.ok(),
        weights,
    }
}

impl Setup {
    /// Whether user `u` has an item outside its row with positive weight.
    fn has_negative(&self, u: u32) -> bool {
        (0..self.weights.len())
            .any(|i| self.weights[i] > 0.0 && !self.rows[u as usize].contains(&(i as u32)))
    }

    /// Checks every negative of `out` (`k` per user).
    fn check_negatives(&self, users: &[u32], k: usize, out: &[u32]) {
        for (j, &item) in out.iter().enumerate() {
            let u = users[j / k] as usize;
            assert!(
                (item as usize) < self.weights.len(),
                "item {item} out of range"
            );
            assert!(
                !self.rows[u].contains(&item),
                "negative {item} is a positive of user {u}"
            );
            assert!(
                self.weights[item as usize] > 0.0,
                "item {item} has weight 0"
            );
        }
    }

    /// Decodes users (mostly valid, sometimes out of range) and `k`.
    fn request(&self, input: &mut Input<'_>) -> (Vec<i32>, usize) {
        let n = self.rows.len();
        let count = input.below(33);
        let mut users: Vec<i32> = (0..count).map(|_| input.id(n, true)).collect();
        if !input.u8().is_multiple_of(4) {
            // Mostly only users that can be sampled, so the call succeeds.
            users.retain(|&u| u >= 0 && (u as usize) < n && self.has_negative(u as u32));
        }
        let k = match input.u8() % 16 {
            0 => 0,
            1 => usize::MAX,
            2 => MAX_OUTPUT,
            3 => MAX_OUTPUT / users.len().max(1) + 1,
            4 => 4096 + input.below(600),
            _ => 1 + input.below(24),
        };
        (users, k)
    }

    /// The error a request must give, in the documented order (`k`, users,
    /// items, outputs), given the rows of the call and the lengths of its
    /// outputs.
    fn expected_error(
        &self,
        users: &[i32],
        items: Option<&[i32]>,
        k: usize,
        per: Option<usize>,
        outputs: &[(&'static str, usize)],
    ) -> Option<Error> {
        let bad_k = || Error::OutOfRange {
            name: "k",
            value: k.to_string(),
            expected: String::new(),
        };
        if k == 0 {
            return Some(bad_k());
        }
        let rows = match per.and_then(|p| users.len().checked_mul(p)) {
            Some(rows) if rows <= MAX_OUTPUT => rows,
            _ => return Some(bad_k()),
        };
        // The first bad user: out of range, or without a possible negative.
        let n = self.rows.len();
        let bad_user = users.iter().enumerate().find_map(|(index, &u)| {
            if u < 0 || u as usize >= n {
                Some(Error::IdOutOfRange {
                    name: "users",
                    index,
                    value: u as i64,
                    bound: n as u64,
                })
            } else if !self.has_negative(u as u32) {
                Some(Error::NoNegative { user: u as u32 })
            } else {
                None
            }
        });
        if bad_user.is_some() {
            return bad_user;
        }
        if let Some(items) = items {
            if items.len() != users.len() {
                return Some(Error::LengthMismatch {
                    name: "items",
                    len: items.len(),
                    expected: String::new(),
                });
            }
            if let Some(e) = first_bad_id("items", items, self.weights.len()) {
                return Some(e);
            }
        }
        for &(name, len) in outputs {
            if len != rows {
                return Some(Error::LengthMismatch {
                    name,
                    len,
                    expected: String::new(),
                });
            }
        }
        None
    }
}

/// Compares an error with the predicted one; `expected` strings are not
/// compared (they are prose), everything else is.
fn assert_same_error(got: &Error, expected: &Error) {
    match (got, expected) {
        (Error::OutOfRange { name: a, .. }, Error::OutOfRange { name: b, .. }) => assert_eq!(a, b),
        (
            Error::LengthMismatch {
                name: a, len: x, ..
            },
            Error::LengthMismatch {
                name: b, len: y, ..
            },
        ) => assert_eq!((a, x), (b, y)),
        _ => assert_eq!(got, expected),
    }
    assert!(!got.to_string().is_empty());
}

/// A length for an output of `rows` rows: mostly right, sometimes not.
fn out_len(input: &mut Input<'_>, rows: Option<usize>) -> usize {
    let rows = rows.unwrap_or(0).min(MAX_ROWS);
    match input.u8() % 8 {
        0 => rows + 1,
        1 => rows.saturating_sub(1),
        2 => input.below(64),
        _ => rows,
    }
}

const SENTINEL: u32 = 0xDEAD_BEEF;

/// `Sampler::negatives_into` with arbitrary users, `k` and output lengths,
/// over a random matrix (heavy users, users with no negative) and proposal.
pub fn sample_negatives(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let s = setup(&mut input);
    let Some(sampler) = &s.sampler else {
        return Outcome::Skipped;
    };
    let masses = sampler.table().masses();
    let total: u64 = masses.iter().sum();
    for u in 0..s.rows.len() as u32 {
        assert_eq!(sampler.has_negative(u), s.has_negative(u), "user {u}");
        let positive: u64 = s.rows[u as usize].iter().map(|&i| masses[i as usize]).sum();
        let heavy = positive != total && 2 * positive >= total;
        assert_eq!(sampler.uses_complement(u), heavy, "method of user {u}");
    }
    let (users, k) = s.request(&mut input);
    let rows = users.len().checked_mul(k).filter(|&r| r <= MAX_ROWS);
    if rows.is_none() && k != 0 && users.len().checked_mul(k).is_some_and(|r| r <= MAX_OUTPUT) {
        return Outcome::Skipped; // valid but too large to allocate here
    }
    let len = out_len(&mut input, rows);
    let mut out = vec![SENTINEL; len];
    let expected = s.expected_error(&users, None, k, Some(k), &[("out", len)]);
    let users = engine_ids(&users);
    let call = sampler.next_call();
    let result = sampler
        .negatives_into(&users, k, call, &mut out)
        .map_err(as_js);
    match (result, expected) {
        (Err(e), Some(expected)) => {
            assert_same_error(&e, &expected);
            assert!(out.iter().all(|&x| x == SENTINEL), "written on error");
            Outcome::Rejected
        }
        (Err(e), None) => panic!("unexpected error {e}"),
        (Ok(_), Some(e)) => panic!("expected error {e}"),
        (Ok(()), None) => {
            s.check_negatives(&users, k, &out);
            let mut again = vec![0u32; out.len()];
            sampler.negatives_into(&users, k, call, &mut again).unwrap();
            assert_eq!(out, again, "same call, same output");
            Outcome::Accepted
        }
    }
}

/// Pairwise and pointwise batches into buffers of arbitrary lengths, and
/// the shuffled positives of an epoch.
pub fn batches(data: &[u8]) -> Outcome {
    let mut input = Input::new(data);
    let s = setup(&mut input);
    let Some(sampler) = &s.sampler else {
        return Outcome::Skipped;
    };
    let (users, k) = s.request(&mut input);
    let num_items = s.weights.len();
    let mut items: Vec<i32> = users.iter().map(|_| input.id(num_items, true)).collect();
    match input.u8() % 8 {
        0 => items.truncate(items.len().saturating_sub(1)),
        1 => items.push(0),
        _ => {}
    }
    let pointwise = input.u8() % 2 == 1;
    let per = if pointwise { k.checked_add(1) } else { Some(k) };
    let rows = per
        .and_then(|p| users.len().checked_mul(p))
        .filter(|&r| r <= MAX_ROWS);
    if rows.is_none()
        && k != 0
        && per
            .and_then(|p| users.len().checked_mul(p))
            .is_some_and(|r| r <= MAX_OUTPUT)
    {
        return Outcome::Skipped;
    }
    let lens = [
        out_len(&mut input, rows),
        out_len(&mut input, rows),
        out_len(&mut input, rows),
    ];
    let names: [&'static str; 3] = if pointwise {
        ["out.users", "out.items", "out.labels"]
    } else {
        ["out.users", "out.positives", "out.negatives"]
    };
    let outputs = [
        (names[0], lens[0]),
        (names[1], lens[1]),
        (names[2], lens[2]),
    ];
    let expected = s.expected_error(&users, Some(&items), k, per, &outputs);
    let (engine_users, engine_items) = (engine_ids(&users), engine_ids(&items));
    let (mut a, mut b) = (vec![SENTINEL; lens[0]], vec![SENTINEL; lens[1]]);
    let (mut c, mut labels) = (vec![SENTINEL; lens[2]], vec![-1.0f32; lens[2]]);
    let call = sampler.calls();
    let result = if pointwise {
        let out = PointwiseOut {
            users: &mut a,
            items: &mut b,
            labels: &mut labels,
        };
        sampler.pointwise_into(&engine_users, &engine_items, k, call, out)
    } else {
        let out = PairwiseOut {
            users: &mut a,
            positives: &mut b,
            negatives: &mut c,
        };
        sampler.pairwise_into(&engine_users, &engine_items, k, call, out)
    }
    .map_err(as_js);
    let outcome = match (result, expected) {
        (Err(e), Some(expected)) => {
            assert_same_error(&e, &expected);
            assert!(a.iter().chain(&b).chain(&c).all(|&x| x == SENTINEL));
            assert!(labels.iter().all(|&x| x == -1.0), "written on error");
            Outcome::Rejected
        }
        (Err(e), None) => panic!("unexpected error {e}"),
        (Ok(()), Some(e)) => panic!("expected error {e}"),
        (Ok(()), None) => {
            let mut negatives = vec![0u32; users.len() * k];
            sampler
                .negatives_into(&engine_users, k, call, &mut negatives)
                .unwrap();
            s.check_negatives(&engine_users, k, &negatives);
            let per = per.unwrap();
            for (j, (&u, &i)) in engine_users.iter().zip(&items).enumerate() {
                for r in 0..per {
                    let row = j * per + r;
                    assert_eq!(a[row], u, "users column");
                    if pointwise {
                        let (item, label) = if r == 0 {
                            (i as u32, 1.0)
                        } else {
                            (negatives[j * k + r - 1], 0.0)
                        };
                        assert_eq!((b[row], labels[row]), (item, label), "row {row}");
                    } else {
                        assert_eq!((b[row], c[row]), (i as u32, negatives[j * k + r]));
                    }
                }
            }
            Outcome::Accepted
        }
    };

    // The epoch order: every positive exactly once.
    if input.u8().is_multiple_of(4) {
        let (eu, ei) = sampler.shuffled_positives(input.u64());
        let mut pairs: Vec<(u32, u32)> = eu.into_iter().zip(ei).collect();
        pairs.sort_unstable();
        let expected: Vec<(u32, u32)> = s
            .rows
            .iter()
            .enumerate()
            .flat_map(|(u, row)| row.iter().map(move |&i| (u as u32, i)))
            .collect();
        assert_eq!(pairs, expected, "shuffle is a permutation of the positives");
    }
    outcome
}
