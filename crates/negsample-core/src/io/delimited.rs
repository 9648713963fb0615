//! Delimited pairs: CSV, TSV or any delimiter (one or more bytes), with or
//! without a header, user / item / rating columns chosen by name or index.
//! MovieLens `ratings.csv` (`userId,movieId,rating,timestamp`) is the model
//! case.
//!
//! Ids are any strings; they get dense ids in order of first appearance and
//! the [`IdMap`]s that give them back. Every line must have the same number
//! of fields as the first (or the header): a line cut short, a stray
//! delimiter or a binary blob is an error naming the file and the line, never
//! a silently smaller matrix. Blank lines are skipped; `\r\n` line ends and
//! double-quoted fields (RFC 4180, without line breaks inside) are read.

use std::borrow::Cow;
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::build::{csr_from_pairs, Pairs};
use super::lines::{each_line, file_size, first_line, parse_error, parse_file, Tracker};
use super::{Dataset, Filters, IdMap, Progress};
use crate::error::{Error, Result};
use crate::interactions::MAX_IDS;

/// A column, by its header name or its 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The column whose header field is this name (needs a header).
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

/// Options of [`read_delimited`].
#[derive(Debug, Clone, PartialEq)]
pub struct DelimitedOptions {
    /// The field separator: one or more bytes, no line break or quote.
    pub delimiter: Vec<u8>,
    /// Whether the first line is a header (column names).
    pub header: bool,
    /// The user id column.
    pub user: Column,
    /// The item id column.
    pub item: Column,
    /// The rating column, if ratings are read.
    pub rating: Option<Column>,
    /// Keep only rows whose rating is at least this (needs `rating`).
    pub min_rating: Option<f64>,
    /// Minimum interaction counts (iterated to a fixed point).
    pub filters: Filters,
}

impl Default for DelimitedOptions {
    /// Comma-separated, with a header, users in column 0, items in column 1,
    /// no ratings, no filters.
    fn default() -> Self {
        DelimitedOptions {
            delimiter: b",".to_vec(),
            header: true,
            user: Column::Index(0),
            item: Column::Index(1),
            rating: None,
            min_rating: None,
            filters: Filters::default(),
        }
    }
}

/// Resolved column positions.
#[derive(Clone, Copy)]
struct Layout<'a> {
    delimiter: &'a [u8],
    trim: bool,
    fields: usize,
    user: usize,
    item: usize,
    rating: Option<usize>,
    min_rating: Option<f64>,
    like: &'a str,
}

/// One chunk: pairs in chunk-local dense ids, and those ids' keys.
struct Chunk {
    pairs: Pairs,
    user_keys: Vec<Box<[u8]>>,
    item_keys: Vec<Box<[u8]>>,
}

/// Splits `line` at `delimiter` into `out` (unquoting double-quoted fields).
fn split<'l>(
    line: &'l [u8],
    delimiter: &[u8],
    trim: bool,
    out: &mut Vec<Cow<'l, [u8]>>,
) -> std::result::Result<(), String> {
    out.clear();
    let field = |f: &'l [u8]| if trim { f.trim_ascii() } else { f };
    if memchr::memchr(b'"', line).is_none() {
        let mut start = 0;
        if delimiter.len() == 1 {
            for p in memchr::memchr_iter(delimiter[0], line) {
                out.push(Cow::Borrowed(field(&line[start..p])));
                start = p + 1;
            }
        } else {
            for p in memchr::memmem::find_iter(line, delimiter) {
                if p >= start {
                    out.push(Cow::Borrowed(field(&line[start..p])));
                    start = p + delimiter.len();
                }
            }
        }
        out.push(Cow::Borrowed(field(&line[start..])));
        return Ok(());
    }
    // Quoted fields: "a ""b"" c" is `a "b" c`.
    let mut rest = line;
    loop {
        let lead = if trim { rest.trim_ascii_start() } else { rest };
        if lead.first() == Some(&b'"') {
            let mut value = Vec::new();
            let mut i = 1;
            loop {
                match lead.get(i) {
                    None => return Err("a quoted field is not closed".into()),
                    Some(b'"') if lead.get(i + 1) == Some(&b'"') => {
                        value.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            out.push(Cow::Owned(value));
            let after = &lead[i..];
            let after = if trim {
                after.trim_ascii_start()
            } else {
                after
            };
            if after.is_empty() {
                return Ok(());
            }
            if !after.starts_with(delimiter) {
                return Err("a closing quote is not followed by the delimiter".into());
            }
            rest = &after[delimiter.len()..];
        } else {
            let end = memchr::memmem::find(rest, delimiter);
            match end {
                Some(p) => {
                    out.push(Cow::Borrowed(field(&rest[..p])));
                    rest = &rest[p + delimiter.len()..];
                }
                None => {
                    out.push(Cow::Borrowed(field(rest)));
                    return Ok(());
                }
            }
        }
    }
}

fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into()
}

/// The chunk-local dense id of `key`, adding it if new.
fn local_id<'c>(
    map: &mut FxHashMap<Cow<'c, [u8]>, u32>,
    keys: &mut Vec<Box<[u8]>>,
    key: Cow<'c, [u8]>,
    what: &str,
) -> std::result::Result<u32, String> {
    if let Some(&id) = map.get(&*key) {
        return Ok(id);
    }
    if key.is_empty() {
        return Err(format!("the {what} id is empty"));
    }
    if std::str::from_utf8(&key).is_err() {
        return Err(format!("the {what} id '{}' is not UTF-8 text", shown(&key)));
    }
    let id = keys.len() as u32;
    keys.push(key.to_vec().into_boxed_slice());
    map.insert(key, id);
    Ok(id)
}

fn parse_chunk<'c>(
    chunk: &'c [u8],
    layout: &Layout<'_>,
) -> std::result::Result<Chunk, (u64, String)> {
    let mut out = Chunk {
        pairs: Pairs::default(),
        user_keys: Vec::new(),
        item_keys: Vec::new(),
    };
    let mut users: FxHashMap<Cow<'c, [u8]>, u32> = FxHashMap::default();
    let mut items: FxHashMap<Cow<'c, [u8]>, u32> = FxHashMap::default();
    let mut fields: Vec<Cow<'c, [u8]>> = Vec::new();
    each_line(chunk, |_, line| {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(());
        }
        split(line, layout.delimiter, layout.trim, &mut fields)?;
        if fields.len() != layout.fields {
            return Err(format!(
                "the line has {} fields, expected {} (as {})",
                fields.len(),
                layout.fields,
                layout.like
            ));
        }
        if let Some(r) = layout.rating {
            let text = std::str::from_utf8(&fields[r]).unwrap_or("");
            let value: f64 = match text.parse() {
                Ok(v) if f64::is_finite(v) => v,
                _ => {
                    return Err(format!(
                        "the rating '{}' is not a number",
                        shown(&fields[r])
                    ))
                }
            };
            if layout.min_rating.is_some_and(|t| value < t) {
                return Ok(());
            }
        }
        let user_key = std::mem::take(&mut fields[layout.user]);
        let item_key = std::mem::take(&mut fields[layout.item]);
        let u = local_id(&mut users, &mut out.user_keys, user_key, "user")?;
        let i = local_id(&mut items, &mut out.item_keys, item_key, "item")?;
        out.pairs.users.push(u);
        out.pairs.items.push(i);
        Ok(())
    })?;
    Ok(out)
}

/// Global dense ids for each chunk's local ids, assigned in file order.
fn merge_keys(chunks: &[Vec<Box<[u8]>>]) -> (Vec<Box<[u8]>>, Vec<Vec<u32>>) {
    let mut global: FxHashMap<&[u8], u32> = FxHashMap::default();
    let mut order: Vec<&[u8]> = Vec::new();
    let mut remaps = Vec::with_capacity(chunks.len());
    for keys in chunks {
        let remap = keys
            .iter()
            .map(|k| {
                *global.entry(&**k).or_insert_with(|| {
                    order.push(k);
                    order.len() as u32 - 1
                })
            })
            .collect();
        remaps.push(remap);
    }
    let keys = order.into_iter().map(Box::from).collect();
    (keys, remaps)
}

fn column(
    name: &'static str,
    column: &Column,
    header: Option<&[Cow<'_, [u8]>]>,
    fields: usize,
) -> Result<usize> {
    match column {
        Column::Index(i) if *i < fields => Ok(*i),
        Column::Index(i) => Err(Error::OutOfRange {
            name,
            value: i.to_string(),
            expected: format!("a column index below {fields} (the number of fields)"),
        }),
        Column::Name(n) => {
            let Some(header) = header else {
                return Err(Error::OutOfRange {
                    name,
                    value: format!("'{n}'"),
                    expected: "a column index: columns are named only with header: true".into(),
                });
            };
            header
                .iter()
                .position(|h| **h == *n.as_bytes())
                .ok_or_else(|| Error::OutOfRange {
                    name,
                    value: format!("'{n}'"),
                    expected: format!(
                        "a column of the header ({})",
                        header
                            .iter()
                            .map(|h| String::from_utf8_lossy(h).into_owned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        }
    }
}

/// Reads a delimited file of (user, item[, rating]) rows into a dataset with
/// id maps for users and items.
///
/// Rows below `min_rating` are dropped before ids are assigned (a user with
/// only low ratings does not appear). Then `filters` apply.
///
/// # Errors
/// - [`Error::Io`]: the file cannot be read.
/// - [`Error::OutOfRange`]: a bad delimiter, a minimum above [`MAX_IDS`], a
///   column name not in the header (the header is listed), a column index
///   past the fields, `min_rating` without a rating column.
/// - [`Error::Parse`]: a line with the wrong number of fields, an empty or
///   non-UTF-8 id, a rating that is not a number, a broken quote, more than
///   2^31 - 1 distinct ids (file and line named).
///
/// # Performance
/// Lines are parsed on all cores with chunk-local hash maps, merged in file
/// order. Peak memory: 8 bytes per row, the distinct ids' bytes, and the
/// matrix.
pub fn read_delimited(
    path: &Path,
    options: &DelimitedOptions,
    progress: Option<Progress<'_>>,
) -> Result<Dataset> {
    let d = &options.delimiter;
    if d.is_empty() || d.iter().any(|&b| b == b'\n' || b == b'\r' || b == b'"') {
        return Err(Error::OutOfRange {
            name: "delimiter",
            value: format!("'{}'", String::from_utf8_lossy(d).escape_default()),
            expected: "one or more characters other than a line break or '\"'".into(),
        });
    }
    options.filters.check()?;
    if options.min_rating.is_some() && options.rating.is_none() {
        return Err(Error::OutOfRange {
            name: "min_rating",
            value: format!("{}", options.min_rating.unwrap_or_default()),
            expected: "given together with a rating column".into(),
        });
    }
    if let Some(t) = options.min_rating {
        if t.is_nan() {
            return Err(Error::OutOfRange {
                name: "min_rating",
                value: "NaN".into(),
                expected: "a number".into(),
            });
        }
    }
    let trim = !d.iter().all(|b| b.is_ascii_whitespace());
    let total = file_size(path)?;
    let mut progress = progress;
    let mut tracker = Tracker {
        done: 0,
        total,
        callback: progress.as_mut(),
    };
    let Some((first, next)) = first_line(path)? else {
        if options.header {
            return Err(parse_error(
                path,
                1,
                "the file is empty: expected a header line".into(),
            ));
        }
        tracker.advance(0);
        return Ok(Dataset {
            interactions: crate::Interactions::from_coo(&[], &[], None, None)?,
            users: Some(IdMap::from_keys::<&[u8]>(&[]).expect("empty")),
            items: Some(IdMap::from_keys::<&[u8]>(&[]).expect("empty")),
        });
    };
    let mut head = Vec::new();
    split(&first, d, trim, &mut head).map_err(|m| parse_error(path, 1, m))?;
    let fields = head.len();
    let header = options.header.then_some(&head[..]);
    let user = column("user", &options.user, header, fields)?;
    let item = column("item", &options.item, header, fields)?;
    if user == item {
        return Err(Error::OutOfRange {
            name: "item",
            value: item.to_string(),
            expected: "a column other than the user column".into(),
        });
    }
    let rating = options
        .rating
        .as_ref()
        .map(|c| column("rating", c, header, fields))
        .transpose()?;
    let like = if options.header {
        "the header"
    } else {
        "line 1"
    };
    let layout = Layout {
        delimiter: d,
        trim,
        fields,
        user,
        item,
        rating,
        min_rating: options.min_rating,
        like,
    };
    let (start, line) = if options.header { (next, 2) } else { (0, 1) };
    let mut chunks = parse_file(path, start, line, &mut tracker, |c| parse_chunk(c, &layout))?;

    let user_chunks: Vec<_> = chunks
        .iter_mut()
        .map(|c| std::mem::take(&mut c.user_keys))
        .collect();
    let (user_keys, user_remaps) = merge_keys(&user_chunks);
    drop(user_chunks);
    let item_chunks: Vec<_> = chunks
        .iter_mut()
        .map(|c| std::mem::take(&mut c.item_keys))
        .collect();
    let (item_keys, item_remaps) = merge_keys(&item_chunks);
    drop(item_chunks);
    for (what, n) in [("user", user_keys.len()), ("item", item_keys.len())] {
        if n > MAX_IDS {
            return Err(parse_error(
                path,
                0,
                format!("more than {MAX_IDS} distinct {what} ids"),
            ));
        }
    }
    chunks
        .par_iter_mut()
        .zip(user_remaps.par_iter().zip(&item_remaps))
        .for_each(|(c, (ur, ir))| {
            c.pairs.users.iter_mut().for_each(|u| *u = ur[*u as usize]);
            c.pairs.items.iter_mut().for_each(|i| *i = ir[*i as usize]);
        });
    let parts: Vec<Pairs> = chunks.into_iter().map(|c| c.pairs).collect();
    let interactions = csr_from_pairs(&parts, user_keys.len(), item_keys.len());
    drop(parts);
    let users = IdMap::from_keys(&user_keys).expect("distinct UTF-8 keys");
    let items = IdMap::from_keys(&item_keys).expect("distinct UTF-8 keys");
    let (data, _) = options.filters.apply(Dataset {
        interactions,
        users: Some(users),
        items: Some(items),
    });
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, d: &str) -> Vec<String> {
        let mut out = Vec::new();
        split(line.as_bytes(), d.as_bytes(), true, &mut out).unwrap();
        out.iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn splits_plain_multibyte_and_quoted() {
        assert_eq!(fields("1,2,3.5,9", ","), ["1", "2", "3.5", "9"]);
        assert_eq!(fields("1::2::5", "::"), ["1", "2", "5"]);
        assert_eq!(fields("a, b ,", ","), ["a", "b", ""]);
        assert_eq!(
            fields("\"x, y\",\"say \"\"hi\"\"\",z", ","),
            ["x, y", "say \"hi\"", "z"]
        );
        let mut out = Vec::new();
        assert!(split(b"\"open,1", b",", true, &mut out).is_err());
        assert!(split(b"\"a\"b,1", b",", true, &mut out).is_err());
    }
}
