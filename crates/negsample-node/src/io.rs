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
use negsample_core::error::check_ids;
use negsample_core::io::adjacency::{read_adjacency, AdjacencyOptions};
use negsample_core::io::delimited::{read_delimited, Column, DelimitedOptions};
use negsample_core::io::file_format::{self, ProposalKey};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::io::write::{write_adjacency, write_csv_pairs};
use negsample_core::io::{Dataset, Filters, IdMap, Original, StoredTables};
use negsample_core::{Interactions, Proposal};

use crate::convert::{count, ids, js_error, js_error_in, seed, whole};
use crate::interactions::{built, optional_count, JsInteractions};
use crate::job::Job;
use crate::owned;

/// A progress callback called on the JavaScript thread.
type SyncProgress<'a> = Function<'a, FnArgs<(f64, f64)>, ()>;

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

/// Options of a load (defaults are filled in TypeScript).
#[napi(object)]
pub struct NativeLoadOptions {
    /// Number of users (adjacency files), or none for the largest id + 1.
    pub num_users: Option<f64>,
    /// Number of items (adjacency files), or none for the largest id + 1.
    pub num_items: Option<f64>,
    /// Minimum interactions per user (0: no filter).
    pub min_user_interactions: f64,
    /// Minimum interactions per item (0: no filter).
    pub min_item_interactions: f64,
    /// How to read a delimited file; none for adjacency files.
    pub delimited: Option<NativeDelimitedOptions>,
}

/// How to read a delimited file.
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

fn column(name: &str, value: Either<String, f64>) -> Result<Column> {
    Ok(match value {
        Either::A(s) => Column::Name(s),
        Either::B(i) => Column::Index(count(name, i)?),
    })
}

fn invalid(message: String) -> Error {
    Error::new(Status::InvalidArg, message)
}

fn proposal_of(spec: &NativeProposalSpec) -> Result<Proposal> {
    let weights = spec.weights.as_ref().map(|w| w.to_vec());
    Proposal::named(&spec.proposal, spec.alpha, weights).map_err(js_error_in(&[
        ("proposal", "proposals[].proposal"),
        ("weights", "proposals[].weights"),
    ]))
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
            tables: StoredTables::default(),
            file_bytes: None,
        }
    }

    /// The one implementation of `save` and `saveAsync`: converted on the
    /// JavaScript thread, run on any thread.
    fn saver(
        &self,
        path: String,
        proposals: Vec<NativeProposalSpec>,
    ) -> Result<impl FnOnce() -> Result<()> + Send + 'static> {
        let proposals = proposals
            .iter()
            .map(proposal_of)
            .collect::<Result<Vec<_>>>()?;
        let interactions = self.interactions.clone();
        let users = self.users.clone();
        let items = self.items.clone();
        let tables = self.tables.clone();
        Ok(move || {
            tables
                .save(
                    Path::new(&path),
                    &interactions,
                    users.as_deref(),
                    items.as_deref(),
                    &proposals,
                )
                .map_err(io_js_error)
        })
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
        JsInteractions::new(self.interactions.clone(), self.tables.clone())
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
            .map(|(k, _)| {
                let (proposal, alpha) = match *k {
                    ProposalKey::Uniform => ("uniform", None),
                    ProposalKey::Popularity { alpha_bits } => {
                        ("popularity", Some(f64::from_bits(alpha_bits)))
                    }
                    ProposalKey::Weights { .. } => ("weights", None),
                };
                NativeStoredProposal {
                    proposal: proposal.into(),
                    alpha,
                }
            })
            .collect()
    }

    /// Saves the matrix, id maps and the alias tables of `proposals` to one
    /// file at `path` (replacing it atomically).
    #[napi(catch_unwind)]
    pub fn save(&self, path: String, proposals: Vec<NativeProposalSpec>) -> Result<()> {
        self.saver(path, proposals)?()
    }

    /// As `save`, off the JavaScript thread.
    #[napi(ts_return_type = "Promise<void>", catch_unwind)]
    pub fn save_async(
        &self,
        path: String,
        proposals: Vec<NativeProposalSpec>,
    ) -> Result<AsyncTask<Job<()>>> {
        Ok(Job::new(self.saver(path, proposals)?))
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
        let dense = self.inner.dense("dense", whole("dense", dense)?);
        Ok(original_value(
            self.inner.original(dense.map_err(js_error)?),
        ))
    }

    /// Original ids of dense ids: numbers (a `Float64Array`) for a numeric
    /// map, else strings.
    #[napi(catch_unwind)]
    pub fn originals(
        &self,
        env: &Env,
        dense: Int32Array,
    ) -> Result<Either<Float64Array, Vec<String>>> {
        let ids = ids(&dense);
        check_ids("dense", ids, self.inner.len() as u64).map_err(js_error)?;
        if self.inner.is_int() {
            let out: Vec<f64> = ids
                .iter()
                .map(|&d| match self.inner.original(d) {
                    Original::Int(v) => v as f64,
                    Original::Str(_) => f64::NAN,
                })
                .collect();
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

/// One load, converted on the JavaScript thread: what to read and how.
enum Load {
    /// Adjacency files sharing one id space (one dataset each).
    Adjacency(Vec<PathBuf>, AdjacencyOptions),
    /// One delimited file.
    Delimited(PathBuf, DelimitedOptions),
}

impl Load {
    fn new(paths: Vec<String>, options: NativeLoadOptions) -> Result<Self> {
        let mut paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
        let filters = Filters {
            min_user_interactions: count("minUserInteractions", options.min_user_interactions)?,
            min_item_interactions: count("minItemInteractions", options.min_item_interactions)?,
        };
        let Some(d) = options.delimited else {
            let options = AdjacencyOptions {
                num_users: optional_count("numUsers", options.num_users)?,
                num_items: optional_count("numItems", options.num_items)?,
                filters,
            };
            return Ok(Load::Adjacency(paths, options));
        };
        if options.num_users.is_some() || options.num_items.is_some() {
            return Err(invalid(
                "numUsers and numItems apply to adjacency files only".into(),
            ));
        }
        let count = paths.len();
        let (Some(path), true) = (paths.pop(), count == 1) else {
            return Err(invalid(format!(
                "a delimited load reads one file, got {count} paths"
            )));
        };
        let options = DelimitedOptions {
            delimiter: d.delimiter.into_bytes(),
            header: d.header,
            user: column("user", d.user)?,
            item: column("item", d.item)?,
            rating: d.rating.map(|r| column("rating", r)).transpose()?,
            min_rating: d.min_rating,
            filters,
        };
        Ok(Load::Delimited(path, options))
    }

    /// Reads the files, reporting progress to `progress`.
    fn run(&self, mut progress: impl FnMut(u64, u64)) -> Result<Vec<JsDataset>> {
        let data = match self {
            Load::Adjacency(paths, options) => {
                let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
                read_adjacency(&refs, options, Some(&mut progress))
            }
            Load::Delimited(path, options) => {
                read_delimited(path, options, Some(&mut progress)).map(|data| vec![data])
            }
        };
        let data = data.map_err(io_js_error)?;
        Ok(data.into_iter().map(JsDataset::from_dataset).collect())
    }
}

fn sync_progress<'a>(f: &'a Option<SyncProgress<'_>>) -> impl FnMut(u64, u64) + 'a {
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

/// Reads adjacency files sharing one id space (one dataset per file), or,
/// with `options.delimited`, one delimited file with id maps.
#[napi(catch_unwind)]
pub fn load(
    paths: Vec<String>,
    options: NativeLoadOptions,
    on_progress: Option<Function<'_, FnArgs<(f64, f64)>, ()>>,
) -> Result<Vec<JsDataset>> {
    Load::new(paths, options)?.run(sync_progress(&on_progress))
}

/// As `load`, off the JavaScript thread.
#[napi(
    ts_args_type = "paths: Array<string>, options: NativeLoadOptions, onProgress?: ((bytesRead: number, totalBytes: number) => void) | undefined | null",
    ts_return_type = "Promise<NativeDataset[]>",
    catch_unwind
)]
pub fn load_async(
    paths: Vec<String>,
    options: NativeLoadOptions,
    on_progress: Option<AsyncProgress>,
) -> Result<AsyncTask<Job<Vec<JsDataset>>>> {
    let load = Load::new(paths, options)?;
    let progress = async_progress(on_progress);
    Ok(Job::new(move || load.run(progress)))
}

/// Opens a file written by `save`, memory-mapped.
#[napi(catch_unwind)]
pub fn open_dataset(path: String, verify: bool) -> Result<JsDataset> {
    let stored = file_format::open(Path::new(&path), verify).map_err(io_js_error)?;
    Ok(JsDataset {
        tables: stored.tables,
        file_bytes: Some(stored.bytes as f64),
        ..JsDataset::from_dataset(stored.dataset)
    })
}

/// The one implementation of `synthetic` and `syntheticAsync`: converted on
/// the JavaScript thread, generated on any thread.
fn generator(
    options: NativeSyntheticOptions,
) -> Result<impl FnOnce() -> Result<JsInteractions> + Send + 'static> {
    let options = SyntheticOptions {
        num_users: count("numUsers", options.num_users)?,
        num_items: count("numItems", options.num_items)?,
        num_interactions: whole("numInteractions", options.num_interactions)?,
        item_exponent: options.item_exponent,
        user_exponent: options.user_exponent,
        seed: seed(&options.seed)?,
    };
    Ok(move || built(generate(&options)))
}

/// Seeded power-law interactions.
#[napi(catch_unwind)]
pub fn synthetic(options: NativeSyntheticOptions) -> Result<JsInteractions> {
    generator(options)?()
}

/// As `synthetic`, off the JavaScript thread.
#[napi(ts_return_type = "Promise<NativeInteractions>", catch_unwind)]
pub fn synthetic_async(options: NativeSyntheticOptions) -> Result<AsyncTask<Job<JsInteractions>>> {
    Ok(Job::new(generator(options)?))
}

/// Writes a matrix as adjacency lines (`user item item ...`).
#[napi(catch_unwind)]
pub fn write_adjacency_file(interactions: &JsInteractions, path: String) -> Result<()> {
    write_adjacency(Path::new(&path), &interactions.inner).map_err(io_js_error)
}
