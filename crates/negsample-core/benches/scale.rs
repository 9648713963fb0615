//! Build time and memory at scale: generate a power-law data set, build a
//! popularity sampler, save it, open it memory-mapped, sample from it.
//!
//! ```sh
//! cargo run --release -p negsample-core --example scale -- 10000000 1000000 100000000
//! /usr/bin/time -v target/release/examples/scale 10000000 1000000 100000000   # peak RSS
//! ```
//!
//! Arguments: users, items, interactions (defaults 10^7, 10^6, 10^8), then an
//! optional directory for the file (default: the system temp directory).
//! Prints each step's wall time and the process's peak resident set so far
//! (VmHWM from /proc/self/status, Linux only).

use std::sync::Arc;
use std::time::Instant;

use negsample_core::io::file_format::{open, save_parts, ProposalKey};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::{Proposal, Sampler};

fn peak_rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or("n/a".into(), |kb| format!("{:.0} MiB", kb / 1024.0))
}

fn step<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    println!(
        "{label:<44} {:>9.3} s   peak RSS so far {}",
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: f64| -> f64 {
        args.get(i)
            .map_or(default, |s| s.parse().expect("a number"))
    };
    let options = SyntheticOptions {
        num_users: num(0, 1e7) as usize,
        num_items: num(1, 1e6) as usize,
        num_interactions: num(2, 1e8) as u64,
        seed: 1,
        ..Default::default()
    };
    let dir = args.get(3).map_or_else(std::env::temp_dir, Into::into);
    let path = dir.join(format!("negsample-scale-{}.nsb", std::process::id()));
    println!(
        "{} users, {} items, {} interactions, {} threads",
        options.num_users,
        options.num_items,
        options.num_interactions,
        rayon::current_num_threads()
    );
    let m = step("generate (synthetic, power law)", || {
        generate(&options).unwrap()
    });
    let nnz = m.nnz();
    let m = Arc::new(m);
    let proposal = Proposal::Popularity { alpha: 0.75 };
    let sampler = step("Sampler::new (popularity^0.75)", || {
        Sampler::new(m.clone(), &proposal, 7).unwrap()
    });
    let heavy = (0..m.num_users() as u32)
        .filter(|&u| sampler.uses_complement(u))
        .count();
    step("save (matrix + alias table)", || {
        save_parts(
            &path,
            &m,
            None,
            None,
            &[(ProposalKey::of(&proposal), sampler.table())],
        )
        .unwrap()
    });
    let bytes = std::fs::metadata(&path).unwrap().len();
    drop((sampler, m));
    let fast = step("open, verify: false", || open(&path, false).unwrap());
    drop(fast);
    let stored = step("open, verify: true (checksums + structure)", || {
        open(&path, true).unwrap()
    });
    let opened = Arc::new(stored.dataset.interactions.clone());
    let table = stored.table(&proposal).unwrap();
    let sampler = step("Sampler::from_table on the mapping", || {
        Sampler::from_table(opened.clone(), table, 7).unwrap()
    });
    let users: Vec<u32> = (0..10_000_000u64)
        .map(|j| (j * 2_654_435_761 % opened.num_users() as u64) as u32)
        .filter(|&u| sampler.has_negative(u))
        .collect();
    let mut out = vec![0u32; users.len()];
    step("10^7 negatives (one call)", || {
        sampler
            .negatives_into(&users, 1, sampler.next_call(), &mut out)
            .unwrap()
    });
    let bad = users
        .iter()
        .zip(&out)
        .filter(|&(&u, &i)| opened.contains(u, i))
        .count();
    println!(
        "nnz {nnz}, file {:.1} MiB ({:.2} B per interaction), {heavy} complement users, {bad} negatives were positives",
        bytes as f64 / (1 << 20) as f64,
        bytes as f64 / nnz as f64
    );
    std::fs::remove_file(&path).unwrap();
    assert_eq!(bad, 0);
}
