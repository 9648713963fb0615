//! Read-only arrays that live either on the heap or in a memory-mapped file.
//!
//! [`Storage<T>`] dereferences to `&[T]` whatever backs it, so the engine's
//! structures ([`crate::Interactions`], [`crate::AliasTable`], id maps) read
//! the same way from memory they built and from a file opened with
//! [`crate::io::file_format`]. A mapped array shares the page cache with every
//! other process that maps the same file: N processes, one copy.
//!
//! # Performance
//! Dereferencing is a pointer and a length (no branch on the backing), so hot
//! loops pay nothing for the choice.

use std::fmt;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::memory::hugepages::HugeBuf;

use memmap2::Mmap;

mod sealed {
    pub trait Sealed {}
}

/// Element types that may be read straight from file bytes: plain integers
/// and floats, for which every bit pattern is a valid value.
pub trait Plain: sealed::Sealed + Copy + Send + Sync + 'static {}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Plain for $t {}
    )*};
}
plain!(u8, u32, u64, i64, f32, f64);

/// What keeps the bytes alive.
enum Backing {
    /// A heap allocation this value owns (a `Box<[T]>` taken apart).
    Owned,
    /// A shared read-only file mapping.
    Mapped(Arc<Mmap>),
    /// An owned table on huge pages (`Storage<u64>` only).
    Huge(HugeBuf),
}

/// An immutable array of `T`: owned (a `Box<[T]>`, or for `u64` tables a
/// [`HugeBuf`] on huge pages) or inside a shared memory-mapped file.
pub struct Storage<T: Plain> {
    ptr: NonNull<T>,
    len: usize,
    backing: Backing,
}

// SAFETY: a Storage is an immutable view of `T: Send + Sync` values whose
// owner (a heap allocation or an `Arc<Mmap>`) is itself Send + Sync.
unsafe impl<T: Plain> Send for Storage<T> {}
// SAFETY: as above; no interior mutability.
unsafe impl<T: Plain> Sync for Storage<T> {}

impl<T: Plain> Storage<T> {
    /// Views `len` values of `T` at byte `offset` of `map`.
    ///
    /// Returns `None` if the range is outside the mapping or `offset` is not
    /// aligned for `T` (the caller turns that into a file-format error).
    pub fn mapped(map: &Arc<Mmap>, offset: usize, len: usize) -> Option<Self> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        if end > map.len() {
            return None;
        }
        // SAFETY: offset <= map.len(), so the pointer is inside the mapping
        // or one past its end.
        let ptr = unsafe { map.as_ptr().add(offset) } as *mut T;
        if !(ptr as usize).is_multiple_of(align_of::<T>()) {
            return None;
        }
        Some(Storage {
            ptr: NonNull::new(ptr)?,
            len,
            backing: Backing::Mapped(map.clone()),
        })
    }

    /// Whether the values live in a memory-mapped file (for the tests).
    #[cfg(test)]
    pub fn is_mapped(&self) -> bool {
        matches!(self.backing, Backing::Mapped(_))
    }

    /// Heap bytes this array owns (0 when mapped).
    pub fn heap_bytes(&self) -> usize {
        match self.backing {
            Backing::Owned | Backing::Huge(_) => self.len * size_of::<T>(),
            Backing::Mapped(_) => 0,
        }
    }
}

impl<T: Plain> From<Box<[T]>> for Storage<T> {
    fn from(values: Box<[T]>) -> Self {
        let len = values.len();
        let ptr = Box::into_raw(values) as *mut T;
        Storage {
            // SAFETY: Box::into_raw never returns null.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
            len,
            backing: Backing::Owned,
        }
    }
}

impl From<HugeBuf> for Storage<u64> {
    fn from(values: HugeBuf) -> Self {
        let len = values.len();
        let ptr =
            NonNull::new(values.as_ptr() as *mut u64).expect("a HugeBuf pointer is never null");
        Storage {
            ptr,
            len,
            backing: Backing::Huge(values),
        }
    }
}

impl<T: Plain> From<Vec<T>> for Storage<T> {
    fn from(values: Vec<T>) -> Self {
        values.into_boxed_slice().into()
    }
}

impl<T: Plain> Drop for Storage<T> {
    fn drop(&mut self) {
        if let Backing::Owned = self.backing {
            // SAFETY: `ptr` and `len` came from `Box::into_raw` of a
            // `Box<[T]>` of this length, which is given back exactly once.
            drop(unsafe {
                Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                    self.ptr.as_ptr(),
                    self.len,
                ))
            });
        }
    }
}

impl<T: Plain> Deref for Storage<T> {
    type Target = [T];

    #[inline(always)]
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` is non-null, aligned (checked for mappings, given for
        // boxes) and valid for `len` reads for as long as the backing lives,
        // which is as long as `self`; nothing writes through it.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Plain> Clone for Storage<T> {
    /// A heap array is copied; a mapped one shares the mapping.
    fn clone(&self) -> Self {
        match &self.backing {
            Backing::Owned => Box::<[T]>::from(&**self).into(),
            Backing::Mapped(map) => Storage {
                ptr: self.ptr,
                len: self.len,
                backing: Backing::Mapped(map.clone()),
            },
            Backing::Huge(buf) => {
                // Only `Storage<u64>` has this backing (see `From<HugeBuf>`),
                // so `T` is `u64` here and the pointer cast is the identity.
                let copy = buf.clone();
                Storage {
                    ptr: NonNull::new(copy.as_ptr() as *mut T).expect("never null"),
                    len: self.len,
                    backing: Backing::Huge(copy),
                }
            }
        }
    }
}

impl<T: Plain + fmt::Debug> fmt::Debug for Storage<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: Plain + PartialEq> PartialEq for Storage<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Plain + Eq> Eq for Storage<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_storage_reads_and_clones() {
        let s: Storage<u32> = vec![3, 1, 4].into();
        assert_eq!(&*s, &[3, 1, 4]);
        assert!(!s.is_mapped());
        assert_eq!(s.heap_bytes(), 12);
        let t = s.clone();
        assert_eq!(s, t);
        assert_ne!(s.as_ptr(), t.as_ptr());
        let empty: Storage<u64> = Vec::new().into();
        assert!(empty.is_empty());
    }

    #[test]
    fn mapped_storage_checks_range_and_alignment() {
        let dir = std::env::temp_dir().join(format!("negsample-storage-{}", std::process::id()));
        std::fs::write(&dir, [1u8, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]).unwrap();
        let file = std::fs::File::open(&dir).unwrap();
        // SAFETY: the test owns the file and does not modify it while mapped.
        let map = Arc::new(unsafe { Mmap::map(&file) }.unwrap());
        std::fs::remove_file(&dir).unwrap();
        let s = Storage::<u32>::mapped(&map, 4, 2).unwrap();
        assert_eq!(&*s, &[2, 3]);
        assert!(s.is_mapped() && s.heap_bytes() == 0);
        assert_eq!(s.clone().as_ptr(), s.as_ptr(), "a clone shares the mapping");
        assert!(Storage::<u32>::mapped(&map, 4, 3).is_none(), "past the end");
        assert!(Storage::<u32>::mapped(&map, 2, 1).is_none(), "misaligned");
        assert!(Storage::<u32>::mapped(&map, usize::MAX, 1).is_none());
    }
}
