//! `NativeSampler`: the engine's sampler behind an `Arc`, with synchronous,
//! caller-buffer (`...Into`) and Promise (`...Async`) forms of every call.
//!
//! Each call takes its call number on the JavaScript thread, when it is made,
//! so the output of a sequence of calls does not depend on when their
//! off-thread parts finish.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::error::check_ids;
use negsample_core::parallel::MAX_THREADS;
use negsample_core::{PairwiseOut, PointwiseOut, Proposal, Sampler};

use crate::convert::{check_disjoint, ids_out, integer, into_i32, js_error, seed, span};
use crate::fast_call::FastHandle;
use crate::interactions::JsInteractions;
use crate::job::Job;
use crate::owned;

/// Largest `k` accepted (the output of one call must fit an `Int32Array`).
const MAX_K: u64 = i32::MAX as u64;

/// A pairwise batch: row `j` is `(users[j], positives[j], negatives[j])`.
#[napi(object)]
pub struct PairwiseBatch {
    /// The user of each row.
    pub users: Int32Array,
    /// The positive item of each row.
    pub positives: Int32Array,
    /// The sampled negative item of each row.
    pub negatives: Int32Array,
}

/// A pointwise batch: row `j` is `(users[j], items[j])` with `labels[j]`.
#[napi(object)]
pub struct PointwiseBatch {
    /// The user of each row.
    pub users: Int32Array,
    /// Each positive followed by its negatives.
    pub items: Int32Array,
    /// 1 for a positive, 0 for a negative.
    pub labels: Float32Array,
}

impl PairwiseBatch {
    /// The engine's batch as V8-owned arrays (freed with their JavaScript
    /// objects, not on a later event-loop turn).
    pub(crate) fn owned(env: &Env, batch: &negsample_core::PairwiseBatch) -> Result<Self> {
        Ok(Self {
            users: owned::ids(env, &batch.users)?,
            positives: owned::ids(env, &batch.positives)?,
            negatives: owned::ids(env, &batch.negatives)?,
        })
    }
}

impl PointwiseBatch {
    /// The engine's batch as V8-owned arrays (see [`PairwiseBatch::owned`]).
    pub(crate) fn owned(env: &Env, batch: &negsample_core::PointwiseBatch) -> Result<Self> {
        Ok(Self {
            users: owned::ids(env, &batch.users)?,
            items: owned::ids(env, &batch.items)?,
            labels: owned::floats(env, &batch.labels)?,
        })
    }
}

/// Every training positive once, in shuffled order.
#[napi(object)]
pub struct Positives {
    /// The user of each positive.
    pub users: Int32Array,
    /// The item of each positive.
    pub items: Int32Array,
}

/// A seeded negative sampler over one interaction matrix.
#[napi(js_name = "NativeSampler")]
pub struct JsSampler {
    pub(crate) inner: Arc<Sampler>,
}

/// `k`, negatives per positive: an integer in `[1, 2^31 - 1]`.
pub(crate) fn negatives_per_positive(k: f64) -> Result<usize> {
    integer("k", k, 1, MAX_K).map(|k| k as usize)
}

/// `users` as ids of `sampler`'s matrix, checked.
pub(crate) fn checked_users<'a>(sampler: &Sampler, users: &'a [i32]) -> Result<&'a [u32]> {
    check_ids("users", users, sampler.interactions().num_users() as u64).map_err(js_error)
}

/// Checks the whole request, then takes its call number: a call that throws
/// takes none, so it does not shift the output of later calls.
fn reserve(
    sampler: &Sampler,
    users: &[u32],
    items: Option<&[i32]>,
    k: usize,
    rows_per_positive: usize,
    outputs: &[(&'static str, usize)],
) -> Result<u64> {
    sampler
        .check_request(users, items, k, rows_per_positive, outputs)
        .map_err(js_error)?;
    Ok(sampler.next_call())
}

/// `k` negatives per user into `out`, after every check of
/// `NativeSampler.negativesInto` (shared with [`crate::fast_call`]).
pub(crate) fn negatives_into_checked(
    sampler: &Sampler,
    users: &[i32],
    k: f64,
    out: &mut [i32],
) -> Result<()> {
    let k = negatives_per_positive(k)?;
    let users = checked_users(sampler, users)?;
    check_disjoint(&[("out", span(out))], &[("users", span(users))])?;
    let call = reserve(sampler, users, None, k, k, &[("out", out.len())])?;
    sampler
        .negatives_into(users, k, call, ids_out(out))
        .map_err(js_error)
}

impl JsSampler {
    fn users<'a>(&self, users: &'a [i32]) -> Result<&'a [u32]> {
        checked_users(&self.inner, users)
    }

    /// [`reserve`] on this sampler.
    fn reserve(
        &self,
        users: &[u32],
        items: Option<&[i32]>,
        k: usize,
        rows_per_positive: usize,
        outputs: &[(&'static str, usize)],
    ) -> Result<u64> {
        reserve(&self.inner, users, items, k, rows_per_positive, outputs)
    }
}

#[napi]
impl JsSampler {
    /// Builds the proposal (`"uniform"`, `"popularity"` with `alpha`, or
    /// `"weights"` with `weights`) and classifies every user. Calls of many
    /// draws use `threads` threads (default: every core).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        interactions: &JsInteractions,
        proposal: String,
        alpha: f64,
        weights: Option<Float64ArraySlice>,
        seed_value: BigInt,
        threads: Option<f64>,
    ) -> Result<Self> {
        let proposal = match (proposal.as_str(), weights) {
            ("uniform", _) => Proposal::Uniform,
            ("popularity", _) => Proposal::Popularity { alpha },
            ("weights", Some(weights)) => Proposal::Weights(weights.to_vec()),
            (other, _) => {
                return Err(Error::new(
                    Status::InvalidArg,
                    format!("proposal must be 'uniform', 'popularity' or 'weights', got '{other}'"),
                ))
            }
        };
        let mut sampler = interactions
            .new_sampler(&proposal, seed(&seed_value)?)
            .map_err(js_error)?;
        if let Some(threads) = threads {
            let threads = integer("threads", threads, 1, MAX_THREADS as u64)?;
            sampler = sampler.with_threads(threads as usize).map_err(js_error)?;
        }
        Ok(JsSampler {
            inner: Arc::new(sampler),
        })
    }

    /// The seed.
    #[napi(getter)]
    pub fn seed(&self) -> BigInt {
        BigInt::from(self.inner.seed())
    }

    /// How many threads a call of many draws uses.
    #[napi(getter)]
    pub fn threads(&self) -> u32 {
        self.inner.threads() as u32
    }

    /// The draw kernel: `"scalar"`, `"avx2"`, `"avx512"` or `"neon"`.
    #[napi(getter)]
    pub fn kernel(&self) -> &'static str {
        self.inner.kernel().name()
    }

    /// How many calls have drawn randomness so far.
    #[napi(getter)]
    pub fn calls(&self) -> f64 {
        self.inner.calls() as f64
    }

    /// Whether `user` has at least one possible negative.
    #[napi(catch_unwind)]
    pub fn has_negative(&self, user: f64) -> Result<bool> {
        let bound = self.inner.interactions().num_users() as u64;
        let u = integer("user", user, 0, bound.saturating_sub(1))?;
        Ok(u < bound && self.inner.has_negative(u as u32))
    }

    /// Whether `user`'s negatives come from the complement method.
    #[napi(catch_unwind)]
    pub fn uses_complement(&self, user: f64) -> Result<bool> {
        let bound = self.inner.interactions().num_users() as u64;
        let u = integer("user", user, 0, bound.saturating_sub(1))?;
        Ok(u < bound && self.inner.uses_complement(u as u32))
    }

    /// `k` negatives per user, fresh.
    #[napi(catch_unwind)]
    pub fn negatives(&self, env: &Env, users: Int32ArraySlice, k: f64) -> Result<Int32Array> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?;
        let call = self.reserve(users, None, k, k, &[])?;
        let mut out = vec![0u32; users.len() * k];
        self.inner
            .negatives_into(users, k, call, &mut out)
            .map_err(js_error)?;
        owned::ids(env, &out)
    }

    /// A handle to this sampler for the direct `negativesInto` entry
    /// (`fastEntry()`, see `fast_call.rs`); it keeps the sampler alive while
    /// it is referenced.
    #[napi(catch_unwind, ts_return_type = "ExternalObject<'NegsampleSampler'>")]
    pub fn fast_handle(&self) -> FastHandle {
        External::new(self.inner.clone())
    }

    /// `k` negatives per user, into `out`.
    #[napi(catch_unwind)]
    pub fn negatives_into(
        &self,
        users: Int32ArraySlice,
        k: f64,
        mut out: Int32ArraySlice,
    ) -> Result<()> {
        // SAFETY: `out` is a live Int32Array for the duration of this
        // synchronous call (`negatives_into_checked` checks it shares no
        // memory with `users` before writing).
        negatives_into_checked(&self.inner, &users, k, unsafe { out.as_mut() })
    }

    /// `k` negatives per user, computed off the JavaScript thread.
    #[napi(ts_return_type = "Promise<Int32Array>", catch_unwind)]
    pub fn negatives_async(
        &self,
        users: Int32ArraySlice,
        k: f64,
    ) -> Result<AsyncTask<Job<Int32Array>>> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?.to_vec();
        let call = self.reserve(&users, None, k, k, &[])?;
        let sampler = self.inner.clone();
        Ok(Job::new(move || negatives(&sampler, &users, k, call)))
    }

    /// A pairwise batch (`users.length * k` rows), fresh.
    #[napi(catch_unwind)]
    pub fn pairwise(
        &self,
        env: &Env,
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        k: f64,
    ) -> Result<PairwiseBatch> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?;
        let call = self.reserve(users, Some(&items), k, k, &[])?;
        let batch = self
            .inner
            .pairwise(users, &items, k, call)
            .map_err(js_error)?;
        PairwiseBatch::owned(env, &batch)
    }

    /// A pairwise batch into caller buffers of `users.length * k` rows.
    #[napi(catch_unwind)]
    pub fn pairwise_into(
        &self,
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        k: f64,
        mut out_users: Int32ArraySlice,
        mut out_positives: Int32ArraySlice,
        mut out_negatives: Int32ArraySlice,
    ) -> Result<()> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?;
        check_disjoint(
            &[
                ("out.users", span(&out_users)),
                ("out.positives", span(&out_positives)),
                ("out.negatives", span(&out_negatives)),
            ],
            &[("users", span(users)), ("items", span(&items))],
        )?;
        let outputs = [
            ("out.users", out_users.len()),
            ("out.positives", out_positives.len()),
            ("out.negatives", out_negatives.len()),
        ];
        let call = self.reserve(users, Some(&items), k, k, &outputs)?;
        // SAFETY: live arrays for this synchronous call, pairwise disjoint and
        // disjoint from the inputs (checked above).
        let out = unsafe {
            PairwiseOut {
                users: ids_out(out_users.as_mut()),
                positives: ids_out(out_positives.as_mut()),
                negatives: ids_out(out_negatives.as_mut()),
            }
        };
        self.inner
            .pairwise_into(users, &items, k, call, out)
            .map_err(js_error)
    }

    /// A pairwise batch computed off the JavaScript thread.
    #[napi(ts_return_type = "Promise<PairwiseBatch>", catch_unwind)]
    pub fn pairwise_async(
        &self,
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        k: f64,
    ) -> Result<AsyncTask<Job<PairwiseBatch>>> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?.to_vec();
        let call = self.reserve(&users, Some(&items), k, k, &[])?;
        let items = items.to_vec();
        let sampler = self.inner.clone();
        Ok(Job::new(move || {
            pairwise(&sampler, &users, &items, k, call)
        }))
    }

    /// A pointwise batch (`users.length * (1 + k)` rows), fresh.
    #[napi(catch_unwind)]
    pub fn pointwise(
        &self,
        env: &Env,
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        k: f64,
    ) -> Result<PointwiseBatch> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?;
        let call = self.reserve(users, Some(&items), k, k + 1, &[])?;
        let batch = self
            .inner
            .pointwise(users, &items, k, call)
            .map_err(js_error)?;
        PointwiseBatch::owned(env, &batch)
    }

    /// A pointwise batch into caller buffers of `users.length * (1 + k)` rows.
    #[napi(catch_unwind)]
    pub fn pointwise_into(
        &self,
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        k: f64,
        mut out_users: Int32ArraySlice,
        mut out_items: Int32ArraySlice,
        mut out_labels: Float32ArraySlice,
    ) -> Result<()> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?;
        check_disjoint(
            &[
                ("out.users", span(&out_users)),
                ("out.items", span(&out_items)),
                ("out.labels", span(&out_labels)),
            ],
            &[("users", span(users)), ("items", span(&items))],
        )?;
        let outputs = [
            ("out.users", out_users.len()),
            ("out.items", out_items.len()),
            ("out.labels", out_labels.len()),
        ];
        let call = self.reserve(users, Some(&items), k, k + 1, &outputs)?;
        // SAFETY: as in `pairwise_into`.
        let out = unsafe {
            PointwiseOut {
                users: ids_out(out_users.as_mut()),
                items: ids_out(out_items.as_mut()),
                labels: out_labels.as_mut(),
            }
        };
        self.inner
            .pointwise_into(users, &items, k, call, out)
            .map_err(js_error)
    }

    /// A pointwise batch computed off the JavaScript thread.
    #[napi(ts_return_type = "Promise<PointwiseBatch>", catch_unwind)]
    pub fn pointwise_async(
        &self,
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        k: f64,
    ) -> Result<AsyncTask<Job<PointwiseBatch>>> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?.to_vec();
        let call = self.reserve(&users, Some(&items), k, k + 1, &[])?;
        let items = items.to_vec();
        let sampler = self.inner.clone();
        Ok(Job::new(move || {
            pointwise(&sampler, &users, &items, k, call)
        }))
    }

    /// The natural log of the proposal probability of each item, into `out`.
    #[napi(catch_unwind)]
    pub fn log_probabilities_into(
        &self,
        items: Int32ArraySlice,
        mut out: Float32ArraySlice,
    ) -> Result<()> {
        let n = self.inner.interactions().num_items() as u64;
        let items = check_ids("items", &items, n).map_err(js_error)?;
        if out.len() != items.len() {
            return Err(Error::new(
                Status::InvalidArg,
                format!(
                    "out.length is {}, expected items.length ({})",
                    out.len(),
                    items.len()
                ),
            ));
        }
        check_disjoint(&[("out", span(&out))], &[("items", span(items))])?;
        let table = self.inner.log_probabilities();
        // SAFETY: live array for this synchronous call, disjoint from `items`.
        for (o, &i) in unsafe { out.as_mut() }.iter_mut().zip(items) {
            *o = table[i as usize];
        }
        Ok(())
    }

    /// Every training positive once, shuffled (one call number).
    #[napi(catch_unwind)]
    pub fn shuffled_positives(&self, env: &Env) -> Result<Positives> {
        let call = self.inner.next_call();
        let (users, items) = self.inner.shuffled_positives(call);
        Ok(Positives {
            users: owned::ids(env, &users)?,
            items: owned::ids(env, &items)?,
        })
    }
}

fn negatives(sampler: &Sampler, users: &[u32], k: usize, call: u64) -> Result<Int32Array> {
    let mut out = vec![0u32; users.len() * k];
    sampler
        .negatives_into(users, k, call, &mut out)
        .map_err(js_error)?;
    Ok(Int32Array::new(into_i32(out)))
}

fn pairwise(
    sampler: &Sampler,
    users: &[u32],
    items: &[i32],
    k: usize,
    call: u64,
) -> Result<PairwiseBatch> {
    let batch = sampler.pairwise(users, items, k, call).map_err(js_error)?;
    Ok(PairwiseBatch {
        users: Int32Array::new(into_i32(batch.users)),
        positives: Int32Array::new(into_i32(batch.positives)),
        negatives: Int32Array::new(into_i32(batch.negatives)),
    })
}

fn pointwise(
    sampler: &Sampler,
    users: &[u32],
    items: &[i32],
    k: usize,
    call: u64,
) -> Result<PointwiseBatch> {
    let batch = sampler.pointwise(users, items, k, call).map_err(js_error)?;
    Ok(PointwiseBatch {
        users: Int32Array::new(into_i32(batch.users)),
        items: Int32Array::new(into_i32(batch.items)),
        labels: Float32Array::new(batch.labels),
    })
}
