//! Hard negatives: free functions over a `NativeSampler`.
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
use negsample_core::Sampler;

use crate::convert::{check_disjoint, count, ids, ids_out, into_i32, js_error, span};
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

/// The arrays of a hard-negatives call: the caller's buffers of
/// `hardNegativesInto` and the result of `hardNegativesAsync` (see `HardOut`
/// in the engine).
#[napi(object)]
pub struct HardArrays {
    /// Pairwise: the negatives; pointwise: each positive then its negatives.
    pub items: Int32Array,
    /// The score of each row's item.
    pub scores: Float32Array,
    /// Optional: ln q of each row's item under the proposal.
    pub log_probs: Option<Float32Array>,
    /// Optional: the user of each row.
    pub users: Option<Int32Array>,
    /// Optional: the positive of each row (pairwise).
    pub positives: Option<Int32Array>,
    /// Optional: the label of each row (pointwise).
    pub labels: Option<Float32Array>,
    /// Optional: every candidate drawn, `M` per positive.
    pub candidates: Option<Int32Array>,
}

/// The inputs of a hard-negatives call: the positives and the model's
/// embedding snapshots (read in place by `hardNegativesInto` and
/// `hardNegatives`, copied by `hardNegativesAsync`).
#[napi(object)]
pub struct HardInputs {
    /// The user of each positive.
    pub users: Int32Array,
    /// The item of each positive.
    pub positives: Int32Array,
    /// `numUsers x dim` user embeddings, row-major.
    pub user_embeddings: Float32Array,
    /// `numItems x dim` item embeddings, row-major.
    pub item_embeddings: Float32Array,
}

/// What a fresh or `...Async` hard-negatives call returns besides `items`
/// and `scores`.
#[napi(object)]
#[derive(Clone, Copy)]
pub struct HardWants {
    /// Return `logProbs`.
    pub log_probs: bool,
    /// Return `users` and `positives` (pairwise) or `users` and `labels`
    /// (pointwise).
    pub rows: bool,
    /// Return `candidates`.
    pub candidates: bool,
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
        candidates: count("candidates", args.candidates)?,
        negatives: count("negatives", args.negatives)?,
        strategy,
        layout,
        parallel: args.parallel.unwrap_or(true),
    })
}

/// One checked hard-negatives call, ready to run: the one implementation
/// behind `hardNegatives`, `hardNegativesInto` and `hardNegativesAsync`.
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
    fn new(
        sampler: &'a Arc<Sampler>,
        inputs: &'a HardInputs,
        args: &HardArgs,
        outputs: &[(&'static str, usize)],
        candidates: Option<(&'static str, usize)>,
    ) -> Result<Self> {
        let options = options(args)?;
        let dim = count("dim", args.dim)?;
        let (users, positives) = (ids(&inputs.users), ids(&inputs.positives));
        let (user_embeddings, item_embeddings) =
            (&*inputs.user_embeddings, &*inputs.item_embeddings);
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
    fn job(self, wants: HardWants) -> AsyncTask<Job<HardArrays>> {
        let hard = Hard {
            sampler: Cow::Owned(self.sampler.into_owned()),
            users: Cow::Owned(self.users.into_owned()),
            positives: Cow::Owned(self.positives.into_owned()),
            user_embeddings: Cow::Owned(self.user_embeddings.into_owned()),
            item_embeddings: Cow::Owned(self.item_embeddings.into_owned()),
            ..self
        };
        Job::new(move || hard.fill(wants).map(Filled::external))
    }

    /// Runs into fresh vectors: `items`, `scores` and what `wants` asks for.
    fn fill(&self, wants: HardWants) -> Result<Filled> {
        let opts = &self.options;
        let rows = self.users.len() * opts.layout.rows_per_positive(opts.negatives);
        let pointwise = opts.layout == Layout::Pointwise;
        let ids = |wanted: bool, len: usize| wanted.then(|| vec![0u32; len]);
        let floats = |wanted: bool| wanted.then(|| vec![0f32; rows]);
        let mut f = Filled {
            items: vec![0u32; rows],
            scores: vec![0f32; rows],
            log_probs: floats(wants.log_probs),
            users: ids(wants.rows, rows),
            positives: ids(wants.rows && !pointwise, rows),
            labels: floats(wants.rows && pointwise),
            candidates: ids(wants.candidates, self.users.len() * opts.candidates),
        };
        self.run(HardOut {
            items: &mut f.items,
            scores: &mut f.scores,
            log_probs: f.log_probs.as_deref_mut(),
            users: f.users.as_deref_mut(),
            positives: f.positives.as_deref_mut(),
            labels: f.labels.as_deref_mut(),
            candidates: f.candidates.as_deref_mut(),
        })?;
        Ok(f)
    }
}

/// The output of a fresh or `...Async` hard-negatives call, as vectors.
struct Filled {
    items: Vec<u32>,
    scores: Vec<f32>,
    log_probs: Option<Vec<f32>>,
    users: Option<Vec<u32>>,
    positives: Option<Vec<u32>>,
    labels: Option<Vec<f32>>,
    candidates: Option<Vec<u32>>,
}

impl Filled {
    /// As external buffers (for the `...Async` form, whose Promise settles
    /// on the event loop, which frees them).
    fn external(self) -> HardArrays {
        let js_ids = |v: Vec<u32>| Int32Array::new(into_i32(v));
        HardArrays {
            items: js_ids(self.items),
            scores: Float32Array::new(self.scores),
            log_probs: self.log_probs.map(Float32Array::new),
            users: self.users.map(js_ids),
            positives: self.positives.map(js_ids),
            labels: self.labels.map(Float32Array::new),
            candidates: self.candidates.map(js_ids),
        }
    }

    /// As V8-owned copies (for the synchronous form: see `owned.rs`).
    fn v8_owned(self, env: &Env) -> Result<HardArrays> {
        let ids = |v: Option<Vec<u32>>| v.map(|v| owned::ids(env, &v)).transpose();
        let floats = |v: Option<Vec<f32>>| v.map(|v| owned::floats(env, &v)).transpose();
        Ok(HardArrays {
            items: owned::ids(env, &self.items)?,
            scores: owned::floats(env, &self.scores)?,
            log_probs: floats(self.log_probs)?,
            users: ids(self.users)?,
            positives: ids(self.positives)?,
            labels: floats(self.labels)?,
            candidates: ids(self.candidates)?,
        })
    }
}

/// A caller buffer's name, memory span and (for per-row buffers) length.
type Named = (&'static str, (usize, usize), Option<usize>);

/// The caller's buffers by name, span and length.
fn named(out: &HardArrays) -> Vec<Named> {
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
    inputs: HardInputs,
    args: HardArgs,
    mut out: HardArrays,
) -> Result<()> {
    let buffers = named(&out);
    let spans: Vec<_> = buffers
        .iter()
        .map(|&(name, span, _)| (name, span))
        .collect();
    check_disjoint(
        &spans,
        &[
            ("users", span(&inputs.users)),
            ("positives", span(&inputs.positives)),
            ("userEmbeddings", span(&inputs.user_embeddings)),
            ("itemEmbeddings", span(&inputs.item_embeddings)),
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
    let hard = Hard::new(&sampler.inner, &inputs, &args, &lengths, candidates)?;
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

/// Hard negatives into fresh arrays in V8-owned memory: `items` and
/// `scores`, and what `wants` asks for. Embeddings are read in place.
#[napi(catch_unwind)]
pub fn hard_negatives(
    env: &Env,
    sampler: &JsSampler,
    inputs: HardInputs,
    args: HardArgs,
    wants: HardWants,
) -> Result<HardArrays> {
    let hard = Hard::new(&sampler.inner, &inputs, &args, &[], None)?;
    hard.fill(wants)?.v8_owned(env)
}

/// As `hardNegatives`, computed off the JavaScript thread. Inputs
/// (embeddings included) are copied when called.
#[napi(ts_return_type = "Promise<HardArrays>", catch_unwind)]
pub fn hard_negatives_async(
    sampler: &JsSampler,
    inputs: HardInputs,
    args: HardArgs,
    wants: HardWants,
) -> Result<AsyncTask<Job<HardArrays>>> {
    Ok(Hard::new(&sampler.inner, &inputs, &args, &[], None)?.job(wants))
}

/// The dot-product path this CPU uses for scores (`"avx512"`, `"avx2"`,
/// `"neon"` or `"scalar"`); every path gives the same bits.
#[napi]
pub fn dot_path() -> String {
    negsample_core::dot::Path::best().name().to_string()
}
