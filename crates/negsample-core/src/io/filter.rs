//! Dropping users and items with too few interactions (the "k-core" filter
//! recommender papers apply).

use super::{Dataset, IdMap};
use crate::error::{Error, Result};
use crate::interactions::{Interactions, MAX_IDS};

/// Minimum interaction counts. The filter is iterated to a fixed point:
/// dropping an item can take a user below its minimum and the other way
/// round, so rounds repeat until every remaining user has at least
/// `min_user_interactions` remaining items and every remaining item at least
/// `min_item_interactions` remaining users (the k-core). Counts are of
/// distinct (user, item) pairs, after any rating threshold.
///
/// Survivors get new dense ids in their old order; the dataset's id maps
/// (created from the old dense ids where there were none) keep naming them.
///
/// # Performance
/// O(nnz) per round; a few rounds on real data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filters {
    /// Users with fewer interactions are dropped (0 or 1: users with at
    /// least one interaction are kept; 1 also drops users without any).
    pub min_user_interactions: usize,
    /// Items with fewer interactions are dropped (0: no filter).
    pub min_item_interactions: usize,
}

impl Filters {
    /// Whether the filter keeps everything.
    pub fn is_noop(&self) -> bool {
        self.min_user_interactions == 0 && self.min_item_interactions == 0
    }

    /// Checks that each minimum is a count a matrix can have (at most
    /// [`MAX_IDS`]).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `minUserInteractions` or
    /// `minItemInteractions`.
    pub fn check(&self) -> Result<()> {
        for (name, value) in [
            ("min_user_interactions", self.min_user_interactions),
            ("min_item_interactions", self.min_item_interactions),
        ] {
            if value > MAX_IDS {
                return Err(Error::OutOfRange {
                    name,
                    value: value.to_string(),
                    expected: format!("at most {MAX_IDS}"),
                });
            }
        }
        Ok(())
    }

    /// Applies the filter to `data` (see the type's documentation). Also
    /// returns the number of rounds it took.
    pub fn apply(&self, data: Dataset) -> (Dataset, usize) {
        if self.is_noop() {
            return (data, 0);
        }
        let m = &data.interactions;
        let (nu, ni) = (m.num_users(), m.num_items());
        let mut user_alive = vec![true; nu];
        let mut item_alive = vec![true; ni];
        let mut rounds = 0;
        loop {
            rounds += 1;
            let mut item_deg = vec![0usize; ni];
            let mut changed = false;
            for (u, alive) in user_alive.iter_mut().enumerate() {
                if !*alive {
                    continue;
                }
                let row = m.row(u as u32);
                let deg = row.iter().filter(|&&i| item_alive[i as usize]).count();
                if deg < self.min_user_interactions {
                    *alive = false;
                    changed = true;
                } else {
                    for &i in row {
                        item_deg[i as usize] += 1;
                    }
                }
            }
            for (i, alive) in item_alive.iter_mut().enumerate() {
                if *alive && item_deg[i] < self.min_item_interactions.max(1) {
                    *alive = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let keep_users: Vec<u32> = (0..nu as u32).filter(|&u| user_alive[u as usize]).collect();
        let keep_items: Vec<u32> = (0..ni as u32).filter(|&i| item_alive[i as usize]).collect();
        if keep_users.len() == nu && keep_items.len() == ni {
            return (data, rounds);
        }
        // New item ids preserve order, so rows stay sorted.
        let mut new_item = vec![u32::MAX; ni];
        for (j, &i) in keep_items.iter().enumerate() {
            new_item[i as usize] = j as u32;
        }
        let mut indptr = Vec::with_capacity(keep_users.len() + 1);
        let mut indices = Vec::new();
        indptr.push(0u64);
        for &u in &keep_users {
            indices.extend(
                m.row(u)
                    .iter()
                    .filter(|&&i| item_alive[i as usize])
                    .map(|&i| new_item[i as usize]),
            );
            indptr.push(indices.len() as u64);
        }
        let interactions =
            Interactions::from_storage(keep_items.len(), indptr.into(), indices.into());
        let remap = |map: Option<IdMap>, keep: &[u32]| {
            Some(match map {
                Some(map) => map.select(keep),
                None => IdMap::from_ints(keep.iter().map(|&d| d as i64).collect())
                    .expect("dense ids are distinct"),
            })
        };
        let users = remap(data.users, &keep_users);
        let items = remap(data.items, &keep_items);
        (
            Dataset {
                interactions,
                users,
                items,
            },
            rounds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Original;

    #[test]
    fn iterates_to_the_k_core() {
        // Item 3 has one user; dropping it takes user 2 below 2 items, which
        // takes item 2 below 2 users.
        let m = Interactions::from_coo(
            &[0, 0, 0, 1, 1, 1, 2, 2],
            &[0, 1, 2, 0, 1, 2, 2, 3],
            None,
            None,
        )
        .unwrap();
        let data = Dataset {
            interactions: m,
            users: None,
            items: None,
        };
        let f = Filters {
            min_user_interactions: 3,
            min_item_interactions: 2,
        };
        let (out, rounds) = f.apply(data);
        assert!(rounds >= 2);
        assert_eq!(out.interactions.num_users(), 2);
        assert_eq!(out.interactions.num_items(), 3);
        assert_eq!(out.interactions.row(1), &[0, 1, 2]);
        let users = out.users.unwrap();
        assert_eq!(users.original(1), Original::Int(1));
        let items = out.items.unwrap();
        assert_eq!(items.dense_of_int(3), None);
        // Every survivor meets both minimums.
        let pop = out.interactions.popularity();
        assert!(pop.iter().all(|&c| c >= 2));
        assert!((0..2).all(|u| out.interactions.row(u).len() >= 3));
    }
}
