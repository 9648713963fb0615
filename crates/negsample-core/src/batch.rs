//! Training batches in the two shapes trainers use, and the shuffled order of
//! an epoch's positives.
//!
//! - **Pairwise** (BPR and other ranking losses): for each positive
//!   `(user, item)` and each of its `k` negatives, one row
//!   `(user, positive, negative)`.
//! - **Pointwise** (binary cross-entropy): for each positive, `1 + k` rows:
//!   the positive with label 1, then its `k` negatives with label 0.

use crate::error::{Error, Result};
use crate::sampler::Sampler;

/// A pairwise batch: row `j` is `(users[j], positives[j], negatives[j])`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairwiseBatch {
    /// The user of each row.
    pub users: Vec<u32>,
    /// The positive item of each row.
    pub positives: Vec<u32>,
    /// The negative item of each row.
    pub negatives: Vec<u32>,
}

/// Caller buffers for a pairwise batch, all of the same length.
#[derive(Debug)]
pub struct PairwiseOut<'a> {
    /// The user of each row.
    pub users: &'a mut [u32],
    /// The positive item of each row.
    pub positives: &'a mut [u32],
    /// The negative item of each row.
    pub negatives: &'a mut [u32],
}

/// A pointwise batch: row `j` is `(users[j], items[j])` with `labels[j]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointwiseBatch {
    /// The user of each row.
    pub users: Vec<u32>,
    /// The item of each row: a positive followed by its `k` negatives.
    pub items: Vec<u32>,
    /// 1 for a positive, 0 for a negative.
    pub labels: Vec<f32>,
}

/// Caller buffers for a pointwise batch, all of the same length.
#[derive(Debug)]
pub struct PointwiseOut<'a> {
    /// The user of each row.
    pub users: &'a mut [u32],
    /// The item of each row.
    pub items: &'a mut [u32],
    /// The label of each row.
    pub labels: &'a mut [f32],
}

impl PairwiseBatch {
    /// A batch of `rows` zeroed rows.
    pub fn zeroed(rows: usize) -> Self {
        PairwiseBatch {
            users: vec![0; rows],
            positives: vec![0; rows],
            negatives: vec![0; rows],
        }
    }

    /// The batch's vectors as caller buffers.
    pub fn as_out(&mut self) -> PairwiseOut<'_> {
        PairwiseOut {
            users: &mut self.users,
            positives: &mut self.positives,
            negatives: &mut self.negatives,
        }
    }
}

impl PointwiseBatch {
    /// A batch of `rows` zeroed rows.
    pub fn zeroed(rows: usize) -> Self {
        PointwiseBatch {
            users: vec![0; rows],
            items: vec![0; rows],
            labels: vec![0.0; rows],
        }
    }

    /// The batch's vectors as caller buffers.
    pub fn as_out(&mut self) -> PointwiseOut<'_> {
        PointwiseOut {
            users: &mut self.users,
            items: &mut self.items,
            labels: &mut self.labels,
        }
    }
}

/// `1 + k`, checked.
fn pointwise_rows(k: usize) -> Result<usize> {
    k.checked_add(1).ok_or_else(|| Error::OutOfRange {
        name: "k",
        value: k.to_string(),
        expected: "a smaller integer".into(),
    })
}

impl Sampler {
    /// `k` negatives for each positive `(users[j], items[j])`, laid out
    /// pairwise into caller buffers of `users.len() * k` rows each (the `k`
    /// rows of one positive together), as call number `call`.
    ///
    /// # Errors
    /// As [`Sampler::check_request`]. Nothing is written unless all checks
    /// pass.
    pub fn pairwise_into(
        &self,
        users: &[u32],
        items: &[u32],
        k: usize,
        call: u64,
        out: PairwiseOut<'_>,
    ) -> Result<()> {
        let outputs = [
            ("out.users", out.users.len()),
            ("out.positives", out.positives.len()),
            ("out.negatives", out.negatives.len()),
        ];
        self.check_request(users, Some(("items", items)), k, k, &outputs)?;
        self.negatives_into(users, k, call, out.negatives)?;
        repeat_each_into(users, k, out.users);
        repeat_each_into(items, k, out.positives);
        Ok(())
    }

    /// As [`Sampler::pairwise_into`], into fresh vectors.
    pub fn pairwise(
        &self,
        users: &[u32],
        items: &[u32],
        k: usize,
        call: u64,
    ) -> Result<PairwiseBatch> {
        let mut batch = PairwiseBatch::zeroed(Sampler::output_len(users.len(), k)?);
        self.pairwise_into(users, items, k, call, batch.as_out())?;
        Ok(batch)
    }

    /// `k` negatives for each positive, laid out pointwise into caller
    /// buffers of `users.len() * (1 + k)` rows: each positive, label 1,
    /// followed by its `k` negatives, label 0. Call number `call`.
    ///
    /// # Errors
    /// As [`Sampler::check_request`]. Nothing is written unless all checks
    /// pass.
    pub fn pointwise_into(
        &self,
        users: &[u32],
        items: &[u32],
        k: usize,
        call: u64,
        out: PointwiseOut<'_>,
    ) -> Result<()> {
        let per_positive = pointwise_rows(k)?;
        let outputs = [
            ("out.users", out.users.len()),
            ("out.items", out.items.len()),
            ("out.labels", out.labels.len()),
        ];
        self.check_request(users, Some(("items", items)), k, per_positive, &outputs)?;
        // Negatives go straight into their rows: draw them into the tail of
        // `out.items`, then move each positive's group left into its row,
        // front to back (a group's destination never reaches a later group's
        // source, since `row + 1 + k <= offset + (j + 1) * k`).
        let offset = out.items.len() - users.len() * k;
        self.negatives_into(users, k, call, &mut out.items[offset..])?;
        lay_out_pointwise(users, items, k, out);
        Ok(())
    }

    /// As [`Sampler::pointwise_into`], into fresh vectors.
    pub fn pointwise(
        &self,
        users: &[u32],
        items: &[u32],
        k: usize,
        call: u64,
    ) -> Result<PointwiseBatch> {
        let rows = Sampler::output_rows(users.len(), k, pointwise_rows(k)?)?;
        let mut batch = PointwiseBatch::zeroed(rows);
        self.pointwise_into(users, items, k, call, batch.as_out())?;
        Ok(batch)
    }

    /// Every training positive once, in the order of epoch call `call`
    /// ([`crate::epoch`]'s shuffle): `(users, items)`, `nnz` of each.
    ///
    /// # Performance
    /// O(nnz) time; 8 bytes per interaction for the output.
    pub fn shuffled_positives(&self, call: u64) -> (Vec<u32>, Vec<u32>) {
        let pairs = self.shuffled_pairs(call, Box::default());
        pairs.iter().map(|&p| ((p >> 32) as u32, p as u32)).unzip()
    }
}

/// Lays out a pointwise batch whose `users.len() * k` negatives are in the
/// tail of `out.items` (in positive order): each positive's row, label 1,
/// then its negatives, label 0, and every row's user. The negatives move
/// left into their rows front to back (a group's destination never reaches
/// a later group's source, since `row + 1 + k <= offset + (j + 1) * k`).
pub(crate) fn lay_out_pointwise(users: &[u32], positives: &[u32], k: usize, out: PointwiseOut<'_>) {
    let per_positive = k + 1;
    let offset = out.items.len() - users.len() * k;
    for (j, &positive) in positives.iter().enumerate() {
        let row = j * per_positive;
        out.items
            .copy_within(offset + j * k..offset + (j + 1) * k, row + 1);
        out.items[row] = positive;
        out.labels[row] = 1.0;
        out.labels[row + 1..row + per_positive].fill(0.0);
    }
    repeat_each_into(users, per_positive, out.users);
}

/// `out[j * times .. (j + 1) * times] = values[j]` for every `j`.
pub(crate) fn repeat_each_into(values: &[u32], times: usize, out: &mut [u32]) {
    for (chunk, &v) in out.chunks_exact_mut(times).zip(values) {
        chunk.fill(v);
    }
}
