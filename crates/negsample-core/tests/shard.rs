//! Shards: disjoint, covering every positive once per epoch, reproducible,
//! a well-mixed order, independent random streams per rank.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{assert_fits, chi_square};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::shard::Shard;
use negsample_core::{Error, Interactions, Proposal, Sampler};

fn sampler(seed: u64) -> Arc<Sampler> {
    let m = generate(&SyntheticOptions {
        num_users: 700,
        num_items: 400,
        num_interactions: 20_011,
        seed: 9,
        ..Default::default()
    })
    .unwrap();
    Arc::new(Sampler::new(Arc::new(m), &Proposal::Popularity { alpha: 0.75 }, seed).unwrap())
}

fn all_pairs(m: &Interactions) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = (0..m.num_users() as u32)
        .flat_map(|u| m.row(u).iter().map(move |&i| (u, i)))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn shards_are_disjoint_and_cover_each_epoch_exactly_once() {
    let s = sampler(1);
    let everything = all_pairs(s.interactions());
    for world in [1usize, 2, 3, 7, 64] {
        for epoch in [0u64, 1, 17] {
            let mut union = Vec::new();
            let mut sizes = Vec::new();
            for rank in 0..world {
                let shard = Shard::new(s.clone(), rank, world).unwrap();
                let (users, items) = shard.positives(epoch);
                sizes.push(users.len());
                union.extend(users.into_iter().zip(items));
            }
            union.sort_unstable();
            assert_eq!(
                union, everything,
                "world {world}, epoch {epoch}: each positive exactly once"
            );
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "balanced: {sizes:?}");
        }
    }
}

#[test]
fn shards_are_reproducible_and_change_with_the_epoch() {
    let a = Shard::new(sampler(1), 1, 3).unwrap();
    let b = Shard::new(sampler(1), 1, 3).unwrap();
    assert_eq!(
        a.positives(4),
        b.positives(4),
        "same seed, rank, epoch: same order"
    );
    assert_ne!(
        a.positives(4),
        a.positives(5),
        "another epoch, another order"
    );
    let c = Shard::new(sampler(2), 1, 3).unwrap();
    assert_ne!(
        a.positives(4),
        c.positives(4),
        "another seed, another order"
    );
    // A slice of the shard is the same as that slice of the whole.
    let (users, items) = a.positives(4);
    let (mut u, mut i) = (vec![0u32; 100], vec![0u32; 100]);
    a.positives_into(4, 250, &mut u, &mut i).unwrap();
    assert_eq!((&users[250..350], &items[250..350]), (&u[..], &i[..]));
    let err = a
        .positives_into(4, a.len() - 10, &mut u, &mut i)
        .unwrap_err();
    assert!(
        matches!(err, Error::OutOfRange { name: "start", .. }),
        "{err}"
    );
}

#[test]
fn ranks_draw_from_independent_streams() {
    let s = sampler(3);
    let shards: Vec<Shard> = (0..2)
        .map(|r| Shard::new(s.clone(), r, 2).unwrap())
        .collect();
    // The same request on two ranks: valid negatives, different draws.
    let (users, _) = shards[0].positives(0);
    let users = &users[..2000];
    let mut outs = Vec::new();
    for shard in &shards {
        let mut out = vec![0u32; users.len() * 4];
        s.negatives_into(users, 4, shard.next_call(), &mut out)
            .unwrap();
        for (j, &item) in out.iter().enumerate() {
            assert!(!s.interactions().contains(users[j / 4], item));
        }
        outs.push(out);
    }
    let same = outs[0].iter().zip(&outs[1]).filter(|(a, b)| a == b).count();
    assert!(
        same < outs[0].len() / 10,
        "{same} of {} equal",
        outs[0].len()
    );
    // And a rank's own sequence of calls is reproducible.
    let again = Shard::new(s.clone(), 1, 2).unwrap();
    let mut out = vec![0u32; users.len() * 4];
    s.negatives_into(users, 4, again.next_call(), &mut out)
        .unwrap();
    assert_eq!(out, outs[1]);
    assert_ne!(
        shards[0].next_call(),
        s.next_call(),
        "shard calls never meet sampler calls"
    );
}

/// The epoch order is well mixed: over many epochs, which positive comes
/// first in the order, and which ordered pair comes first, are uniform
/// (chi-square, p > 1e-4 at fixed seeds).
#[test]
fn epoch_order_is_uniform_over_epochs() {
    let m = Interactions::from_coo(
        &[0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
        &[0, 1, 0, 2, 1, 3, 2, 4, 0, 4],
        None,
        Some(6),
    )
    .unwrap();
    let s = Arc::new(Sampler::new(Arc::new(m), &Proposal::Uniform, 77).unwrap());
    let shard = Shard::new(s.clone(), 0, 1).unwrap();
    let n = s.interactions().nnz();
    let epochs = 60_000u64;
    let mut first = vec![0u64; n];
    let mut pairs: HashMap<(usize, usize), u64> = HashMap::new();
    for e in 0..epochs {
        let p = shard.permutation(e);
        let (a, b) = (p.at(0) as usize, p.at(1) as usize);
        first[a] += 1;
        *pairs.entry((a, b)).or_default() += 1;
    }
    assert_fits(
        "first position",
        chi_square(&first, &vec![epochs as f64 / n as f64; n]),
    );
    let cells = n * (n - 1);
    let observed: Vec<u64> = (0..n)
        .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b)))
        .map(|k| pairs.get(&k).copied().unwrap_or(0))
        .collect();
    assert_eq!(observed.iter().sum::<u64>(), epochs);
    assert_fits(
        "first two positions",
        chi_square(&observed, &vec![epochs as f64 / cells as f64; cells]),
    );

    // A larger domain: which of 1,000 positives comes first, and which
    // comes at position 500.
    let m = negsample_core::io::synthetic::generate(&SyntheticOptions {
        num_users: 100,
        num_items: 100,
        num_interactions: 1000,
        seed: 1,
        ..Default::default()
    })
    .unwrap();
    let s = Arc::new(Sampler::new(Arc::new(m), &Proposal::Uniform, 78).unwrap());
    let shard = Shard::new(s, 0, 1).unwrap();
    let (mut at0, mut at500) = (vec![0u64; 1000], vec![0u64; 1000]);
    let epochs = 200_000u64;
    for e in 0..epochs {
        let p = shard.permutation(e);
        at0[p.at(0) as usize] += 1;
        at500[p.at(500) as usize] += 1;
    }
    let expected = vec![epochs as f64 / 1000.0; 1000];
    assert_fits("position 0 of 1000", chi_square(&at0, &expected));
    assert_fits("position 500 of 1000", chi_square(&at500, &expected));
}

#[test]
fn bad_ranks_are_errors() {
    let s = sampler(1);
    let err = Shard::new(s.clone(), 3, 3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rank must be an integer in [0, 3) (world_size is 3), got 3"
    );
    assert!(matches!(
        Shard::new(s, 0, 0),
        Err(Error::OutOfRange {
            name: "world_size",
            ..
        })
    ));
}
