//! Draw kernels: turn a run of counters of one block's stream into items.
//!
//! This is the hot loop of every sampling call. The scalar kernel here
//! defines the output; the vector kernels reproduce it bit for bit (and are
//! tested against it over many seeds, sizes and tables):
//!
//! | kernel | where | words per step |
//! |---|---|---|
//! | [`Kernel::Scalar`] | everywhere | 1 |
//! | [`Kernel::Avx2`] | x86-64 with AVX2 | 8 (two vectors of 4 `u64`) |
//! | [`Kernel::Avx512`] | x86-64 with AVX-512 F and DQ | 16 (two vectors of 8 `u64`; digests of [`CompactSlots`](super::alias::CompactSlots) by one 16-lane gather) |
//! | [`Kernel::Neon`] | aarch64 | 4 (two vectors of 2 `u64`) |
//!
//! Word `i` of a stream is `mix64(key + (i + 1) * GAMMA)` (see [`super::rng`]):
//! no word depends on the one before, so a lane computes its own word from
//! its counter. The slot and the coin come from [`super::alias::split_word`],
//! whose two 32x32 -> 64-bit products are exactly what the vector units
//! multiply.
//!
//! The kernel is chosen at run time: [`Kernel::best`] detects the CPU once;
//! the environment variable `NEGSAMPLE_KERNEL` (`scalar`, `avx2`, `avx512`
//! or `neon`) forces one for every sampler built afterwards
//! ([`Kernel::from_env`]), and [`crate::Sampler::with_kernel`] forces one for
//! a single sampler (what the tests use).

use std::sync::OnceLock;

use crate::draw::alias::AliasTable;
use crate::draw::rng::Stream;
use crate::error::{Error, Result};

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
pub mod x86;

/// Draws per block of output. Each block has its own stream (keyed by the
/// block's index), so blocks can be computed in any order or on any thread
/// with the same result. Counters `0..BLOCK` give the block's first draws;
/// redraws after a collision use counters `BLOCK, BLOCK + 1, ...` in order.
pub const BLOCK: usize = 4096;

/// The name of the environment variable that forces a kernel.
pub const KERNEL_ENV: &str = "NEGSAMPLE_KERNEL";

/// An implementation of the draw loop. All kernels give the same output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// One draw at a time, in portable Rust: the reference.
    Scalar,
    /// x86-64 AVX2: 8 draws per step, 64-bit products emulated from 32-bit ones.
    Avx2,
    /// x86-64 AVX-512 (F and DQ): 16 draws per step, table reads by gather.
    Avx512,
    /// aarch64 NEON: 4 draws per step.
    Neon,
}

impl Kernel {
    /// Every kernel, fastest last.
    pub const ALL: [Kernel; 4] = [Kernel::Scalar, Kernel::Neon, Kernel::Avx2, Kernel::Avx512];

    /// The kernel's name, as `NEGSAMPLE_KERNEL` spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
            Kernel::Neon => "neon",
        }
    }

    /// The kernel called `name` (as [`Kernel::name`] spells it), if any.
    pub fn parse(name: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether this CPU can run the kernel (detected once, then cached).
    pub fn is_available(self) -> bool {
        static DETECTED: OnceLock<[bool; 4]> = OnceLock::new();
        let detected = DETECTED.get_or_init(|| Kernel::ALL.map(Kernel::detect));
        let index = Kernel::ALL
            .iter()
            .position(|&k| k == self)
            .expect("every kernel is in ALL");
        detected[index]
    }

    fn detect(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512dq")
            }
            #[cfg(target_arch = "aarch64")]
            Kernel::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The kernels this CPU can run, fastest last.
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL
            .into_iter()
            .filter(|k| k.is_available())
            .collect()
    }

    /// The fastest kernel this CPU can run (detected once, then cached).
    pub fn best() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            *Kernel::available()
                .last()
                .expect("the scalar kernel is always available")
        })
    }

    /// The kernel new samplers use: the one `NEGSAMPLE_KERNEL` names, or
    /// [`Kernel::best`] if the variable is unset or empty. Read once per
    /// process, then cached.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `NEGSAMPLE_KERNEL` if the variable names
    /// no kernel, or one this CPU cannot run (the message lists those it can).
    pub fn from_env() -> Result<Kernel> {
        static FROM_ENV: OnceLock<Result<Kernel>> = OnceLock::new();
        FROM_ENV
            .get_or_init(|| {
                let value = std::env::var(KERNEL_ENV).unwrap_or_default();
                if value.is_empty() {
                    Ok(Kernel::best())
                } else {
                    Kernel::checked(KERNEL_ENV, &value)
                }
            })
            .clone()
    }

    /// The kernel called `value`, if this CPU can run it.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `name` and `value`, listing the kernels
    /// this CPU can run.
    pub fn checked(name: &'static str, value: &str) -> Result<Kernel> {
        match Kernel::parse(value) {
            Some(kernel) if kernel.is_available() => Ok(kernel),
            _ => Err(Error::OutOfRange {
                name,
                value: format!("'{value}'"),
                expected: format!(
                    "a kernel this CPU can run: {}",
                    Kernel::available()
                        .iter()
                        .map(|k| format!("'{}'", k.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes `out[i] = table.pick(stream.word(first + i))` for every `i`, with
/// the kernel new samplers use ([`Kernel::from_env`], or [`Kernel::best`]
/// if `NEGSAMPLE_KERNEL` is invalid).
///
/// # Performance
/// Per draw: one SplitMix64 word, one 64x32-bit multiply-shift and (for a
/// non-uniform table) one 8-byte slot read, or one 4-byte digest read in the
/// AVX-512 kernel for a table with [`super::alias::CompactSlots`]; the vector
/// kernels do 4 to 16 of these per step.
#[inline]
pub fn fill_picks(table: &AliasTable, stream: &Stream, first: u64, out: &mut [u32]) {
    let kernel = Kernel::from_env().unwrap_or_else(|_| Kernel::best());
    fill_picks_with(kernel, table, stream, first, out);
}

/// As [`fill_picks`], with the given kernel.
///
/// # Panics
/// If this CPU cannot run `kernel` (see [`Kernel::is_available`]).
#[inline]
pub fn fill_picks_with(
    kernel: Kernel,
    table: &AliasTable,
    stream: &Stream,
    first: u64,
    out: &mut [u32],
) {
    assert!(
        kernel.is_available(),
        "the {kernel} kernel cannot run on this CPU"
    );
    let (slots, uniform, key) = (table.slots(), table.is_uniform(), stream.key());
    match kernel {
        Kernel::Scalar if !uniform && slots.len() >= FAR_TABLE => {
            fill_picks_scalar_far(slots, key, first, out)
        }
        Kernel::Scalar => fill_picks_scalar(table, stream, first, out),
        // SAFETY: each vector kernel needs exactly the CPU features that
        // `is_available` detected (asserted above).
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { x86::fill_picks_avx2(slots, uniform, key, first, out) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe {
            x86::fill_picks_avx512(slots, uniform, table.compact(), key, first, out)
        },
        #[cfg(target_arch = "aarch64")]
        Kernel::Neon => unsafe { neon::fill_picks_neon(slots, uniform, key, first, out) },
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (slots, uniform, key);
            unreachable!("an unavailable kernel was rejected above")
        }
    }
}

/// The reference kernel: one draw at a time.
#[inline]
pub fn fill_picks_scalar(table: &AliasTable, stream: &Stream, first: u64, out: &mut [u32]) {
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = table.pick(stream.word(first.wrapping_add(i as u64)));
    }
}

/// The scalar kernel for a table beyond the caches: the same draws, and
/// the slot of the draw PREFETCH_AHEAD further on prefetched at each step.
fn fill_picks_scalar_far(slots: &[u64], key: u64, first: u64, out: &mut [u32]) {
    let n = slots.len() as u32;
    for (i, item) in out.iter_mut().enumerate() {
        let ahead = first.wrapping_add((i + PREFETCH_AHEAD) as u64);
        let word = crate::draw::rng::mix64(
            key.wrapping_add(ahead.wrapping_add(1).wrapping_mul(crate::draw::rng::GAMMA)),
        );
        prefetch(slots, crate::draw::alias::split_word(word, n).0 as usize);
        *item = pick_scalar(slots, false, key, first.wrapping_add(i as u64));
    }
}

/// A table of at least this many slots (8 MiB) is read with software
/// prefetches ahead of the draws: it does not fit the caches, and each draw
/// would otherwise wait for memory on its own. (Smaller non-uniform tables
/// have [`crate::draw::alias::CompactSlots`].)
const FAR_TABLE: usize = crate::draw::alias::COMPACT_MAX_ITEMS + 1;

/// How many draws ahead the slot of a far table is prefetched.
const PREFETCH_AHEAD: usize = 64;

/// Asks the CPU to bring `data[index]` into L2 (a hint: no effect on
/// results; nothing if `index` is out of bounds). L2, not L1: many reads are
/// in flight, more than L1 can track.
#[inline(always)]
fn prefetch<T>(data: &[T], index: usize) {
    crate::memory::prefetch::prefetch_l2(data, index)
}

/// The scalar draw for the stream with `key`, counter `counter`, used by the
/// vector kernels for the tail of a run that does not fill a whole step.
#[inline(always)]
fn pick_scalar(slots: &[u64], uniform: bool, key: u64, counter: u64) -> u32 {
    let word = crate::draw::rng::mix64(
        key.wrapping_add(
            counter
                .wrapping_add(1)
                .wrapping_mul(crate::draw::rng::GAMMA),
        ),
    );
    let (slot, coin) = crate::draw::alias::split_word(word, slots.len() as u32);
    if uniform {
        return slot;
    }
    let s = slots[slot as usize];
    if coin < s as u32 {
        slot
    } else {
        (s >> 32) as u32
    }
}
