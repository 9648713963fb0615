//! `NativeSampler`: the engine's sampler behind an `Arc` (its draw calls,
//! shared with shards, are in `draw.rs`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::{Proposal, Sampler};

use crate::buffers::Positives;
use crate::convert::{check_disjoint, count, ids, js_error, js_error_in, seed, span, whole};
use crate::interactions::JsInteractions;
use crate::owned;

/// A sampler handle for the direct `negativesInto` entry (`fastEntry()`,
/// see `fast_call.rs`): the same sampler as the `NativeSampler` it came
/// from (shared, not copied).
pub type FastHandle = External<Arc<Sampler>>;

/// A seeded negative sampler over one interaction matrix.
#[napi(js_name = "NativeSampler")]
pub struct JsSampler {
    pub(crate) inner: Arc<Sampler>,
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
        let weights = weights.map(|w| w.to_vec());
        let proposal = Proposal::named(&proposal, Some(alpha), weights).map_err(js_error)?;
        let mut sampler = interactions
            .new_sampler(&proposal, seed(&seed_value)?)
            .map_err(js_error)?;
        if let Some(threads) = threads {
            let threads = count("options.threads", threads)?;
            sampler = sampler
                .with_threads(threads)
                .map_err(js_error_in(&[("threads", "options.threads")]))?;
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
        let user = self.inner.user("user", whole("user", user)?);
        Ok(self.inner.has_negative(user.map_err(js_error)?))
    }

    /// Whether `user`'s negatives come from the complement method.
    #[napi(catch_unwind)]
    pub fn uses_complement(&self, user: f64) -> Result<bool> {
        let user = self.inner.user("user", whole("user", user)?);
        Ok(self.inner.uses_complement(user.map_err(js_error)?))
    }

    /// A handle to this sampler for the direct `negativesInto` entry
    /// (`fastEntry()`, see `fast_call.rs`); it keeps the sampler alive while
    /// it is referenced.
    #[napi(catch_unwind, ts_return_type = "ExternalObject<'NegsampleSampler'>")]
    pub fn fast_handle(&self) -> FastHandle {
        External::new(self.inner.clone())
    }

    /// The natural log of the proposal probability of each item, into `out`.
    #[napi(catch_unwind)]
    pub fn log_probabilities_into(
        &self,
        items: Int32ArraySlice,
        mut out: Float32ArraySlice,
    ) -> Result<()> {
        check_disjoint(&[("out", span(&out))], &[("items", span(&items))])?;
        // SAFETY: a live array for this synchronous call, disjoint from
        // `items` (checked above).
        let out = unsafe { out.as_mut() };
        self.inner
            .log_probabilities_into(ids(&items), out)
            .map_err(js_error)
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
