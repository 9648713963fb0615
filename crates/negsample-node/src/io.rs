//! Loaders, id maps, the binary file and the synthetic generator: the
//! binding of `negsample_core::io`. Conversion only; every rule lives in the
//! engine.
//!
//! Progress: the synchronous loaders call the JavaScript callback between
//! blocks on the JavaScript thread; the `...Async` ones post it through a
//! thread-safe function (non-blocking: a slow callback drops updates rather
//! than stalling the load). The TypeScript layer wraps callbacks so that
//! they never throw into native code.

// napi-derive registers free functions only outside `cfg(test)`, so under
// `cargo test` / clippy's test build they look unused.
#![cfg_attr(test, allow(dead_code))]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Env;
use napi_derive::napi;
use negsample_core::interactions::MAX_IDS;
use negsample_core::io::adjacency::{read_adjacency, AdjacencyOptions};
use negsample_core::io::delimited::{read_delimited, Column, DelimitedOptions};
use negsample_core::io::file_format::{self, ProposalKey};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::io::write::{write_adjacency, write_csv_pairs};
use negsample_core::io::{Dataset, Filters, IdMap, Original};
use negsample_core::{AliasTable, Interactions, Proposal, Sampler};

use crate::convert::{integer, js_error, seed};
use crate::interactions::JsInteractions;
use crate::job::Job;
use crate::owned;

/// Alias tables stored with a matrix, by the proposal each encodes.
pub(crate) type StoredTables = Arc<Vec<(ProposalKey, AliasTable)>>;

/// A progress callback posted from a worker thread.
type AsyncProgress = ThreadsafeFunction<FnArgs<(f64, f64)>, (), FnArgs<(f64, f64)>, Status, false>;

/// Engine errors as JavaScript errors: a file that cannot be read is a plain
/// `Error`; everything else is `InvalidArg` (a `RangeError` in TypeScript).
fn io_js_error(error: negsample_core::Error) -> Error {
    match error {
        negsample_core::Error::Io { .. } => Error::new(Status::GenericFailure, error.to_string()),
        other => js_error(other),
    }
}

impl JsInteractions {
    /// A sampler over this matrix, from the stored alias table of
    /// `proposal` if there is one (the same table the sampler would build,
    /// so the same draws), else building it.
    pub(crate) fn new_sampler(
        &self,
        proposal: &Proposal,
        seed: u64,
    ) -> negsample_core::Result<Sampler> {
        let key = ProposalKey::of(proposal);
        match self.tables.iter().find(|(k, _)| *k == key) {
            Some((_, table)) => Sampler::from_table(self.inner.clone(), table.clone(), seed),
            None => Sampler::new(self.inner.clone(), proposal, seed),
        }
    }
}

/// Options of the adjacency loaders (defaults are filled in TypeScript).
#[napi(object)]
pub struct NativeAdjacencyOptions {
    /// Number of users, or none for the largest id + 1.
    pub num_users: Option<f64>,
    /// Number of items, or none for the largest id + 1.
    pub num_items: Option<f64>,
    /// Minimum interactions per user (0: no filter).
    pub min_user_interactions: f64,
    /// Minimum interactions per item (0: no filter).
    pub min_item_interactions: f64,
}

/// Options of the delimited loaders (defaults are filled in TypeScript).
#[napi(object)]
pub struct NativeDelimitedOptions {
    /// Field separator.
    pub delimiter: String,
    /// Whether the first line names the columns.
    pub header: bool,
    /// User column: a header name or a 0-based index.
    pub user: Either<String, f64>,
    /// Item column: a header name or a 0-based index.
    pub item: Either<String, f64>,
    /// Rating column, if any.
    pub rating: Option<Either<String, f64>>,
    /// Keep rows with a rating at least this.
    pub min_rating: Option<f64>,
    /// Minimum interactions per user (0: no filter).
    pub min_user_interactions: f64,
    /// Minimum interactions per item (0: no filter).
    pub min_item_interactions: f64,
}

/// Options of the synthetic generator.
#[napi(object)]
pub struct NativeSyntheticOptions {
    /// Number of users.
    pub num_users: f64,
    /// Number of items.
    pub num_items: f64,
    /// Number of interactions.
    pub num_interactions: f64,
    /// Zipf exponent of item popularity.
    pub item_exponent: f64,
    /// Power-law exponent of user activity.
    pub user_exponent: f64,
    /// Seed.
    pub seed: BigInt,
}

/// A proposal whose alias table is saved with a dataset.
#[napi(object)]
pub struct NativeProposalSpec {
    /// `"uniform"`, `"popularity"` or `"weights"`.
    pub proposal: String,
    /// The popularity exponent.
    pub alpha: Option<f64>,
    /// The weights of a `"weights"` proposal.
    pub weights: Option<Float64Array>,
}

/// A proposal stored in a file.
#[napi(object)]
pub struct NativeStoredProposal {
    /// `"uniform"`, `"popularity"` or `"weights"`.
    pub proposal: String,
    /// The popularity exponent (popularity only).
    pub alpha: Option<f64>,
}

fn filters(min_user: f64, min_item: f64) -> Result<Filters> {
    Ok(Filters {
        min_user_interactions: integer("minUserInteractions", min_user, 0, MAX_IDS as u64)?
            as usize,
        min_item_interactions: integer("minItemInteractions", min_item, 0, MAX_IDS as u64)?
            as usize,
    })
}

fn count(name: &str, value: Option<f64>) -> Result<Option<usize>> {
    value
        .map(|v| integer(name, v, 0, MAX_IDS as u64).map(|n| n as usize))
        .transpose()
}

fn column(name: &str, value: Either<String, f64>) -> Result<Column> {
    Ok(match value {
        Either::A(s) => Column::Name(s),
        Either::B(i) => Column::Index(integer(name, i, 0, u32::MAX as u64)? as usize),
    })
}

fn adjacency_options(options: NativeAdjacencyOptions) -> Result<AdjacencyOptions> {
    Ok(AdjacencyOptions {
        num_users: count("numUsers", options.num_users)?,
        num_items: count("numItems", options.num_items)?,
        filters: filters(options.min_user_interactions, options.min_item_interactions)?,
    })
}

fn delimited_options(options: NativeDelimitedOptions) -> Result<DelimitedOptions> {
    Ok(DelimitedOptions {
        delimiter: options.delimiter.into_bytes(),
        header: options.header,
        user: column("user", options.user)?,
        item: column("item", options.item)?,
        rating: options.rating.map(|r| column("rating", r)).transpose()?,
        min_rating: options.min_rating,
        filters: filters(options.min_user_interactions, options.min_item_interactions)?,
    })
}

fn proposal_of(spec: &NativeProposalSpec) -> Result<Proposal> {
    match spec.proposal.as_str() {
        "uniform" => Ok(Proposal::Uniform),
        "popularity" => Ok(Proposal::Popularity {
            alpha: spec.alpha.unwrap_or(negsample_core::DEFAULT_ALPHA),
        }),
        "weights" => match &spec.weights {
            Some(w) => Ok(Proposal::Weights(w.to_vec())),
            None => Err(Error::new(
                Status::InvalidArg,
                "proposals[].weights must be given for the 'weights' proposal".to_string(),
            )),
        },
        other => Err(Error::new(
            Status::InvalidArg,
            format!(
                "proposals[].proposal must be 'uniform', 'popularity' or 'weights', got '{other}'"
            ),
        )),
    }
}

/// A loaded or opened data set: the matrix, its id maps, and (for an opened
/// file) the alias tables stored with it.
#[napi(js_name = "NativeDataset")]
pub struct JsDataset {
    interactions: Arc<Interactions>,
    users: Option<Arc<IdMap>>,
    items: Option<Arc<IdMap>>,
    tables: StoredTables,
    file_bytes: Option<f64>,
}

impl JsDataset {
    fn from_dataset(data: Dataset) -> Self {
        JsDataset {
            interactions: Arc::new(data.interactions),
            users: data.users.map(Arc::new),
            items: data.items.map(Arc::new),
            tables: Default::default(),
            file_bytes: None,
        }
    }

    /// The work of `save`, run on any thread.
    fn saver(
        &self,
        path: String,
        proposals: Vec<Proposal>,
    ) -> impl FnOnce() -> Result<()> + Send + 'static {
        let interactions = self.interactions.clone();
        let users = self.users.clone();
        let items = self.items.clone();
        let stored = self.tables.clone();
        move || {
            let mut tables: Vec<(ProposalKey, AliasTable)> = Vec::new();
            for p in &proposals {
                let key = ProposalKey::of(p);
                if tables.iter().any(|(k, _)| *k == key) {
                    continue;
                }
                let table = match stored.iter().find(|(k, _)| *k == key) {
                    Some((_, t)) => t.clone(),
                    None => file_format::proposal_table(&interactions, p).map_err(js_error)?,
                };
                tables.push((key, table));
            }
            let refs: Vec<(ProposalKey, &AliasTable)> =
                tables.iter().map(|(k, t)| (*k, t)).collect();
            file_format::save_parts(
                Path::new(&path),
                &interactions,
                users.as_deref(),
                items.as_deref(),
                &refs,
            )
            .map_err(io_js_error)
        }
    }
}

#[napi]
impl JsDataset {
    /// A dataset of an existing matrix, without id maps (to save it).
    #[napi(factory, catch_unwind)]
    pub fn from_interactions(interactions: &JsInteractions) -> Self {
        JsDataset {
            interactions: interactions.inner.clone(),
            users: None,
            items: None,
            tables: interactions.tables.clone(),
            file_bytes: None,
        }
    }

    /// The matrix (a new handle sharing the same memory).
    #[napi(catch_unwind)]
    pub fn interactions(&self) -> JsInteractions {
        JsInteractions {
            inner: self.interactions.clone(),
            tables: self.tables.clone(),
        }
    }

    /// The user id map, if the data has one.
    #[napi(catch_unwind)]
    pub fn users(&self) -> Option<JsIdMap> {
        self.users.clone().map(|inner| JsIdMap { inner })
    }

    /// The item id map, if the data has one.
    #[napi(catch_unwind)]
    pub fn items(&self) -> Option<JsIdMap> {
        self.items.clone().map(|inner| JsIdMap { inner })
    }

    /// Whether the arrays live in a memory-mapped file.
    #[napi(getter)]
    pub fn mapped(&self) -> bool {
        self.file_bytes.is_some()
    }

    /// The size of the file it was opened from, in bytes.
    #[napi(getter)]
    pub fn file_bytes(&self) -> Option<f64> {
        self.file_bytes
    }

    /// The proposals whose alias tables the file holds.
    #[napi(catch_unwind)]
    pub fn stored_proposals(&self) -> Vec<NativeStoredProposal> {
        self.tables
            .iter()
            .map(|(k, _)| match k {
                ProposalKey::Uniform => NativeStoredProposal {
                    proposal: "uniform".into(),
                    alpha: None,
                },
                ProposalKey::Popularity { alpha_bits } => NativeStoredProposal {
                    proposal: "popularity".into(),
                    alpha: Some(f64::from_bits(*alpha_bits)),
                },
                ProposalKey::Weights { .. } => NativeStoredProposal {
                    proposal: "weights".into(),
                    alpha: None,
                },
            })
            .collect()
    }

    /// Saves the matrix, id maps and the alias tables of `proposals` to one
    /// file at `path` (replacing it atomically).
    #[napi(catch_unwind)]
    pub fn save(&self, path: String, proposals: Vec<NativeProposalSpec>) -> Result<()> {
        let proposals = proposals
            .iter()
            .map(proposal_of)
            .collect::<Result<Vec<_>>>()?;
        self.saver(path, proposals)()
    }

    /// As `save`, off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn save_async(
        &self,
        path: String,
        proposals: Vec<NativeProposalSpec>,
    ) -> Result<AsyncTask<Job<()>>> {
        let proposals = proposals
            .iter()
            .map(proposal_of)
            .collect::<Result<Vec<_>>>()?;
        Ok(Job::new(self.saver(path, proposals)))
    }

    /// Writes the positives as CSV pairs (`user,item` header, original ids).
    #[napi(catch_unwind)]
    pub fn write_csv(&self, path: String) -> Result<()> {
        let data = Dataset {
            interactions: (*self.interactions).clone(),
            users: self.users.as_deref().cloned(),
            items: self.items.as_deref().cloned(),
        };
        write_csv_pairs(Path::new(&path), &data).map_err(io_js_error)
    }
}

/// Original ids (sparse integers or strings) to dense ids and back.
#[napi(js_name = "NativeIdMap")]
pub struct JsIdMap {
    inner: Arc<IdMap>,
}

fn original_value(o: Original<'_>) -> Either<f64, String> {
    match o {
        Original::Int(v) => Either::A(v as f64),
        Original::Str(s) => Either::B(s.to_string()),
    }
}

#[napi]
impl JsIdMap {
    /// Number of ids.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }

    /// Whether the original ids are integers (returned as numbers).
    #[napi(getter)]
    pub fn numeric(&self) -> bool {
        self.inner.is_int()
    }

    /// The dense id of one original id, or -1.
    #[napi(catch_unwind)]
    pub fn dense_of(&self, id: Either<String, f64>) -> i32 {
        let found = match id {
            Either::A(s) => self.inner.dense_of_str(s.as_bytes()),
            Either::B(v) if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_991.0 => {
                self.inner.dense_of_int(v as i64)
            }
            Either::B(_) => None,
        };
        found.map_or(-1, |d| d as i32)
    }

    /// Dense ids of numeric original ids (-1 where absent).
    #[napi(catch_unwind)]
    pub fn dense_of_numbers(&self, env: &Env, ids: Float64Array) -> Result<Int32Array> {
        let out: Vec<i32> = ids.iter().map(|&v| self.dense_of(Either::B(v))).collect();
        owned::ints(env, &out)
    }

    /// Dense ids of string original ids (-1 where absent).
    #[napi(catch_unwind)]
    pub fn dense_of_strings(&self, env: &Env, ids: Vec<String>) -> Result<Int32Array> {
        let out: Vec<i32> = ids
            .into_iter()
            .map(|s| self.dense_of(Either::A(s)))
            .collect();
        owned::ints(env, &out)
    }

    /// The original id of one dense id.
    #[napi(catch_unwind)]
    pub fn original(&self, dense: f64) -> Result<Either<f64, String>> {
        let bound = self.inner.len() as u64;
        let d = integer("dense", dense, 0, bound.saturating_sub(1))?;
        if bound == 0 {
            return Err(Error::new(
                Status::InvalidArg,
                format!("dense must be in [0, 0), got {dense}: the map is empty"),
            ));
        }
        Ok(original_value(self.inner.original(d as u32)))
    }

    /// Original ids of dense ids: numbers (a `Float64Array`) for a numeric
    /// map, else strings.
    #[napi(catch_unwind)]
    pub fn originals(
        &self,
        env: &Env,
        dense: Int32Array,
    ) -> Result<Either<Float64Array, Vec<String>>> {
        let ids = crate::convert::ids(&dense);
        negsample_core::error::check_ids("dense", ids, self.inner.len() as u64)
            .map_err(js_error)?;
        if self.inner.is_int() {
            let out = ids
                .iter()
                .map(|&d| match self.inner.original(d) {
                    Original::Int(v) => v as f64,
                    Original::Str(_) => f64::NAN,
                })
                .collect();
            let out: Vec<f64> = out;
            Ok(Either::A(owned::doubles(env, &out)?))
        } else {
            let out = ids
                .iter()
                .map(|&d| match self.inner.original(d) {
                    Original::Str(s) => s.to_string(),
                    Original::Int(v) => v.to_string(),
                })
                .collect();
            Ok(Either::B(out))
        }
    }
}

fn paths_of(paths: &[String]) -> Vec<PathBuf> {
    paths.iter().map(PathBuf::from).collect()
}

fn adjacency(
    paths: Vec<PathBuf>,
    options: AdjacencyOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<JsDataset>> {
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let mut callback = |a: u64, b: u64| progress(a, b);
    let data = read_adjacency(&refs, &options, Some(&mut callback)).map_err(io_js_error)?;
    Ok(data.into_iter().map(JsDataset::from_dataset).collect())
}

fn delimited(
    path: PathBuf,
    options: DelimitedOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<JsDataset> {
    let mut callback = |a: u64, b: u64| progress(a, b);
    let data = read_delimited(&path, &options, Some(&mut callback)).map_err(io_js_error)?;
    Ok(JsDataset::from_dataset(data))
}

fn sync_progress<'a>(
    f: &'a Option<Function<'_, FnArgs<(f64, f64)>, ()>>,
) -> impl FnMut(u64, u64) + 'a {
    move |done, total| {
        if let Some(f) = f {
            // The TypeScript wrapper never throws; a failure here is ignored.
            let _ = f.call((done as f64, total as f64).into());
        }
    }
}

fn async_progress(f: Option<AsyncProgress>) -> impl FnMut(u64, u64) + Send {
    move |done, total| {
        if let Some(f) = &f {
            f.call(
                (done as f64, total as f64).into(),
                ThreadsafeFunctionCallMode::NonBlocking,
            );
        }
    }
}

/// Reads adjacency files sharing one id space: one dataset per file.
#[napi(catch_unwind)]
pub fn load_adjacency(
    paths: Vec<String>,
    options: NativeAdjacencyOptions,
    on_progress: Option<Function<'_, FnArgs<(f64, f64)>, ()>>,
) -> Result<Vec<JsDataset>> {
    let options = adjacency_options(options)?;
    adjacency(paths_of(&paths), options, sync_progress(&on_progress))
}

/// As `loadAdjacency`, off the JavaScript thread.
#[napi(
    ts_args_type = "paths: Array<string>, options: NativeAdjacencyOptions, onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined | null",
    ts_return_type = "Promise<NativeDataset[]>",
    catch_unwind
)]
pub fn load_adjacency_async(
    paths: Vec<String>,
    options: NativeAdjacencyOptions,
    on_progress: Option<AsyncProgress>,
) -> Result<AsyncTask<Job<Vec<JsDataset>>>> {
    let options = adjacency_options(options)?;
    let paths = paths_of(&paths);
    Ok(Job::new(move || {
        adjacency(paths, options, async_progress(on_progress))
    }))
}

/// Reads a delimited file with id maps.
#[napi(catch_unwind)]
pub fn load_delimited(
    path: String,
    options: NativeDelimitedOptions,
    on_progress: Option<Function<'_, FnArgs<(f64, f64)>, ()>>,
) -> Result<JsDataset> {
    let options = delimited_options(options)?;
    delimited(PathBuf::from(path), options, sync_progress(&on_progress))
}

/// As `loadDelimited`, off the JavaScript thread.
#[napi(
    ts_args_type = "path: string, options: NativeDelimitedOptions, onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined | null",
    ts_return_type = "Promise<NativeDataset>",
    catch_unwind
)]
pub fn load_delimited_async(
    path: String,
    options: NativeDelimitedOptions,
    on_progress: Option<AsyncProgress>,
) -> Result<AsyncTask<Job<JsDataset>>> {
    let options = delimited_options(options)?;
    let path = PathBuf::from(path);
    Ok(Job::new(move || {
        delimited(path, options, async_progress(on_progress))
    }))
}

/// Opens a file written by `save`, memory-mapped.
#[napi(catch_unwind)]
pub fn open_dataset(path: String, verify: bool) -> Result<JsDataset> {
    let stored = file_format::open(Path::new(&path), verify).map_err(io_js_error)?;
    let mut data = JsDataset::from_dataset(stored.dataset);
    data.tables = Arc::new(stored.tables);
    data.file_bytes = Some(stored.bytes as f64);
    Ok(data)
}

fn synthetic_options(options: &NativeSyntheticOptions) -> Result<SyntheticOptions> {
    Ok(SyntheticOptions {
        num_users: integer("numUsers", options.num_users, 1, MAX_IDS as u64)? as usize,
        num_items: integer("numItems", options.num_items, 2, MAX_IDS as u64)? as usize,
        num_interactions: integer("numInteractions", options.num_interactions, 0, 1 << 53)?,
        item_exponent: options.item_exponent,
        user_exponent: options.user_exponent,
        seed: seed(&options.seed)?,
    })
}

fn synthetic_matrix(options: SyntheticOptions) -> Result<JsInteractions> {
    let m = generate(&options).map_err(js_error)?;
    Ok(JsInteractions {
        inner: Arc::new(m),
        tables: Default::default(),
    })
}

/// Seeded power-law interactions.
#[napi(catch_unwind)]
pub fn synthetic(options: NativeSyntheticOptions) -> Result<JsInteractions> {
    synthetic_matrix(synthetic_options(&options)?)
}

/// As `synthetic`, off the JavaScript thread.
#[napi(ts_return_type = "Promise<NativeInteractions>", catch_unwind)]
pub fn synthetic_async(options: NativeSyntheticOptions) -> Result<AsyncTask<Job<JsInteractions>>> {
    let options = synthetic_options(&options)?;
    Ok(Job::new(move || synthetic_matrix(options)))
}

/// Writes a matrix as adjacency lines (`user item item ...`).
#[napi(catch_unwind)]
pub fn write_adjacency_file(interactions: &JsInteractions, path: String) -> Result<()> {
    write_adjacency(Path::new(&path), &interactions.inner).map_err(io_js_error)
}
