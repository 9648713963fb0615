//! Prefetch hints: ask the CPU for memory a loop will read soon, so that
//! many independent cache misses are in flight at once. Hints only: they
//! never fault and never change a value.

/// Asks the CPU to bring `data[index]` into its caches, all the way to L1
/// (a hint: no effect on results; nothing if `index` is out of bounds).
#[inline(always)]
pub(crate) fn prefetch<T>(data: &[T], index: usize) {
    prefetch_to::<T, true>(data, index)
}

/// As [`prefetch`], into L2 only (x86 `prefetcht1`): for streams of reads
/// far ahead, where filling L1 would exhaust its miss buffers.
#[inline(always)]
pub(crate) fn prefetch_l2<T>(data: &[T], index: usize) {
    prefetch_to::<T, false>(data, index)
}

/// As [`prefetch`], for the address `p` (a hint: the address is never
/// dereferenced, so any value is allowed).
#[inline(always)]
pub(crate) fn prefetch_address<T>(p: *const T) {
    prefetch_pointer::<true>(p.cast::<i8>())
}

#[inline(always)]
fn prefetch_to<T, const L1: bool>(data: &[T], index: usize) {
    if let Some(x) = data.get(index) {
        prefetch_pointer::<L1>((x as *const T).cast::<i8>())
    }
}

#[inline(always)]
fn prefetch_pointer<const L1: bool>(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        if L1 {
            _mm_prefetch::<_MM_HINT_T0>(p)
        } else {
            _mm_prefetch::<_MM_HINT_T1>(p)
        }
    };
    #[cfg(target_arch = "aarch64")]
    // SAFETY: a prefetch never faults and reads nothing architecturally.
    unsafe {
        if L1 {
            std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) p, options(nostack, readonly, preserves_flags))
        } else {
            std::arch::asm!("prfm pldl2keep, [{0}]", in(reg) p, options(nostack, readonly, preserves_flags))
        }
    };
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = p;
}
