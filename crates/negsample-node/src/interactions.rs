//! `NativeInteractions`: the engine's CSR matrix, held behind an `Arc` so that
//! samplers (and their off-thread jobs) share it without copying.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;
use negsample_core::io::StoredTables;
use negsample_core::{Interactions, Proposal, Sampler};

use crate::convert::{count, ids, js_error, whole};
use crate::owned;

/// The positives of every user, as a CSR matrix (rows sorted, no repeats).
#[napi(js_name = "NativeInteractions")]
pub struct JsInteractions {
    pub(crate) inner: Arc<Interactions>,
    /// Alias tables stored with the matrix in a file: a sampler whose
    /// proposal has one starts from it instead of building it.
    pub(crate) tables: StoredTables,
}

impl JsInteractions {
    /// A handle on `inner`, with the tables stored with it (if any).
    pub(crate) fn new(inner: Arc<Interactions>, tables: StoredTables) -> Self {
        JsInteractions { inner, tables }
    }

    /// A sampler over this matrix (from its stored alias table of
    /// `proposal`, if there is one).
    pub(crate) fn new_sampler(
        &self,
        proposal: &Proposal,
        seed: u64,
    ) -> negsample_core::Result<Sampler> {
        self.tables.sampler(self.inner.clone(), proposal, seed)
    }
}

/// An optional count (`numUsers`, `numItems`) for the engine, which checks
/// its range.
pub(crate) fn optional_count(name: &str, value: Option<f64>) -> Result<Option<usize>> {
    value.map(|v| count(name, v)).transpose()
}

/// A matrix built by the engine, or its error.
pub(crate) fn built(inner: negsample_core::Result<Interactions>) -> Result<JsInteractions> {
    Ok(JsInteractions::new(
        Arc::new(inner.map_err(js_error)?),
        StoredTables::default(),
    ))
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
        built(Interactions::from_coo(
            ids(&users),
            ids(&items),
            num_users,
            num_items,
        ))
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
        built(Interactions::from_csr(&offsets, ids(&indices), num_items))
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
        let user = self.inner.user("user", whole("user", user)?);
        // V8-owned memory: rows are read in loops over every user.
        owned::ids(env, self.inner.row(user.map_err(js_error)?))
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
