//! Speed of hard negatives (DNS) on one thread, split into its phases, on the
//! workload of `benches/hard-negatives.bench.mjs`: 40,000 items, 10,000
//! users (the same generator, so the same 199,316 interactions),
//! popularity^0.75 proposal, dim = 64, M = 32, k = 1, 16,384 positives per
//! call in shuffled epoch order.
//!
//! ```text
//! cargo run --release -p negsample-core --example hard_speed [MODE] [CALLS]
//! ```
//!
//! MODE (default `all`):
//! - `all`: times every phase below (best of many calls: wall and thread CPU
//!   time) and prints positives/s and nanoseconds per positive;
//! - `full`, `draws`, `scores`, `none`: runs only that phase, CALLS times
//!   (default 20), and prints nothing else: for instruction counts with
//!   `valgrind --tool=callgrind` (compare CALLS = 1 and 11; `none` is the
//!   setup alone).
//!
//! Phases:
//! - `draws`: the candidate draws with exclusion, as `hard_negatives_into`
//!   makes them (one `Sampler::negatives_into` per chunk of positives);
//! - `scores`: the M dot products per positive on those candidates (no
//!   draws), with the rows prefetched as the engine does;
//! - `full`: `hard_negatives_into` itself (draws + scores + selection).
//!
//! `all` also times the alias draws alone (no exclusion) and prints how
//! many first draws hit a positive. Environment, for experiments:
//! `SORTED=1` sorts the positives by user (rows read in order, not
//! shuffled); `HOT=1` scores candidates folded into the first 1,024 items
//! (rows in cache: the compute bound of the scoring phase); `HUGE=1` puts
//! the item matrix in transparent huge pages (fewer TLB misses).

use std::sync::Arc;
use std::time::Instant;

use negsample_core::dot::{scores_into, Path};
use negsample_core::hard::{candidate_call, hard_negatives_into, HardOut, Layout, CHUNK};
use negsample_core::{Embeddings, HardOptions, Interactions, Proposal, Sampler, Strategy};

const NUM_ITEMS: usize = 40_000;
const NUM_USERS: usize = 10_000;
const DIM: usize = 64;
const M: usize = 32;
const BATCH: usize = 16_384;

/// The benchmark's generator (mulberry32), bit for bit.
struct Mulberry(u32);

impl Mulberry {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let mut t = self.0;
        t = (t ^ (t >> 15)).wrapping_mul(t | 1);
        t ^= t.wrapping_add((t ^ (t >> 7)).wrapping_mul(t | 61));
        (t ^ (t >> 14)) as f64 / 4_294_967_296.0
    }
}

/// The benchmark's data set: interactions, user and item embeddings.
fn dataset() -> (Interactions, Vec<f32>, Vec<f32>) {
    let mut random = Mulberry(7);
    let mut cdf = vec![0f64; NUM_ITEMS];
    let mut total = 0f64;
    for (i, c) in cdf.iter_mut().enumerate() {
        total += 1.0 / (i as f64 + 1.0);
        *c = total;
    }
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for u in 0..NUM_USERS {
        let count = 5 + (55.0 * random.next().powi(2)).floor() as usize;
        for _ in 0..count {
            let x = random.next() * total;
            let (mut lo, mut hi) = (0usize, NUM_ITEMS - 1);
            while lo < hi {
                let mid = (lo + hi) >> 1;
                if cdf[mid] <= x {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            users.push(u as u32);
            items.push(lo as u32);
        }
    }
    let m = Interactions::from_coo(&users, &items, Some(NUM_USERS), Some(NUM_ITEMS)).unwrap();
    let mut gauss = || ((random.next() + random.next() + random.next() - 1.5) * 0.5) as f32;
    let ue: Vec<f32> = (0..NUM_USERS * DIM).map(|_| gauss()).collect();
    let ie: Vec<f32> = (0..NUM_ITEMS * DIM).map(|_| gauss()).collect();
    (m, ue, ie)
}

/// A copy of `values` in memory given transparent huge pages (Linux;
/// leaked: the example runs once), starting 16 bytes past a 2 MiB boundary.
fn huge_copy(values: &[f32]) -> &'static [f32] {
    #[cfg(target_os = "linux")]
    // SAFETY: a fresh anonymous mapping, large enough for the copy at an
    // offset of 2 MiB + 16 bytes; never unmapped.
    unsafe {
        let bytes = values.len() * 4 + (4 << 20);
        let p = libc::mmap(
            std::ptr::null_mut(),
            bytes,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert!(p != libc::MAP_FAILED, "mmap");
        let start = (p as usize).next_multiple_of(2 << 20);
        libc::madvise(
            start as *mut libc::c_void,
            bytes - (start - p as usize),
            libc::MADV_HUGEPAGE,
        );
        let dst = (start + 16) as *mut f32;
        std::ptr::copy_nonoverlapping(values.as_ptr(), dst, values.len());
        let huge = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
        if let Some(line) = huge.lines().find(|l| l.starts_with("AnonHugePages")) {
            println!("  item matrix in huge pages; process {line}");
        }
        std::slice::from_raw_parts(dst, values.len())
    }
    #[cfg(not(target_os = "linux"))]
    Box::leak(values.to_vec().into_boxed_slice())
}

/// CPU time of this thread, in seconds (`CLOCK_THREAD_CPUTIME_ID`: exact,
/// unlike `/proc/thread-self/schedstat`, which lags by up to a tick).
fn cpu() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec to write.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
    }
    #[cfg(not(target_os = "linux"))]
    0.0
}

/// Best wall and best CPU time of `rounds` runs of `f` after one warm-up.
fn time(rounds: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let (mut wall, mut thread) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        let (t, c) = (Instant::now(), cpu());
        f();
        wall = wall.min(t.elapsed().as_secs_f64());
        thread = thread.min(cpu() - c);
    }
    (wall, thread)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "all".into());
    let calls: usize = args.next().map_or(20, |c| c.parse().expect("CALLS"));

    let (m, ue, ie) = dataset();
    let sampler = Sampler::new(Arc::new(m), &Proposal::Popularity { alpha: 0.75 }, 1).unwrap();
    let (users, positives) = sampler.shuffled_positives(0);
    let mut users = users[..BATCH].to_vec();
    if std::env::var("SORTED").is_ok() {
        users.sort_unstable();
    }
    let users = &users[..];
    let positives: Vec<u32> = positives[..BATCH].to_vec();
    // HUGE=1: the item matrix in transparent huge pages (2 MiB), 16 bytes
    // past a page start as in a typed array's backing store.
    let ie: &[f32] = if std::env::var("HUGE").is_ok() {
        huge_copy(&ie)
    } else {
        &ie
    };
    let emb = Embeddings::new(&sampler, &ue, ie, DIM).unwrap();
    let options = HardOptions {
        candidates: M,
        negatives: 1,
        strategy: Strategy::Max,
        layout: Layout::Pairwise,
        parallel: false,
    };
    let mut items = vec![0u32; BATCH];
    let mut scores = vec![0f32; BATCH];
    let mut candidates = vec![0u32; BATCH * M];
    let path = Path::best();

    let mut full = |call: u64| {
        hard_negatives_into(
            &sampler,
            users,
            &positives,
            &emb,
            &options,
            call,
            HardOut {
                items: &mut items,
                scores: &mut scores,
                ..HardOut::default()
            },
        )
        .unwrap();
    };
    let draws = |call: u64, candidates: &mut [u32]| {
        for (c, (chunk, out)) in users
            .chunks(CHUNK)
            .zip(candidates.chunks_mut(CHUNK * M))
            .enumerate()
        {
            sampler
                .negatives_into(chunk, M, candidate_call(call, c as u64), out)
                .unwrap();
        }
    };
    let score = |candidates: &[u32], out: &mut [f32]| {
        for (j, &u) in users.iter().enumerate() {
            let start = j * M;
            let ahead = &candidates
                [(start + 16).min(candidates.len())..(start + M + 16).min(candidates.len())];
            scores_into(
                path,
                emb.user(u),
                ie,
                DIM,
                &candidates[start..start + M],
                ahead,
                &mut out[start..start + M],
            );
        }
    };

    let mut all_scores = vec![0f32; BATCH * M];
    match mode.as_str() {
        "none" => {}
        "full" => (0..calls as u64).for_each(&mut full),
        "draws" => (0..calls as u64).for_each(|c| draws(c, &mut candidates)),
        "scores" => {
            draws(0, &mut candidates);
            (0..calls).for_each(|_| score(&candidates, &mut all_scores));
        }
        "all" => {
            println!(
                "hard negatives, 1 thread: {BATCH} positives, M = {M}, dim = {DIM}, {NUM_ITEMS} items, {} interactions, kernel {}, dot path {}",
                sampler.interactions().nnz(),
                sampler.kernel().name(),
                path.name()
            );
            let report = |label: &str, (wall, thread): (f64, f64)| {
                println!(
                    "  {label:44} {:6.2} M positives/s wall ({:5.0} ns each), {:6.2} M/s thread CPU ({:5.0} ns)",
                    BATCH as f64 / wall / 1e6,
                    wall / BATCH as f64 * 1e9,
                    BATCH as f64 / thread / 1e6,
                    thread / BATCH as f64 * 1e9,
                );
            };
            let mut call = 0u64;
            report(
                "full (hard_negatives_into)",
                time(calls, || {
                    call += 1;
                    full(call)
                }),
            );
            report(
                "draws with exclusion (negatives_into/chunk)",
                time(calls, || {
                    call += 1;
                    draws(call, &mut candidates)
                }),
            );
            report(
                "alias draws alone (fill_picks, no exclusion)",
                time(calls, || {
                    for (b, out) in candidates.chunks_mut(4096).enumerate() {
                        let stream = negsample_core::Stream::new(
                            1,
                            negsample_core::Domain::Negatives,
                            7,
                            b as u64,
                        );
                        negsample_core::fill_picks_with(
                            sampler.kernel(),
                            sampler.table(),
                            &stream,
                            0,
                            out,
                        );
                    }
                }),
            );
            let hits = candidates
                .chunks(M)
                .zip(users)
                .map(|(c, &u)| {
                    let row = sampler.interactions().row(u);
                    c.iter().filter(|i| row.binary_search(i).is_ok()).count()
                })
                .sum::<usize>();
            let rows: usize = users
                .iter()
                .map(|&u| sampler.interactions().row(u).len())
                .sum();
            println!(
                "  first draws that hit a positive: {:.2}% ({:.2} per positive); mean row length {:.1}",
                hits as f64 / candidates.len() as f64 * 100.0,
                hits as f64 / BATCH as f64,
                rows as f64 / BATCH as f64
            );
            draws(0, &mut candidates);
            if std::env::var("HOT").is_ok() {
                for c in candidates.iter_mut() {
                    *c %= 1024;
                }
            }
            report(
                "scores (M dot products, prefetched)",
                time(calls, || score(&candidates, &mut all_scores)),
            );
        }
        other => panic!("unknown mode {other}: all, full, draws, scores or none"),
    }
    std::hint::black_box((&items, &scores, &all_scores, &candidates));
}
