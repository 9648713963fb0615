//! The engine's error type.
//!
//! Every error names the argument (or the user) it is about and the value that
//! was wrong. Names are the engine's: Rust identifiers (`k`, `num_items`,
//! `out.log_probs`) or the names a caller passed with its data (`check_ids`).
//! A binding whose language spells them otherwise writes the message with
//! [`Error::message`] and its own names; values are never renamed.

use std::fmt;

/// What went wrong, in a form a binding can map onto its own error classes.
///
/// All variants are input errors: the engine has no internal failure mode that
/// is reported as an `Error` (an internal bug is a panic, which the binding
/// catches separately).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// An argument has a value outside its allowed range.
    OutOfRange {
        /// The argument's name as the caller knows it (`"k"`, `"alpha"`, ...).
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What was expected, e.g. `"an integer >= 1"`.
        expected: String,
    },
    /// An id in an array is negative or not below its bound.
    IdOutOfRange {
        /// The array's name (`"users"`, `"items"`, `"indices"`).
        name: &'static str,
        /// Position in the array.
        index: usize,
        /// The id found there.
        value: i64,
        /// Exclusive upper bound (`numUsers` or `numItems`).
        bound: u64,
    },
    /// Two arrays that must have related lengths do not.
    LengthMismatch {
        /// First array's name.
        name: &'static str,
        /// Its length.
        len: usize,
        /// What it had to match, e.g. `"users.length (10)"`.
        expected: String,
    },
    /// A weight is NaN, infinite or negative.
    InvalidWeight {
        /// Position of the weight.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// Every weight is zero (or the weights sum to zero after exponentiation).
    AllZeroWeights,
    /// The catalogue has no items.
    EmptyCatalogue,
    /// A user has interacted with every item the proposal can draw.
    NoNegative {
        /// The user id.
        user: u32,
    },
    /// CSR arrays are inconsistent (offsets not starting at 0, decreasing, or
    /// not ending at `indices.length`).
    InvalidIndptr {
        /// Position in `indptr`.
        index: usize,
        /// Value found there.
        value: i64,
        /// What was required there.
        expected: String,
    },
    /// A value that must be a finite number is NaN or infinite.
    NonFinite {
        /// The array's name (`"user_embeddings"`, ...).
        name: &'static str,
        /// Position in the array.
        index: usize,
        /// The value found there.
        value: f64,
    },
    /// A line of a data file could not be read as the format asks.
    Parse {
        /// The file's path.
        file: String,
        /// The line number, 1-based.
        line: u64,
        /// What was wrong with it.
        message: String,
    },
    /// A file could not be opened, read or written.
    Io {
        /// The file's path.
        file: String,
        /// What the operating system said.
        message: String,
    },
    /// A negsample binary file is not one this version can open: wrong
    /// magic, another format version, truncated, or corrupt.
    FileFormat {
        /// The file's path.
        file: String,
        /// What was wrong with it.
        message: String,
    },
}

impl Error {
    /// The message, with every engine name in it spelled as `rename` says
    /// (a binding's names for the engine's arguments: `num_items` ->
    /// `numItems`); names `rename` does not know stay as they are. Values
    /// and file paths are never renamed. `Display` is `message` with no
    /// renaming.
    pub fn message(&self, rename: &dyn Fn(&str) -> Option<&'static str>) -> String {
        let name =
            |name: &str| rename(name).map_or_else(|| rename_words(name, rename), str::to_string);
        let text = |text: &str| rename_words(text, rename);
        match self {
            Error::OutOfRange {
                name: n,
                value,
                expected,
            } => format!("{} must be {}, got {value}", name(n), text(expected)),
            Error::IdOutOfRange {
                name: n,
                index,
                value,
                bound,
            } => format!(
                "{}[{index}] = {value} is out of range: ids must be in [0, {bound})",
                name(n)
            ),
            Error::LengthMismatch {
                name: n,
                len,
                expected,
            } => format!("{}.length is {len}, expected {}", name(n), text(expected)),
            Error::InvalidWeight { index, value } => {
                format!("weights[{index}] = {value} is invalid: weights must be finite and >= 0")
            }
            Error::AllZeroWeights => {
                "weights are all zero: at least one item must have a positive weight".into()
            }
            Error::EmptyCatalogue => {
                format!("{} is 0: the catalogue has no items", name("num_items"))
            }
            Error::NoNegative { user } => format!(
                "user {user} has no possible negative: it has interacted with every item that has a positive weight"
            ),
            Error::InvalidIndptr {
                index,
                value,
                expected,
            } => format!(
                "indptr[{index}] = {value} is invalid: expected {}",
                text(expected)
            ),
            Error::NonFinite {
                name: n,
                index,
                value,
            } => format!(
                "{}[{index}] = {value} is invalid: values must be finite",
                name(n)
            ),
            Error::Parse {
                file,
                line,
                message,
            } => format!("{file}:{line}: {message}"),
            Error::Io { file, message } => format!("{file}: {message}"),
            Error::FileFormat { file, message } => {
                format!("{file} is not a usable negsample file: {message}")
            }
        }
    }
}

/// `text` with each word that `rename` knows (a run of ASCII letters, digits
/// and `_`) replaced by its new name.
fn rename_words(text: &str, rename: &dyn Fn(&str) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if word_end == 0 {
            let c = rest.chars().next().expect("rest is not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let word = &rest[..word_end];
        out.push_str(rename(word).unwrap_or(word));
        rest = &rest[word_end..];
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(&|_| None))
    }
}

impl std::error::Error for Error {}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that every id in `ids` is below `bound`; `name` is the array's
/// name as the caller knows it, for the message.
///
/// # Errors
/// [`Error::IdOutOfRange`] naming `name`, the first bad position and its value.
pub fn check_ids(name: &'static str, ids: &[u32], bound: u64) -> Result<()> {
    // One vectorised pass for the usual case (the largest id decides); only
    // a request that fails it is searched for its first bad id.
    let largest = ids.iter().copied().max().unwrap_or(0);
    if ids.is_empty() || (largest as u64) < bound {
        return Ok(());
    }
    let (index, &value) = ids
        .iter()
        .enumerate()
        .find(|&(_, &v)| v as u64 >= bound)
        .expect("an id at or above the bound exists");
    Err(Error::IdOutOfRange {
        name,
        index,
        value: value as i64,
        bound,
    })
}

/// `value` as an id below `bound`: one argument (`name`) that must name a
/// row, a column or an entry. `empty` is what the argument had to be when
/// there is nothing to name (`bound` 0), for the message.
///
/// # Errors
/// [`Error::OutOfRange`] naming `name` and `value`.
pub fn check_id(name: &'static str, value: u64, bound: usize, empty: &str) -> Result<u32> {
    if value < bound as u64 {
        return Ok(value as u32);
    }
    Err(Error::OutOfRange {
        name,
        value: value.to_string(),
        expected: match bound {
            0 => empty.into(),
            n => format!("an integer in [0, {}]", n - 1),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ids_names_first_bad_position() {
        let err = check_ids("users", &[0, 3, 7, 9], 5).unwrap_err();
        assert_eq!(
            err.to_string(),
            "users[2] = 7 is out of range: ids must be in [0, 5)"
        );
        let err = check_ids("items", &[0, 5], 5).unwrap_err();
        assert!(err.to_string().starts_with("items[1] = 5"));
        assert_eq!(check_ids("items", &[0, 4], 5), Ok(()));
        assert_eq!(check_ids("items", &[], 0), Ok(()));
    }

    #[test]
    fn message_renames_names_not_values() {
        let rename = |name: &str| match name {
            "num_items" => Some("numItems"),
            "log_probs" => Some("logProbs"),
            "k" => Some("options.negatives"),
            _ => None,
        };
        let err = Error::OutOfRange {
            name: "train.num_items",
            value: "num_items".into(),
            expected: "at least num_items. (2), not out.log_probs * k".into(),
        };
        assert_eq!(
            err.message(&rename),
            "train.numItems must be at least numItems. (2), not out.logProbs * options.negatives, got num_items"
        );
        assert_eq!(
            err.to_string(),
            "train.num_items must be at least num_items. (2), not out.log_probs * k, got num_items"
        );
        let err = Error::LengthMismatch {
            name: "k",
            len: 1,
            expected: "2".into(),
        };
        assert_eq!(
            err.message(&rename),
            "options.negatives.length is 1, expected 2"
        );
        assert_eq!(
            Error::EmptyCatalogue.message(&rename),
            "numItems is 0: the catalogue has no items"
        );
    }

    #[test]
    fn check_id_names_the_argument_and_the_value() {
        assert_eq!(check_id("user", 2, 3, "a user"), Ok(2));
        let err = check_id("user", 3, 3, "a user").unwrap_err();
        assert_eq!(err.to_string(), "user must be an integer in [0, 2], got 3");
        let err = check_id("dense", 0, 0, "a dense id, but the map is empty").unwrap_err();
        assert_eq!(
            err.to_string(),
            "dense must be a dense id, but the map is empty, got 0"
        );
    }
}
