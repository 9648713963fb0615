//! Result arrays in memory V8 owns.
//!
//! napi-rs hands a Rust `Vec` to JavaScript as an *external* ArrayBuffer,
//! and Node frees external memory only when the buffer's finalizer runs, on
//! a later turn of the event loop. A synchronous loop of calls that never
//! yields therefore holds every result it has dropped until it ends: the
//! soak test (`scripts/soak.mjs`) measured RSS growing by 2.1 GB over 500,000
//! synchronous calls returning fresh arrays, flat again once results were
//! copied here. So the synchronous methods return their arrays through
//! these functions, which copy the output into an ArrayBuffer V8 allocates
//! and its garbage collector frees by itself.
//!
//! Cost: one copy of the output (a `memcpy` of 4 bytes per element), small
//! next to drawing it. The `...Async` methods keep the external buffers:
//! their Promises settle on the event loop, which runs the finalizers.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::{check_status, sys, Env};

/// A typed array of `len` elements of kind `kind` over a V8-owned copy of
/// `bytes`.
fn v8_typed_array(env: &Env, bytes: &[u8], kind: i32, len: usize) -> Result<sys::napi_value> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    // SAFETY: plain N-API calls on the current env, on the JavaScript thread
    // (these functions are only called from synchronous entry points); `data`
    // points at `bytes.len()` fresh bytes when the call succeeds.
    unsafe {
        check_status!(sys::napi_create_arraybuffer(
            env.raw(),
            bytes.len(),
            &mut data,
            &mut buffer
        ))?;
        if !bytes.is_empty() {
            ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len());
        }
        let mut array = ptr::null_mut();
        check_status!(sys::napi_create_typedarray(
            env.raw(),
            kind,
            len,
            buffer,
            0,
            &mut array
        ))?;
        Ok(array)
    }
}

/// Ids as an `Int32Array` in V8-owned memory (ids are below 2^31, so the
/// bits read as the same numbers).
pub fn ids(env: &Env, ids: &[u32]) -> Result<Int32Array> {
    // SAFETY: a u32 slice viewed as its bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ids.as_ptr().cast::<u8>(), ids.len() * 4) };
    let array = v8_typed_array(env, bytes, sys::TypedarrayType::int32_array, ids.len())?;
    // SAFETY: `array` is a live Int32Array of this env.
    unsafe { Int32Array::from_napi_value(env.raw(), array) }
}

/// Floats as a `Float32Array` in V8-owned memory.
pub fn floats(env: &Env, values: &[f32]) -> Result<Float32Array> {
    // SAFETY: an f32 slice viewed as its bytes.
    let bytes =
        unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), values.len() * 4) };
    let array = v8_typed_array(env, bytes, sys::TypedarrayType::float32_array, values.len())?;
    // SAFETY: `array` is a live Float32Array of this env.
    unsafe { Float32Array::from_napi_value(env.raw(), array) }
}

/// Doubles as a `Float64Array` in V8-owned memory.
pub fn doubles(env: &Env, values: &[f64]) -> Result<Float64Array> {
    // SAFETY: an f64 slice viewed as its bytes.
    let bytes =
        unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), values.len() * 8) };
    let array = v8_typed_array(env, bytes, sys::TypedarrayType::float64_array, values.len())?;
    // SAFETY: `array` is a live Float64Array of this env.
    unsafe { Float64Array::from_napi_value(env.raw(), array) }
}

/// Signed ids (or -1 for "absent") as an `Int32Array` in V8-owned memory.
pub fn ints(env: &Env, values: &[i32]) -> Result<Int32Array> {
    // SAFETY: an i32 slice viewed as u32 (same size and alignment).
    let as_u32 = unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<u32>(), values.len()) };
    ids(env, as_u32)
}

/// A fresh zeroed typed array of `len` elements of kind `kind` in memory V8
/// owns, and its data.
///
/// # Safety
/// The data is valid only while the array is alive: use it within the
/// current synchronous call, while the caller holds the array.
unsafe fn v8_new_array(
    env: &Env,
    kind: i32,
    len: usize,
    element: usize,
) -> Result<(sys::napi_value, *mut u8)> {
    let bytes = len.checked_mul(element).ok_or_else(|| {
        napi::Error::new(
            Status::InvalidArg,
            format!("{len} elements do not fit in memory"),
        )
    })?;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut array = ptr::null_mut();
    // SAFETY: plain N-API calls on the current env, on the JavaScript thread.
    unsafe {
        check_status!(sys::napi_create_arraybuffer(
            env.raw(),
            bytes,
            &mut data,
            &mut buffer
        ))?;
        check_status!(sys::napi_create_typedarray(
            env.raw(),
            kind,
            len,
            buffer,
            0,
            &mut array
        ))?;
    }
    let data = if bytes == 0 {
        ptr::NonNull::<u32>::dangling().as_ptr().cast::<u8>()
    } else {
        data.cast::<u8>()
    };
    Ok((array, data))
}

/// A fresh `Int32Array` of `len` ids in V8-owned memory, and its elements as
/// engine ids to fill.
///
/// # Safety
/// As [`v8_new_array`]: the slice must not outlive the current synchronous
/// call, nor the array.
pub unsafe fn new_ids<'a>(env: &Env, len: usize) -> Result<(Int32Array, &'a mut [u32])> {
    // SAFETY: the caller's contract; the array holds `len` 4-byte elements.
    unsafe {
        let (array, data) = v8_new_array(env, sys::TypedarrayType::int32_array, len, 4)?;
        let js = Int32Array::from_napi_value(env.raw(), array)?;
        Ok((js, std::slice::from_raw_parts_mut(data.cast::<u32>(), len)))
    }
}

/// A fresh `Float32Array` of `len` values in V8-owned memory, and its
/// elements to fill.
///
/// # Safety
/// As [`new_ids`].
pub unsafe fn new_floats<'a>(env: &Env, len: usize) -> Result<(Float32Array, &'a mut [f32])> {
    // SAFETY: as in `new_ids`.
    unsafe {
        let (array, data) = v8_new_array(env, sys::TypedarrayType::float32_array, len, 4)?;
        let js = Float32Array::from_napi_value(env.raw(), array)?;
        Ok((js, std::slice::from_raw_parts_mut(data.cast::<f32>(), len)))
    }
}
