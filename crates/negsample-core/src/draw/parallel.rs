//! Thread pools for large calls.
//!
//! A call's output is cut into the fixed blocks of [`super::kernel::BLOCK`]
//! outputs, each with its own random stream, so blocks can be computed on
//! any thread in any order with the same result. A call of at least
//! [`PARALLEL_MIN`] outputs on a sampler with `threads > 1` is shared by the
//! calling thread and `threads - 1` helpers from a rayon pool
//! (`for_each_block`): each takes the next block from a shared cursor until
//! none is left. The caller starts at once and helpers join as soon as they
//! wake (which on a virtual machine can take a good fraction of a
//! millisecond), so a call never waits for a sleeping thread before work
//! starts. A smaller call runs on the calling thread alone.
//!
//! Pools are shared: every sampler with the same thread count uses the same
//! pool, created on first use and kept for the life of the process.

use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, Result};

/// The most threads a sampler may use.
pub const MAX_THREADS: usize = 256;

/// Calls with fewer outputs than this run on the calling thread: 16 blocks,
/// about 16 to 100 microseconds of work, against the few microseconds it
/// takes to wake a pool.
pub const PARALLEL_MIN: usize = 16 * crate::draw::kernel::BLOCK;

/// The default thread count: every core the process may use
/// (`std::thread::available_parallelism`, 1 if unknown).
pub fn default_threads() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(MAX_THREADS)
    })
}

/// Checks a thread count: an integer in `[1, MAX_THREADS]`.
///
/// # Errors
/// [`Error::OutOfRange`] naming `threads`.
pub fn check_threads(threads: usize) -> Result<usize> {
    if (1..=MAX_THREADS).contains(&threads) {
        Ok(threads)
    } else {
        Err(Error::OutOfRange {
            name: "threads",
            value: threads.to_string(),
            expected: format!("an integer in [1, {MAX_THREADS}]"),
        })
    }
}

/// The shared pool of `threads` threads (`threads >= 1`), created on first
/// use.
///
/// # Errors
/// [`Error::OutOfRange`] naming `threads` if the operating system refuses
/// to start the threads (the message carries its reason).
pub(crate) fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(pool.clone());
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("negsample-{i}"))
        .build()
        .map_err(|e| Error::OutOfRange {
            name: "threads",
            value: threads.to_string(),
            expected: format!("a number of threads the system can start ({e})"),
        })?;
    let pool = Arc::new(pool);
    pools.push((threads, pool.clone()));
    Ok(pool)
}

/// Runs `work(scratch, job)` on every job of `jobs`: with `pool`
/// (`Some((pool, helpers))`) on the calling thread and `helpers` jobs of
/// the pool (see [`for_each_job`]), without it on the calling thread alone,
/// with one scratch.
pub(crate) fn run_jobs<J: Send, S: Default>(
    pool: Option<(&ThreadPool, usize)>,
    jobs: impl Iterator<Item = J> + Send,
    work: impl Fn(&mut S, J) + Sync,
) {
    match pool {
        Some((pool, helpers)) => for_each_job(pool, helpers, jobs, work),
        None => {
            let mut scratch = S::default();
            for job in jobs {
                work(&mut scratch, job);
            }
        }
    }
}

/// Runs `work(scratch, job)` on every job of `jobs`, on the calling thread
/// and `helpers` jobs of `pool`, each taking the next job from a shared
/// cursor until none is left; each thread has its own `S::default()`
/// scratch. Which thread runs which job does not matter: jobs are
/// independent.
///
/// A panic in `work` propagates to the caller (after the other threads
/// stop).
fn for_each_job<J: Send, S: Default>(
    pool: &ThreadPool,
    helpers: usize,
    jobs: impl Iterator<Item = J> + Send,
    work: impl Fn(&mut S, J) + Sync,
) {
    let jobs = Mutex::new(jobs);
    let run = || {
        let mut scratch = S::default();
        loop {
            let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).next();
            match next {
                Some(job) => work(&mut scratch, job),
                None => break,
            }
        }
    };
    pool.in_place_scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| run());
        }
        run();
    });
}
