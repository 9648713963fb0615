//! Off-thread work: an engine call run on the libuv thread pool and resolved
//! as a Promise. Inputs are copied (or owned) before the job starts, so the
//! caller may reuse its arrays at once; a panic inside the job rejects the
//! Promise instead of aborting Node.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi::{Env, Task};

/// A boxed engine call producing `T`.
type Work<T> = Box<dyn FnOnce() -> Result<T> + Send>;

/// One engine call to run off the JavaScript thread.
pub struct Job<T> {
    work: Option<Work<T>>,
}

impl<T> Job<T> {
    /// Wraps `work` for [`AsyncTask`].
    pub fn new(work: impl FnOnce() -> Result<T> + Send + 'static) -> AsyncTask<Self>
    where
        Self: Task,
    {
        AsyncTask::new(Job {
            work: Some(Box::new(work)),
        })
    }
}

impl<T: ToNapiValue + TypeName + Send + 'static> Task for Job<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::from_reason("negsample: a job was run twice"))?;
        match catch_unwind(AssertUnwindSafe(work)) {
            Ok(result) => result,
            Err(panic) => Err(panic_error(panic.as_ref())),
        }
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}

/// The JavaScript error for a caught Rust panic, with its message.
pub(crate) fn panic_error(panic: &(dyn std::any::Any + Send)) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::from_reason(format!(
        "negsample: internal error (a Rust panic): {message}"
    ))
}
