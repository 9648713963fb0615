//! Adjacency lines: `user item item ...`, one line per user, ids separated by
//! spaces or tabs. The format of the LightGCN-style splits (`train.txt`,
//! `valid.txt`, `test.txt` of `lastfm` and `ml-1m`).
//!
//! Ids are dense non-negative integers already, and are kept as they are.
//! Splits are read together so that they share one id space: the counts are
//! the largest ids over all files plus one (items that occur only in `test`,
//! cold items, exist in `train`'s matrix as items without positives).
//!
//! A line with a user and no items is a user without positives. Blank lines
//! are skipped. Anything else that is not an id is an error naming the file,
//! the line and the token.

use std::path::Path;

use super::build::{csr_from_pairs, Pairs};
use super::lines::{file_size, parse_file, Tracker};
use super::{Dataset, Filters, Progress};
use crate::error::{Error, Result};
use crate::interactions::{Interactions, MAX_IDS};

/// Options of [`read_adjacency`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdjacencyOptions {
    /// Number of users; every user id must be below it. Default: the largest
    /// user id over all files plus one.
    pub num_users: Option<usize>,
    /// Number of items; every item id must be below it. Default: the largest
    /// item id over all files plus one.
    pub num_items: Option<usize>,
    /// Minimum interaction counts (one file only).
    pub filters: Filters,
}

/// One file's pairs and largest ids (+1).
struct FilePairs {
    parts: Vec<Pairs>,
    users_bound: usize,
    items_bound: usize,
}

fn bad_id(token: &[u8], what: &str) -> String {
    let shown: String = String::from_utf8_lossy(&token[..token.len().min(40)]).into();
    format!("{what} id '{shown}' is not a non-negative integer")
}

#[inline(always)]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

/// Parses a chunk of whole lines in one pass over its bytes: ids are runs of
/// ASCII digits separated by spaces or tabs (a `\r` before the line end is
/// allowed); the first id of a line is the user.
fn parse_chunk(chunk: &[u8]) -> std::result::Result<(Pairs, usize, usize), (u64, String)> {
    let mut pairs = Pairs {
        users: Vec::with_capacity(chunk.len() / 6),
        items: Vec::with_capacity(chunk.len() / 6),
    };
    let (mut users_bound, mut items_bound) = (0usize, 0usize);
    let n = chunk.len();
    let mut i = 0usize;
    let mut line = 0u64;
    while i < n {
        let mut user: Option<u32> = None;
        loop {
            while i < n && is_blank(chunk[i]) {
                i += 1;
            }
            if i >= n || chunk[i] == b'\n' {
                i += 1;
                break;
            }
            let start = i;
            let mut v: u64 = 0;
            while i < n && chunk[i].is_ascii_digit() && i - start < 11 {
                v = v * 10 + (chunk[i] - b'0') as u64;
                i += 1;
            }
            let what = if user.is_none() { "user" } else { "item" };
            if i == start || (i < n && !is_blank(chunk[i]) && chunk[i] != b'\n') {
                let end = chunk[start..]
                    .iter()
                    .position(|&b| is_blank(b) || b == b'\n')
                    .map_or(n, |p| start + p);
                return Err((line, bad_id(&chunk[start..end], what)));
            }
            if v >= MAX_IDS as u64 {
                return Err((
                    line,
                    format!(
                        "{what} id {} is too large: ids must be below {MAX_IDS}",
                        String::from_utf8_lossy(&chunk[start..i])
                    ),
                ));
            }
            let id = v as u32;
            match user {
                None => {
                    user = Some(id);
                    users_bound = users_bound.max(id as usize + 1);
                }
                Some(u) => {
                    items_bound = items_bound.max(id as usize + 1);
                    pairs.users.push(u);
                    pairs.items.push(id);
                }
            }
        }
        line += 1;
    }
    Ok((pairs, users_bound, items_bound))
}

fn read_pairs(path: &Path, tracker: &mut Tracker<'_, '_>) -> Result<FilePairs> {
    let chunks = parse_file(path, 0, 1, tracker, parse_chunk)?;
    let mut out = FilePairs {
        parts: Vec::with_capacity(chunks.len()),
        users_bound: 0,
        items_bound: 0,
    };
    for (pairs, ub, ib) in chunks {
        out.users_bound = out.users_bound.max(ub);
        out.items_bound = out.items_bound.max(ib);
        out.parts.push(pairs);
    }
    Ok(out)
}

/// Reads adjacency files that share one id space (for instance a split's
/// `train.txt`, `valid.txt` and `test.txt`): one matrix per file, all with
/// the same `num_users` and `num_items`.
///
/// `progress` is called after each block of each file with the bytes read
/// so far over all files and their total size.
///
/// # Errors
/// - [`Error::Io`]: a file cannot be read.
/// - [`Error::Parse`]: a token is not an id, or an id is too large (file,
///   line and token named).
/// - [`Error::OutOfRange`]: no paths, a count or a minimum above
///   [`MAX_IDS`], an id not below a given count, or filters asked for with
///   more than one file.
///
/// # Performance
/// Lines are parsed on all cores; building each matrix is O(nnz) plus the
/// row sorts. Peak memory: 8 bytes per pair read plus the matrices.
pub fn read_adjacency(
    paths: &[&Path],
    options: &AdjacencyOptions,
    progress: Option<Progress<'_>>,
) -> Result<Vec<Dataset>> {
    if paths.is_empty() {
        return Err(Error::OutOfRange {
            name: "paths",
            value: "an empty list".into(),
            expected: "a list of at least one file".into(),
        });
    }
    options.filters.check()?;
    if paths.len() > 1 && !options.filters.is_noop() {
        return Err(Error::OutOfRange {
            name: "min_user_interactions / min_item_interactions",
            value: format!("given with {} files", paths.len()),
            expected: "used with one file only (filtering splits would break their shared ids)"
                .into(),
        });
    }
    let mut total = 0;
    for p in paths {
        total += file_size(p)?;
    }
    let mut progress = progress;
    let mut tracker = Tracker {
        done: 0,
        total,
        callback: progress.as_mut(),
    };
    let files: Vec<FilePairs> = paths
        .iter()
        .map(|p| read_pairs(p, &mut tracker))
        .collect::<Result<_>>()?;
    let users_bound = files.iter().map(|f| f.users_bound).max().unwrap_or(0);
    let items_bound = files.iter().map(|f| f.items_bound).max().unwrap_or(0);
    let num_users = resolve(
        "num_users",
        options.num_users,
        users_bound,
        paths,
        &files,
        true,
    )?;
    let num_items = resolve(
        "num_items",
        options.num_items,
        items_bound,
        paths,
        &files,
        false,
    )?;
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let interactions: Interactions = csr_from_pairs(&f.parts, num_users, num_items);
        drop(f);
        let (data, _) = options.filters.apply(Dataset {
            interactions,
            users: None,
            items: None,
        });
        out.push(data);
    }
    Ok(out)
}

/// The given count, checked against the ids seen, or the ids' bound.
fn resolve(
    name: &'static str,
    given: Option<usize>,
    bound: usize,
    paths: &[&Path],
    files: &[FilePairs],
    users: bool,
) -> Result<usize> {
    let Some(n) = given else {
        let pairs = files
            .iter()
            .flat_map(|f| &f.parts)
            .map(|p| p.users.len())
            .sum();
        crate::interactions::check_inferred_count(name, bound, pairs)?;
        return Ok(bound);
    };
    if n > MAX_IDS {
        return Err(Error::OutOfRange {
            name,
            value: n.to_string(),
            expected: format!("at most {MAX_IDS}"),
        });
    }
    if bound > n {
        let (path, _) = paths
            .iter()
            .zip(files)
            .find(|(_, f)| (if users { f.users_bound } else { f.items_bound }) > n)
            .expect("some file has the largest id");
        return Err(Error::OutOfRange {
            name,
            value: n.to_string(),
            expected: format!(
                "greater than every id: {} has {} id {}",
                path.display(),
                if users { "user" } else { "item" },
                bound - 1
            ),
        });
    }
    Ok(n)
}
