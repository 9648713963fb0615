//! Sampled-softmax support: a batch's shared candidates with log Q and
//! expected counts, and accidental-hit masks (over a `NativeSampler`, or a
//! `NativeInteractions` for the masks).
//!
//! Synchronous calls return arrays in V8-owned memory (or write into the
//! caller's mask); `...Async` calls copy their inputs when called and
//! resolve with fresh arrays. A sampling call takes its call number on the
//! JavaScript thread after its arguments are checked.

// napi-rs registers these free functions with Node only outside `cfg(test)`,
// so a test build of this crate sees them as unused.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use std::borrow::Cow;
use std::sync::Arc;

use negsample_core::sampled_softmax as ss;
use negsample_core::{Interactions, Sampler};

use crate::convert::{check_disjoint, count, ids, into_i32, js_error, js_error_in, span};
use crate::interactions::JsInteractions;
use crate::job::Job;
use crate::owned;
use crate::sampler::JsSampler;

/// The request of a sampled-softmax call (the TypeScript options).
#[napi(object)]
pub struct SampledSoftmaxArgs {
    /// `S`, the number of shared candidates.
    pub num_sampled: f64,
    /// Draw `S` distinct candidates (default false).
    pub unique: Option<bool>,
    /// The rows' users: also compute the accidental-hit mask.
    pub users: Option<Int32Array>,
    /// Spread the mask over the thread pool (default true; same output).
    pub parallel: Option<bool>,
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
        args: &'a SampledSoftmaxArgs,
    ) -> Result<Self> {
        let num_sampled = count("options.numSampled", args.num_sampled)?;
        let unique = args.unique.unwrap_or(false);
        let (positives, users) = (ids(positives), args.users.as_deref().map(ids));
        ss::check_sampled_softmax(sampler, positives, num_sampled, unique, users)
            .map_err(js_error_in(&[("num_sampled", "options.numSampled")]))?;
        Ok(Softmax {
            sampler: Cow::Borrowed(sampler),
            positives: Cow::Borrowed(positives),
            users: users.map(Cow::Borrowed),
            num_sampled,
            unique,
            parallel: args.parallel.unwrap_or(true),
            call: sampler.next_call(),
        })
    }

    /// The call off the JavaScript thread, on copies of its inputs.
    fn job(self) -> AsyncTask<Job<SampledSoftmaxResult>> {
        let call = Softmax {
            sampler: Cow::Owned(self.sampler.into_owned()),
            positives: Cow::Owned(self.positives.into_owned()),
            users: self.users.map(|u| Cow::Owned(u.into_owned())),
            ..self
        };
        Job::new(move || call.run().map(external))
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
    args: SampledSoftmaxArgs,
) -> Result<SampledSoftmaxResult> {
    v8_owned(env, Softmax::new(&sampler.inner, &positives, &args)?.run()?)
}

/// As `sampledSoftmax`, computed off the JavaScript thread.
#[napi(ts_return_type = "Promise<SampledSoftmaxResult>", catch_unwind)]
pub fn sampled_softmax_async(
    sampler: &JsSampler,
    positives: Int32ArraySlice,
    args: SampledSoftmaxArgs,
) -> Result<AsyncTask<Job<SampledSoftmaxResult>>> {
    Ok(Softmax::new(&sampler.inner, &positives, &args)?.job())
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
