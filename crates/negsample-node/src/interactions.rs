//! `NativeInteractions`: the engine's CSR matrix, held behind an `Arc` so that
//! samplers (and their off-thread jobs) share it without copying.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::interactions::MAX_IDS;
use negsample_core::Interactions;

use crate::convert::{ids, integer, js_error, whole};
use crate::owned;

/// The positives of every user, as a CSR matrix (rows sorted, no repeats).
#[napi(js_name = "NativeInteractions")]
pub struct JsInteractions {
    pub(crate) inner: Arc<Interactions>,
    /// Alias tables stored with the matrix in a file (see `io.rs`): a
    /// sampler whose proposal has one uses it instead of building it.
    pub(crate) tables: crate::io::StoredTables,
}

fn optional_count(name: &str, value: Option<f64>) -> Result<Option<usize>> {
    value
        .map(|v| integer(name, v, 0, MAX_IDS as u64).map(|n| n as usize))
        .transpose()
}

#[napi]
impl JsInteractions {
    /// From coordinate pairs: `users[j]` interacted with `items[j]`.
    #[napi(factory, catch_unwind)]
    pub fn from_coo(
        users: Int32ArraySlice,
        items: Int32ArraySlice,
        num_users: Option<f64>,
        num_items: Option<f64>,
    ) -> Result<Self> {
        let num_users = optional_count("numUsers", num_users)?;
        let num_items = optional_count("numItems", num_items)?;
        let inner = Interactions::from_coo(ids(&users), ids(&items), num_users, num_items)
            .map_err(js_error)?;
        Ok(JsInteractions {
            inner: Arc::new(inner),
            tables: Default::default(),
        })
    }

    /// From CSR arrays; `indptr` as float64 so that offsets past 2^31 fit.
    #[napi(factory, catch_unwind)]
    pub fn from_csr(
        indptr: Float64ArraySlice,
        indices: Int32ArraySlice,
        num_items: Option<f64>,
    ) -> Result<Self> {
        let num_items = optional_count("numItems", num_items)?;
        let offsets = indptr
            .iter()
            .enumerate()
            .map(|(j, &p)| whole(&format!("indptr[{j}]"), p))
            .collect::<Result<Vec<u64>>>()?;
        let inner = Interactions::from_csr(&offsets, ids(&indices), num_items).map_err(js_error)?;
        Ok(JsInteractions {
            inner: Arc::new(inner),
            tables: Default::default(),
        })
    }

    /// Number of users (rows).
    #[napi(getter)]
    pub fn num_users(&self) -> u32 {
        self.inner.num_users() as u32
    }

    /// Number of items (columns).
    #[napi(getter)]
    pub fn num_items(&self) -> u32 {
        self.inner.num_items() as u32
    }

    /// Number of distinct positives.
    #[napi(getter)]
    pub fn nnz(&self) -> f64 {
        self.inner.nnz() as f64
    }

    /// The sorted positives of one user.
    #[napi(catch_unwind)]
    pub fn row(&self, env: &Env, user: f64) -> Result<Int32Array> {
        let bound = self.inner.num_users() as u64;
        let u = integer("user", user, 0, bound.saturating_sub(1))?;
        if bound == 0 {
            return Err(Error::new(
                Status::InvalidArg,
                format!("user must be in [0, 0), got {user}: there are no users"),
            ));
        }
        // V8-owned memory: rows are read in loops over every user.
        owned::ids(env, self.inner.row(u as u32))
    }

    /// Number of users who interacted with each item.
    #[napi(catch_unwind)]
    pub fn popularity(&self, env: &Env) -> Result<Int32Array> {
        owned::ids(env, &self.inner.popularity())
    }

    /// Row offsets (`numUsers + 1`), as float64.
    #[napi(catch_unwind)]
    pub fn indptr(&self, env: &Env) -> Result<Float64Array> {
        let offsets: Vec<f64> = self.inner.indptr().iter().map(|&p| p as f64).collect();
        owned::doubles(env, &offsets)
    }

    /// All rows' items, concatenated.
    #[napi(catch_unwind)]
    pub fn indices(&self, env: &Env) -> Result<Int32Array> {
        owned::ids(env, self.inner.indices())
    }
}
