//! The scale path at CI size: generate a power-law data set, build a
//! popularity sampler, save, open memory-mapped, sample from the mapping, and
//! check the file's size and the draws. The full-size run (10^8
//! interactions) is `benches/scale.rs`; its figures are in BENCHMARKS.md.

use std::sync::Arc;

use negsample_core::io::file_format::{open, save_parts, ProposalKey};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::{Proposal, Sampler};

#[test]
fn generate_save_open_sample_at_ci_size() {
    let options = SyntheticOptions {
        num_users: 200_000,
        num_items: 50_000,
        num_interactions: 5_000_000,
        seed: 12,
        ..Default::default()
    };
    let m = Arc::new(generate(&options).unwrap());
    assert_eq!(m.nnz(), 5_000_000);
    let proposal = Proposal::Popularity { alpha: 0.75 };
    let sampler = Sampler::new(m.clone(), &proposal, 3).unwrap();
    let path = std::env::temp_dir().join(format!("negsample-scale-{}.nsb", std::process::id()));
    save_parts(
        &path,
        &m,
        None,
        None,
        &[(ProposalKey::of(&proposal), sampler.table())],
    )
    .unwrap();
    let bytes = std::fs::metadata(&path).unwrap().len() as usize;
    // 4 bytes per interaction, 8 per user (+1), 8 per item for the table,
    // plus a header, a directory and alignment padding.
    let arrays = 4 * m.nnz() + 8 * (m.num_users() + 1) + 8 * m.num_items();
    assert!(
        bytes >= arrays && bytes < arrays + 4096,
        "{bytes} bytes for {arrays} of arrays"
    );

    let stored = open(&path, true).unwrap();
    std::fs::remove_file(&path).unwrap(); // the mapping stays valid
    assert_eq!(stored.dataset.interactions, *m);
    let opened = Arc::new(stored.dataset.interactions.clone());
    let from_file =
        Sampler::from_table(opened.clone(), stored.table(&proposal).unwrap(), 3).unwrap();
    let users: Vec<u32> = (0..200_000u32)
        .filter(|&u| sampler.has_negative(u))
        .collect();
    let (mut a, mut b) = (vec![0u32; users.len() * 8], vec![0u32; users.len() * 8]);
    sampler.negatives_into(&users, 8, 0, &mut a).unwrap();
    from_file.negatives_into(&users, 8, 0, &mut b).unwrap();
    assert_eq!(a, b, "the mapped sampler draws the same items");
    for (j, &item) in b.iter().enumerate() {
        assert!(!opened.contains(users[j / 8], item));
    }
}
