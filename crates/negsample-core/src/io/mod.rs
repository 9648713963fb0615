//! Data in and out: readers for interaction files, id maps, the binary file
//! format, the synthetic generator.
//!
//! - [`adjacency`]: `user item item ...` lines (the LightGCN-style splits),
//!   one or several files sharing their id space.
//! - [`delimited`]: CSV / TSV / any delimiter, header or not, columns by name
//!   or index (MovieLens `ratings.csv`).
//! - [`movielens`]: MovieLens `::`-separated `ratings.dat`.
//! - [`idmap`]: sparse or string ids to dense ids and back.
//! - [`file_format`]: one versioned, checksummed binary file holding the
//!   matrix, its id maps and alias tables, opened memory-mapped.
//! - [`synthetic`]: seeded power-law interaction data.
//! - [`StoredTables`]: the alias tables stored with a matrix, which samplers
//!   start from and saves write back.
//! - [`write`](mod@write): adjacency and CSV writers (exports, benchmark inputs).
//!
//! Readers stream the file in blocks of [`BLOCK_BYTES`], parse the lines of
//! each block on all cores (split at newlines), and report progress between
//! blocks. Every error names the file, the line and what was wrong; no error
//! is skipped, so a malformed file never gives a silently smaller matrix.

pub mod adjacency;
mod build;
pub mod delimited;
pub mod file_format;
mod filter;
pub mod idmap;
mod lines;
pub mod movielens;
pub mod synthetic;
mod tables;
pub mod write;

pub use filter::Filters;
pub use idmap::{IdMap, Original};
pub use tables::StoredTables;

use crate::interactions::Interactions;

/// Bytes read per block: lines within a block are parsed in parallel, and
/// progress is reported after each block.
pub const BLOCK_BYTES: usize = 16 << 20;

/// A progress callback: `(bytes read so far, total bytes)`, called on the
/// loading thread after each block and once at the end.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// An interaction matrix with the id maps that name its rows and columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The positives, in dense ids.
    pub interactions: Interactions,
    /// Original user ids (`None`: dense ids are the original ids).
    pub users: Option<IdMap>,
    /// Original item ids (`None`: dense ids are the original ids).
    pub items: Option<IdMap>,
}
