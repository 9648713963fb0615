//! Where the output of a draw call goes: the caller's typed arrays (the
//! `...Into` forms), fresh arrays in memory V8 owns (the synchronous fresh
//! forms), or vectors handed to JavaScript when a Promise settles (the
//! `...Async` forms). The calls themselves (`draw.rs`, `epoch.rs`) are
//! written once, against [`Out`].

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::{PairwiseOut, PointwiseOut};

use crate::convert::{check_disjoint, ids_out, into_i32, span};
use crate::owned;

/// What a draw call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `k` negatives per user.
    Negatives,
    /// `k` rows `(user, positive, negative)` per positive.
    Pairwise,
    /// `1 + k` rows per positive: the positive, then its negatives.
    Pointwise,
}

impl Shape {
    /// From its JavaScript name.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "negatives" => Ok(Shape::Negatives),
            "pairwise" => Ok(Shape::Pairwise),
            "pointwise" => Ok(Shape::Pointwise),
            other => Err(Error::new(
                Status::InvalidArg,
                format!("shape must be 'negatives', 'pairwise' or 'pointwise', got '{other}'"),
            )),
        }
    }

    /// Output rows per positive for `k` negatives each.
    pub fn rows_per_positive(self, k: usize) -> usize {
        match self {
            Shape::Pointwise => k.saturating_add(1),
            _ => k,
        }
    }
}

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

/// Every training positive once, in shuffled order.
#[napi(object)]
pub struct Positives {
    /// The user of each positive.
    pub users: Int32Array,
    /// The item of each positive.
    pub items: Int32Array,
}

/// The result of a fresh or `...Async` draw call, by [`Shape`].
pub type Drawn = Either3<Int32Array, PairwiseBatch, PointwiseBatch>;

/// Output buffers of one draw call, as the engine writes them.
pub enum Out<'a> {
    /// The negatives.
    Negatives(&'a mut [u32]),
    /// A pairwise batch.
    Pairwise(PairwiseOut<'a>),
    /// A pointwise batch.
    Pointwise(PointwiseOut<'a>),
}

impl Out<'_> {
    /// The shape these buffers hold.
    pub fn shape(&self) -> Shape {
        match self {
            Out::Negatives(_) => Shape::Negatives,
            Out::Pairwise(_) => Shape::Pairwise,
            Out::Pointwise(_) => Shape::Pointwise,
        }
    }

    /// The ids drawn: the negatives, or a pointwise batch's items.
    pub fn drawn(&self) -> &[u32] {
        match self {
            Out::Negatives(out) => out,
            Out::Pairwise(out) => out.negatives,
            Out::Pointwise(out) => out.items,
        }
    }

    /// The same buffers, borrowed again for one engine call.
    pub fn reborrow(&mut self) -> Out<'_> {
        match self {
            Out::Negatives(out) => Out::Negatives(out),
            Out::Pairwise(out) => Out::Pairwise(PairwiseOut {
                users: out.users,
                positives: out.positives,
                negatives: out.negatives,
            }),
            Out::Pointwise(out) => Out::Pointwise(PointwiseOut {
                users: out.users,
                items: out.items,
                labels: out.labels,
            }),
        }
    }

    /// Each buffer's name (as the caller knows it) and length, for the
    /// engine's checks.
    pub fn lengths(&self) -> Vec<(&'static str, usize)> {
        match self {
            Out::Negatives(out) => vec![("out", out.len())],
            Out::Pairwise(out) => vec![
                ("out.users", out.users.len()),
                ("out.positives", out.positives.len()),
                ("out.negatives", out.negatives.len()),
            ],
            Out::Pointwise(out) => vec![
                ("out.users", out.users.len()),
                ("out.items", out.items.len()),
                ("out.labels", out.labels.len()),
            ],
        }
    }
}

/// The caller's buffers of a batch: the users, the positives (pairwise) or
/// items (pointwise), and the last buffer, whose type says the shape: an
/// `Int32Array` of negatives (pairwise) or a `Float32Array` of labels
/// (pointwise); and, if given, a buffer for `ln q` of each drawn id, with
/// its name. Fails if any two of them, or one of them and an input, share
/// memory.
///
/// # Safety
/// The arrays must stay alive and unaliased by JavaScript for as long as
/// the returned buffers are used: only within the current synchronous call.
pub unsafe fn caller_batch<'a>(
    users: &'a mut Int32ArraySlice,
    items: &'a mut Int32ArraySlice,
    last: &'a mut Either<Int32ArraySlice, Float32ArraySlice>,
    log_probs: Option<&'a mut Float32ArraySlice>,
    inputs: &[(&str, (usize, usize))],
) -> Result<(Out<'a>, Option<LogProbs<'a>>)> {
    let (second, third, fourth, last_span) = match &*last {
        Either::A(negatives) => (
            "out.positives",
            "out.negatives",
            "out.negativeLogProbs",
            span(negatives),
        ),
        Either::B(labels) => ("out.items", "out.labels", "out.logProbs", span(labels)),
    };
    let mut outputs = vec![
        ("out.users", span(users)),
        (second, span(items)),
        (third, last_span),
    ];
    if let Some(log_probs) = &log_probs {
        outputs.push((fourth, span(log_probs)));
    }
    check_disjoint(&outputs, inputs)?;
    // SAFETY: as below.
    let log_probs = log_probs.map(|l| (fourth, unsafe { l.as_mut() }));
    // SAFETY: live, pairwise disjoint arrays (checked above) used only
    // during this call (the caller's contract).
    let (users, items) = unsafe { (ids_out(users.as_mut()), ids_out(items.as_mut())) };
    let out = match last {
        Either::A(negatives) => Out::Pairwise(PairwiseOut {
            users,
            positives: items,
            negatives: ids_out(unsafe { negatives.as_mut() }),
        }),
        Either::B(labels) => Out::Pointwise(PointwiseOut {
            users,
            items,
            labels: unsafe { labels.as_mut() },
        }),
    };
    Ok((out, log_probs))
}

/// A caller's buffer for `ln q` of each drawn id, with its name.
pub type LogProbs<'a> = (&'static str, &'a mut [f32]);

/// Output vectors of a draw call run off the JavaScript thread, handed to
/// JavaScript as external buffers when the Promise settles.
pub enum Owned {
    /// The negatives.
    Negatives(Vec<u32>),
    /// A pairwise batch.
    Pairwise(negsample_core::PairwiseBatch),
    /// A pointwise batch.
    Pointwise(negsample_core::PointwiseBatch),
}

impl Owned {
    /// Zeroed vectors of `rows` rows.
    pub fn zeroed(shape: Shape, rows: usize) -> Self {
        match shape {
            Shape::Negatives => Owned::Negatives(vec![0; rows]),
            Shape::Pairwise => Owned::Pairwise(negsample_core::PairwiseBatch::zeroed(rows)),
            Shape::Pointwise => Owned::Pointwise(negsample_core::PointwiseBatch::zeroed(rows)),
        }
    }

    /// The vectors as buffers to fill.
    pub fn as_out(&mut self) -> Out<'_> {
        match self {
            Owned::Negatives(out) => Out::Negatives(out),
            Owned::Pairwise(batch) => Out::Pairwise(batch.as_out()),
            Owned::Pointwise(batch) => Out::Pointwise(batch.as_out()),
        }
    }

    /// The vectors as JavaScript arrays, without a copy.
    pub fn into_js(self) -> Drawn {
        let ids = |v: Vec<u32>| Int32Array::new(into_i32(v));
        match self {
            Owned::Negatives(out) => Either3::A(ids(out)),
            Owned::Pairwise(b) => Either3::B(PairwiseBatch {
                users: ids(b.users),
                positives: ids(b.positives),
                negatives: ids(b.negatives),
            }),
            Owned::Pointwise(b) => Either3::C(PointwiseBatch {
                users: ids(b.users),
                items: ids(b.items),
                labels: Float32Array::new(b.labels),
            }),
        }
    }
}

/// Runs `fill` on fresh arrays of `rows` rows in memory V8 owns (freed by
/// its garbage collector with their JavaScript objects; see `owned.rs`)
/// and returns them.
pub fn fresh(
    env: &Env,
    shape: Shape,
    rows: usize,
    fill: impl FnOnce(Out<'_>) -> Result<()>,
) -> Result<Drawn> {
    // SAFETY: the arrays are created here, alive while this function holds
    // them, and filled before JavaScript can see them.
    unsafe {
        let (users, users_out) = owned::fresh::<u32>(env, rows)?;
        match shape {
            Shape::Negatives => {
                fill(Out::Negatives(users_out))?;
                Ok(Either3::A(users))
            }
            Shape::Pairwise => {
                let (positives, positives_out) = owned::fresh::<u32>(env, rows)?;
                let (negatives, negatives_out) = owned::fresh::<u32>(env, rows)?;
                fill(Out::Pairwise(PairwiseOut {
                    users: users_out,
                    positives: positives_out,
                    negatives: negatives_out,
                }))?;
                Ok(Either3::B(PairwiseBatch {
                    users,
                    positives,
                    negatives,
                }))
            }
            Shape::Pointwise => {
                let (items, items_out) = owned::fresh::<u32>(env, rows)?;
                let (labels, labels_out) = owned::fresh::<f32>(env, rows)?;
                fill(Out::Pointwise(PointwiseOut {
                    users: users_out,
                    items: items_out,
                    labels: labels_out,
                }))?;
                Ok(Either3::C(PointwiseBatch {
                    users,
                    items,
                    labels,
                }))
            }
        }
    }
}
