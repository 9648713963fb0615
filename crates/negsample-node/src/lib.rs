//! Node.js binding of `negsample-core`, built with napi-rs.
//!
//! It converts types and errors and does nothing else: every rule about what
//! input is valid lives in the engine (or, for JavaScript types, in the
//! TypeScript layer in `src/`). Engine errors become JavaScript errors with
//! `code = "InvalidArg"`, which the TypeScript layer rethrows as `RangeError`;
//! a Rust panic becomes an ordinary `Error` and never aborts Node.

#![deny(clippy::all)]

mod buffers;
mod convert;
mod draw;
mod epoch;
mod evaluate;
mod fast_call;
mod hard;
mod interactions;
mod io;
mod job;
mod owned;
mod sampled_softmax;
mod sampler;
mod shard;
mod testing;
