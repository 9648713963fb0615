//! Every draw kernel this CPU can run gives the scalar kernel's output, bit
//! for bit: over many seeds, run lengths (including the tails that do not
//! fill a vector step), starting counters (including ones that wrap), table
//! sizes and table kinds (the uniform fast path, skewed and random weights,
//! zero weights, a single item, and a table beyond the caches that the
//! kernels prefetch). Then the same through whole sampling calls, with
//! exclusion, complement users and redraws.
//!
//! On x86-64 this covers AVX2 and AVX-512 where the CPU has them; on
//! aarch64, NEON. The test prints which kernels it compared.

mod common;

use std::sync::Arc;

use common::TestRng;
use negsample_core::probe::split_word;
use negsample_core::{
    fill_picks, fill_picks_scalar, fill_picks_with, AliasTable, Domain, Error, Interactions,
    Kernel, Proposal, Sampler, Stream, BLOCK,
};

/// The kernels to compare with the reference loop `fill_picks_scalar`:
/// every available one, the scalar kernel included (its dispatch has a
/// prefetching variant for tables beyond the caches).
fn vector_kernels() -> Vec<Kernel> {
    let kernels = Kernel::available();
    eprintln!("comparing with the scalar reference: {kernels:?}");
    kernels
}

/// Tables of every kind the kernels treat differently.
fn tables(rng: &mut TestRng) -> Vec<(String, AliasTable)> {
    let mut out = Vec::new();
    for n in [1usize, 2, 3, 5, 16, 17, 1000, 65_537, 1_000_003] {
        out.push((format!("uniform {n}"), AliasTable::uniform(n).unwrap()));
    }
    for n in [1usize, 2, 3, 7, 31, 4096, 100_003] {
        let w: Vec<f64> = (0..n).map(|_| rng.unit() * 10.0).collect();
        out.push((format!("random {n}"), AliasTable::from_weights(&w).unwrap()));
    }
    let zipf: Vec<f64> = (0..50_000)
        .map(|i| (1.0 / (i as f64 + 1.0)).powf(0.75))
        .collect();
    out.push((
        "zipf^0.75 50000".into(),
        AliasTable::from_weights(&zipf).unwrap(),
    ));
    let zeros: Vec<f64> = (0..999)
        .map(|i| if i % 3 == 0 { 0.0 } else { (i % 11) as f64 })
        .collect();
    out.push((
        "a third zero".into(),
        AliasTable::from_weights(&zeros).unwrap(),
    ));
    let mut skewed = vec![1e-9; 300];
    skewed[17] = 1e6;
    out.push((
        "one heavy item".into(),
        AliasTable::from_weights(&skewed).unwrap(),
    ));
    // Beyond the FAR_TABLE threshold (2^20 slots): the prefetching path.
    let far: Vec<f64> = (0..(1usize << 20) + 5)
        .map(|i| 1.0 + (i % 97) as f64)
        .collect();
    out.push(("far 2^20+5".into(), AliasTable::from_weights(&far).unwrap()));
    out
}

#[test]
fn every_kernel_reproduces_the_scalar_kernel() {
    let kernels = vector_kernels();
    let mut rng = TestRng::new(3);
    let lengths: Vec<usize> = (0..=70)
        .chain([127, 128, 129, 255, 1000, 1023, BLOCK - 1, BLOCK, BLOCK + 13])
        .collect();
    let firsts = [
        0u64,
        1,
        7,
        15,
        4096,
        123_456_789,
        (1 << 32) - 3,
        u64::MAX - 40,
    ];
    let mut compared = 0usize;
    for (name, table) in tables(&mut rng) {
        for case in 0..6u64 {
            let seed = rng.next_u64();
            let stream = Stream::new(seed, Domain::Negatives, case, rng.below(1000));
            let len = lengths[rng.below(lengths.len() as u64) as usize];
            let first = firsts[(case as usize + name.len()) % firsts.len()];
            let mut expected = vec![0u32; len];
            fill_picks_scalar(&table, &stream, first, &mut expected);
            for &kernel in &kernels {
                let mut got = vec![u32::MAX; len];
                fill_picks_with(kernel, &table, &stream, first, &mut got);
                assert_eq!(
                    got, expected,
                    "{kernel} differs from scalar: table {name}, seed {seed}, first {first}, len {len}"
                );
                compared += len;
            }
        }
    }
    // Every length, on the two fast paths, from a few starting counters.
    let uniform = AliasTable::uniform(12_345).unwrap();
    let weighted = AliasTable::from_weights(&[3.0, 0.0, 1.0, 7.5, 0.25]).unwrap();
    for table in [&uniform, &weighted] {
        for len in 0..=70 {
            for first in [0u64, 5, 4096 + 3] {
                let stream = Stream::new(len as u64, Domain::Negatives, 1, 2);
                let mut expected = vec![0u32; len];
                fill_picks_scalar(table, &stream, first, &mut expected);
                for &kernel in &kernels {
                    let mut got = vec![u32::MAX; len];
                    fill_picks_with(kernel, table, &stream, first, &mut got);
                    assert_eq!(got, expected, "{kernel}: len {len}, first {first}");
                    compared += len;
                }
            }
        }
    }
    assert!(
        kernels.is_empty() || compared > 10_000,
        "compared {compared} draws"
    );
}

/// A table read through its 4-byte digests (`CompactSlots`) whose coins
/// often fall on a digest's threshold bits: with 2^20 - 3 items the digests
/// keep 12 threshold bits, so about one draw in 4,096 needs the full slot.
/// Those draws, and the runs around them, must still be the scalar ones.
#[test]
fn draws_that_the_compact_digests_cannot_decide_are_the_scalar_ones() {
    let n = (1usize << 20) - 3;
    let weights: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 7919) % 1009) as f64).collect();
    let table = AliasTable::from_weights(&weights).unwrap();
    let compact = table
        .compact()
        .expect("a table of under 2^20 items has digests");
    let stream = Stream::new(99, Domain::Negatives, 3, 4);
    let len = (1 << 20) + 77;
    let first = 11;

    // The test means something only if such draws occur.
    let undecided = (0..len as u64)
        .filter(|&i| {
            let (slot, coin) = split_word(stream.word(first + i), n as u32);
            compact.pick(slot, coin).is_none()
        })
        .count();
    assert!(undecided > 100, "only {undecided} undecided draws");

    let mut expected = vec![0u32; len];
    fill_picks_scalar(&table, &stream, first, &mut expected);
    for kernel in vector_kernels() {
        let mut got = vec![u32::MAX; len];
        fill_picks_with(kernel, &table, &stream, first, &mut got);
        assert!(
            got == expected,
            "{kernel} differs from scalar ({undecided} undecided draws)"
        );
    }
}

#[test]
fn the_default_entry_point_is_the_scalar_output() {
    let table = AliasTable::from_weights(&[1.0, 2.0, 3.0, 4.0, 0.0, 6.0]).unwrap();
    let stream = Stream::new(9, Domain::Negatives, 0, 0);
    let (mut a, mut b) = (vec![0u32; 1001], vec![0u32; 1001]);
    fill_picks(&table, &stream, 3, &mut a);
    fill_picks_scalar(&table, &stream, 3, &mut b);
    assert_eq!(a, b);
}

/// A random matrix with light users, heavy (complement) users, users with
/// no positives, and long rows (bitmap users).
fn mixed_matrix(rng: &mut TestRng, num_users: usize, num_items: usize) -> Arc<Interactions> {
    let (mut users, mut items) = (Vec::new(), Vec::new());
    for u in 0..num_users {
        let density = match u % 5 {
            0 => 0.0,
            1 => 0.8,
            2 => 0.3,
            _ => 0.02,
        };
        for i in 0..num_items {
            if rng.chance(density) {
                users.push(u as u32);
                items.push(i as u32);
            }
        }
    }
    Arc::new(Interactions::from_coo(&users, &items, Some(num_users), Some(num_items)).unwrap())
}

#[test]
fn sampling_calls_are_identical_on_every_kernel() {
    let kernels = vector_kernels();
    let mut rng = TestRng::new(17);
    for (case, (num_users, num_items)) in [(40, 37), (25, 1000), (7, 5), (60, 300)]
        .into_iter()
        .enumerate()
    {
        let m = mixed_matrix(&mut rng, num_users, num_items);
        let proposals = [
            Proposal::Uniform,
            Proposal::Popularity { alpha: 0.75 },
            Proposal::Weights((0..num_items).map(|i| ((i * 7) % 5) as f64).collect()),
        ];
        for proposal in proposals {
            let Ok(base) = Sampler::new(m.clone(), &proposal, 1000 + case as u64) else {
                continue; // e.g. popularity with no interactions at all
            };
            let reference = base.with_kernel(Kernel::Scalar).unwrap();
            let users: Vec<u32> = (0..3000)
                .map(|_| rng.below(num_users as u64) as u32)
                .filter(|&u| reference.has_negative(u))
                .collect();
            for k in [1usize, 3, 4, 7] {
                let len = users.len() * k;
                let mut expected = vec![0u32; len];
                reference
                    .negatives_into(&users, k, 5, &mut expected)
                    .unwrap();
                for &kernel in &kernels {
                    let sampler = Sampler::new(m.clone(), &proposal, 1000 + case as u64)
                        .unwrap()
                        .with_kernel(kernel)
                        .unwrap();
                    assert_eq!(sampler.kernel(), kernel);
                    let mut got = vec![0u32; len];
                    sampler.negatives_into(&users, k, 5, &mut got).unwrap();
                    assert_eq!(got, expected, "{kernel}: case {case}, {proposal:?}, k {k}");
                }
            }
        }
    }
}

#[test]
fn kernel_names_and_availability() {
    for kernel in Kernel::ALL {
        assert_eq!(Kernel::parse(kernel.name()), Some(kernel));
        assert_eq!(kernel.to_string(), kernel.name());
    }
    assert_eq!(Kernel::parse("sse9"), None);
    assert!(Kernel::Scalar.is_available());
    assert!(Kernel::best().is_available());
    assert_eq!(Kernel::available().last(), Some(&Kernel::best()));
    #[cfg(target_arch = "x86_64")]
    assert!(!Kernel::Neon.is_available());
    #[cfg(target_arch = "aarch64")]
    assert!(!Kernel::Avx2.is_available() && !Kernel::Avx512.is_available());
}

#[test]
fn an_unavailable_or_unknown_kernel_is_a_clear_error() {
    let m = Arc::new(Interactions::from_coo(&[0], &[1], None, Some(3)).unwrap());
    for kernel in Kernel::ALL.into_iter().filter(|k| !k.is_available()) {
        let err = Sampler::new(m.clone(), &Proposal::Uniform, 1)
            .unwrap()
            .with_kernel(kernel)
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::OutOfRange { name: "kernel", .. }));
        assert!(message.contains(kernel.name()), "{message}");
        assert!(
            message.contains("'scalar'"),
            "lists what can run: {message}"
        );
    }
    let err = Kernel::checked("NEGSAMPLE_KERNEL", "fastest").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "NEGSAMPLE_KERNEL must be a kernel this CPU can run: {}, got 'fastest'",
            Kernel::available()
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
}

#[test]
#[should_panic(expected = "cannot run on this CPU")]
fn forcing_an_unavailable_kernel_panics_instead_of_faulting() {
    let kernel = Kernel::ALL
        .into_iter()
        .find(|k| !k.is_available())
        .expect("no CPU runs both NEON and AVX2");
    let table = AliasTable::uniform(4).unwrap();
    let stream = Stream::new(0, Domain::Negatives, 0, 0);
    fill_picks_with(kernel, &table, &stream, 0, &mut [0; 16]);
}
