//! Large read-mostly tables on huge pages.
//!
//! A draw from a table that does not fit the caches reads one random slot,
//! and with 4 KiB pages nearly every such read also misses the TLB and
//! walks the page tables. [`HugeBuf`] allocates tables of at least
//! [`HUGE_MIN`] bytes aligned to 2 MiB and, on Linux, asks the kernel for
//! transparent huge pages (`madvise(MADV_HUGEPAGE)`) before the memory is
//! first touched, so that 2 MiB pages cover the table and the TLB covers it
//! all. Where the kernel has no huge page to give, the memory is ordinary:
//! the hint never changes a value.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

/// Tables of at least this many bytes (4 MiB) are put on huge pages.
pub const HUGE_MIN: usize = 4 << 20;

/// A huge page (2 MiB on x86-64 and most aarch64 kernels).
const HUGE_PAGE: usize = 2 << 20;

/// An owned, fixed-length, zero-initialised `[u64]`, on huge pages if it
/// is large.
pub struct HugeBuf {
    ptr: NonNull<u64>,
    len: usize,
}

// SAFETY: HugeBuf owns its memory exclusively, like a Box<[u64]>.
unsafe impl Send for HugeBuf {}
// SAFETY: shared access is read-only, like &[u64].
unsafe impl Sync for HugeBuf {}

impl HugeBuf {
    fn layout(len: usize) -> Layout {
        let bytes = len.checked_mul(8).expect("a table fits the address space");
        let align = if bytes >= HUGE_MIN {
            HUGE_PAGE
        } else {
            std::mem::align_of::<u64>()
        };
        Layout::from_size_align(bytes, align).expect("a valid layout")
    }

    /// `len` zeros.
    ///
    /// # Performance
    /// O(len): the zeros are written (after the huge-page hint, so the
    /// first touch of each 2 MiB range can fault in a huge page).
    pub fn zeroed(len: usize) -> Self {
        if len == 0 {
            return HugeBuf {
                ptr: NonNull::dangling(),
                len: 0,
            };
        }
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc(layout) }.cast::<u64>();
        let Some(ptr) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        if layout.align() == HUGE_PAGE {
            advise_huge(raw.cast(), layout.size());
        }
        // SAFETY: `raw` is valid for `len` writes of u64.
        unsafe { std::ptr::write_bytes(raw, 0, len) };
        HugeBuf { ptr, len }
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[u64]) -> Self {
        let mut buf = HugeBuf::zeroed(values.len());
        buf.copy_from_slice(values);
        buf
    }
}

#[cfg(target_os = "linux")]
fn advise_huge(ptr: *mut u8, bytes: usize) {
    // SAFETY: the range is one live allocation of ours; madvise only
    // changes how the kernel backs it (a failure leaves it as it was).
    unsafe {
        libc::madvise(ptr.cast(), bytes, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_ptr: *mut u8, _bytes: usize) {}

impl Drop for HugeBuf {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated in `zeroed` with this very layout.
            unsafe { dealloc(self.ptr.as_ptr().cast(), Self::layout(self.len)) };
        }
    }
}

impl std::ops::Deref for HugeBuf {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        // SAFETY: `len` initialised u64 (or a dangling pointer and 0).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for HugeBuf {
    fn deref_mut(&mut self) -> &mut [u64] {
        // SAFETY: as in `deref`, and `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Clone for HugeBuf {
    fn clone(&self) -> Self {
        HugeBuf::from_slice(self)
    }
}

impl PartialEq for HugeBuf {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for HugeBuf {}

impl std::fmt::Debug for HugeBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_hold_their_values() {
        for len in [0, 1, 7, HUGE_MIN / 8 - 1, HUGE_MIN / 8, HUGE_MIN / 8 + 3] {
            let mut b = HugeBuf::zeroed(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&x| x == 0));
            for (i, x) in b.iter_mut().enumerate() {
                *x = i as u64 * 3;
            }
            let c = b.clone();
            assert_eq!(b, c);
            assert!(c.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
            if len * 8 >= HUGE_MIN {
                assert_eq!(b.as_ptr() as usize % HUGE_PAGE, 0, "2 MiB aligned");
            }
        }
    }
}
