//! Loaders: real data sets (checked against a plain reference parse written
//! here), malformed files (each error names the file, the line and what was
//! wrong), filters, progress, and files larger than one read block.
//!
//! Tests that need `../shared/data` skip with a message where it is absent.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use common::TestRng;
use negsample_core::io::adjacency::{read_adjacency, AdjacencyOptions};
use negsample_core::io::delimited::{read_delimited, Column, DelimitedOptions};
use negsample_core::io::movielens::read_movielens_dat;
use negsample_core::io::{Dataset, Filters, Original, BLOCK_BYTES};
use negsample_core::{Error, Interactions};

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

/// A temporary file that removes itself.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, contents: &[u8]) -> Self {
        let dir = std::env::temp_dir().join(format!("negsample-loading-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        Temp(path)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reference parse of adjacency lines: (user, item) pairs.
fn reference_adjacency(path: &Path) -> BTreeSet<(u32, u32)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut pairs = BTreeSet::new();
    for line in text.lines() {
        let mut ids = line.split_whitespace().map(|t| t.parse::<u32>().unwrap());
        if let Some(u) = ids.next() {
            pairs.extend(ids.map(|i| (u, i)));
        }
    }
    pairs
}

fn pairs_of(m: &Interactions) -> BTreeSet<(u32, u32)> {
    (0..m.num_users() as u32)
        .flat_map(|u| m.row(u).iter().map(move |&i| (u, i)))
        .collect()
}

fn parse_err(result: Result<impl std::fmt::Debug, Error>) -> (String, u64, String) {
    match result.unwrap_err() {
        Error::Parse {
            file,
            line,
            message,
        } => (file, line, message),
        other => panic!("expected a parse error, got {other}"),
    }
}

fn split_test(name: &str) {
    let Some(dir) = data_dir() else { return };
    let dir = dir.join(name);
    let paths: Vec<PathBuf> = ["train.txt", "valid.txt", "test.txt"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let mut calls = Vec::new();
    let mut progress = |done: u64, total: u64| calls.push((done, total));
    let splits = read_adjacency(&refs, &AdjacencyOptions::default(), Some(&mut progress)).unwrap();
    let expected: Vec<BTreeSet<(u32, u32)>> =
        paths.iter().map(|p| reference_adjacency(p)).collect();
    let max_item = expected.iter().flatten().map(|p| p.1).max().unwrap();
    let max_user = expected.iter().flatten().map(|p| p.0).max().unwrap();
    let train_max_item = expected[0].iter().map(|p| p.1).max().unwrap();
    assert!(
        max_item > train_max_item,
        "{name}: some items occur only outside train"
    );
    for (split, pairs) in splits.iter().zip(&expected) {
        let m = &split.interactions;
        assert_eq!(
            m.num_items() as u32,
            max_item + 1,
            "{name}: shared item count"
        );
        assert_eq!(
            m.num_users() as u32,
            max_user + 1,
            "{name}: shared user count"
        );
        assert_eq!(&pairs_of(m), pairs, "{name}: every pair, nothing else");
        assert!(split.users.is_none() && split.items.is_none());
    }
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(
        calls.last(),
        Some(&(total, total)),
        "progress ends at the total"
    );
    assert!(
        calls.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress never goes back"
    );
}

#[test]
fn lastfm_splits_share_one_id_space() {
    split_test("lastfm");
}

#[test]
fn ml_1m_splits_share_one_id_space() {
    split_test("ml-1m");
}

#[test]
fn movielens_small_csv_with_header_and_sparse_ids() {
    let Some(dir) = data_dir() else { return };
    let path = dir.join("movielens-small/ratings.csv");
    let options = DelimitedOptions {
        user: Column::Name("userId".into()),
        item: Column::Name("movieId".into()),
        rating: Some(Column::Name("rating".into())),
        ..Default::default()
    };
    let data = read_delimited(&path, &options, None).unwrap();
    // Reference: distinct (userId, movieId) pairs of the raw file.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut raw: BTreeSet<(i64, i64)> = BTreeSet::new();
    let mut liked: BTreeSet<(i64, i64)> = BTreeSet::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let pair = (f[0].parse().unwrap(), f[1].parse().unwrap());
        raw.insert(pair);
        if f[2].parse::<f64>().unwrap() >= 4.0 {
            liked.insert(pair);
        }
    }
    let check = |data: &Dataset, expected: &BTreeSet<(i64, i64)>| {
        let (users, items) = (data.users.as_ref().unwrap(), data.items.as_ref().unwrap());
        assert!(users.is_int() && items.is_int());
        let m = &data.interactions;
        assert_eq!(m.nnz(), expected.len());
        let mut got = BTreeSet::new();
        for u in 0..m.num_users() as u32 {
            let Original::Int(user) = users.original(u) else {
                panic!()
            };
            for &i in m.row(u) {
                let Original::Int(item) = items.original(i) else {
                    panic!()
                };
                got.insert((user, item));
                assert_eq!(users.dense_of_int(user), Some(u));
                assert_eq!(items.dense_of_int(item), Some(i));
            }
        }
        assert_eq!(&got, expected);
    };
    check(&data, &raw);
    assert_eq!(data.interactions.num_users(), 671);
    assert_eq!(data.interactions.num_items(), 9066);
    // Dense ids follow first appearance: userId 1 and movieId 31 come first.
    assert_eq!(data.users.as_ref().unwrap().original(0), Original::Int(1));
    assert_eq!(data.items.as_ref().unwrap().original(0), Original::Int(31));

    let liked_data = read_delimited(
        &path,
        &DelimitedOptions {
            min_rating: Some(4.0),
            ..options.clone()
        },
        None,
    )
    .unwrap();
    check(&liked_data, &liked);

    // A 10-core: every survivor has >= 10 of the survivors.
    let core = read_delimited(
        &path,
        &DelimitedOptions {
            filters: Filters {
                min_user_interactions: 10,
                min_item_interactions: 10,
            },
            ..options.clone()
        },
        None,
    )
    .unwrap();
    let m = &core.interactions;
    assert!(m.nnz() > 0 && m.nnz() < raw.len());
    assert!((0..m.num_users() as u32).all(|u| m.row(u).len() >= 10));
    assert!(m.popularity().iter().all(|&c| c >= 10));
    // The survivors' pairs are exactly the raw pairs among surviving ids.
    let (users, items) = (core.users.as_ref().unwrap(), core.items.as_ref().unwrap());
    let kept: BTreeSet<(i64, i64)> = raw
        .iter()
        .copied()
        .filter(|&(u, i)| users.dense_of_int(u).is_some() && items.dense_of_int(i).is_some())
        .collect();
    check(&core, &kept);
}

#[test]
fn movielens_dat_and_tsv_and_string_ids() {
    let dat = Temp::new(
        "ratings.dat",
        b"1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n2::3068::2::978299000\n",
    );
    let data = read_movielens_dat(&dat.0, Some(4.0), Filters::default(), None).unwrap();
    assert_eq!(data.interactions.nnz(), 2);
    let items = data.items.as_ref().unwrap();
    assert_eq!(items.len(), 1, "only movie 1193 has ratings >= 4");
    assert_eq!(items.original(0), Original::Int(1193));

    let tsv = Temp::new(
        "plays.tsv",
        "user\tsong\r\nalice\tblue\r\nbob\t\"green, light\"\r\n\r\nalice\tred\r\nbob\tblue\r\nalice\tblue\r\n"
            .as_bytes(),
    );
    let options = DelimitedOptions {
        delimiter: b"\t".to_vec(),
        user: Column::Name("user".into()),
        item: Column::Name("song".into()),
        ..Default::default()
    };
    let data = read_delimited(&tsv.0, &options, None).unwrap();
    let (users, items) = (data.users.unwrap(), data.items.unwrap());
    assert!(!users.is_int());
    assert_eq!(users.original(1), Original::Str("bob"));
    assert_eq!(items.original(1), Original::Str("green, light"));
    let alice = users.dense_of_str(b"alice").unwrap();
    assert_eq!(
        data.interactions.row(alice).len(),
        2,
        "repeat (alice, blue) kept once"
    );
}

#[test]
fn malformed_files_name_file_line_and_problem() {
    let adj = Temp::new("bad.txt", b"0 1 2\n1 3 4\n\n2 5 x7 8\n");
    let (file, line, message) = parse_err(read_adjacency(
        &[adj.0.as_path()],
        &AdjacencyOptions::default(),
        None,
    ));
    assert_eq!(file, adj.0.display().to_string());
    assert_eq!(line, 4);
    assert!(
        message.contains("'x7'") && message.contains("item"),
        "{message}"
    );
    let err = read_adjacency(&[adj.0.as_path()], &AdjacencyOptions::default(), None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:4: ", adj.0.display())),
        "{err}"
    );

    let big = Temp::new("big.txt", b"0 1\n1 99999999999\n");
    let (_, line, message) = parse_err(read_adjacency(
        &[big.0.as_path()],
        &AdjacencyOptions::default(),
        None,
    ));
    assert_eq!(line, 2);
    assert!(message.contains("99999999999"), "{message}");

    let neg = Temp::new("neg.txt", b"-1 2\n");
    assert_eq!(
        parse_err(read_adjacency(
            &[neg.0.as_path()],
            &AdjacencyOptions::default(),
            None
        ))
        .1,
        1
    );

    let csv_options = DelimitedOptions {
        rating: Some(Column::Index(2)),
        ..Default::default()
    };
    // Truncated: the last line was cut after the item id.
    let cut = Temp::new("cut.csv", b"u,i,r,t\n1,2,3.0,9\n1,3,4.0,9\n2,3");
    let (_, line, message) = parse_err(read_delimited(&cut.0, &csv_options, None));
    assert_eq!(line, 4);
    assert!(message.contains("2 fields, expected 4"), "{message}");

    let rating = Temp::new("rating.csv", b"u,i,r\n1,2,3.0\n1,3,high\n");
    let (_, line, message) = parse_err(read_delimited(&rating.0, &csv_options, None));
    assert_eq!((line, message.contains("'high'")), (3, true), "{message}");

    let empty_id = Temp::new("empty.csv", b"u,i\n1,2\n,3\n");
    let (_, line, message) = parse_err(read_delimited(
        &empty_id.0,
        &DelimitedOptions::default(),
        None,
    ));
    assert_eq!(line, 3);
    assert!(message.contains("user id is empty"), "{message}");

    let quote = Temp::new("quote.csv", b"u,i\n1,\"2\n");
    assert_eq!(
        parse_err(read_delimited(&quote.0, &DelimitedOptions::default(), None)).1,
        2
    );

    let binary = Temp::new("binary.csv", b"u,i\n1,\xff\xfe\n");
    let (_, line, message) = parse_err(read_delimited(
        &binary.0,
        &DelimitedOptions::default(),
        None,
    ));
    assert_eq!(line, 2);
    assert!(message.contains("UTF-8"), "{message}");

    let no_header = Temp::new("none.csv", b"");
    assert_eq!(
        parse_err(read_delimited(
            &no_header.0,
            &DelimitedOptions::default(),
            None
        ))
        .1,
        1
    );

    // Options that do not fit the file.
    let ok = Temp::new("ok.csv", b"userId,movieId\n1,2\n");
    let err = read_delimited(
        &ok.0,
        &DelimitedOptions {
            user: Column::Name("user".into()),
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::OutOfRange { name: "user", .. })
            && err.to_string().contains("userId, movieId"),
        "{err}"
    );
    let err = read_delimited(
        &ok.0,
        &DelimitedOptions {
            item: Column::Index(5),
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::OutOfRange { name: "item", .. }),
        "{err}"
    );
    let err = read_delimited(
        &ok.0,
        &DelimitedOptions {
            min_rating: Some(3.0),
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutOfRange {
                name: "min_rating",
                ..
            }
        ),
        "{err}"
    );

    let missing = Path::new("/nonexistent/negsample/ratings.csv");
    let err = read_delimited(missing, &DelimitedOptions::default(), None).unwrap_err();
    assert!(
        matches!(&err, Error::Io { file, .. } if file.contains("/nonexistent/")),
        "{err}"
    );

    let adj_ok = Temp::new("ok.txt", b"0 1 2\n3 4\n");
    let err = read_adjacency(
        &[adj_ok.0.as_path()],
        &AdjacencyOptions {
            num_items: Some(4),
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("item id 4"), "{err}");

    // The options' own ranges: no paths, counts and minimums above 2^31 - 1.
    let err = read_adjacency(&[], &AdjacencyOptions::default(), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "paths must be a list of at least one file, got an empty list"
    );
    let err = read_adjacency(
        &[adj_ok.0.as_path()],
        &AdjacencyOptions {
            num_users: Some(1 << 31),
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "num_users must be at most 2147483647, got 2147483648"
    );
    let huge = Filters {
        min_user_interactions: 0,
        min_item_interactions: 1 << 31,
    };
    let err = read_adjacency(
        &[adj_ok.0.as_path()],
        &AdjacencyOptions {
            filters: huge,
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "min_item_interactions must be at most 2147483647, got 2147483648"
    );
    let csv_ok = Temp::new("ok.csv", b"u,i\n1,2\n");
    let err = read_delimited(
        &csv_ok.0,
        &DelimitedOptions {
            filters: huge,
            ..Default::default()
        },
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("min_item_interactions must be at most"),
        "{err}"
    );
}

/// Files larger than a read block, with lines cut across blocks and chunks:
/// the result equals the reference parse, and an error deep inside names
/// its exact line.
#[test]
fn multi_block_files_parse_exactly() {
    let mut rng = TestRng::new(11);
    let mut text = String::with_capacity(BLOCK_BYTES * 2 + (1 << 20));
    let mut expected: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    let mut lines = 0u64;
    while text.len() < BLOCK_BYTES * 2 + 12345 {
        let u = rng.below(50_000) as u32;
        text.push_str(&u.to_string());
        for _ in 0..1 + rng.below(40) {
            let i = rng.below(1_000_000) as u32;
            text.push(' ');
            text.push_str(&i.to_string());
            expected.entry(u).or_default().insert(i);
        }
        text.push('\n');
        lines += 1;
    }
    let file = Temp::new("multi.txt", text.as_bytes());
    let mut blocks = 0;
    let mut progress = |_: u64, _: u64| blocks += 1;
    let data = read_adjacency(
        &[file.0.as_path()],
        &AdjacencyOptions::default(),
        Some(&mut progress),
    )
    .unwrap();
    assert!(blocks >= 3, "progress after each block ({blocks})");
    let m = &data[0].interactions;
    let nnz: usize = expected.values().map(|s| s.len()).sum();
    assert_eq!(m.nnz(), nnz);
    for (&u, items) in &expected {
        assert!(
            m.row(u).iter().copied().eq(items.iter().copied()),
            "user {u}"
        );
    }
    // Corrupt one line in the last block.
    let target = lines - 7;
    let mut bad = String::with_capacity(text.len());
    for (n, line) in text.lines().enumerate() {
        if n as u64 + 1 == target {
            bad.push_str(line);
            bad.push_str(" 1,5");
        } else {
            bad.push_str(line);
        }
        bad.push('\n');
    }
    let file = Temp::new("multi-bad.txt", bad.as_bytes());
    let (_, line, message) = parse_err(read_adjacency(
        &[file.0.as_path()],
        &AdjacencyOptions::default(),
        None,
    ));
    assert_eq!(line, target, "{message}");
}

/// What the writers write, the readers read back: adjacency as dense ids,
/// CSV pairs through id maps.
#[test]
fn written_files_read_back_identically() {
    use negsample_core::io::synthetic::{generate, SyntheticOptions};
    use negsample_core::io::write::{write_adjacency, write_csv_pairs};
    let m = generate(&SyntheticOptions {
        num_users: 2000,
        num_items: 3000,
        num_interactions: 50_000,
        seed: 4,
        ..Default::default()
    })
    .unwrap();
    let adj = Temp::new("written.txt", b"");
    write_adjacency(&adj.0, &m).unwrap();
    let back = read_adjacency(
        &[adj.0.as_path()],
        &AdjacencyOptions {
            num_items: Some(m.num_items()),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(back[0].interactions, m);

    let csv = Temp::new("written.csv", b"");
    let items: Vec<String> = (0..m.num_items()).map(|i| format!("item{i}")).collect();
    let data = Dataset {
        interactions: m.clone(),
        users: None,
        items: Some(negsample_core::io::IdMap::from_keys(&items).unwrap()),
    };
    write_csv_pairs(&csv.0, &data).unwrap();
    let back = read_delimited(&csv.0, &DelimitedOptions::default(), None).unwrap();
    let (users, items) = (back.users.unwrap(), back.items.unwrap());
    assert_eq!(back.interactions.nnz(), m.nnz());
    for u in 0..m.num_users() as u32 {
        let Some(du) = users.dense_of_int(u as i64) else {
            assert!(m.row(u).is_empty());
            continue;
        };
        let mut row: Vec<u32> = back
            .interactions
            .row(du)
            .iter()
            .map(|&i| match items.original(i) {
                Original::Str(s) => s[4..].parse().unwrap(),
                Original::Int(_) => panic!("string ids"),
            })
            .collect();
        row.sort_unstable();
        assert_eq!(row, m.row(u));
    }
}

#[test]
fn a_stray_huge_id_needs_an_explicit_count() {
    // One user id near 2^31 would make 2^31 users (16 GiB of row offsets)
    // for three pairs: the count must then be given.
    let stray = Temp::new("stray.txt", b"0 1 2\n2000000000 3\n");
    let err = read_adjacency(&[stray.0.as_path()], &AdjacencyOptions::default(), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("num_users must be given explicitly") && err.contains("2000000001"),
        "{err}"
    );
    let small = Temp::new("small-ids.txt", b"0 1 2\n5 3\n");
    let data = read_adjacency(&[small.0.as_path()], &AdjacencyOptions::default(), None).unwrap();
    assert_eq!(data[0].interactions.num_users(), 6);
}
