//! `evaluate`: full-ranking Recall@K / NDCG@K / HitRate@K of embedding
//! snapshots, computed by the engine (`negsample_core::evaluate`).

// napi-derive registers free functions only outside `cfg(test)`, so under
// `cargo test` they look unused.
#![cfg_attr(test, allow(dead_code))]

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::evaluate::{evaluate, EvaluateInput};
use negsample_core::Interactions;

use crate::convert::{count, ids, js_error, js_error_in, Names};
use crate::interactions::JsInteractions;
use crate::owned;

/// The evaluation options as the TypeScript API names them.
const OPTIONS: Names = &[("k", "options.k"), ("dim", "options.dim")];

/// Per-user metrics of one evaluation.
#[napi(object)]
pub struct NativeEvaluation {
    /// The users evaluated (those asked for that have a held-out positive).
    pub users: Int32Array,
    /// Recall@K of each evaluated user.
    pub recall: Float64Array,
    /// NDCG@K of each evaluated user.
    pub ndcg: Float64Array,
    /// HitRate@K (0 or 1) of each evaluated user.
    pub hit_rate: Float64Array,
    /// With `topItems`: each evaluated user's `k` best items, best first; -1
    /// pads a list when the user has fewer than `k` candidates.
    pub top_items: Option<Int32Array>,
}

/// Held-out positives as (user, item) pairs.
#[napi(object)]
pub struct HeldOutPairs {
    /// The user of each pair.
    pub users: Int32Array,
    /// The item of each pair.
    pub items: Int32Array,
}

/// Ranks every item for each user by the dot product of the embedding
/// snapshots, excluding the user's `train` positives, and scores the top `k`
/// against its `test` positives. Embeddings are read in place (no copy).
///
/// `test` is a matrix, or (user, item) pairs: their matrix is built here and
/// dropped when the call returns (a matrix object made in JavaScript for
/// each call would be freed only by its finalizer, on a later turn of the
/// event loop: the soak's finding 6), at a cost of O(pairs + numUsers).
#[napi(
    catch_unwind,
    js_name = "nativeEvaluate",
    ts_args_type = "train: NativeInteractions, test: NativeInteractions | HeldOutPairs, users: Int32Array | undefined | null, userEmbeddings: Float32Array, itemEmbeddings: Float32Array, dim: number, k: number, topItems: boolean"
)]
#[allow(clippy::too_many_arguments)]
pub fn native_evaluate(
    env: &Env,
    train: &JsInteractions,
    test: Either<ClassInstance<'_, JsInteractions>, HeldOutPairs>,
    users: Option<Int32ArraySlice>,
    user_embeddings: Float32ArraySlice,
    item_embeddings: Float32ArraySlice,
    dim: f64,
    k: f64,
    top_items: bool,
) -> Result<NativeEvaluation> {
    let m = &train.inner;
    let pairs;
    let test = match &test {
        Either::A(matrix) => &*matrix.inner,
        Either::B(held) => {
            pairs = Interactions::from_coo(
                ids(&held.users),
                ids(&held.items),
                Some(m.num_users()),
                Some(m.num_items()),
            )
            .map_err(js_error)?;
            &pairs
        }
    };
    run(
        env,
        m,
        test,
        users.as_deref(),
        &user_embeddings,
        &item_embeddings,
        (dim, k, top_items),
    )
}

fn run(
    env: &Env,
    train: &Interactions,
    test: &Interactions,
    users: Option<&[i32]>,
    user_embeddings: &[f32],
    item_embeddings: &[f32],
    (dim, k, top_items): (f64, f64, bool),
) -> Result<NativeEvaluation> {
    let dim = count("options.dim", dim)?;
    let k = count("options.k", k)?;
    let input = EvaluateInput {
        train,
        test,
        users: users.map(ids),
        user_embeddings,
        item_embeddings,
        dim,
        k,
        keep_top: top_items,
    };
    let result = evaluate(&input).map_err(js_error_in(OPTIONS))?;
    // V8-owned copies (see `owned`): a synchronous loop of evaluations that
    // never yields must not hold every result until the event loop turns.
    Ok(NativeEvaluation {
        users: owned::ids(env, &result.users)?,
        recall: owned::doubles(env, &result.recall)?,
        ndcg: owned::doubles(env, &result.ndcg)?,
        hit_rate: owned::doubles(env, &result.hit_rate)?,
        top_items: result
            .top_items
            .map(|top| owned::ids(env, &top))
            .transpose()?,
    })
}
