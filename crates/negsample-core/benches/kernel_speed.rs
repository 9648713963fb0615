//! Times the engine directly in Rust, without Node: the draw kernels on
//! popularity-shaped and uniform tables (`kernels`; table sizes from
//! `NEGSAMPLE_SIZES`, default 10^5 and 10^7 items), one call of 1, 1,280 and
//! 4,096 draws (`call`), and exclusion on ml-1m with 1 and 2 threads (no
//! argument, or `perf` for one configuration). Used to find where the time
//! of a JavaScript-level benchmark goes; `npm run bench` gives the figures.
//!
//! `cargo run --release -p negsample-core --example kernel_speed -- kernels`

use negsample_core::{
    fill_picks_with, AliasTable, Domain, Exclusion, Interactions, Kernel, Proposal, Sampler, Stream,
};
use std::sync::Arc;
use std::time::Instant;

fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split(' ').next().unwrap().parse::<f64>().unwrap() / 1e9
}
fn time<F: FnMut()>(label: &str, draws: usize, mut f: F) {
    f();
    let mut best = f64::MAX;
    let mut bestc = f64::MAX;
    for _ in 0..15 {
        let t = Instant::now();
        let c = cpu();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        bestc = bestc.min(cpu() - c);
    }
    println!(
        "{label:50} {:8.1} M/s wall  {:8.1} M/s cpu ({:.3} ms)",
        draws as f64 / best / 1e6,
        draws as f64 / bestc / 1e6,
        best * 1e3
    );
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode.is_empty() || mode == "kernels" {
        // Table sizes: NEGSAMPLE_SIZES=1000,100000 (default 10^5 and 10^7).
        let sizes: Vec<usize> = std::env::var("NEGSAMPLE_SIZES")
            .map(|v| v.split(',').map(|x| x.trim().parse().unwrap()).collect())
            .unwrap_or_else(|_| vec![100_000, 10_000_000]);
        for n in sizes {
            let w: Vec<f64> = (0..n)
                .map(|i| (1e6 / (i as f64 + 1.0)).powf(0.75))
                .collect();
            let t = AliasTable::from_weights(&w).unwrap();
            println!(
                "{}",
                std::fs::read_to_string("/proc/self/smaps_rollup")
                    .unwrap()
                    .lines()
                    .filter(|l| l.contains("AnonHuge"))
                    .collect::<String>()
            );
            let mut out = vec![0u32; 1_000_000];
            for k in Kernel::available() {
                time(&format!("n={n} {k}"), out.len(), || {
                    for (b, c) in out.chunks_mut(4096).enumerate() {
                        let s = Stream::new(1, Domain::Negatives, 0, b as u64);
                        fill_picks_with(k, &t, &s, 0, c);
                    }
                });
            }
            let u = AliasTable::uniform(n).unwrap();
            for k in Kernel::available() {
                time(&format!("uniform n={n} {k}"), out.len(), || {
                    for (b, c) in out.chunks_mut(4096).enumerate() {
                        let s = Stream::new(1, Domain::Negatives, 0, b as u64);
                        fill_picks_with(k, &u, &s, 0, c);
                    }
                });
            }
        }
    }
    if mode == "sizes" {
        for n in [
            1000usize, 16_384, 65_536, 100_000, 131_072, 262_144, 1_000_000,
        ] {
            let w: Vec<f64> = (0..n)
                .map(|i| (1e6 / (i as f64 + 1.0)).powf(0.75))
                .collect();
            let t = AliasTable::from_weights(&w).unwrap();
            let mut out = vec![0u32; 16384];
            time(
                &format!("n={n} avx512 16K draws x100"),
                out.len() * 100,
                || {
                    for r in 0..100 {
                        for (b, c) in out.chunks_mut(4096).enumerate() {
                            let s = Stream::new(1, Domain::Negatives, r, b as u64);
                            fill_picks_with(Kernel::Avx512, &t, &s, 0, c);
                        }
                    }
                },
            );
        }
        return;
    }
    if mode == "synth" {
        let (nu, ni, nnz) = (1_000_000usize, 1_000_000usize, 50_000_000usize);
        let mut x = 99u64;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 32
        };
        let mut us = Vec::with_capacity(nnz);
        let mut is = Vec::with_capacity(nnz);
        for _ in 0..nnz {
            us.push((next() % nu as u64) as u32);
            is.push((next() % ni as u64) as u32);
        }
        let m = Arc::new(Interactions::from_coo(&us, &is, Some(nu), Some(ni)).unwrap());
        let users: Vec<u32> = us[..1_000_000].to_vec();
        drop(us);
        drop(is);
        let s = Sampler::new(m.clone(), &Proposal::Uniform, 3)
            .unwrap()
            .with_threads(1)
            .unwrap();
        let mut out = vec![0u32; users.len() * 4];
        for _ in 0..3 {
            time("synthetic 1e6 users x4", out.len(), || {
                s.negatives_into(&users, 4, s.next_call(), &mut out)
                    .unwrap();
            });
        }
        return;
    }
    if mode == "threads" {
        let w: Vec<f64> = (0..100_000)
            .map(|i| (1e6 / (i as f64 + 1.0)).powf(0.75))
            .collect();
        let m = Arc::new(Interactions::from_coo(&[], &[], Some(1), Some(100_000)).unwrap());
        for k in [65_536usize, 262_144, 1_000_000, 10_000_000] {
            let mut out = vec![0u32; k];
            for t in [1usize, 2, 2, 1] {
                let s = Sampler::new(m.clone(), &Proposal::Weights(w.clone()), 1)
                    .unwrap()
                    .with_threads(t)
                    .unwrap();
                time(&format!("threads={t} k={k}"), k, || {
                    s.negatives_into(&[0], k, s.next_call(), &mut out).unwrap();
                });
            }
        }
        return;
    }
    if mode == "call" {
        let w: Vec<f64> = (0..100_000)
            .map(|i| (1e6 / (i as f64 + 1.0)).powf(0.75))
            .collect();
        let m = Arc::new(Interactions::from_coo(&[], &[], Some(1), Some(100_000)).unwrap());
        let s = Sampler::new(m, &Proposal::Weights(w), 1)
            .unwrap()
            .with_threads(1)
            .unwrap();
        for k in [1usize, 1280, 4096] {
            let mut out = vec![0u32; k];
            time(&format!("call k={k} x1000"), k * 1000, || {
                for _ in 0..1000 {
                    s.negatives_into(&[0], k, s.next_call(), &mut out).unwrap();
                }
            });
        }
        return;
    }
    // ml-1m
    let text = std::fs::read_to_string("/work/shared/data/ml-1m/train.txt").unwrap();
    let (mut us, mut is) = (vec![], vec![]);
    for line in text.lines() {
        let mut it = line.split(' ').map(|x| x.parse::<u32>().unwrap());
        let u = it.next().unwrap();
        for i in it {
            us.push(u);
            is.push(i);
        }
    }
    let m = Arc::new(Interactions::from_coo(&us, &is, None, Some(3628 + 1)).unwrap());
    // shuffled users of the positives
    let mut users: Vec<u32> = us.to_vec();
    let mut x = 12345u64;
    for i in (1..users.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = ((x >> 33) % (i as u64 + 1)) as usize;
        users.swap(i, j);
    }
    let k = 4;
    let mut out = vec![0u32; users.len() * k];
    let props = if mode == "perf" {
        vec![Proposal::Uniform]
    } else {
        vec![Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }]
    };
    let excls = if mode == "perf" {
        vec![Exclusion::Auto]
    } else {
        vec![Exclusion::Auto, Exclusion::Search]
    };
    for prop in props {
        for &excl in &excls {
            for threads in [1usize, 2] {
                if mode == "perf" && threads == 2 {
                    continue;
                }
                if mode == "perf" {
                    let s = Sampler::new(m.clone(), &prop, 7)
                        .unwrap()
                        .with_threads(1)
                        .unwrap();
                    for _ in 0..300 {
                        s.negatives_into(&users, k, s.next_call(), &mut out)
                            .unwrap();
                    }
                }
                let s = Sampler::new(m.clone(), &prop, 7)
                    .unwrap()
                    .with_threads(threads)
                    .unwrap()
                    .with_exclusion(excl);
                let bytes = s.exclusion_bytes();
                time(
                    &format!("ml-1m {prop:?} {excl:?} t={threads} bm={bytes}"),
                    out.len(),
                    || {
                        s.negatives_into(&users, k, s.next_call(), &mut out)
                            .unwrap();
                    },
                );
            }
        }
    }
}
