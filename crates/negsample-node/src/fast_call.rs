//! A direct Node-API entry for the hottest call of a training loop,
//! `negativesInto` (a trainer-sized batch of draws into a caller's buffer).
//!
//! Every `#[napi]` callback of napi-rs 3.16 opens and closes a native-borrow
//! scope and, for a method, checks the receiver's class; for typed-array
//! arguments it also registers each borrow in a global table. Measured with
//! `valgrind --tool=callgrind` on `NativeSampler.negativesInto(users, 1, out)`
//! that bookkeeping was about 4,400 of the call's 5,400 native instructions,
//! more than the engine's own work for a call of a thousand draws.
//!
//! This entry reads its arguments with plain Node-API calls instead. It is
//! exactly as strict as the napi-rs form:
//!
//! - the sampler comes as a napi-rs [`External`] handle, whose payload
//!   napi-rs checks to be a live `Arc<Sampler>` created by this addon before
//!   it is read (any other value is an error, never a wild read);
//! - each array must be an `Int32Array` (a `TypeError` otherwise);
//! - the arguments then go through the one implementation of the call
//!   ([`crate::draw::negatives`]), and a panic becomes a JavaScript error.
//!
//! The arrays are read and written only during this synchronous call, on
//! the JavaScript thread, so no borrow outlives it.

// The `#[napi]` registration, the only caller, is compiled out of unit tests.
#![cfg_attr(test, allow(dead_code))]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::bindgen_prelude::*;
use napi::{sys, Env, JsError};
use napi_derive::napi;

use crate::draw::{negatives, Caller};
use crate::job::panic_error;
use crate::sampler::FastHandle;

/// The direct entry `(handle, users, k, out) => undefined`: `k` negatives
/// per user into `out`, as `NativeSampler.negativesInto`, at a fraction of
/// its per-call cost (see the module docs). Create it once and reuse it.
#[napi(
    catch_unwind,
    ts_return_type = "(handle: ExternalObject<'NegsampleSampler'>, users: Int32Array, k: number, out: Int32Array) => void"
)]
pub fn fast_entry(env: Env) -> Result<Unknown<'static>> {
    let name = c"negativesIntoFast";
    let mut function = ptr::null_mut();
    // SAFETY: `env` is the live environment of this call; the callback is a
    // valid `extern "C"` Node-API callback that needs no data.
    check_status!(
        unsafe {
            sys::napi_create_function(
                env.raw(),
                name.as_ptr(),
                name.count_bytes() as isize,
                Some(negatives_into_callback),
                ptr::null_mut(),
                &mut function,
            )
        },
        "cannot create the negativesInto entry"
    )?;
    // SAFETY: `function` was just created in `env`.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), function) })
}

/// The Node-API callback: runs [`negatives_into`] and turns its error, or a
/// panic, into a thrown JavaScript error.
unsafe extern "C" fn negatives_into_callback(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    // SAFETY: Node-API calls this with a live `env` and `info`.
    let outcome = catch_unwind(AssertUnwindSafe(|| unsafe { negatives_into(env, info) }));
    let error = match outcome {
        Ok(Ok(())) => return ptr::null_mut(),
        Ok(Err(error)) => error,
        Err(panic) => panic_error(panic.as_ref()),
    };
    // SAFETY: `env` is live; nothing else is pending on it.
    unsafe { JsError::from(error).throw_into(env) };
    ptr::null_mut()
}

/// Reads `(handle, users, k, out)` and samples.
///
/// # Safety
/// `env` and `info` must be those of a live Node-API callback.
unsafe fn negatives_into(env: sys::napi_env, info: sys::napi_callback_info) -> Result<()> {
    let mut argc = 4usize;
    let mut argv = [ptr::null_mut(); 4];
    check_status!(
        unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        },
        "cannot read the arguments"
    )?;
    if argc < 4 {
        return Err(Error::new(
            Status::InvalidArg,
            format!("negativesIntoFast takes 4 arguments, got {argc}"),
        ));
    }
    // SAFETY: `argv[0]` is a value of this call; napi-rs checks that it is
    // an `External<Arc<Sampler>>` of this addon before reading it.
    let handle = unsafe { FastHandle::from_napi_ref(env, argv[0]) }.map_err(|_| {
        Error::new(
            Status::InvalidArg,
            "handle must come from NativeSampler.fastHandle()".to_string(),
        )
    })?;
    // SAFETY (both): values of this call, read for its duration only.
    let users = unsafe { int32_array(env, argv[1], "users") }?;
    let out = unsafe { int32_array(env, argv[3], "out") }?;
    let mut k = 0.0;
    if unsafe { sys::napi_get_value_double(env, argv[2], &mut k) } != sys::Status::napi_ok {
        return Err(Error::new(
            Status::InvalidArg,
            "k must be a number".to_string(),
        ));
    }
    // SAFETY: `users` and `out` are live typed arrays of this call;
    // `negatives` rejects overlapping memory before writing.
    let users = unsafe { std::slice::from_raw_parts(users.0.cast_const(), users.1) };
    let out = unsafe { std::slice::from_raw_parts_mut(out.0, out.1) };
    negatives(&Caller::Sampler(handle), users, k, out)
}

/// The data and length of an `Int32Array` argument (a dangling pointer and 0
/// for an empty or detached one).
///
/// # Safety
/// `env` must be live and `value` a value of the current call.
unsafe fn int32_array(
    env: sys::napi_env,
    value: sys::napi_value,
    name: &str,
) -> Result<(*mut i32, usize)> {
    let wrong = || Error::new(Status::InvalidArg, format!("{name} must be an Int32Array"));
    // Node-API answers `napi_invalid_arg` for any value that is not a typed
    // array, so this one call also checks the type.
    let mut kind = 0;
    let mut length = 0usize;
    let mut data = ptr::null_mut();
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != sys::Status::napi_ok || kind != sys::TypedarrayType::int32_array {
        return Err(wrong());
    }
    if data.is_null() || length == 0 {
        return Ok((ptr::NonNull::<i32>::dangling().as_ptr(), 0));
    }
    Ok((data.cast(), length))
}
