//! `NativeShard`: one data-parallel worker's share of a sampler's positives,
//! with its own call numbers (see `negsample_core::shard`).

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::shard::{Shard, MAX_WORLD_SIZE};

use crate::convert::{integer, js_error};
use crate::owned;
use crate::sampler::{
    checked_users, negatives_per_positive, JsSampler, PairwiseBatch, PointwiseBatch, Positives,
};

/// Shard `rank` of `worldSize` over a sampler's training positives.
#[napi(js_name = "NativeShard")]
pub struct JsShard {
    inner: Arc<Shard>,
}

impl JsShard {
    /// The engine's shard.
    pub(crate) fn inner(&self) -> &Shard {
        &self.inner
    }

    fn users<'a>(&self, users: &'a [i32]) -> Result<&'a [u32]> {
        checked_users(self.inner.sampler(), users)
    }

    /// Checks a request, then takes the shard's next call number.
    fn reserve(&self, users: &[u32], items: Option<&[i32]>, k: usize, rows: usize) -> Result<u64> {
        self.inner
            .sampler()
            .check_request(users, items, k, rows, &[])
            .map_err(js_error)?;
        Ok(self.inner.next_call())
    }
}

#[napi]
impl JsShard {
    /// Shard `rank` of `world_size` over `sampler`.
    #[napi(constructor, catch_unwind)]
    pub fn new(sampler: &JsSampler, rank: f64, world_size: f64) -> Result<Self> {
        let world = integer("worldSize", world_size, 1, MAX_WORLD_SIZE as u64)? as usize;
        let rank = integer("rank", rank, 0, u32::MAX as u64)? as usize;
        let shard = Shard::new(sampler.inner.clone(), rank, world).map_err(js_error)?;
        Ok(JsShard {
            inner: Arc::new(shard),
        })
    }

    /// Positives per epoch in this shard.
    #[napi(getter)]
    pub fn size(&self) -> f64 {
        self.inner.len() as f64
    }

    /// How many sampling calls this shard has made.
    #[napi(getter)]
    pub fn calls(&self) -> f64 {
        self.inner.calls() as f64
    }

    /// The shard's positives `start .. start + count` of epoch `epoch`.
    #[napi(catch_unwind)]
    pub fn positives(&self, env: &Env, epoch: f64, start: f64, count: f64) -> Result<Positives> {
        let epoch = integer("epoch", epoch, 0, 1 << 53)?;
        let start = integer("start", start, 0, 1 << 53)? as usize;
        let count = integer("count", count, 0, i32::MAX as u64)? as usize;
        let (mut users, mut items) = (vec![0u32; count], vec![0u32; count]);
        self.inner
            .positives_into(epoch, start, &mut users, &mut items)
            .map_err(js_error)?;
        Ok(Positives {
            users: owned::ids(env, &users)?,
            items: owned::ids(env, &items)?,
        })
    }

    /// `k` negatives per user, from this shard's streams.
    #[napi(catch_unwind)]
    pub fn negatives(&self, env: &Env, users: Int32ArraySlice, k: f64) -> Result<Int32Array> {
        let k = negatives_per_positive(k)?;
        let users = self.users(&users)?;
        let call = self.reserve(users, None, k, k)?;
        let mut out = vec![0u32; users.len() * k];
        self.inner
            .sampler()
            .negatives_into(users, k, call, &mut out)
            .map_err(js_error)?;
        owned::ids(env, &out)
    }

    /// A pairwise batch from this shard's streams.
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
        let call = self.reserve(users, Some(&items), k, k)?;
        let b = self
            .inner
            .sampler()
            .pairwise(users, &items, k, call)
            .map_err(js_error)?;
        PairwiseBatch::owned(env, &b)
    }

    /// A pointwise batch from this shard's streams.
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
        let call = self.reserve(users, Some(&items), k, k + 1)?;
        let b = self
            .inner
            .sampler()
            .pointwise(users, &items, k, call)
            .map_err(js_error)?;
        PointwiseBatch::owned(env, &b)
    }
}
