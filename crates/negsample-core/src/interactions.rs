//! The interaction matrix in compressed sparse row (CSR) form.
//!
//! Row `u` holds the items user `u` interacted with, sorted ascending and
//! without duplicates, so that "is item `i` a positive of `u`?" is a binary
//! search. Row offsets are `u64`, so more than 2^31 interactions are fine;
//! item ids are `u32`.
//!
//! # Memory
//! 8 bytes per user (offsets) plus 4 bytes per interaction.

use crate::error::{check_id, check_ids, Error, Result};
use crate::memory::storage::Storage;

/// The largest user or item count: ids must fit a JavaScript `Int32Array`.
pub const MAX_IDS: usize = i32::MAX as usize;

/// A user-by-item matrix of positives: rows sorted and de-duplicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interactions {
    num_items: usize,
    indptr: Storage<u64>,
    indices: Storage<u32>,
}

impl Interactions {
    /// Builds the matrix from coordinate pairs: `users[j]` interacted with
    /// `items[j]`. Duplicate pairs are kept once.
    ///
    /// `num_users` / `num_items` default to the largest id seen plus one
    /// (0 for empty input); where given, every id must be below them.
    ///
    /// # Errors
    /// - [`Error::LengthMismatch`]: `users` and `items` differ in length.
    /// - [`Error::IdOutOfRange`]: an id is negative or not below its count.
    /// - [`Error::OutOfRange`]: a count exceeds [`MAX_IDS`].
    ///
    /// # Performance
    /// O(nnz + sum of r log r) over rows of length r: a counting sort by user,
    /// then a sort of each row. Peak memory: the output plus 8 bytes per user.
    pub fn from_coo(
        users: &[u32],
        items: &[u32],
        num_users: Option<usize>,
        num_items: Option<usize>,
    ) -> Result<Self> {
        if users.len() != items.len() {
            return Err(Error::LengthMismatch {
                name: "items",
                len: items.len(),
                expected: format!("users.length ({})", users.len()),
            });
        }
        let num_users = resolve_count("num_users", num_users, users)?;
        let num_items = resolve_count("num_items", num_items, items)?;
        check_ids("users", users, num_users as u64)?;
        check_ids("items", items, num_items as u64)?;

        // Counting sort by user: starts[u] .. starts[u + 1] is row u.
        let mut starts = vec![0u64; num_users + 1];
        for &u in users {
            starts[u as usize + 1] += 1;
        }
        for u in 0..num_users {
            starts[u + 1] += starts[u];
        }
        let mut next = starts.clone();
        let mut indices = vec![0u32; items.len()];
        for (&u, &i) in users.iter().zip(items) {
            let slot = &mut next[u as usize];
            indices[*slot as usize] = i;
            *slot += 1;
        }
        Ok(Self::sorted_and_deduplicated(num_items, starts, indices))
    }

    /// Builds the matrix from CSR arrays: row `u` is
    /// `indices[indptr[u] .. indptr[u + 1]]`. Rows need not be sorted;
    /// duplicates are kept once. `num_items` defaults to the largest item id
    /// plus one.
    ///
    /// # Errors
    /// - [`Error::InvalidIndptr`]: `indptr` is empty, does not start at 0,
    ///   decreases, or does not end at `indices.len()`.
    /// - [`Error::IdOutOfRange`]: an item id is negative or not below
    ///   `num_items`.
    /// - [`Error::OutOfRange`]: a count exceeds [`MAX_IDS`].
    pub fn from_csr(indptr: &[u64], indices: &[u32], num_items: Option<usize>) -> Result<Self> {
        let Some((&first, _)) = indptr.split_first() else {
            return Err(Error::InvalidIndptr {
                index: 0,
                value: 0,
                expected: "at least one offset (indptr.length = num_users + 1)".into(),
            });
        };
        if first != 0 {
            return Err(Error::InvalidIndptr {
                index: 0,
                value: first as i64,
                expected: "0".into(),
            });
        }
        for (index, pair) in indptr.windows(2).enumerate() {
            if pair[1] < pair[0] {
                return Err(Error::InvalidIndptr {
                    index: index + 1,
                    value: pair[1] as i64,
                    expected: format!("a value >= indptr[{index}] = {}", pair[0]),
                });
            }
        }
        let last = indptr[indptr.len() - 1];
        if last != indices.len() as u64 {
            return Err(Error::InvalidIndptr {
                index: indptr.len() - 1,
                value: last as i64,
                expected: format!("indices.length = {}", indices.len()),
            });
        }
        let num_users = indptr.len() - 1;
        check_count("num_users", num_users)?;
        let num_items = resolve_count("num_items", num_items, indices)?;
        check_ids("indices", indices, num_items as u64)?;
        Ok(Self::sorted_and_deduplicated(
            num_items,
            indptr.to_vec(),
            indices.to_vec(),
        ))
    }

    /// `user` as a user id of this matrix.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `name` if `user` is not below
    /// `num_users`.
    pub fn user(&self, name: &'static str, user: u64) -> Result<u32> {
        check_id(
            name,
            user,
            self.num_users(),
            "a user id, but the matrix has no users",
        )
    }

    /// Sorts each row `indices[starts[u]..starts[u + 1]]`, drops repeats, and
    /// compacts the rows to the front of `indices`.
    pub(crate) fn sorted_and_deduplicated(
        num_items: usize,
        starts: Vec<u64>,
        mut indices: Vec<u32>,
    ) -> Self {
        let num_users = starts.len() - 1;
        let mut indptr = vec![0u64; num_users + 1];
        let mut write = 0usize;
        for u in 0..num_users {
            let (begin, end) = (starts[u] as usize, starts[u + 1] as usize);
            indices[begin..end].sort_unstable();
            // `write <= begin`, so reading ahead of the write position is safe.
            let mut previous = None;
            for read in begin..end {
                let item = indices[read];
                if previous != Some(item) {
                    indices[write] = item;
                    write += 1;
                    previous = Some(item);
                }
            }
            indptr[u + 1] = write as u64;
        }
        indices.truncate(write);
        Interactions {
            num_items,
            indptr: indptr.into(),
            indices: indices.into(),
        }
    }

    /// A matrix from arrays already in canonical form (rows sorted, no
    /// repeats, ids below `num_items`, `indptr` from 0 to `indices.len()`),
    /// on the heap or in a mapped file. The caller vouches for it: the
    /// generator and the filters build it so, and `io::file_format::open`
    /// checks it when asked to verify (unchecked arrays can make calls panic,
    /// never read out of bounds).
    pub(crate) fn from_storage(
        num_items: usize,
        indptr: Storage<u64>,
        indices: Storage<u32>,
    ) -> Self {
        Interactions {
            num_items,
            indptr,
            indices,
        }
    }

    /// Number of users (rows).
    #[inline]
    pub fn num_users(&self) -> usize {
        self.indptr.len() - 1
    }

    /// Number of items (columns).
    #[inline]
    pub fn num_items(&self) -> usize {
        self.num_items
    }

    /// Number of distinct (user, item) positives.
    #[inline]
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// The sorted positives of user `u`. Panics if `u >= num_users()`.
    #[inline(always)]
    pub fn row(&self, u: u32) -> &[u32] {
        let u = u as usize;
        &self.indices[self.indptr[u] as usize..self.indptr[u + 1] as usize]
    }

    /// Row offsets (`num_users + 1` of them).
    #[inline]
    pub fn indptr(&self) -> &[u64] {
        &self.indptr
    }

    /// All rows' items, concatenated.
    #[inline]
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// Whether `item` is a positive of user `u` (binary search in the row).
    #[inline(always)]
    pub fn contains(&self, u: u32, item: u32) -> bool {
        self.row(u).binary_search(&item).is_ok()
    }

    /// The user whose row holds interaction number `j` (`j < nnz`).
    ///
    /// # Performance
    /// A binary search over the offsets: O(log numUsers).
    #[inline]
    pub fn user_of(&self, j: usize) -> u32 {
        (self.indptr.partition_point(|&p| p <= j as u64) - 1) as u32
    }

    /// How many users interacted with each item.
    ///
    /// # Performance
    /// One pass over the interactions; 4 bytes per item.
    pub fn popularity(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.num_items];
        for &i in self.indices.iter() {
            counts[i as usize] += 1;
        }
        counts
    }
}

fn check_count(name: &'static str, n: usize) -> Result<()> {
    if n > MAX_IDS {
        return Err(Error::OutOfRange {
            name,
            value: n.to_string(),
            expected: format!("at most {MAX_IDS}"),
        });
    }
    Ok(())
}

/// The given count, or the largest id plus one (ids are checked later).
/// The largest count inferred from ids for `pairs` pairs: `max(2^24, 64 *
/// pairs)`. A larger one must be given explicitly, so that one stray huge id
/// does not silently ask for gigabytes of row offsets (8 bytes per user).
pub fn max_inferred_count(pairs: usize) -> usize {
    (1usize << 24).max(pairs.saturating_mul(64))
}

fn resolve_count(name: &'static str, given: Option<usize>, ids: &[u32]) -> Result<usize> {
    // Ids above MAX_IDS can never be valid (a binding's negative ids land
    // there); they do not count here, and the id check names them.
    let n = given.unwrap_or_else(|| {
        ids.iter()
            .copied()
            .filter(|&i| i as usize <= MAX_IDS)
            .max()
            .map_or(0, |m| m as usize + 1)
    });
    check_count(name, n)?;
    if given.is_none() {
        check_inferred_count(name, n, ids.len())?;
    }
    Ok(n)
}

/// Fails if a count inferred from ids (`n`, the largest id plus one, for
/// `pairs` pairs) is above [`max_inferred_count`].
///
/// # Errors
/// [`Error::OutOfRange`] naming the count, which must then be given.
pub(crate) fn check_inferred_count(name: &'static str, n: usize, pairs: usize) -> Result<()> {
    let limit = max_inferred_count(pairs);
    if n > limit {
        return Err(Error::OutOfRange {
            name,
            value: format!("{n} (inferred: the largest id plus one, for {pairs} pairs)"),
            expected: format!(
                "given explicitly when above max(2^24, 64 x pairs) = {limit}, since a stray large id would otherwise allocate 8 bytes per id"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_inferred_count_must_be_given_explicitly() {
        let err = Interactions::from_coo(&[i32::MAX as u32 - 1], &[0], None, None).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("num_users must be given explicitly"),
            "{message}"
        );
        assert!(message.contains("got 2147483647 (inferred"), "{message}");
        let err = Interactions::from_coo(&[0], &[1 << 25], None, None).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("num_items must be given explicitly"));
        // At the limit, and with explicit counts, it is accepted.
        let limit = max_inferred_count(1) as u32;
        let m = Interactions::from_coo(&[0], &[limit - 1], None, None).unwrap();
        assert_eq!(m.num_items(), limit as usize);
        let m = Interactions::from_coo(&[0], &[1 << 25], None, Some(1 << 26)).unwrap();
        assert_eq!(m.num_items(), 1 << 26);
    }

    #[test]
    fn coo_rows_sorted_and_deduplicated() {
        let m = Interactions::from_coo(&[2, 0, 2, 2, 0], &[5, 1, 3, 5, 0], None, None).unwrap();
        assert_eq!((m.num_users(), m.num_items(), m.nnz()), (3, 6, 4));
        assert_eq!(m.row(0), &[0, 1]);
        assert_eq!(m.row(1), &[] as &[u32]);
        assert_eq!(m.row(2), &[3, 5]);
        assert_eq!(m.popularity(), vec![1, 1, 0, 1, 0, 1]);
        assert!(m.contains(2, 5) && !m.contains(2, 4));
        assert_eq!(
            (m.user_of(0), m.user_of(1), m.user_of(2), m.user_of(3)),
            (0, 0, 2, 2)
        );
    }

    #[test]
    fn csr_and_coo_agree() {
        let coo = Interactions::from_coo(&[0, 0, 1, 3], &[4, 2, 2, 0], Some(4), Some(5)).unwrap();
        let csr = Interactions::from_csr(&[0, 3, 4, 4, 5], &[4, 2, 4, 2, 0], Some(5)).unwrap();
        assert_eq!(coo, csr);
    }

    #[test]
    fn explicit_counts_bound_ids() {
        let err = Interactions::from_coo(&[0, 3], &[1, 1], Some(3), None).unwrap_err();
        assert_eq!(
            err,
            Error::IdOutOfRange {
                name: "users",
                index: 1,
                value: 3,
                bound: 3
            }
        );
        // An id past every possible count (a binding's negative id) is
        // named, not taken for a count.
        let err = Interactions::from_coo(&[0, 1], &[1, u32::MAX], None, None).unwrap_err();
        assert!(
            err.to_string().starts_with("items[1] = 4294967295"),
            "{err}"
        );
        let m = Interactions::from_coo(&[], &[], None, None).unwrap();
        assert_eq!((m.num_users(), m.num_items(), m.nnz()), (0, 0, 0));
    }

    #[test]
    fn length_and_indptr_errors() {
        let err = Interactions::from_coo(&[0, 1], &[1], None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "items.length is 1, expected users.length (2)"
        );
        for (indptr, index) in [
            (&[1u64, 2][..], 0),
            (&[0, 2, 1][..], 2),
            (&[0, 1, 1][..], 2),
        ] {
            let err = Interactions::from_csr(indptr, &[0, 1], None).unwrap_err();
            assert!(
                matches!(err, Error::InvalidIndptr { index: i, .. } if i == index),
                "{indptr:?}: {err}"
            );
        }
        assert!(Interactions::from_csr(&[], &[], None).is_err());
    }
}
