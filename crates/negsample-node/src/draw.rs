//! The draw calls of samplers and shards: `k` negatives per user, and
//! pairwise and pointwise batches.
//!
//! Each call is written once, as a [`Draw`]: the request, checked by the
//! engine, with its call number taken on the JavaScript thread when the
//! call is made (a call that throws takes none), run into [`Out`] buffers.
//! The three forms only say where the buffers come from:
//!
//! - `draw`: fresh arrays in memory V8 owns;
//! - `negativesInto` / `batchInto`: the caller's arrays;
//! - `drawAsync`: vectors filled on the libuv pool, resolved as a Promise
//!   (inputs are copied when called, so the caller may reuse its arrays).
//!
//! The same functions serve a `NativeSampler` and a `NativeShard`, which
//! differ only in where call numbers come from.

// napi-rs registers these free functions with Node only outside
// `cfg(test)`, so a test build of this crate sees them as unused.
#![cfg_attr(test, allow(dead_code))]

use std::borrow::Cow;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::shard::Shard;
use negsample_core::Sampler;

use crate::buffers::{self, caller_batch, Drawn, Out, Owned, Shape};
use crate::convert::{check_disjoint, count, ids, ids_out, js_error, span};
use crate::job::Job;
use crate::sampler::JsSampler;
use crate::shard::JsShard;

/// Where a draw call's call numbers come from.
pub enum Caller<'a> {
    /// The sampler's own counter.
    Sampler(&'a Arc<Sampler>),
    /// A data-parallel shard's counter (over its sampler).
    Shard(&'a Arc<Shard>),
}

impl<'a> Caller<'a> {
    fn sampler(&self) -> &'a Arc<Sampler> {
        match self {
            Caller::Sampler(s) => s,
            Caller::Shard(s) => s.sampler(),
        }
    }

    fn next_call(&self) -> u64 {
        match self {
            Caller::Sampler(s) => s.next_call(),
            Caller::Shard(s) => s.next_call(),
        }
    }
}

/// A sampler or a shard, as JavaScript passes it (spelled out in each
/// signature below, where napi-rs reads it for the TypeScript types).
type Source<'env> = Either<ClassInstance<'env, JsSampler>, ClassInstance<'env, JsShard>>;

fn caller<'a>(source: &'a Source<'_>) -> Caller<'a> {
    match source {
        Either::A(sampler) => Caller::Sampler(&sampler.inner),
        Either::B(shard) => Caller::Shard(shard.shared()),
    }
}

/// One checked draw call, ready to run.
pub struct Draw<'a> {
    sampler: Cow<'a, Arc<Sampler>>,
    users: Cow<'a, [u32]>,
    items: Cow<'a, [u32]>,
    k: usize,
    shape: Shape,
    call: u64,
}

impl<'a> Draw<'a> {
    /// Checks the request with the engine's rules (`outputs`: the caller's
    /// buffers, by name and length), then takes its call number.
    pub fn new(
        caller: &Caller<'a>,
        users: &'a [i32],
        items: Option<&'a [i32]>,
        k: f64,
        shape: Shape,
        outputs: &[(&'static str, usize)],
    ) -> Result<Self> {
        let sampler = caller.sampler();
        let k = count("k", k)?;
        let (users, items) = (ids(users), items.map(ids));
        if shape != Shape::Negatives && items.is_none() {
            return Err(Error::new(
                Status::InvalidArg,
                "items must be given for a batch".to_string(),
            ));
        }
        sampler
            .check_request(
                users,
                items.map(|items| ("items", items)),
                k,
                shape.rows_per_positive(k),
                outputs,
            )
            .map_err(js_error)?;
        Ok(Draw {
            sampler: Cow::Borrowed(sampler),
            users: Cow::Borrowed(users),
            items: Cow::Borrowed(items.unwrap_or(&[])),
            k,
            shape,
            call: caller.next_call(),
        })
    }

    /// Output rows.
    fn rows(&self) -> usize {
        self.users.len() * self.shape.rows_per_positive(self.k)
    }

    /// Draws into `out`.
    pub fn run(&self, out: &mut Out<'_>) -> Result<()> {
        let (s, users, items, k, call) =
            (&self.sampler, &*self.users, &*self.items, self.k, self.call);
        match out.reborrow() {
            Out::Negatives(out) => s.negatives_into(users, k, call, out),
            Out::Pairwise(out) => s.pairwise_into(users, items, k, call, out),
            Out::Pointwise(out) => s.pointwise_into(users, items, k, call, out),
        }
        .map_err(js_error)
    }

    /// Into fresh arrays in V8-owned memory.
    fn fresh(&self, env: &Env) -> Result<Drawn> {
        buffers::fresh(env, self.shape, self.rows(), |mut out| self.run(&mut out))
    }

    /// As a job for the libuv pool, with its inputs copied.
    fn job(self) -> AsyncTask<Job<Drawn>> {
        let draw = Draw {
            sampler: Cow::Owned(self.sampler.into_owned()),
            users: Cow::Owned(self.users.into_owned()),
            items: Cow::Owned(self.items.into_owned()),
            ..self
        };
        Job::new(move || {
            let mut out = Owned::zeroed(draw.shape, draw.rows());
            draw.run(&mut out.as_out())?;
            Ok(out.into_js())
        })
    }
}

/// `k` negatives per user into `out`: the one implementation of
/// `negativesInto` (also behind the direct entry of `fast_call.rs`).
pub fn negatives(caller: &Caller<'_>, users: &[i32], k: f64, out: &mut [i32]) -> Result<()> {
    check_disjoint(&[("out", span(out))], &[("users", span(users))])?;
    let out = ids_out(out);
    let draw = Draw::new(
        caller,
        users,
        None,
        k,
        Shape::Negatives,
        &[("out", out.len())],
    )?;
    draw.run(&mut Out::Negatives(out))
}

/// A draw call into fresh arrays: `shape` is `"negatives"` (`items`
/// unused), `"pairwise"` or `"pointwise"`.
#[napi(
    catch_unwind,
    ts_args_type = "source: NativeSampler | NativeShard, users: Int32Array, items: Int32Array | null, k: number, shape: 'negatives' | 'pairwise' | 'pointwise'",
    ts_return_type = "Int32Array | PairwiseBatch | PointwiseBatch"
)]
pub fn draw(
    env: &Env,
    source: Either<ClassInstance<'_, JsSampler>, ClassInstance<'_, JsShard>>,
    users: Int32ArraySlice,
    items: Option<Int32ArraySlice>,
    k: f64,
    shape: String,
) -> Result<Drawn> {
    let shape = Shape::parse(&shape)?;
    Draw::new(&caller(&source), &users, items.as_deref(), k, shape, &[])?.fresh(env)
}

/// As `draw`, computed off the JavaScript thread.
#[napi(
    catch_unwind,
    ts_args_type = "source: NativeSampler | NativeShard, users: Int32Array, items: Int32Array | null, k: number, shape: 'negatives' | 'pairwise' | 'pointwise'",
    ts_return_type = "Promise<Int32Array | PairwiseBatch | PointwiseBatch>"
)]
pub fn draw_async(
    source: Either<ClassInstance<'_, JsSampler>, ClassInstance<'_, JsShard>>,
    users: Int32ArraySlice,
    items: Option<Int32ArraySlice>,
    k: f64,
    shape: String,
) -> Result<AsyncTask<Job<Drawn>>> {
    let shape = Shape::parse(&shape)?;
    Ok(Draw::new(&caller(&source), &users, items.as_deref(), k, shape, &[])?.job())
}

/// `k` negatives per user into `out`.
#[napi(
    catch_unwind,
    ts_args_type = "source: NativeSampler | NativeShard, users: Int32Array, k: number, out: Int32Array"
)]
pub fn negatives_into(
    source: Either<ClassInstance<'_, JsSampler>, ClassInstance<'_, JsShard>>,
    users: Int32ArraySlice,
    k: f64,
    mut out: Int32ArraySlice,
) -> Result<()> {
    // SAFETY: a live array for this synchronous call; `negatives`
    // checks that it shares no memory with `users` before writing.
    negatives(&caller(&source), &users, k, unsafe { out.as_mut() })
}

/// A batch into the caller's arrays: the last one is the negatives
/// (`Int32Array`: a pairwise batch) or the labels (`Float32Array`: a
/// pointwise batch); `outLogProbs`, if given, receives `ln q` of each
/// negative (pairwise) or item (pointwise).
#[napi(
    catch_unwind,
    ts_args_type = "source: NativeSampler | NativeShard, users: Int32Array, items: Int32Array, k: number, outUsers: Int32Array, outItems: Int32Array, outLast: Int32Array | Float32Array, outLogProbs?: Float32Array"
)]
// The arguments are the call's arrays, passed flat so that napi-rs reads
// each as a typed-array slice without an object lookup per call.
#[allow(clippy::too_many_arguments)]
pub fn batch_into(
    source: Either<ClassInstance<'_, JsSampler>, ClassInstance<'_, JsShard>>,
    users: Int32ArraySlice,
    items: Int32ArraySlice,
    k: f64,
    mut out_users: Int32ArraySlice,
    mut out_items: Int32ArraySlice,
    mut out_last: Either<Int32ArraySlice, Float32ArraySlice>,
    mut out_log_probs: Option<Float32ArraySlice>,
) -> Result<()> {
    let inputs = [("users", span(&users)), ("items", span(&items))];
    // SAFETY: live arrays of this synchronous call, used only during it.
    let (mut out, log_probs) = unsafe {
        caller_batch(
            &mut out_users,
            &mut out_items,
            &mut out_last,
            out_log_probs.as_mut(),
            &inputs,
        )
    }?;
    let mut lengths = out.lengths();
    lengths.extend(log_probs.as_ref().map(|(name, l)| (*name, l.len())));
    let caller = caller(&source);
    let draw = Draw::new(&caller, &users, Some(&items), k, out.shape(), &lengths)?;
    draw.run(&mut out)?;
    match log_probs {
        Some((_, log_probs)) => caller
            .sampler()
            .log_probabilities_into(out.drawn(), log_probs)
            .map_err(js_error),
        None => Ok(()),
    }
}
