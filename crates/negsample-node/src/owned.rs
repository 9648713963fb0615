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

/// An element type of the typed arrays made here, and the array it makes.
pub trait Element: Copy {
    /// The N-API kind of the typed array.
    const KIND: sys::napi_typedarray_type;
    /// The napi-rs typed array.
    type Array: FromNapiValue;
}

impl Element for u32 {
    // Ids are below 2^31: the bits read as the same numbers.
    const KIND: sys::napi_typedarray_type = sys::TypedarrayType::int32_array;
    type Array = Int32Array;
}

impl Element for i32 {
    const KIND: sys::napi_typedarray_type = sys::TypedarrayType::int32_array;
    type Array = Int32Array;
}

impl Element for f32 {
    const KIND: sys::napi_typedarray_type = sys::TypedarrayType::float32_array;
    type Array = Float32Array;
}

impl Element for f64 {
    const KIND: sys::napi_typedarray_type = sys::TypedarrayType::float64_array;
    type Array = Float64Array;
}

/// A fresh zeroed typed array of `len` elements in memory V8 owns, and its
/// elements to fill.
///
/// # Safety
/// The slice is valid only while the array is alive: use it within the
/// current synchronous call, while the caller holds the array.
pub unsafe fn fresh<'a, T: Element>(env: &Env, len: usize) -> Result<(T::Array, &'a mut [T])> {
    let bytes = len.checked_mul(size_of::<T>()).ok_or_else(|| {
        napi::Error::new(
            Status::InvalidArg,
            format!("{len} elements do not fit in memory"),
        )
    })?;
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut array = ptr::null_mut();
    // SAFETY: plain N-API calls on the current env, on the JavaScript thread
    // (only synchronous entry points call this); on success `data` points at
    // `bytes` zeroed bytes that the array's buffer owns, aligned for `T`
    // (V8 aligns ArrayBuffer data for every typed array). An empty buffer may
    // have no data: a dangling aligned pointer stands in for it.
    unsafe {
        check_status!(sys::napi_create_arraybuffer(
            env.raw(),
            bytes,
            &mut data,
            &mut buffer
        ))?;
        check_status!(sys::napi_create_typedarray(
            env.raw(),
            T::KIND,
            len,
            buffer,
            0,
            &mut array
        ))?;
        let data = if bytes == 0 {
            ptr::NonNull::<T>::dangling().as_ptr()
        } else {
            data.cast::<T>()
        };
        Ok((
            T::Array::from_napi_value(env.raw(), array)?,
            std::slice::from_raw_parts_mut(data, len),
        ))
    }
}

/// `values` copied into a typed array in memory V8 owns.
pub fn copy<T: Element>(env: &Env, values: &[T]) -> Result<T::Array> {
    // SAFETY: the slice is filled and dropped before this call returns.
    let (array, data) = unsafe { fresh::<T>(env, values.len())? };
    data.copy_from_slice(values);
    Ok(array)
}

/// Ids as an `Int32Array` in V8-owned memory.
pub fn ids(env: &Env, values: &[u32]) -> Result<Int32Array> {
    copy(env, values)
}

/// Signed ids (or -1 for "absent") as an `Int32Array` in V8-owned memory.
pub fn ints(env: &Env, values: &[i32]) -> Result<Int32Array> {
    copy(env, values)
}

/// Floats as a `Float32Array` in V8-owned memory.
pub fn floats(env: &Env, values: &[f32]) -> Result<Float32Array> {
    copy(env, values)
}

/// Doubles as a `Float64Array` in V8-owned memory.
pub fn doubles(env: &Env, values: &[f64]) -> Result<Float64Array> {
    copy(env, values)
}
