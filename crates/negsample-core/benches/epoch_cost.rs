//! Where an epoch's time goes in the engine alone (no JavaScript): the
//! shuffle (`Epoch::new`) and the batch fills (`Epoch::pairwise_into`), on
//! the Gowalla- and Amazon-Book-shaped synthetic sets of
//! `benches/trainer-shape.bench.mjs`, uniform proposal, batches of 2,048,
//! k = 1, one batch per fill and runs of 32, on 1 and 2 threads; and the
//! pointwise epoch with k = 4 on one thread. Best of 5 epochs.
//!
//! ```text
//! cargo run --release -p negsample-core --example epoch_cost
//! ```

use std::sync::Arc;
use std::time::Instant;

use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::{Epoch, EpochOptions, PairwiseOut, PointwiseOut, Proposal, Sampler, Shape};

const SETS: [(&str, usize, usize, u64); 2] = [
    ("Gowalla-shaped", 29_858, 40_981, 810_128),
    ("Amazon-Book-shaped", 52_643, 91_599, 2_984_108),
];

fn main() {
    for (name, users, items, nnz) in SETS {
        let m = Arc::new(
            generate(&SyntheticOptions {
                num_users: users,
                num_items: items,
                num_interactions: nnz,
                item_exponent: 1.0,
                user_exponent: 0.5,
                seed: 7,
            })
            .unwrap(),
        );
        for threads in [1usize, 2] {
            for run in [1usize, 32] {
                let s = Arc::new(
                    Sampler::new(m.clone(), &Proposal::Uniform, 7)
                        .unwrap()
                        .with_threads(threads)
                        .unwrap(),
                );
                let options = EpochOptions {
                    batch_size: 2048,
                    k: 1,
                    shape: Shape::Pairwise,
                    drop_last: false,
                };
                let rows = 2048 * run;
                let (mut u, mut p, mut n) = (vec![0u32; rows], vec![0u32; rows], vec![0u32; rows]);
                let (mut best, mut shuffle) = (f64::MAX, f64::MAX);
                for _ in 0..5 {
                    let start = Instant::now();
                    let epoch = Epoch::new(s.clone(), options).unwrap();
                    shuffle = shuffle.min(start.elapsed().as_secs_f64());
                    let mut b = 0;
                    while b < epoch.batches() {
                        let count = run.min(epoch.batches() - b);
                        let r = epoch.rows(b, count).unwrap();
                        let out = PairwiseOut {
                            users: &mut u[..r],
                            positives: &mut p[..r],
                            negatives: &mut n[..r],
                        };
                        epoch.pairwise_into(b, count, out).unwrap();
                        b += count;
                    }
                    best = best.min(start.elapsed().as_secs_f64());
                }
                let per = |t: f64| t * 1e9 / nnz as f64;
                println!(
                    "{name}, {threads} thread(s), runs of {run} batches: {:.1} M positives/s \
                     (shuffle {:.2} ns, batches {:.2} ns per positive)",
                    nnz as f64 / best / 1e6,
                    per(shuffle),
                    per(best - shuffle)
                );
            }
        }
        let s = Arc::new(
            Sampler::new(m.clone(), &Proposal::Uniform, 7)
                .unwrap()
                .with_threads(1)
                .unwrap(),
        );
        let options = EpochOptions {
            batch_size: 2048,
            k: 4,
            shape: Shape::Pointwise,
            drop_last: false,
        };
        let rows = 2048 * 5;
        let (mut u, mut i, mut l) = (vec![0u32; rows], vec![0u32; rows], vec![0f32; rows]);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            let epoch = Epoch::new(s.clone(), options).unwrap();
            for b in 0..epoch.batches() {
                let r = epoch.rows(b, 1).unwrap();
                let out = PointwiseOut {
                    users: &mut u[..r],
                    items: &mut i[..r],
                    labels: &mut l[..r],
                };
                epoch.pointwise_into(b, 1, out).unwrap();
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "{name}, pointwise k = 4, 1 thread: {:.1} M negatives/s",
            4.0 * nnz as f64 / best / 1e6
        );
    }
}
