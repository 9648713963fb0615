//! `NativeEpoch`: the engine's [`Epoch`] (a shuffled pass over a sampler's
//! positives, or a shard's part of one) with its batches filled into caller
//! buffers, one call per run of batches, or computed off the JavaScript
//! thread.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use negsample_core::{Epoch, EpochOptions};

use crate::buffers::{caller_batch, Drawn, Out, Owned, Shape};
use crate::convert::{count, js_error, js_error_in, whole, Names};
use crate::job::Job;
use crate::sampler::JsSampler;
use crate::shard::JsShard;

/// One epoch of batches with negatives.
#[napi(js_name = "NativeEpoch")]
pub struct JsEpoch {
    /// `None` once closed (behind a lock: `close` takes `&self`, since
    /// pending async calls may still borrow the object).
    inner: Mutex<Option<Arc<Epoch>>>,
}

/// The epoch options as the TypeScript API names them.
const OPTIONS: Names = &[
    ("batch_size", "options.batchSize"),
    ("k", "options.negatives"),
    ("epoch", "options.epoch"),
];

/// The engine's options from the JavaScript ones.
fn options(batch_size: f64, k: f64, shape: &str, drop_last: bool) -> Result<EpochOptions> {
    let shape = match Shape::parse(shape)? {
        Shape::Pairwise => negsample_core::Shape::Pairwise,
        Shape::Pointwise => negsample_core::Shape::Pointwise,
        Shape::Negatives => {
            return Err(Error::new(
                Status::InvalidArg,
                "shape must be 'pairwise' or 'pointwise', got 'negatives'".to_string(),
            ))
        }
    };
    Ok(EpochOptions {
        batch_size: count("options.batchSize", batch_size)?,
        k: count("options.negatives", k)?,
        shape,
        drop_last,
    })
}

/// A run of batches: `first` and `count` as integers.
fn run(first: f64, rows: f64) -> Result<(usize, usize)> {
    Ok((count("batch", first)?, count("count", rows)?))
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
        let epoch = Epoch::new(sampler.inner.clone(), options).map_err(js_error_in(OPTIONS))?;
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
        let number = whole("options.epoch", epoch)?;
        let options = options(batch_size, k, &shape, drop_last)?;
        let epoch =
            Epoch::for_shard(shard.shared(), number, options).map_err(js_error_in(OPTIONS))?;
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

    /// Fills batches `first .. first + count` into the caller's arrays of
    /// `rows(first, count)` elements each: users, positives (pairwise) or
    /// items (pointwise), and the negatives (an `Int32Array`, pairwise) or
    /// labels (a `Float32Array`, pointwise).
    #[napi(catch_unwind)]
    pub fn batch_into(
        &self,
        first: f64,
        count: f64,
        mut users: Int32ArraySlice,
        mut items: Int32ArraySlice,
        mut last: Either<Int32ArraySlice, Float32ArraySlice>,
    ) -> Result<()> {
        let (first, count) = run(first, count)?;
        // SAFETY: live arrays of this synchronous call, used only during it.
        let (out, _) = unsafe { caller_batch(&mut users, &mut items, &mut last, None, &[]) }?;
        fill(&*self.epoch()?, first, count, out)
    }

    /// Ends the epoch: its order goes back to the sampler for the next
    /// epoch to reuse (once no pending `...Async` call holds it). Later
    /// calls throw.
    #[napi]
    pub fn close(&self) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Batch `batch`, computed off the JavaScript thread.
    #[napi(
        ts_return_type = "Promise<PairwiseBatch | PointwiseBatch>",
        catch_unwind
    )]
    pub fn batch_async(&self, batch: f64) -> Result<AsyncTask<Job<Drawn>>> {
        let (first, count) = run(batch, 1.0)?;
        let epoch = self.epoch()?;
        let rows = epoch.rows(first, count).map_err(js_error)?;
        let shape = match epoch.options().shape {
            negsample_core::Shape::Pairwise => Shape::Pairwise,
            negsample_core::Shape::Pointwise => Shape::Pointwise,
        };
        Ok(Job::new(move || {
            let mut out = Owned::zeroed(shape, rows);
            fill(&epoch, first, count, out.as_out())?;
            Ok(out.into_js())
        }))
    }
}

/// Batches `first .. first + count` of `epoch` into `out`: the one
/// implementation behind `batchInto` and `batchAsync`.
fn fill(epoch: &Epoch, first: usize, count: usize, out: Out<'_>) -> Result<()> {
    match out {
        Out::Pairwise(out) => epoch.pairwise_into(first, count, out),
        Out::Pointwise(out) => epoch.pointwise_into(first, count, out),
        Out::Negatives(_) => unreachable!("an epoch has batches, not bare negatives"),
    }
    .map_err(js_error)
}
