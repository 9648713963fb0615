//! Hard negatives and sampled-softmax support: free functions over a
//! `NativeSampler` (or `NativeInteractions` for the masks).
//!
//! Synchronous calls read the caller's `Float32Array` embeddings in place
//! (no copy) and write into caller buffers; `...Async` calls copy their
//! inputs when called (so the caller may keep training while the job runs)
//! and resolve with fresh arrays. Each sampling call takes its call number on
//! the JavaScript thread after its arguments are checked.

// napi-rs registers these free functions with Node only outside `cfg(test)`,
// so a test build of this crate sees them as unused.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::error::check_ids;
use negsample_core::hard::{self, Embeddings, HardOptions, HardOut, Layout, Strategy};
use negsample_core::softmax_sampling::{self as ss, expected_count, sample_candidates};
use negsample_core::Sampler;

use crate::convert::{check_disjoint, ids_out, integer, into_i32, js_error, span};
use crate::interactions::JsInteractions;
use crate::job::Job;
use crate::owned;
use crate::sampler::{checked_users, JsSampler};

/// The options of a hard-negatives call.
#[napi(object)]
pub struct HardArgs {
    /// Candidates drawn per positive (`M`).
    pub candidates: f64,
    /// Negatives kept per positive (`k`, at most `M`).
    pub negatives: f64,
    /// `"max"` (DNS) or `"softmax"`.
    pub strategy: String,
    /// Softmax temperature (finite, > 0); only with `"softmax"`.
    pub temperature: Option<f64>,
    /// Embedding dimension.
    pub dim: f64,
    /// `"pairwise"` (k rows per positive) or `"pointwise"` (1 + k rows).
    pub layout: String,
    /// Spread the work over the thread pool (default true; same output).
    pub parallel: Option<bool>,
}

/// Caller buffers of a hard-negatives call (see `HardOut` in the engine).
#[napi(object)]
pub struct HardBuffers {
    /// Pairwise: the negatives; pointwise: each positive then its negatives.
    pub items: Int32Array,
    /// The score of each row's item.
    pub scores: Float32Array,
    /// Optional: ln q of each row's item under the proposal.
    pub log_probs: Option<Float32Array>,
    /// Optional: the user of each row.
    pub users: Option<Int32Array>,
    /// Optional: the positive of each row.
    pub positives: Option<Int32Array>,
    /// Optional: the label of each row.
    pub labels: Option<Float32Array>,
    /// Optional: every candidate drawn, `M` per positive.
    pub candidates: Option<Int32Array>,
}

/// What to allocate for an `...Async` hard-negatives call.
#[napi(object)]
pub struct HardWants {
    /// Return `logProbs`.
    pub log_probs: bool,
    /// Return `users` and `positives` (pairwise) or `users` and `labels`
    /// (pointwise).
    pub rows: bool,
    /// Return `candidates`.
    pub candidates: bool,
}

/// The result of an `...Async` hard-negatives call.
#[napi(object)]
pub struct HardResult {
    /// Pairwise: the negatives; pointwise: each positive then its negatives.
    pub items: Int32Array,
    /// The score of each row's item.
    pub scores: Float32Array,
    /// ln q of each row's item, if asked for.
    pub log_probs: Option<Float32Array>,
    /// The user of each row, if asked for.
    pub users: Option<Int32Array>,
    /// The positive of each row (pairwise), if asked for.
    pub positives: Option<Int32Array>,
    /// The label of each row (pointwise), if asked for.
    pub labels: Option<Float32Array>,
    /// Every candidate drawn, if asked for.
    pub candidates: Option<Int32Array>,
}

/// A batch's shared sampled-softmax candidates.
#[napi(object)]
pub struct SampledSoftmaxResult {
    /// The `S` sampled candidates.
    pub candidates: Int32Array,
    /// ln q of each candidate.
    pub candidate_log_q: Float32Array,
    /// TensorFlow's expected count of each candidate.
    pub candidate_expected_counts: Float32Array,
    /// ln q of each positive.
    pub positive_log_q: Float32Array,
    /// TensorFlow's expected count of each positive.
    pub positive_expected_counts: Float32Array,
    /// Draws made (`S` without `unique`).
    pub num_tries: f64,
    /// With `users`: the accidental-hit mask, rows x candidates.
    pub hits: Option<Float32Array>,
}

fn options(args: &HardArgs) -> Result<HardOptions> {
    let strategy = match (args.strategy.as_str(), args.temperature) {
        ("max", None) => Strategy::Max,
        ("max", Some(t)) => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("temperature applies to the 'softmax' strategy only, but strategy is 'max' (temperature {t})"),
            ))
        }
        ("softmax", t) => Strategy::Softmax {
            temperature: t.unwrap_or(1.0),
        },
        (other, _) => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("strategy must be 'max' or 'softmax', got '{other}'"),
            ))
        }
    };
    let layout = match args.layout.as_str() {
        "pairwise" => Layout::Pairwise,
        "pointwise" => Layout::Pointwise,
        other => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("layout must be 'pairwise' or 'pointwise', got '{other}'"),
            ))
        }
    };
    let max = i32::MAX as u64;
    Ok(HardOptions {
        candidates: integer("candidates", args.candidates, 1, max)? as usize,
        negatives: integer("negatives", args.negatives, 1, max)? as usize,
        strategy,
        layout,
        parallel: args.parallel.unwrap_or(true),
    })
}

fn dim(args: &HardArgs) -> Result<usize> {
    integer("dim", args.dim, 1, i32::MAX as u64).map(|d| d as usize)
}

/// Hard negatives for each positive `(users[j], positives[j])` into caller
/// buffers (`out.items` and `out.scores` required, the rest optional).
/// Embeddings are read in place.
#[napi(catch_unwind)]
#[allow(clippy::too_many_arguments)]
pub fn hard_negatives_into(
    sampler: &JsSampler,
    users: Int32ArraySlice,
    positives: Int32ArraySlice,
    user_embeddings: Float32ArraySlice,
    item_embeddings: Float32ArraySlice,
    args: HardArgs,
    mut out: HardBuffers,
) -> Result<()> {
    let s = &sampler.inner;
    let opts = options(&args)?;
    let dim = dim(&args)?;
    let users = checked_users(s, &users)?;
    let emb = Embeddings::new(s, &user_embeddings, &item_embeddings, dim).map_err(js_error)?;
    let mut outputs = vec![
        ("out.items", span(&out.items)),
        ("out.scores", span(&out.scores)),
    ];
    let mut lengths = vec![
        ("out.items", out.items.len()),
        ("out.scores", out.scores.len()),
    ];
    for (name, range, len) in [
        (
            "out.logProbs",
            out.log_probs.as_ref().map(|b| span(b)),
            out.log_probs.as_ref().map(|b| b.len()),
        ),
        (
            "out.users",
            out.users.as_ref().map(|b| span(b)),
            out.users.as_ref().map(|b| b.len()),
        ),
        (
            "out.positives",
            out.positives.as_ref().map(|b| span(b)),
            out.positives.as_ref().map(|b| b.len()),
        ),
        (
            "out.labels",
            out.labels.as_ref().map(|b| span(b)),
            out.labels.as_ref().map(|b| b.len()),
        ),
        (
            "out.candidates",
            out.candidates.as_ref().map(|b| span(b)),
            None,
        ),
    ] {
        if let Some(range) = range {
            outputs.push((name, range));
        }
        if let Some(len) = len {
            lengths.push((name, len));
        }
    }
    check_disjoint(
        &outputs,
        &[
            ("users", span(users)),
            ("positives", span(&positives)),
            ("userEmbeddings", span(&user_embeddings)),
            ("itemEmbeddings", span(&item_embeddings)),
        ],
    )?;
    hard::check_request(
        s,
        users,
        &positives,
        &opts,
        &lengths,
        out.candidates.as_ref().map(|b| b.len()),
    )
    .map_err(js_error)?;
    let call = s.next_call();
    // SAFETY: live typed arrays for the duration of this synchronous call,
    // pairwise disjoint and disjoint from the inputs (checked above).
    let buffers = unsafe {
        HardOut {
            items: ids_out(out.items.as_mut()),
            scores: out.scores.as_mut(),
            log_probs: out.log_probs.as_mut().map(|b| b.as_mut()),
            users: out.users.as_mut().map(|b| ids_out(b.as_mut())),
            positives: out.positives.as_mut().map(|b| ids_out(b.as_mut())),
            labels: out.labels.as_mut().map(|b| b.as_mut()),
            candidates: out.candidates.as_mut().map(|b| ids_out(b.as_mut())),
        }
    };
    hard::hard_negatives_into(s, users, &positives, &emb, &opts, call, buffers).map_err(js_error)
}

/// Hard negatives computed off the JavaScript thread. Inputs (embeddings
/// included) are copied when called.
#[napi(ts_return_type = "Promise<HardResult>")]
pub fn hard_negatives_async(
    sampler: &JsSampler,
    users: Int32ArraySlice,
    positives: Int32ArraySlice,
    user_embeddings: Float32ArraySlice,
    item_embeddings: Float32ArraySlice,
    args: HardArgs,
    wants: HardWants,
) -> Result<AsyncTask<Job<HardResult>>> {
    let s = sampler.inner.clone();
    let opts = options(&args)?;
    let dim = dim(&args)?;
    let users = checked_users(&s, &users)?.to_vec();
    Embeddings::new(&s, &user_embeddings, &item_embeddings, dim).map_err(js_error)?;
    hard::check_request(&s, &users, &positives, &opts, &[], None).map_err(js_error)?;
    let call = s.next_call();
    let (positives, ue, ie) = (
        positives.to_vec(),
        user_embeddings.to_vec(),
        item_embeddings.to_vec(),
    );
    Ok(Job::new(move || {
        let emb = Embeddings::new(&s, &ue, &ie, dim).map_err(js_error)?;
        let rows = users.len() * opts.layout.rows_per_positive(opts.negatives);
        let pointwise = opts.layout == Layout::Pointwise;
        let mut items = vec![0u32; rows];
        let mut scores = vec![0f32; rows];
        let mut log_probs = wants.log_probs.then(|| vec![0f32; rows]);
        let mut out_users = wants.rows.then(|| vec![0u32; rows]);
        let mut out_positives = (wants.rows && !pointwise).then(|| vec![0u32; rows]);
        let mut labels = (wants.rows && pointwise).then(|| vec![0f32; rows]);
        let mut candidates = wants
            .candidates
            .then(|| vec![0u32; users.len() * opts.candidates]);
        hard::hard_negatives_into(
            &s,
            &users,
            &positives,
            &emb,
            &opts,
            call,
            HardOut {
                items: &mut items,
                scores: &mut scores,
                log_probs: log_probs.as_deref_mut(),
                users: out_users.as_deref_mut(),
                positives: out_positives.as_deref_mut(),
                labels: labels.as_deref_mut(),
                candidates: candidates.as_deref_mut(),
            },
        )
        .map_err(js_error)?;
        Ok(HardResult {
            items: Int32Array::new(into_i32(items)),
            scores: Float32Array::new(scores),
            log_probs: log_probs.map(Float32Array::new),
            users: out_users.map(|v| Int32Array::new(into_i32(v))),
            positives: out_positives.map(|v| Int32Array::new(into_i32(v))),
            labels: labels.map(Float32Array::new),
            candidates: candidates.map(|v| Int32Array::new(into_i32(v))),
        })
    }))
}

/// A checked sampled-softmax request: positives, `S`, users (for the
/// mask) and the call number.
type SoftmaxRequest = (Vec<u32>, usize, Option<Vec<u32>>, u64);

/// Checked ids of a mask request: users, columns, positives.
type MaskIds = (Vec<u32>, Vec<u32>, Option<Vec<u32>>);

/// Checks a sampled-softmax request and takes its call number.
fn softmax_request(
    s: &Sampler,
    positives: &[i32],
    num_sampled: f64,
    unique: bool,
    users: Option<&[i32]>,
) -> Result<SoftmaxRequest> {
    let n = s.interactions().num_items() as u64;
    let positives = check_ids("positives", positives, n)
        .map_err(js_error)?
        .to_vec();
    let num_sampled = integer("numSampled", num_sampled, 1, i32::MAX as u64)? as usize;
    ss::check_candidates(s, num_sampled, unique).map_err(js_error)?;
    let users = match users {
        None => None,
        Some(u) => {
            if u.len() != positives.len() {
                return Err(Error::new(
                    Status::InvalidArg,
                    format!(
                        "users.length is {}, expected positives.length ({})",
                        u.len(),
                        positives.len()
                    ),
                ));
            }
            let cells = u.len() as u128 * num_sampled as u128;
            if cells > i32::MAX as u128 {
                return Err(Error::new(
                    Status::InvalidArg,
                    format!("the hit mask would have {cells} entries (users.length * numSampled); at most {} fit", i32::MAX),
                ));
            }
            Some(checked_users(s, u)?.to_vec())
        }
    };
    Ok((positives, num_sampled, users, s.next_call()))
}

/// A sampled-softmax result before it is handed to JavaScript.
struct SoftmaxParts {
    candidates: Vec<u32>,
    candidate_log_q: Vec<f32>,
    candidate_expected_counts: Vec<f32>,
    positive_log_q: Vec<f32>,
    positive_expected_counts: Vec<f32>,
    num_tries: f64,
    hits: Option<Vec<f32>>,
}

impl SoftmaxParts {
    /// As external buffers (for the `...Async` form, whose Promise settles
    /// on the event loop, which frees them).
    fn external(self) -> SampledSoftmaxResult {
        SampledSoftmaxResult {
            candidates: Int32Array::new(into_i32(self.candidates)),
            candidate_log_q: Float32Array::new(self.candidate_log_q),
            candidate_expected_counts: Float32Array::new(self.candidate_expected_counts),
            positive_log_q: Float32Array::new(self.positive_log_q),
            positive_expected_counts: Float32Array::new(self.positive_expected_counts),
            num_tries: self.num_tries,
            hits: self.hits.map(Float32Array::new),
        }
    }

    /// As V8-owned copies (for the synchronous form: see `owned`).
    fn owned(self, env: &Env) -> Result<SampledSoftmaxResult> {
        Ok(SampledSoftmaxResult {
            candidates: owned::ids(env, &self.candidates)?,
            candidate_log_q: owned::floats(env, &self.candidate_log_q)?,
            candidate_expected_counts: owned::floats(env, &self.candidate_expected_counts)?,
            positive_log_q: owned::floats(env, &self.positive_log_q)?,
            positive_expected_counts: owned::floats(env, &self.positive_expected_counts)?,
            num_tries: self.num_tries,
            hits: self.hits.map(|h| owned::floats(env, &h)).transpose()?,
        })
    }
}

fn sampled_softmax_compute(
    s: &Sampler,
    positives: &[u32],
    num_sampled: usize,
    unique: bool,
    users: Option<&[u32]>,
    call: u64,
    parallel: bool,
) -> Result<SoftmaxParts> {
    let c = sample_candidates(s, num_sampled, unique, call).map_err(js_error)?;
    let log_q = s.log_probabilities();
    let count = |i: u32| expected_count(s.probability(i), num_sampled, c.num_tries) as f32;
    let hits = match users {
        None => None,
        Some(users) => {
            let mut mask = vec![0f32; users.len() * c.items.len()];
            ss::accidental_hits_into(
                s.interactions(),
                users,
                Some(positives),
                &c.items,
                parallel,
                &mut mask,
            )
            .map_err(js_error)?;
            Some(mask)
        }
    };
    Ok(SoftmaxParts {
        candidate_log_q: c.items.iter().map(|&i| log_q[i as usize]).collect(),
        candidate_expected_counts: c.items.iter().map(|&i| count(i)).collect(),
        positive_log_q: positives.iter().map(|&i| log_q[i as usize]).collect(),
        positive_expected_counts: positives.iter().map(|&i| count(i)).collect(),
        num_tries: c.num_tries as f64,
        candidates: c.items,
        hits,
    })
}

/// A batch's shared sampled-softmax candidates with log Q and expected
/// counts for candidates and positives; with `users`, the accidental-hit
/// mask (rows x candidates) too. The arrays are V8-owned copies (see
/// `owned`), so a synchronous loop of calls holds no dropped result.
#[napi(catch_unwind)]
pub fn sampled_softmax(
    env: &Env,
    sampler: &JsSampler,
    positives: Int32ArraySlice,
    num_sampled: f64,
    unique: bool,
    users: Option<Int32ArraySlice>,
    parallel: Option<bool>,
) -> Result<SampledSoftmaxResult> {
    let s = &sampler.inner;
    let (positives, num_sampled, users, call) =
        softmax_request(s, &positives, num_sampled, unique, users.as_deref())?;
    sampled_softmax_compute(
        s,
        &positives,
        num_sampled,
        unique,
        users.as_deref(),
        call,
        parallel.unwrap_or(true),
    )?
    .owned(env)
}

/// As `sampledSoftmax`, computed off the JavaScript thread.
#[napi(ts_return_type = "Promise<SampledSoftmaxResult>")]
pub fn sampled_softmax_async(
    sampler: &JsSampler,
    positives: Int32ArraySlice,
    num_sampled: f64,
    unique: bool,
    users: Option<Int32ArraySlice>,
    parallel: Option<bool>,
) -> Result<AsyncTask<Job<SampledSoftmaxResult>>> {
    let s = sampler.inner.clone();
    let (positives, num_sampled, users, call) =
        softmax_request(&s, &positives, num_sampled, unique, users.as_deref())?;
    Ok(Job::new(move || {
        sampled_softmax_compute(
            &s,
            &positives,
            num_sampled,
            unique,
            users.as_deref(),
            call,
            parallel.unwrap_or(true),
        )
        .map(SoftmaxParts::external)
    }))
}

/// Checked ids of a mask request.
fn mask_ids(
    m: &negsample_core::Interactions,
    users: &[i32],
    items: &[i32],
    items_name: &'static str,
    positives: Option<&[i32]>,
) -> Result<MaskIds> {
    let users = check_ids("users", users, m.num_users() as u64).map_err(js_error)?;
    let items = check_ids(items_name, items, m.num_items() as u64).map_err(js_error)?;
    let positives = positives
        .map(|p| check_ids("positives", p, m.num_items() as u64).map_err(js_error))
        .transpose()?;
    Ok((
        users.to_vec(),
        items.to_vec(),
        positives.map(|p| p.to_vec()),
    ))
}

/// The accidental-hit mask (users.length x candidates.length) into `out`:
/// 1 where the candidate is a training positive of the row's user or the
/// row's positive.
#[napi(catch_unwind)]
pub fn accidental_hits_into(
    interactions: &JsInteractions,
    users: Int32ArraySlice,
    candidates: Int32ArraySlice,
    positives: Option<Int32ArraySlice>,
    mut out: Float32ArraySlice,
    parallel: Option<bool>,
) -> Result<()> {
    let m = &interactions.inner;
    let (u, c, p) = mask_ids(m, &users, &candidates, "candidates", positives.as_deref())?;
    let mut inputs = vec![("users", span(&users)), ("candidates", span(&candidates))];
    if let Some(p) = positives.as_ref() {
        inputs.push(("positives", span(p)));
    }
    check_disjoint(&[("out", span(&out))], &inputs)?;
    // SAFETY: live array for this synchronous call, disjoint from the inputs.
    let out = unsafe { out.as_mut() };
    ss::accidental_hits_into(m, &u, p.as_deref(), &c, parallel.unwrap_or(true), out)
        .map_err(js_error)
}

/// The in-batch accidental-hit mask (users.length x users.length) into
/// `out`: 1 where another row's item is a training positive of this row's
/// user or the same item; 0 on the diagonal.
#[napi(catch_unwind)]
pub fn in_batch_hits_into(
    interactions: &JsInteractions,
    users: Int32ArraySlice,
    items: Int32ArraySlice,
    mut out: Float32ArraySlice,
    parallel: Option<bool>,
) -> Result<()> {
    let m = &interactions.inner;
    let (u, i, _) = mask_ids(m, &users, &items, "items", None)?;
    check_disjoint(
        &[("out", span(&out))],
        &[("users", span(&users)), ("items", span(&items))],
    )?;
    // SAFETY: live array for this synchronous call, disjoint from the inputs.
    let out = unsafe { out.as_mut() };
    ss::in_batch_hits_into(m, &u, &i, parallel.unwrap_or(true), out).map_err(js_error)
}

/// A mask computed off the JavaScript thread: with `candidates`, rows x
/// candidates (positives optional); without, in batch (rows x rows, with
/// `positives` as the rows' items).
#[napi(ts_return_type = "Promise<Float32Array>")]
pub fn hits_async(
    interactions: &JsInteractions,
    users: Int32ArraySlice,
    candidates: Option<Int32ArraySlice>,
    positives: Option<Int32ArraySlice>,
) -> Result<AsyncTask<Job<Float32Array>>> {
    let m = interactions.inner.clone();
    let in_batch = candidates.is_none();
    let (u, c, p) = match candidates.as_deref() {
        Some(c) => mask_ids(&m, &users, c, "candidates", positives.as_deref())?,
        None => {
            let items = positives.as_deref().ok_or_else(|| {
                Error::new(
                    Status::InvalidArg,
                    "items are required for an in-batch mask".to_string(),
                )
            })?;
            let (u, i, _) = mask_ids(&m, &users, items, "items", None)?;
            (u, i, None)
        }
    };
    let columns = if in_batch { u.len() } else { c.len() };
    let cells = u.len() as u128 * columns as u128;
    if cells > i32::MAX as u128 {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "rows * candidates must be at most {} mask entries, got {} * {columns}",
                i32::MAX,
                u.len()
            ),
        ));
    }
    Ok(Job::new(move || {
        let mut out = vec![0f32; cells as usize];
        if in_batch {
            ss::in_batch_hits_into(&m, &u, &c, true, &mut out).map_err(js_error)?;
        } else {
            ss::accidental_hits_into(&m, &u, p.as_deref(), &c, true, &mut out).map_err(js_error)?;
        }
        Ok(Float32Array::new(out))
    }))
}

/// The dot-product path this CPU uses for scores (`"avx512"`, `"avx2"`,
/// `"neon"` or `"scalar"`); every path gives the same bits.
#[napi]
pub fn dot_path() -> String {
    negsample_core::dot::Path::best().name().to_string()
}
