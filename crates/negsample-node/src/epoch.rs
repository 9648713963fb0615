//! `NativeEpoch`: the engine's [`Epoch`] (a shuffled pass over a sampler's
//! positives, or a shard's part of one) with its batches filled into caller
//! buffers, one call per run of batches, or computed off the JavaScript
//! thread.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use negsample_core::{Epoch, EpochOptions, PairwiseOut, PointwiseOut, Shape};

use crate::convert::{check_disjoint, ids_out, integer, into_i32, js_error, span};
use crate::job::Job;
use crate::sampler::{negatives_per_positive, JsSampler, PairwiseBatch, PointwiseBatch};
use crate::shard::JsShard;

/// One epoch of batches with negatives.
#[napi(js_name = "NativeEpoch")]
pub struct JsEpoch {
    /// `None` once closed (behind a lock: `close` takes `&self`, since
    /// pending async calls may still borrow the object).
    inner: Mutex<Option<Arc<Epoch>>>,
}

/// The engine's options from the JavaScript ones.
fn options(batch_size: f64, k: f64, shape: &str, drop_last: bool) -> Result<EpochOptions> {
    let batch_size = integer("batchSize", batch_size, 1, u32::MAX as u64)? as usize;
    let k = negatives_per_positive(k)?;
    let shape = match shape {
        "pairwise" => Shape::Pairwise,
        "pointwise" => Shape::Pointwise,
        other => {
            return Err(Error::new(
                Status::InvalidArg,
                format!("shape must be 'pairwise' or 'pointwise', got '{other}'"),
            ))
        }
    };
    Ok(EpochOptions {
        batch_size,
        k,
        shape,
        drop_last,
    })
}

/// A run of batches: `first` and `count` as integers.
fn run(first: f64, count: f64) -> Result<(usize, usize)> {
    let first = integer("batch", first, 0, u32::MAX as u64)? as usize;
    let count = integer("count", count, 1, u32::MAX as u64)? as usize;
    Ok((first, count))
}

impl JsEpoch {
    /// The engine's epoch, unless closed.
    fn epoch(&self) -> Result<Arc<Epoch>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                Error::new(
                    Status::GenericFailure,
                    "this epoch is closed: start a new one".to_string(),
                )
            })
    }
}

#[napi]
impl JsEpoch {
    /// A new epoch over every positive of `sampler`, shuffled (one call
    /// number).
    #[napi(constructor, catch_unwind)]
    pub fn new(
        sampler: &JsSampler,
        batch_size: f64,
        k: f64,
        shape: String,
        drop_last: bool,
    ) -> Result<Self> {
        let options = options(batch_size, k, &shape, drop_last)?;
        let epoch = Epoch::new(sampler.inner.clone(), options).map_err(js_error)?;
        Ok(JsEpoch {
            inner: Mutex::new(Some(Arc::new(epoch))),
        })
    }

    /// Shard `shard`'s part of epoch number `epoch` (one of the shard's call
    /// numbers).
    #[napi(factory, catch_unwind)]
    pub fn for_shard(
        shard: &JsShard,
        epoch: f64,
        batch_size: f64,
        k: f64,
        shape: String,
        drop_last: bool,
    ) -> Result<Self> {
        let number = integer("epoch", epoch, 0, (1u64 << 53) - 1)?;
        let options = options(batch_size, k, &shape, drop_last)?;
        let epoch = Epoch::for_shard(shard.inner(), number, options).map_err(js_error)?;
        Ok(JsEpoch {
            inner: Mutex::new(Some(Arc::new(epoch))),
        })
    }

    /// The number of batches.
    #[napi(getter)]
    pub fn batches(&self) -> u32 {
        self.epoch().map_or(0, |e| e.batches()) as u32
    }

    /// Rows of batches `first .. first + count`.
    #[napi(catch_unwind)]
    pub fn rows(&self, first: f64, count: f64) -> Result<f64> {
        let (first, count) = run(first, count)?;
        Ok(self.epoch()?.rows(first, count).map_err(js_error)? as f64)
    }

    /// Fills batches `first .. first + count` of a pairwise epoch into
    /// caller buffers of `rows(first, count)` elements each.
    #[napi(catch_unwind)]
    pub fn pairwise_into(
        &self,
        first: f64,
        count: f64,
        mut users: Int32ArraySlice,
        mut positives: Int32ArraySlice,
        mut negatives: Int32ArraySlice,
    ) -> Result<()> {
        let (first, count) = run(first, count)?;
        check_disjoint(
            &[
                ("out.users", span(&users)),
                ("out.positives", span(&positives)),
                ("out.negatives", span(&negatives)),
            ],
            &[],
        )?;
        // SAFETY: live arrays for this synchronous call, pairwise disjoint
        // (checked above).
        let out = unsafe {
            PairwiseOut {
                users: ids_out(users.as_mut()),
                positives: ids_out(positives.as_mut()),
                negatives: ids_out(negatives.as_mut()),
            }
        };
        self.epoch()?
            .pairwise_into(first, count, out)
            .map_err(js_error)
    }

    /// Fills batches `first .. first + count` of a pointwise epoch into
    /// caller buffers of `rows(first, count)` elements each.
    #[napi(catch_unwind)]
    pub fn pointwise_into(
        &self,
        first: f64,
        count: f64,
        mut users: Int32ArraySlice,
        mut items: Int32ArraySlice,
        mut labels: Float32ArraySlice,
    ) -> Result<()> {
        let (first, count) = run(first, count)?;
        check_disjoint(
            &[
                ("out.users", span(&users)),
                ("out.items", span(&items)),
                ("out.labels", span(&labels)),
            ],
            &[],
        )?;
        // SAFETY: as in `pairwise_into`.
        let out = unsafe {
            PointwiseOut {
                users: ids_out(users.as_mut()),
                items: ids_out(items.as_mut()),
                labels: labels.as_mut(),
            }
        };
        self.epoch()?
            .pointwise_into(first, count, out)
            .map_err(js_error)
    }

    /// Ends the epoch: its order goes back to the sampler for the next
    /// epoch to reuse (once no pending `...Async` call holds it). Later
    /// calls throw.
    #[napi]
    pub fn close(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Batch `batch` of a pairwise epoch, computed off the JavaScript thread.
    #[napi(ts_return_type = "Promise<PairwiseBatch>", catch_unwind)]
    pub fn pairwise_async(&self, batch: f64) -> Result<AsyncTask<Job<PairwiseBatch>>> {
        let (first, count) = run(batch, 1.0)?;
        let rows = self.epoch()?.rows(first, count).map_err(js_error)?;
        let epoch = self.epoch()?;
        Ok(Job::new(move || {
            let mut out = negsample_core::PairwiseBatch::zeroed(rows);
            epoch
                .pairwise_into(first, count, out.as_out())
                .map_err(js_error)?;
            Ok(PairwiseBatch {
                users: Int32Array::new(into_i32(out.users)),
                positives: Int32Array::new(into_i32(out.positives)),
                negatives: Int32Array::new(into_i32(out.negatives)),
            })
        }))
    }

    /// Batch `batch` of a pointwise epoch, computed off the JavaScript thread.
    #[napi(ts_return_type = "Promise<PointwiseBatch>", catch_unwind)]
    pub fn pointwise_async(&self, batch: f64) -> Result<AsyncTask<Job<PointwiseBatch>>> {
        let (first, count) = run(batch, 1.0)?;
        let rows = self.epoch()?.rows(first, count).map_err(js_error)?;
        let epoch = self.epoch()?;
        Ok(Job::new(move || {
            let mut out = negsample_core::PointwiseBatch::zeroed(rows);
            epoch
                .pointwise_into(first, count, out.as_out())
                .map_err(js_error)?;
            Ok(PointwiseBatch {
                users: Int32Array::new(into_i32(out.users)),
                items: Int32Array::new(into_i32(out.items)),
                labels: Float32Array::new(out.labels),
            })
        }))
    }
}
