//! Id maps: the original ids of a data file (sparse integers or strings) and
//! the dense ids `0..n` the engine uses, both ways.
//!
//! Dense ids are given in order of first appearance in the file (so the
//! mapping does not depend on how many threads read it). A map whose every
//! original id is the canonical decimal form of an integer in
//! `[-2^53, 2^53]` stores them as `i64` (8 bytes per id) and gives them back
//! as numbers; any other map stores the strings (8 bytes per id plus the
//! bytes). Both keep a sorted permutation (4 bytes per id) for lookups by
//! binary search, so a map opened from a file needs no hashing at start.

use std::cmp::Ordering;

use crate::error::{check_id, Result};
use crate::memory::storage::Storage;

/// The largest magnitude of an integer id kept as a number: what a
/// JavaScript `number` holds exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// The original ids, in dense order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Keys {
    /// Integer ids.
    Int(Storage<i64>),
    /// String ids: id `d` is `bytes[offsets[d] .. offsets[d + 1]]` (UTF-8).
    Str {
        offsets: Storage<u64>,
        bytes: Storage<u8>,
    },
}

/// One original id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Original<'a> {
    /// An integer id (within `±(2^53 - 1)`).
    Int(i64),
    /// A string id.
    Str(&'a str),
}

/// A bijection between original ids and dense ids `0..len()`.
///
/// # Memory
/// Integer maps: 12 bytes per id. String maps: 12 bytes per id plus the
/// strings' bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    pub(crate) keys: Keys,
    /// Dense ids sorted by their original id (numbers ascending, strings
    /// bytewise).
    pub(crate) order: Storage<u32>,
}

/// `bytes` as an integer if it is exactly the canonical decimal form of one
/// within `±MAX_SAFE_INTEGER` (no sign on 0, no leading zeros, no `+`).
pub(crate) fn canonical_int(bytes: &[u8]) -> Option<i64> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 16 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    if negative && digits == b"0" {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (b - b'0') as i64;
    }
    (v <= MAX_SAFE_INTEGER).then_some(if negative { -v } else { v })
}

impl IdMap {
    /// A map of integer ids: `values[d]` is the original id of dense id `d`.
    ///
    /// Returns `None` if two values are equal or one is beyond
    /// `±MAX_SAFE_INTEGER`.
    ///
    /// # Performance
    /// O(n log n) for the sorted order.
    pub fn from_ints(values: Vec<i64>) -> Option<Self> {
        if values.iter().any(|v| v.abs() > MAX_SAFE_INTEGER) {
            return None;
        }
        let mut order: Vec<u32> = (0..values.len() as u32).collect();
        order.sort_unstable_by_key(|&d| values[d as usize]);
        if order
            .windows(2)
            .any(|w| values[w[0] as usize] == values[w[1] as usize])
        {
            return None;
        }
        Some(IdMap {
            keys: Keys::Int(values.into()),
            order: order.into(),
        })
    }

    /// A map of the given original ids in dense order (`keys[d]` is dense
    /// id `d`'s), as integers if every key is the canonical decimal of one,
    /// else as strings.
    ///
    /// Returns `None` if two keys are equal or a key is not UTF-8.
    ///
    /// # Performance
    /// O(n log n) for the sorted order.
    pub fn from_keys<K: AsRef<[u8]>>(keys: &[K]) -> Option<Self> {
        let ints: Option<Vec<i64>> = keys.iter().map(|k| canonical_int(k.as_ref())).collect();
        if let Some(ints) = ints {
            return Self::from_ints(ints);
        }
        let mut offsets = Vec::with_capacity(keys.len() + 1);
        let mut bytes = Vec::new();
        offsets.push(0u64);
        for k in keys {
            std::str::from_utf8(k.as_ref()).ok()?;
            bytes.extend_from_slice(k.as_ref());
            offsets.push(bytes.len() as u64);
        }
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| keys[a as usize].as_ref().cmp(keys[b as usize].as_ref()));
        if order
            .windows(2)
            .any(|w| keys[w[0] as usize].as_ref() == keys[w[1] as usize].as_ref())
        {
            return None;
        }
        Some(IdMap {
            keys: Keys::Str {
                offsets: offsets.into(),
                bytes: bytes.into(),
            },
            order: order.into(),
        })
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether the original ids are integers.
    pub fn is_int(&self) -> bool {
        matches!(self.keys, Keys::Int(_))
    }

    /// `dense` as a dense id of this map.
    ///
    /// # Errors
    /// [`crate::Error::OutOfRange`] naming `name` unless `dense` is below
    /// [`IdMap::len`].
    pub fn dense(&self, name: &'static str, dense: u64) -> Result<u32> {
        check_id(name, dense, self.len(), "a dense id, but the map is empty")
    }

    /// The original id of dense id `dense`. Panics if `dense >= len()`.
    pub fn original(&self, dense: u32) -> Original<'_> {
        let d = dense as usize;
        match &self.keys {
            Keys::Int(values) => Original::Int(values[d]),
            Keys::Str { offsets, bytes } => {
                let s = &bytes[offsets[d] as usize..offsets[d + 1] as usize];
                // Checked to be UTF-8 when built or opened.
                Original::Str(std::str::from_utf8(s).unwrap_or(""))
            }
        }
    }

    fn key_bytes(&self, d: u32) -> &[u8] {
        match &self.keys {
            Keys::Str { offsets, bytes } => {
                &bytes[offsets[d as usize] as usize..offsets[d as usize + 1] as usize]
            }
            Keys::Int(_) => &[],
        }
    }

    /// The dense id of integer id `id`, if the map has it. A string map
    /// looks up the decimal form of `id`.
    ///
    /// # Performance
    /// O(log n): a binary search in the sorted order.
    pub fn dense_of_int(&self, id: i64) -> Option<u32> {
        match &self.keys {
            Keys::Int(values) => self
                .order
                .binary_search_by(|&d| values[d as usize].cmp(&id))
                .ok()
                .map(|k| self.order[k]),
            Keys::Str { .. } => self.dense_of_str(id.to_string().as_bytes()),
        }
    }

    /// The dense id of string id `id`, if the map has it. An integer map
    /// looks up `id` only if it is the canonical decimal of an integer.
    ///
    /// # Performance
    /// O(log n) comparisons.
    pub fn dense_of_str(&self, id: &[u8]) -> Option<u32> {
        match &self.keys {
            Keys::Int(_) => canonical_int(id).and_then(|v| self.dense_of_int(v)),
            Keys::Str { .. } => self
                .order
                .binary_search_by(|&d| self.key_bytes(d).cmp(id))
                .ok()
                .map(|k| self.order[k]),
        }
    }

    /// The map of the ids `keep` (dense ids of this map, in their new dense
    /// order): new dense id `j` is old dense id `keep[j]`.
    pub fn select(&self, keep: &[u32]) -> IdMap {
        match &self.keys {
            Keys::Int(values) => {
                Self::from_ints(keep.iter().map(|&d| values[d as usize]).collect())
                    .expect("a subset of distinct ids is distinct")
            }
            Keys::Str { .. } => {
                let keys: Vec<&[u8]> = keep.iter().map(|&d| self.key_bytes(d)).collect();
                Self::from_keys(&keys).expect("a subset of distinct ids is distinct")
            }
        }
    }

    /// Heap bytes held (0 for a map read from a mapped file).
    pub fn heap_bytes(&self) -> usize {
        self.order.heap_bytes()
            + match &self.keys {
                Keys::Int(v) => v.heap_bytes(),
                Keys::Str { offsets, bytes } => offsets.heap_bytes() + bytes.heap_bytes(),
            }
    }

    /// Checks a map read from a file: lengths agree, string offsets increase
    /// within the bytes, strings are UTF-8, and `order` is a permutation that
    /// sorts the ids strictly. Returns what is wrong.
    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        let n = self.order.len();
        match &self.keys {
            Keys::Int(values) => {
                if values.len() != n {
                    return Err(format!("{} ids but {} in the order", values.len(), n));
                }
                if let Some(v) = values.iter().find(|v| v.abs() > MAX_SAFE_INTEGER) {
                    return Err(format!("id {v} is beyond 2^53"));
                }
            }
            Keys::Str { offsets, bytes } => {
                if offsets.len() != n + 1 || offsets.first() != Some(&0) {
                    return Err("string offsets do not match the id count".into());
                }
                if offsets.windows(2).any(|w| w[1] < w[0]) || offsets[n] != bytes.len() as u64 {
                    return Err("string offsets are not increasing within the bytes".into());
                }
                if std::str::from_utf8(bytes).is_err() {
                    return Err("string ids are not UTF-8".into());
                }
            }
        }
        if self.order.iter().any(|&d| d as usize >= n) {
            return Err("the sorted order names an id out of range".into());
        }
        let increasing = |a: u32, b: u32| match &self.keys {
            Keys::Int(values) => values[a as usize] < values[b as usize],
            Keys::Str { .. } => self.key_bytes(a).cmp(self.key_bytes(b)) == Ordering::Less,
        };
        if self.order.windows(2).any(|w| !increasing(w[0], w[1])) {
            return Err("the sorted order does not sort the ids strictly".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ids_are_checked_against_the_size() {
        let map = IdMap::from_ints(vec![10, 30, 20]).unwrap();
        assert_eq!(map.dense("dense", 2), Ok(2));
        let err = map.dense("dense", 3).unwrap_err();
        assert_eq!(err.to_string(), "dense must be an integer in [0, 2], got 3");
        let empty = IdMap::from_ints(Vec::new()).unwrap();
        let err = empty.dense("dense", 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dense must be a dense id, but the map is empty, got 0"
        );
    }

    #[test]
    fn canonical_integers_only() {
        for (s, v) in [("0", Some(0)), ("42", Some(42)), ("-7", Some(-7))] {
            assert_eq!(canonical_int(s.as_bytes()), v, "{s}");
        }
        for s in [
            "",
            "-",
            "-0",
            "007",
            "+1",
            "1.0",
            "1e3",
            "12345678901234567",
            "x",
        ] {
            assert_eq!(canonical_int(s.as_bytes()), None, "{s}");
        }
        assert_eq!(
            canonical_int(b"9007199254740991"),
            Some(MAX_SAFE_INTEGER),
            "2^53 - 1 is kept"
        );
        assert_eq!(canonical_int(b"9007199254740992"), None);
    }

    #[test]
    fn integer_map_both_ways() {
        let m = IdMap::from_keys(&["31", "1029", "-5", "7"]).unwrap();
        assert!(m.is_int() && m.len() == 4);
        assert_eq!(m.original(1), Original::Int(1029));
        assert_eq!(m.dense_of_int(-5), Some(2));
        assert_eq!(m.dense_of_str(b"7"), Some(3));
        assert_eq!(m.dense_of_str(b"07"), None);
        assert_eq!(m.dense_of_int(8), None);
        m.validate().unwrap();
        let s = m.select(&[3, 0]);
        assert_eq!(
            (s.original(0), s.original(1)),
            (Original::Int(7), Original::Int(31))
        );
        assert_eq!(s.dense_of_int(31), Some(1));
    }

    #[test]
    fn string_map_both_ways() {
        let m = IdMap::from_keys(&["bob", "007", "alice", "日本"]).unwrap();
        assert!(!m.is_int());
        assert_eq!(m.original(1), Original::Str("007"));
        assert_eq!(m.original(3), Original::Str("日本"));
        assert_eq!(m.dense_of_str(b"alice"), Some(2));
        assert_eq!(m.dense_of_str(b"carol"), None);
        assert_eq!(m.dense_of_int(7), None);
        m.validate().unwrap();
        assert!(IdMap::from_keys(&["a", "b", "a"]).is_none(), "repeats");
        assert!(IdMap::from_keys(&[&b"\xff"[..]]).is_none(), "not UTF-8");
        assert!(IdMap::from_ints(vec![1, 2, 1]).is_none());
    }
}
