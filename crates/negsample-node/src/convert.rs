//! Conversions between JavaScript values and engine types, and the one
//! mapping from engine errors to JavaScript errors.

use napi::bindgen_prelude::*;

/// How a call's arguments are named in JavaScript where that is not the
/// engine's name in camelCase: `("k", "options.negatives")`. A name is
/// looked up whole (`out.log_probs`), then word by word (`out`, `log_probs`),
/// also in the words of what the message says was expected.
pub type Names = &'static [(&'static str, &'static str)];

/// The JavaScript spelling of the engine's names (Rust identifiers) that
/// are not spelled the same in both.
const JS_NAMES: Names = &[
    ("batch_size", "batchSize"),
    ("item_embeddings", "itemEmbeddings"),
    ("item_exponent", "itemExponent"),
    ("min_item_interactions", "minItemInteractions"),
    ("min_rating", "minRating"),
    ("min_user_interactions", "minUserInteractions"),
    ("num_interactions", "numInteractions"),
    ("num_items", "numItems"),
    ("num_sampled", "numSampled"),
    ("num_users", "numUsers"),
    ("log_probs", "logProbs"),
    ("user_embeddings", "userEmbeddings"),
    ("user_exponent", "userExponent"),
    ("world_size", "worldSize"),
];

fn lookup(names: Names, name: &str) -> Option<&'static str> {
    names
        .iter()
        .find(|(engine, _)| *engine == name)
        .map(|(_, js)| *js)
}

/// An engine error as a JavaScript error (`code: "InvalidArg"`), which the
/// TypeScript layer turns into a `RangeError`; its message names the
/// arguments as JavaScript does.
pub fn js_error(error: negsample_core::Error) -> Error {
    js_error_in(&[])(error)
}

/// [`js_error`] for a call whose arguments are named `names` in JavaScript.
///
/// Ids reach the engine as the bits of an `Int32Array`, so a negative id
/// arrives as a number of 2^31 or more; its message shows it as the caller
/// wrote it.
pub fn js_error_in(names: Names) -> impl Fn(negsample_core::Error) -> Error {
    move |error| {
        let error = match error {
            negsample_core::Error::IdOutOfRange {
                name,
                index,
                value,
                bound,
            } if value > i32::MAX as i64 => negsample_core::Error::IdOutOfRange {
                name,
                index,
                value: value as u32 as i32 as i64,
                bound,
            },
            other => other,
        };
        let rename = |name: &str| lookup(names, name).or_else(|| lookup(JS_NAMES, name));
        Error::new(Status::InvalidArg, error.message(&rename))
    }
}

/// A JavaScript number as a count or index for the engine, which checks its
/// range: only what is not a safe integer from 0 to 2^53 - 1 fails here.
pub fn whole(name: &str, value: f64) -> Result<u64> {
    if value.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&value) {
        return Err(Error::new(
            Status::InvalidArg,
            format!(
                "{name} must be a non-negative safe integer, got {}",
                js_number(value)
            ),
        ));
    }
    Ok(value as u64)
}

/// `value` as JavaScript's `String(value)` writes it (`Infinity`, `NaN`,
/// `1e+21`), so that messages show the number the caller passed.
pub fn js_number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if value != 0.0 && (value.abs() >= 1e21 || value.abs() < 1e-6) {
        let text = format!("{value:e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        }
    } else {
        format!("{value}")
    }
}

/// [`whole`] as a `usize` count or index (saturating: the engine rejects
/// what is too large).
pub fn count(name: &str, value: f64) -> Result<usize> {
    Ok(usize::try_from(whole(name, value)?).unwrap_or(usize::MAX))
}

/// The ids of an `Int32Array` as the engine's `u32` ids, unchecked: a
/// negative id reads as 2^31 or more, which every engine bound rejects.
pub fn ids(values: &[i32]) -> &[u32] {
    // SAFETY: i32 and u32 have the same size and alignment, and every bit
    // pattern is a valid u32.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u32>(), values.len()) }
}

/// A 64-bit seed from a JavaScript `bigint` (the TypeScript layer passes
/// numbers as `BigInt`).
pub fn seed(value: &BigInt) -> Result<u64> {
    let (negative, seed, lossless) = value.get_u64();
    if negative || !lossless {
        return Err(Error::new(
            Status::InvalidArg,
            "seed must be an integer in [0, 2^64)".to_string(),
        ));
    }
    Ok(seed)
}

/// Reinterprets engine ids (`u32`, all below 2^31) as `Int32Array` elements
/// without copying.
pub fn into_i32(ids: Vec<u32>) -> Vec<i32> {
    let mut ids = std::mem::ManuallyDrop::new(ids);
    // SAFETY: u32 and i32 have the same size and alignment, and the vector's
    // allocation is handed over whole (pointer, length, capacity).
    unsafe { Vec::from_raw_parts(ids.as_mut_ptr().cast::<i32>(), ids.len(), ids.capacity()) }
}

/// A caller's `Int32Array` output buffer as `u32` ids to be written.
pub fn ids_out(out: &mut [i32]) -> &mut [u32] {
    // SAFETY: same size and alignment; every bit pattern is a valid u32.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u32>(), out.len()) }
}

/// The byte range an array occupies, for the aliasing check.
pub fn span<T>(values: &[T]) -> (usize, usize) {
    let range = values.as_ptr_range();
    (range.start as usize, range.end as usize)
}

/// Fails if an output buffer shares memory with another output or with an
/// input: writing through one view while reading another would be undefined
/// behaviour (and silently wrong output).
pub fn check_disjoint(
    outputs: &[(&str, (usize, usize))],
    inputs: &[(&str, (usize, usize))],
) -> Result<()> {
    let overlap =
        |a: (usize, usize), b: (usize, usize)| a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1;
    for (j, &(name, range)) in outputs.iter().enumerate() {
        for &(other, other_range) in outputs[j + 1..].iter().chain(inputs) {
            if overlap(range, other_range) {
                return Err(Error::new(
                    Status::InvalidArg,
                    format!("{name} must not share memory with {other}"),
                ));
            }
        }
    }
    Ok(())
}
