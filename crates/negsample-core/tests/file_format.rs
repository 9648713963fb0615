//! The binary file: save / open round trips with byte-identical sampling,
//! and clear errors for other versions, corrupt and truncated files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use negsample_core::io::delimited::{read_delimited, Column, DelimitedOptions};
use negsample_core::io::file_format::{open, save, ProposalKey, FORMAT_VERSION};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::io::{Dataset, IdMap};
use negsample_core::{Error, Proposal, Sampler};

struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("negsample-format-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir.join(name))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn synthetic_dataset() -> Dataset {
    let m = generate(&SyntheticOptions {
        num_users: 3000,
        num_items: 800,
        num_interactions: 60_000,
        seed: 5,
        ..Default::default()
    })
    .unwrap();
    // String user ids and integer item ids, to store both kinds of map.
    let users: Vec<String> = (0..m.num_users()).map(|u| format!("user-{u:05}")).collect();
    let items: Vec<i64> = (0..m.num_items() as i64).map(|i| 1000 + 7 * i).collect();
    Dataset {
        interactions: m,
        users: Some(IdMap::from_keys(&users).unwrap()),
        items: Some(IdMap::from_ints(items).unwrap()),
    }
}

/// Everything a sampler produces over a few calls, as one byte string.
fn sampling_trace(sampler: &Sampler) -> Vec<u32> {
    let m = sampler.interactions().clone();
    let users: Vec<u32> = (0..m.num_users() as u32)
        .filter(|&u| sampler.has_negative(u))
        .collect();
    let mut out = Vec::new();
    for k in [1usize, 5] {
        let mut negatives = vec![0u32; users.len() * k];
        sampler
            .negatives_into(&users, k, sampler.next_call(), &mut negatives)
            .unwrap();
        out.extend(negatives);
    }
    let (pu, pi) = sampler.shuffled_positives(sampler.next_call());
    let keep: Vec<usize> = (0..pu.len())
        .filter(|&j| sampler.has_negative(pu[j]))
        .collect();
    let pu: Vec<u32> = keep.iter().map(|&j| pu[j]).collect();
    let pi: Vec<u32> = keep.iter().map(|&j| pi[j]).collect();
    let batch = sampler.pairwise(&pu, &pi, 2, sampler.next_call()).unwrap();
    out.extend(batch.users);
    out.extend(batch.positives);
    out.extend(batch.negatives);
    let batch = sampler.pointwise(&pu, &pi, 3, sampler.next_call()).unwrap();
    out.extend(batch.items);
    out
}

fn round_trip(data: &Dataset, label: &str) {
    let file = Temp::new(&format!("{label}.nsb"));
    let original = Arc::new(data.interactions.clone());
    let proposals = [
        Proposal::Uniform,
        Proposal::Popularity { alpha: 0.75 },
        Proposal::Popularity { alpha: 0.5 },
    ];
    let samplers: Vec<Sampler> = proposals
        .iter()
        .map(|p| Sampler::new(original.clone(), p, 42).unwrap())
        .collect();
    let tables: Vec<(ProposalKey, _)> = proposals
        .iter()
        .zip(&samplers)
        .skip(1) // the uniform table is not stored: it is rebuilt in O(1) per slot
        .map(|(p, s)| (ProposalKey::of(p), s.table()))
        .collect();
    save(&file.0, data, &tables).unwrap();
    for verify in [true, false] {
        let stored = open(&file.0, verify).unwrap();
        assert_eq!(stored.dataset, *data, "{label}: same matrix and id maps");
        assert!(stored.dataset.interactions.indices().len() == data.interactions.nnz());
        assert_eq!(stored.bytes, std::fs::metadata(&file.0).unwrap().len());
        let opened = Arc::new(stored.dataset.interactions.clone());
        for (proposal, sampler) in proposals.iter().zip(&samplers) {
            let reference = Sampler::new(original.clone(), proposal, 42).unwrap();
            let expected = sampling_trace(&reference);
            // From the stored table where there is one, else built from the
            // mapped matrix: the same draws either way.
            let from_file = match stored.table(proposal) {
                Some(table) => {
                    assert_eq!(table.slots(), sampler.table().slots());
                    Sampler::from_table(opened.clone(), table, 42).unwrap()
                }
                None => Sampler::new(opened.clone(), proposal, 42).unwrap(),
            };
            assert_eq!(
                sampling_trace(&from_file),
                expected,
                "{label}, {proposal:?}, verify {verify}: byte-identical sampling"
            );
        }
        assert!(stored.table(&Proposal::Popularity { alpha: 0.6 }).is_none());
    }
}

#[test]
fn round_trip_synthetic_with_both_kinds_of_id_map() {
    round_trip(&synthetic_dataset(), "synthetic");
}

#[test]
fn round_trip_movielens_small() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/movielens-small/ratings.csv");
    if !path.is_file() {
        eprintln!("skipped: {} is absent", path.display());
        return;
    }
    let options = DelimitedOptions {
        user: Column::Name("userId".into()),
        item: Column::Name("movieId".into()),
        ..Default::default()
    };
    round_trip(
        &read_delimited(&path, &options, None).unwrap(),
        "movielens-small",
    );
}

fn format_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result.unwrap_err() {
        e @ Error::FileFormat { .. } => e.to_string(),
        other => panic!("expected a file-format error, got {other}"),
    }
}

#[test]
fn other_versions_corrupt_and_truncated_files_are_refused() {
    let data = synthetic_dataset();
    let sampler = Sampler::new(
        Arc::new(data.interactions.clone()),
        &Proposal::Popularity { alpha: 0.75 },
        1,
    )
    .unwrap();
    let good = Temp::new("good.nsb");
    save(
        &good.0,
        &data,
        &[(
            ProposalKey::of(&Proposal::Popularity { alpha: 0.75 }),
            sampler.table(),
        )],
    )
    .unwrap();
    let bytes = std::fs::read(&good.0).unwrap();
    let bad = Temp::new("bad.nsb");
    let with = |edit: &dyn Fn(&mut Vec<u8>)| {
        let mut b = bytes.clone();
        edit(&mut b);
        std::fs::write(&bad.0, &b).unwrap();
    };

    with(&|b| b[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes()));
    let m = format_message(open(&bad.0, false));
    assert!(
        m.contains(&format!("format version {}", FORMAT_VERSION + 1))
            && m.contains(&format!("reads version {FORMAT_VERSION}")),
        "{m}"
    );
    assert!(
        m.starts_with(&bad.0.display().to_string()),
        "names the file: {m}"
    );

    with(&|b| b[0] = b'X');
    assert!(format_message(open(&bad.0, false)).contains("magic"));

    with(&|b| b.truncate(b.len() / 2));
    assert!(format_message(open(&bad.0, false)).contains("truncated"));
    with(&|b| b.truncate(100));
    assert!(format_message(open(&bad.0, false)).contains("truncated"));

    with(&|b| b[40] ^= 1); // the item count, covered by the header checksum
    assert!(format_message(open(&bad.0, false)).contains("header checksum"));

    // One flipped bit near the end (inside the last section, the alias
    // table): found with verify, not without.
    let last = bytes.len() - 3;
    with(&|b| b[last] ^= 0x10);
    let m = format_message(open(&bad.0, true));
    assert!(m.contains("checksum of section 'alias table'"), "{m}");
    assert!(
        open(&bad.0, false).is_ok(),
        "without verify only the header is checked"
    );

    // A flip in the middle of the file: some section's checksum fails.
    let middle = bytes.len() / 2;
    with(&|b| b[middle] ^= 0x01);
    assert!(format_message(open(&bad.0, true)).contains("checksum of section"));

    std::fs::write(&bad.0, b"userId,movieId\n1,2\n").unwrap();
    assert!(format_message(open(&bad.0, true)).contains("magic"));
    std::fs::write(&bad.0, b"").unwrap();
    assert!(format_message(open(&bad.0, true)).contains("truncated"));

    let err = open(Path::new("/nonexistent/negsample.nsb"), true).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn saving_replaces_atomically_and_checks_tables() {
    let data = synthetic_dataset();
    let file = Temp::new("replace.nsb");
    std::fs::write(&file.0, b"old contents").unwrap();
    save(&file.0, &data, &[]).unwrap();
    assert_eq!(open(&file.0, true).unwrap().dataset, data);
    let small = negsample_core::AliasTable::uniform(3).unwrap();
    let err = save(&file.0, &data, &[(ProposalKey::Uniform, &small)]).unwrap_err();
    assert!(
        matches!(err, Error::LengthMismatch { name: "table", .. }),
        "{err}"
    );
    // A failed save leaves the previous file intact.
    assert_eq!(open(&file.0, true).unwrap().dataset, data);
}

#[test]
fn a_stored_uniform_table_round_trips_and_is_checked() {
    let data = synthetic_dataset();
    let m = Arc::new(data.interactions.clone());
    let sampler = Sampler::new(m.clone(), &Proposal::Uniform, 4).unwrap();
    let file = Temp::new("uniform.nsb");
    save(&file.0, &data, &[(ProposalKey::Uniform, sampler.table())]).unwrap();
    let stored = open(&file.0, true).unwrap();
    let table = stored.table(&Proposal::Uniform).unwrap();
    assert!(table.is_uniform());
    let from_file =
        Sampler::from_table(Arc::new(stored.dataset.interactions.clone()), table, 4).unwrap();
    assert_eq!(
        sampling_trace(&from_file),
        sampling_trace(&Sampler::new(m, &Proposal::Uniform, 4).unwrap())
    );
    // A popularity table stored under the uniform key is refused by verify.
    let popular = Sampler::new(
        Arc::new(data.interactions.clone()),
        &Proposal::Popularity { alpha: 1.0 },
        4,
    )
    .unwrap();
    save(&file.0, &data, &[(ProposalKey::Uniform, popular.table())]).unwrap();
    let err = open(&file.0, true).unwrap_err();
    assert!(err.to_string().contains("uniform layout"), "{err}");
}
