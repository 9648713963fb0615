//! The policy of the membership test: which users get a bitmap.

/// A user's bitmap may take at most this many times the memory of its CSR
/// row (4 bytes per positive). So all bitmaps together take at most this
/// many times the CSR's item ids.
pub const BITMAP_COST: usize = 4;

/// How the membership test is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exclusion {
    /// A bitmap for every user whose row is long enough (see
    /// [`BITMAP_COST`]), binary search for the others. The default.
    #[default]
    Auto,
    /// Binary search in every row (no extra memory).
    Search,
}
