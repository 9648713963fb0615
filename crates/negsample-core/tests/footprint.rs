//! State bytes per interaction, per user and per item, measured with a
//! counting allocator (this test binary's global allocator), not computed
//! from the layout: the target is at most 4 bytes per interaction plus 16
//! bytes per user and per item, id maps aside.
//!
//! Run with `--nocapture` to see the breakdown (docs/guide.md quotes it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};

use negsample_core::io::file_format::{open, save, ProposalKey};
use negsample_core::io::synthetic::{generate, SyntheticOptions};
use negsample_core::io::Dataset;
use negsample_core::{Interactions, Proposal, Sampler};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, counting bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - layout.size() as isize, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Tests in this binary run one at a time, so the counter is theirs.
static SERIAL: Mutex<()> = Mutex::new(());

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// Live heap bytes that `make` leaves behind in what it returns.
fn measure<T>(make: impl FnOnce() -> T) -> (T, usize) {
    let before = live();
    let value = make();
    (value, (live() - before).max(0) as usize)
}

struct Case {
    label: &'static str,
    options: SyntheticOptions,
    proposal: Proposal,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            label: "power law, popularity^0.75",
            options: SyntheticOptions {
                num_users: 20_000,
                num_items: 20_000,
                num_interactions: 1_000_000,
                seed: 1,
                ..Default::default()
            },
            proposal: Proposal::Popularity { alpha: 0.75 },
        },
        Case {
            label: "power law, uniform",
            options: SyntheticOptions {
                num_users: 50_000,
                num_items: 10_000,
                num_interactions: 1_000_000,
                seed: 2,
                ..Default::default()
            },
            proposal: Proposal::Uniform,
        },
    ]
}

#[test]
fn state_fits_4_bytes_per_interaction_and_16_per_user_and_item() {
    let _guard = SERIAL.lock().unwrap();
    for case in cases() {
        let m = generate(&case.options).unwrap();
        let (nnz, users, items) = (m.nnz(), m.num_users(), m.num_items());
        // The matrix's own bytes: measured by cloning it into fresh memory.
        let (copy, matrix_bytes) = measure(|| m.clone());
        drop(copy);
        let m = Arc::new(m);
        let (sampler, sampler_bytes) =
            measure(|| Sampler::new(m.clone(), &case.proposal, 7).unwrap());
        let heavy = (0..users as u32)
            .filter(|&u| sampler.uses_complement(u))
            .count();
        // The exclusion bitmaps of long rows (issue 3) and the pair filter
        // (issue 13, 2 bytes per positive) are speed indexes, not state: they
        // have their own documented bounds, checked here, and the state must
        // fit the budget without them.
        let bitmap_bytes = sampler.exclusion_bytes();
        assert!(
            bitmap_bytes <= 4 * users + negsample_core::BITMAP_COST * 4 * nnz + 2 * nnz + 8,
            "{}: bitmaps and filter {bitmap_bytes} B exceed their bound",
            case.label
        );
        let sampler_bytes = sampler_bytes - bitmap_bytes;
        // The alias table's 4-byte digests (built on the first draw of the
        // AVX-512 kernel, for non-uniform tables of under 2^20 items) are a
        // speed index too: measured here, bounded by 4 bytes per item.
        let (digests, digest_bytes) = measure(|| sampler.table().compact().is_some());
        let expected = if digests { 4 * items } else { 0 };
        assert!(
            digest_bytes <= expected + 64,
            "{}: digests {digest_bytes} B, expected {expected} B",
            case.label
        );
        let total = matrix_bytes + sampler_bytes;
        let budget = 4 * nnz + 16 * (users + items);
        println!(
            "{}: {users} users, {items} items, {nnz} interactions ({heavy} complement users): \
             matrix {matrix_bytes} B, sampler {sampler_bytes} B (+ bitmaps {bitmap_bytes} B, digests {digest_bytes} B); {:.3} B per interaction \
             if users and items are charged 16 B each; budget {budget} B, used {total} B ({:.1}%)",
            case.label,
            (total as f64 - 16.0 * (users + items) as f64) / nnz as f64,
            100.0 * total as f64 / budget as f64
        );
        assert_eq!(
            matrix_bytes,
            8 * (users + 1) + 4 * nnz,
            "CSR: 8 bytes per user (+1) and 4 per interaction"
        );
        assert!(total <= budget, "{}: {total} > {budget}", case.label);
    }
}

/// A sampler over a memory-mapped file keeps only its derived per-item and
/// per-user arrays on the heap; the matrix and the alias table stay in the
/// (shared) mapping.
#[test]
fn an_opened_file_keeps_the_big_arrays_in_the_mapping() {
    let _guard = SERIAL.lock().unwrap();
    let case = &cases()[0];
    let m: Interactions = generate(&case.options).unwrap();
    let (users, items, nnz) = (m.num_users(), m.num_items(), m.nnz());
    let data = Dataset {
        interactions: m,
        users: None,
        items: None,
    };
    let sampler = Sampler::new(Arc::new(data.interactions.clone()), &case.proposal, 7).unwrap();
    let path = std::env::temp_dir().join(format!("negsample-footprint-{}.nsb", std::process::id()));
    save(
        &path,
        &data,
        &[(ProposalKey::of(&case.proposal), sampler.table())],
    )
    .unwrap();
    drop((sampler, data));
    let (stored, open_bytes) = measure(|| open(&path, false).unwrap());
    std::fs::remove_file(&path).unwrap();
    let table = stored.table(&case.proposal).unwrap();
    let opened = Arc::new(stored.dataset.interactions.clone());
    let (sampler, sampler_bytes) =
        measure(|| Sampler::from_table(opened.clone(), table, 7).unwrap());
    // As above: the bitmaps are a speed index with their own bound.
    let sampler_bytes = sampler_bytes - sampler.exclusion_bytes();
    println!(
        "opened file ({users} users, {items} items, {nnz} interactions): open {open_bytes} B on the heap, \
         sampler {sampler_bytes} B on the heap"
    );
    assert!(open_bytes < 4096, "opening allocates {open_bytes} B");
    assert!(opened.indices().len() == nnz && sampler.table().len() == items);
    let heavy = (0..users as u32)
        .filter(|&u| sampler.uses_complement(u))
        .count();
    assert!(
        sampler_bytes <= 16 * (users + items),
        "{sampler_bytes} B for {users} users, {items} items ({heavy} complement users)"
    );
}
