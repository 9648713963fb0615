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
use std::borrow::Cow;
use std::sync::Arc;

use negsample_core::hard::{self, Embeddings, HardOptions, HardOut, Layout, Strategy};
use negsample_core::sampled_softmax as ss;
use negsample_core::{Interactions, Sampler};

use crate::convert::{check_disjoint, ids, ids_out, into_i32, js_error, span, whole};
use crate::interactions::JsInteractions;
use crate::job::Job;
use crate::owned;
use crate::sampler::JsSampler;

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
    Ok(HardOptions {
        candidates: size(whole("candidates", args.candidates)?),
        negatives: size(whole("negatives", args.negatives)?),
        strategy,
        layout,
        parallel: args.parallel.unwrap_or(true),
    })
}

/// A whole number as a `usize` (saturating: the engine rejects what is too
/// large).
fn size(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// One checked hard-negatives call, ready to run: the one implementation
/// behind `hardNegativesInto` and `hardNegativesAsync`.
struct Hard<'a> {
    sampler: Cow<'a, Arc<Sampler>>,
    users: Cow<'a, [u32]>,
    positives: Cow<'a, [u32]>,
    user_embeddings: Cow<'a, [f32]>,
    item_embeddings: Cow<'a, [f32]>,
    dim: usize,
    options: HardOptions,
    call: u64,
}

impl<'a> Hard<'a> {
    /// Checks the request with the engine's rules (`outputs`: the caller's
    /// per-row buffers by name and length; `candidates`: its candidates
    /// buffer), then takes its call number.
    #[allow(clippy::too_many_arguments)]
    fn new(
        sampler: &'a Arc<Sampler>,
        users: &'a [i32],
        positives: &'a [i32],
        user_embeddings: &'a [f32],
        item_embeddings: &'a [f32],
        args: &HardArgs,
        outputs: &[(&'static str, usize)],
        candidates: Option<(&'static str, usize)>,
    ) -> Result<Self> {
        let options = options(args)?;
        let dim = size(whole("dim", args.dim)?);
        let (users, positives) = (ids(users), ids(positives));
        Embeddings::new(sampler, user_embeddings, item_embeddings, dim).map_err(js_error)?;
        hard::check_request(sampler, users, positives, &options, outputs, candidates)
            .map_err(js_error)?;
        Ok(Hard {
            sampler: Cow::Borrowed(sampler),
            users: Cow::Borrowed(users),
            positives: Cow::Borrowed(positives),
            user_embeddings: Cow::Borrowed(user_embeddings),
            item_embeddings: Cow::Borrowed(item_embeddings),
            dim,
            options,
            call: sampler.next_call(),
        })
    }

    /// Runs into `out`.
    fn run(&self, out: HardOut<'_>) -> Result<()> {
        let s = &self.sampler;
        let emb = Embeddings::new(s, &self.user_embeddings, &self.item_embeddings, self.dim)
            .map_err(js_error)?;
        hard::hard_negatives_into(
            s,
            &self.users,
            &self.positives,
            &emb,
            &self.options,
            self.call,
            out,
        )
        .map_err(js_error)
    }

    /// As a job for the libuv pool, with its inputs copied, filling the
    /// buffers `wants` asks for.
    fn job(self, wants: HardWants) -> AsyncTask<Job<HardResult>> {
        let hard = Hard {
            sampler: Cow::Owned(self.sampler.into_owned()),
            users: Cow::Owned(self.users.into_owned()),
            positives: Cow::Owned(self.positives.into_owned()),
            user_embeddings: Cow::Owned(self.user_embeddings.into_owned()),
            item_embeddings: Cow::Owned(self.item_embeddings.into_owned()),
            ..self
        };
        Job::new(move || {
            let opts = &hard.options;
            let rows = hard.users.len() * opts.layout.rows_per_positive(opts.negatives);
            let pointwise = opts.layout == Layout::Pointwise;
            let ids = |wanted: bool, len: usize| wanted.then(|| vec![0u32; len]);
            let floats = |wanted: bool| wanted.then(|| vec![0f32; rows]);
            let mut items = vec![0u32; rows];
            let mut scores = vec![0f32; rows];
            let mut log_probs = floats(wants.log_probs);
            let mut users = ids(wants.rows, rows);
            let mut positives = ids(wants.rows && !pointwise, rows);
            let mut labels = floats(wants.rows && pointwise);
            let mut candidates = ids(wants.candidates, hard.users.len() * opts.candidates);
            hard.run(HardOut {
                items: &mut items,
                scores: &mut scores,
                log_probs: log_probs.as_deref_mut(),
                users: users.as_deref_mut(),
                positives: positives.as_deref_mut(),
                labels: labels.as_deref_mut(),
                candidates: candidates.as_deref_mut(),
            })?;
            let js_ids = |v: Vec<u32>| Int32Array::new(into_i32(v));
            Ok(HardResult {
                items: js_ids(items),
                scores: Float32Array::new(scores),
                log_probs: log_probs.map(Float32Array::new),
                users: users.map(js_ids),
                positives: positives.map(js_ids),
                labels: labels.map(Float32Array::new),
                candidates: candidates.map(js_ids),
            })
        })
    }
}

/// A caller buffer's name, memory span and (for per-row buffers) length.
type Named = (&'static str, (usize, usize), Option<usize>);

/// The caller's buffers by name, span and length.
fn named(out: &HardBuffers) -> Vec<Named> {
    fn of<T>(name: &'static str, b: &[T], per_row: bool) -> Named {
        (name, span(b), per_row.then_some(b.len()))
    }
    let mut all = vec![
        of("out.items", &out.items, true),
        of("out.scores", &out.scores, true),
    ];
    all.extend(
        out.log_probs
            .as_deref()
            .map(|b| of("out.logProbs", b, true)),
    );
    all.extend(out.users.as_deref().map(|b| of("out.users", b, true)));
    all.extend(
        out.positives
            .as_deref()
            .map(|b| of("out.positives", b, true)),
    );
    all.extend(out.labels.as_deref().map(|b| of("out.labels", b, true)));
    all.extend(
        out.candidates
            .as_deref()
            .map(|b| of("out.candidates", b, false)),
    );
    all
}

/// Hard negatives for each positive `(users[j], positives[j])` into caller
/// buffers (`out.items` and `out.scores` required, the rest optional).
/// Embeddings are read in place.
#[napi(catch_unwind)]
pub fn hard_negatives_into(
    sampler: &JsSampler,
    users: Int32ArraySlice,
    positives: Int32ArraySlice,
    user_embeddings: Float32ArraySlice,
    item_embeddings: Float32ArraySlice,
    args: HardArgs,
    mut out: HardBuffers,
) -> Result<()> {
    let buffers = named(&out);
    let spans: Vec<_> = buffers
        .iter()
        .map(|&(name, span, _)| (name, span))
        .collect();
    check_disjoint(
        &spans,
        &[
            ("users", span(&users)),
            ("positives", span(&positives)),
            ("userEmbeddings", span(&user_embeddings)),
            ("itemEmbeddings", span(&item_embeddings)),
        ],
    )?;
    let lengths: Vec<_> = buffers
        .iter()
        .filter_map(|&(name, _, len)| Some((name, len?)))
        .collect();
    let candidates = out
        .candidates
        .as_deref()
        .map(|b| ("out.candidates", b.len()));
    let (ue, ie) = (&*user_embeddings, &*item_embeddings);
    let hard = Hard::new(
        &sampler.inner,
        &users,
        &positives,
        ue,
        ie,
        &args,
        &lengths,
        candidates,
    )?;
    // SAFETY: live typed arrays for the duration of this synchronous call,
    // pairwise disjoint and disjoint from the inputs (checked above).
    hard.run(unsafe {
        HardOut {
            items: ids_out(out.items.as_mut()),
            scores: out.scores.as_mut(),
            log_probs: out.log_probs.as_mut().map(|b| b.as_mut()),
            users: out.users.as_mut().map(|b| ids_out(b.as_mut())),
            positives: out.positives.as_mut().map(|b| ids_out(b.as_mut())),
            labels: out.labels.as_mut().map(|b| b.as_mut()),
            candidates: out.candidates.as_mut().map(|b| ids_out(b.as_mut())),
        }
    })
}

/// Hard negatives computed off the JavaScript thread. Inputs (embeddings
/// included) are copied when called.
#[napi(ts_return_type = "Promise<HardResult>", catch_unwind)]
pub fn hard_negatives_async(
    sampler: &JsSampler,
    users: Int32ArraySlice,
    positives: Int32ArraySlice,
    user_embeddings: Float32ArraySlice,
    item_embeddings: Float32ArraySlice,
    args: HardArgs,
    wants: HardWants,
) -> Result<AsyncTask<Job<HardResult>>> {
    let (ue, ie) = (&*user_embeddings, &*item_embeddings);
    let hard = Hard::new(&sampler.inner, &users, &positives, ue, ie, &args, &[], None)?;
    Ok(hard.job(wants))
}

/// One checked sampled-softmax call, ready to run: the one implementation
/// behind `sampledSoftmax` and `sampledSoftmaxAsync`.
struct Softmax<'a> {
    sampler: Cow<'a, Arc<Sampler>>,
    positives: Cow<'a, [u32]>,
    users: Option<Cow<'a, [u32]>>,
    num_sampled: usize,
    unique: bool,
    parallel: bool,
    call: u64,
}

impl<'a> Softmax<'a> {
    /// Checks the request with the engine's rules, then takes its call
    /// number.
    fn new(
        sampler: &'a Arc<Sampler>,
        positives: &'a [i32],
        num_sampled: f64,
        unique: bool,
        users: Option<&'a [i32]>,
        parallel: Option<bool>,
    ) -> Result<Self> {
        let num_sampled = size(whole("numSampled", num_sampled)?);
        let (positives, users) = (ids(positives), users.map(ids));
        ss::check_sampled_softmax(sampler, positives, num_sampled, unique, users)
            .map_err(js_error)?;
        Ok(Softmax {
            sampler: Cow::Borrowed(sampler),
            positives: Cow::Borrowed(positives),
            users: users.map(Cow::Borrowed),
            num_sampled,
            unique,
            parallel: parallel.unwrap_or(true),
            call: sampler.next_call(),
        })
    }

    fn run(&self) -> Result<ss::SampledSoftmax> {
        ss::sampled_softmax(
            &self.sampler,
            &self.positives,
            self.num_sampled,
            self.unique,
            self.users.as_deref(),
            self.call,
            self.parallel,
        )
        .map_err(js_error)
    }
}

/// A sampled-softmax result as external buffers (for the `...Async` form,
/// whose Promise settles on the event loop, which frees them).
fn external(r: ss::SampledSoftmax) -> SampledSoftmaxResult {
    SampledSoftmaxResult {
        candidates: Int32Array::new(into_i32(r.candidates)),
        candidate_log_q: Float32Array::new(r.candidate_log_q),
        candidate_expected_counts: Float32Array::new(r.candidate_expected_counts),
        positive_log_q: Float32Array::new(r.positive_log_q),
        positive_expected_counts: Float32Array::new(r.positive_expected_counts),
        num_tries: r.num_tries as f64,
        hits: r.hits.map(Float32Array::new),
    }
}

/// A sampled-softmax result as V8-owned copies (for the synchronous form:
/// see `owned.rs`).
fn v8_owned(env: &Env, r: ss::SampledSoftmax) -> Result<SampledSoftmaxResult> {
    Ok(SampledSoftmaxResult {
        candidates: owned::ids(env, &r.candidates)?,
        candidate_log_q: owned::floats(env, &r.candidate_log_q)?,
        candidate_expected_counts: owned::floats(env, &r.candidate_expected_counts)?,
        positive_log_q: owned::floats(env, &r.positive_log_q)?,
        positive_expected_counts: owned::floats(env, &r.positive_expected_counts)?,
        num_tries: r.num_tries as f64,
        hits: r.hits.map(|h| owned::floats(env, &h)).transpose()?,
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
    let call = Softmax::new(
        s,
        &positives,
        num_sampled,
        unique,
        users.as_deref(),
        parallel,
    )?;
    v8_owned(env, call.run()?)
}

/// As `sampledSoftmax`, computed off the JavaScript thread.
#[napi(ts_return_type = "Promise<SampledSoftmaxResult>", catch_unwind)]
pub fn sampled_softmax_async(
    sampler: &JsSampler,
    positives: Int32ArraySlice,
    num_sampled: f64,
    unique: bool,
    users: Option<Int32ArraySlice>,
    parallel: Option<bool>,
) -> Result<AsyncTask<Job<SampledSoftmaxResult>>> {
    let s = &sampler.inner;
    let call = Softmax::new(
        s,
        &positives,
        num_sampled,
        unique,
        users.as_deref(),
        parallel,
    )?;
    let call = Softmax {
        sampler: Cow::Owned(call.sampler.into_owned()),
        positives: Cow::Owned(call.positives.into_owned()),
        users: call.users.map(|u| Cow::Owned(u.into_owned())),
        ..call
    };
    Ok(Job::new(move || call.run().map(external)))
}

/// One accidental-hit mask: with `candidates`, rows x candidates (the
/// row's positive counted too, if given); without, in batch (rows x rows,
/// `items` the rows' items). The one implementation behind
/// `accidentalHitsInto`, `inBatchHitsInto` and `hitsAsync`.
fn hits_into(
    m: &Interactions,
    users: &[u32],
    columns: Option<&[u32]>,
    items: Option<&[u32]>,
    parallel: bool,
    out: &mut [f32],
) -> Result<()> {
    match columns {
        Some(c) => ss::accidental_hits_into(m, users, items, c, parallel, out),
        None => {
            let items = items.unwrap_or(&[]);
            ss::in_batch_hits_into(m, users, items, parallel, out)
        }
    }
    .map_err(js_error)
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
    out: Float32ArraySlice,
    parallel: Option<bool>,
) -> Result<()> {
    let mut inputs = vec![("users", span(&users)), ("candidates", span(&candidates))];
    inputs.extend(positives.as_deref().map(|p| ("positives", span(p))));
    let positives = positives.as_deref().map(ids);
    caller_mask(
        interactions,
        &users,
        Some(ids(&candidates)),
        positives,
        out,
        &inputs,
        parallel,
    )
}

/// The in-batch accidental-hit mask (users.length x users.length) into
/// `out`: 1 where another row's item is a training positive of this row's
/// user or the same item; 0 on the diagonal.
#[napi(catch_unwind)]
pub fn in_batch_hits_into(
    interactions: &JsInteractions,
    users: Int32ArraySlice,
    items: Int32ArraySlice,
    out: Float32ArraySlice,
    parallel: Option<bool>,
) -> Result<()> {
    let inputs = [("users", span(&users)), ("items", span(&items))];
    caller_mask(
        interactions,
        &users,
        None,
        Some(ids(&items)),
        out,
        &inputs,
        parallel,
    )
}

/// A mask into the caller's `out`, after checking it shares no memory with
/// an input.
fn caller_mask(
    interactions: &JsInteractions,
    users: &[i32],
    columns: Option<&[u32]>,
    items: Option<&[u32]>,
    mut out: Float32ArraySlice,
    inputs: &[(&str, (usize, usize))],
    parallel: Option<bool>,
) -> Result<()> {
    check_disjoint(&[("out", span(&out))], inputs)?;
    // SAFETY: a live array for this synchronous call, disjoint from the
    // inputs (checked above).
    let out = unsafe { out.as_mut() };
    let parallel = parallel.unwrap_or(true);
    hits_into(
        &interactions.inner,
        ids(users),
        columns,
        items,
        parallel,
        out,
    )
}

/// A mask computed off the JavaScript thread: with `candidates`, rows x
/// candidates (positives optional); without, in batch (rows x rows, with
/// `positives` as the rows' items).
#[napi(ts_return_type = "Promise<Float32Array>", catch_unwind)]
pub fn hits_async(
    interactions: &JsInteractions,
    users: Int32ArraySlice,
    candidates: Option<Int32ArraySlice>,
    positives: Option<Int32ArraySlice>,
) -> Result<AsyncTask<Job<Float32Array>>> {
    let m = interactions.inner.clone();
    let users = ids(&users).to_vec();
    let columns = candidates.as_deref().map(|c| ids(c).to_vec());
    let items = positives.as_deref().map(|p| ids(p).to_vec());
    let width = columns.as_ref().map_or(users.len(), |c| c.len());
    let cells = ss::mask_entries(users.len(), width).map_err(js_error)?;
    Ok(Job::new(move || {
        let mut out = vec![0f32; cells];
        hits_into(
            &m,
            &users,
            columns.as_deref(),
            items.as_deref(),
            true,
            &mut out,
        )?;
        Ok(Float32Array::new(out))
    }))
}

/// The dot-product path this CPU uses for scores (`"avx512"`, `"avx2"`,
/// `"neon"` or `"scalar"`); every path gives the same bits.
#[napi]
pub fn dot_path() -> String {
    negsample_core::dot::Path::best().name().to_string()
}
