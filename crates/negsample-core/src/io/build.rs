//! CSR construction from the (user, item) pairs that the readers collect, in
//! chunks, without first concatenating them.

use rayon::prelude::*;

use crate::interactions::Interactions;

/// Dense (user, item) pairs from one chunk of a file.
#[derive(Debug, Default)]
pub(crate) struct Pairs {
    pub users: Vec<u32>,
    pub items: Vec<u32>,
}

/// Users per parallel task when sorting rows.
const USERS_PER_TASK: usize = 4096;

/// Sorts every row `indices[starts[u]..starts[u + 1]]` in parallel.
pub(crate) fn sort_rows(starts: &[u64], indices: &mut [u32]) {
    let num_users = starts.len() - 1;
    let mut groups: Vec<&mut [u32]> = Vec::with_capacity(num_users / USERS_PER_TASK + 1);
    let mut rest = indices;
    let mut first = 0;
    while first < num_users {
        let last = (first + USERS_PER_TASK).min(num_users);
        let len = (starts[last] - starts[first]) as usize;
        let (group, tail) = rest.split_at_mut(len);
        groups.push(group);
        rest = tail;
        first = last;
    }
    groups.into_par_iter().enumerate().for_each(|(g, group)| {
        let first = g * USERS_PER_TASK;
        let last = (first + USERS_PER_TASK).min(num_users);
        let base = starts[first];
        for u in first..last {
            group[(starts[u] - base) as usize..(starts[u + 1] - base) as usize].sort_unstable();
        }
    });
}

/// The matrix of all pairs in `parts` (ids already checked against the
/// counts): a counting sort by user (or, when the pairs come grouped by
/// increasing user, a concatenation), rows sorted in parallel, repeats
/// dropped.
///
/// # Performance
/// O(pairs) plus the row sorts; memory: the output, plus 8 bytes per user.
pub(crate) fn csr_from_pairs(parts: &[Pairs], num_users: usize, num_items: usize) -> Interactions {
    let mut starts = vec![0u64; num_users + 1];
    for p in parts {
        for &u in &p.users {
            starts[u as usize + 1] += 1;
        }
    }
    for u in 0..num_users {
        starts[u + 1] += starts[u];
    }
    let total = starts[num_users] as usize;
    // Files grouped by user in increasing order (one adjacency line per
    // user, or a CSV sorted by user) are in CSR order already: concatenate.
    let mut previous = 0u32;
    let grouped = parts.iter().flat_map(|p| &p.users).all(|&u| {
        let ok = u >= previous;
        previous = u;
        ok
    });
    let mut indices = if grouped {
        let mut indices = Vec::with_capacity(total);
        for p in parts {
            indices.extend_from_slice(&p.items);
        }
        indices
    } else {
        let mut next = starts.clone();
        let mut indices = vec![0u32; total];
        for p in parts {
            for (&u, &i) in p.users.iter().zip(&p.items) {
                let slot = &mut next[u as usize];
                indices[*slot as usize] = i;
                *slot += 1;
            }
        }
        indices
    };
    sort_rows(&starts, &mut indices);
    Interactions::sorted_and_deduplicated(num_items, starts, indices)
}
