//! `cargo bench -p negsample-core`: the engine's draw kernels against
//! `rand_distr::WeightedAliasIndex`, and the two membership tests of
//! exclusion on MovieLens-1M.
//!
//! - popularity^0.75 over 10^5 and 10^7 items (a Zipf law of counts, ranks
//!   spread over the ids by a fixed permutation), 10^6 draws per iteration:
//!   `WeightedAliasIndex` (f64 weights, `SmallRng`), then every kernel this
//!   CPU runs, writing blocks of 4,096 draws as the sampler does;
//! - the uniform fast path over 10^5 items, every kernel;
//! - negatives with exclusion on `../shared/data/ml-1m` (4 per training
//!   positive, users in a shuffled order, one thread): per-user bitmaps for
//!   long rows (the default) against binary search in every row. Skipped
//!   with a message where the data set is absent.
//!
//! Before timing, each engine kernel is checked to reproduce the scalar
//! kernel's draws, and the exclusion variants to give identical negatives
//! with no positive among them.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use negsample_core::{
    fill_picks_with, AliasTable, Domain, Exclusion, Interactions, Kernel, Proposal, Sampler,
    Stream, BLOCK,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::weighted::WeightedAliasIndex;

const DRAWS: usize = 1_000_000;

/// A fixed permutation of `0..n` (an LCG-driven Fisher-Yates).
fn permutation(n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in (1..n).rev() {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        p.swap(i, ((x >> 33) % (i as u64 + 1)) as usize);
    }
    p
}

/// popularity^0.75: rank r was seen floor(10^6 / (r + 1)) + 1 times.
fn popularity_weights(n: usize) -> Vec<f64> {
    let perm = permutation(n);
    let mut w = vec![0.0; n];
    for (r, &i) in perm.iter().enumerate() {
        w[i] = ((1_000_000 / (r + 1)) as f64 + 1.0).powf(0.75);
    }
    w
}

/// `DRAWS` draws in blocks, as the sampler makes them.
fn fill(kernel: Kernel, table: &AliasTable, call: u64, out: &mut [u32]) {
    for (b, chunk) in out.chunks_mut(BLOCK).enumerate() {
        let stream = Stream::new(1, Domain::Negatives, call, b as u64);
        fill_picks_with(kernel, table, &stream, 0, chunk);
    }
}

fn check_kernels(table: &AliasTable) {
    let (mut expected, mut got) = (vec![0u32; 100_003], vec![0u32; 100_003]);
    fill(Kernel::Scalar, table, 0, &mut expected);
    for kernel in Kernel::available() {
        fill(kernel, table, 0, &mut got);
        assert_eq!(got, expected, "{kernel} differs from the scalar kernel");
    }
}

fn alias(c: &mut Criterion) {
    for n in [100_000usize, 10_000_000] {
        let weights = popularity_weights(n);
        let table = AliasTable::from_weights(&weights).unwrap();
        check_kernels(&table);
        let rand_alias = WeightedAliasIndex::new(weights).unwrap();
        let mut group = c.benchmark_group(format!("popularity^0.75, {n} items, 1e6 draws"));
        group.throughput(Throughput::Elements(DRAWS as u64));
        group.sample_size(20);
        let mut out = vec![0u32; DRAWS];
        let mut rng = SmallRng::seed_from_u64(7);
        group.bench_function("rand_distr WeightedAliasIndex", |b| {
            b.iter(|| {
                for o in out.iter_mut() {
                    *o = rng.sample(&rand_alias) as u32;
                }
                black_box(&out);
            })
        });
        let mut call = 0u64;
        for kernel in Kernel::available() {
            group.bench_function(BenchmarkId::new("negsample", kernel), |b| {
                b.iter(|| {
                    call += 1;
                    fill(kernel, &table, call, &mut out);
                    black_box(&out);
                })
            });
        }
        group.finish();
    }

    let uniform = AliasTable::uniform(100_000).unwrap();
    check_kernels(&uniform);
    let mut group = c.benchmark_group("uniform, 100000 items, 1e6 draws");
    group.throughput(Throughput::Elements(DRAWS as u64));
    group.sample_size(20);
    let mut out = vec![0u32; DRAWS];
    let mut rng = SmallRng::seed_from_u64(7);
    group.bench_function("rand random_range", |b| {
        b.iter(|| {
            for o in out.iter_mut() {
                *o = rng.random_range(0..100_000u32);
            }
            black_box(&out);
        })
    });
    for kernel in Kernel::available() {
        group.bench_function(BenchmarkId::new("negsample", kernel), |b| {
            b.iter(|| {
                fill(kernel, &uniform, 3, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

/// MovieLens-1M training positives (adjacency lines `user item item ...`),
/// items counted over train, valid and test; `None` if absent.
fn ml_1m() -> Option<(Vec<u32>, Vec<u32>, usize)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ml-1m");
    let train = std::fs::read_to_string(dir.join("train.txt")).ok()?;
    let (mut users, mut items) = (Vec::new(), Vec::new());
    let mut num_items = 0usize;
    for (name, text) in ["train.txt", "valid.txt", "test.txt"].iter().map(|f| {
        let text = if *f == "train.txt" {
            train.clone()
        } else {
            std::fs::read_to_string(dir.join(f)).unwrap_or_default()
        };
        (*f, text)
    }) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut ids = line.split_whitespace().map(|x| x.parse::<u32>().unwrap());
            let u = ids.next().unwrap();
            for i in ids {
                num_items = num_items.max(i as usize + 1);
                if name == "train.txt" {
                    users.push(u);
                    items.push(i);
                }
            }
        }
    }
    Some((users, items, num_items))
}

fn exclusion(c: &mut Criterion) {
    let Some((users, items, num_items)) = ml_1m() else {
        eprintln!("exclusion benchmark skipped: ../shared/data/ml-1m/train.txt is absent");
        return;
    };
    let m = Arc::new(Interactions::from_coo(&users, &items, None, Some(num_items)).unwrap());
    // The users of every positive, shuffled (an epoch's order).
    let mut batch: Vec<u32> = users.to_vec();
    let perm = permutation(batch.len());
    batch = perm.iter().map(|&j| batch[j]).collect();
    let k = 4;
    let mut group = c.benchmark_group("ml-1m negatives with exclusion, 4 per positive, 1 thread");
    group.throughput(Throughput::Elements((batch.len() * k) as u64));
    group.sample_size(20);
    for proposal in [Proposal::Uniform, Proposal::Popularity { alpha: 0.75 }] {
        let name = match proposal {
            Proposal::Uniform => "uniform",
            _ => "popularity^0.75",
        };
        let make = |exclusion| {
            Sampler::new(m.clone(), &proposal, 5)
                .unwrap()
                .with_threads(1)
                .unwrap()
                .with_exclusion(exclusion)
        };
        let (bitmaps, search) = (make(Exclusion::Auto), make(Exclusion::Search));
        let (mut a, mut b) = (vec![0u32; batch.len() * k], vec![0u32; batch.len() * k]);
        bitmaps.negatives_into(&batch, k, 0, &mut a).unwrap();
        search.negatives_into(&batch, k, 0, &mut b).unwrap();
        assert_eq!(a, b, "the membership tests disagree");
        for (j, chunk) in a.chunks(k).enumerate() {
            assert!(
                chunk.iter().all(|&i| !m.contains(batch[j], i)),
                "a positive"
            );
        }
        eprintln!(
            "ml-1m {name}: codes and bitmaps take {} bytes ({:.2} per positive)",
            bitmaps.exclusion_bytes(),
            bitmaps.exclusion_bytes() as f64 / m.nnz() as f64
        );
        for (label, sampler) in [("bitmaps (default)", &bitmaps), ("binary search", &search)] {
            let mut call = 1;
            group.bench_function(BenchmarkId::new(name, label), |bench| {
                bench.iter(|| {
                    call += 1;
                    sampler.negatives_into(&batch, k, call, &mut a).unwrap();
                    black_box(&a);
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, alias, exclusion);
criterion_main!(benches);
