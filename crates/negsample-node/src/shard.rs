//! `NativeShard`: one data-parallel worker's share of a sampler's positives,
//! with its own call numbers (see `negsample_core::shard`); its draw calls
//! are `draw.rs`'s.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::shard::Shard;

use crate::buffers::Positives;
use crate::convert::{count, js_error, whole};
use crate::owned;
use crate::sampler::JsSampler;

/// Shard `rank` of `worldSize` over a sampler's training positives.
#[napi(js_name = "NativeShard")]
pub struct JsShard {
    inner: Arc<Shard>,
}

impl JsShard {
    /// The engine's shard.
    pub(crate) fn shared(&self) -> &Arc<Shard> {
        &self.inner
    }
}

#[napi]
impl JsShard {
    /// Shard `rank` of `world_size` over `sampler`.
    #[napi(constructor, catch_unwind)]
    pub fn new(sampler: &JsSampler, rank: f64, world_size: f64) -> Result<Self> {
        let world = count("worldSize", world_size)?;
        let rank = count("rank", rank)?;
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
    pub fn positives(&self, env: &Env, epoch: f64, start: f64, len: f64) -> Result<Positives> {
        let epoch = whole("epoch", epoch)?;
        let start = count("start", start)?;
        let len = count("count", len)?;
        self.inner.check_range(start, len).map_err(js_error)?;
        let (mut users, mut items) = (vec![0u32; len], vec![0u32; len]);
        self.inner
            .positives_into(epoch, start, &mut users, &mut items)
            .map_err(js_error)?;
        Ok(Positives {
            users: owned::ids(env, &users)?,
            items: owned::ids(env, &items)?,
        })
    }
}
