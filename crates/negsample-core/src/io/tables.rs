//! The alias tables stored with a matrix in a file, by the proposal each
//! encodes: a sampler whose proposal has one starts from it instead of
//! building it, and saving the matrix again writes it back unchanged.

use std::path::Path;
use std::sync::Arc;

use super::file_format::{self, ProposalKey};
use super::IdMap;
use crate::draw::alias::AliasTable;
use crate::error::Result;
use crate::interactions::Interactions;
use crate::sampler::{Proposal, Sampler};

/// Alias tables by proposal (none for a matrix that was not opened from a
/// file). Cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct StoredTables {
    tables: Arc<Vec<(ProposalKey, AliasTable)>>,
}

impl From<Vec<(ProposalKey, AliasTable)>> for StoredTables {
    fn from(tables: Vec<(ProposalKey, AliasTable)>) -> Self {
        StoredTables {
            tables: Arc::new(tables),
        }
    }
}

impl<'a> IntoIterator for &'a StoredTables {
    type Item = &'a (ProposalKey, AliasTable);
    type IntoIter = std::slice::Iter<'a, (ProposalKey, AliasTable)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl StoredTables {
    /// The tables with their proposals, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, (ProposalKey, AliasTable)> {
        self.tables.iter()
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The stored table of `proposal`, if there is one (a cheap clone).
    pub fn get(&self, proposal: &Proposal) -> Option<AliasTable> {
        self.by_key(ProposalKey::of(proposal))
    }

    fn by_key(&self, key: ProposalKey) -> Option<AliasTable> {
        self.tables
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| t.clone())
    }

    /// A sampler over `interactions` (the matrix these tables were stored
    /// with): from the stored table of `proposal` if there is one, which is
    /// the table [`Sampler::new`] would build (so the same draws), else
    /// building it.
    ///
    /// # Errors
    /// As [`Sampler::new`] and [`Sampler::from_table`].
    pub fn sampler(
        &self,
        interactions: Arc<Interactions>,
        proposal: &Proposal,
        seed: u64,
    ) -> Result<Sampler> {
        match self.get(proposal) {
            Some(table) => Sampler::from_table(interactions, table, seed),
            None => Sampler::new(interactions, proposal, seed),
        }
    }

    /// The tables to save with `interactions` for `proposals`: each
    /// proposal once, in order, its stored table if there is one, else
    /// built.
    ///
    /// # Errors
    /// A proposal's errors, as [`Sampler::new`].
    pub fn to_save(
        &self,
        interactions: &Interactions,
        proposals: &[Proposal],
    ) -> Result<Vec<(ProposalKey, AliasTable)>> {
        let mut out: Vec<(ProposalKey, AliasTable)> = Vec::new();
        for p in proposals {
            let key = ProposalKey::of(p);
            if out.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let table = match self.by_key(key) {
                Some(t) => t,
                None => file_format::proposal_table(interactions, p)?,
            };
            out.push((key, table));
        }
        Ok(out)
    }

    /// Saves `interactions`, its id maps and the tables of `proposals`
    /// ([`StoredTables::to_save`]) to `path`, as [`file_format::save_parts`].
    ///
    /// # Errors
    /// A proposal's errors; [`crate::Error::Io`] if the file cannot be
    /// written.
    pub fn save(
        &self,
        path: &Path,
        interactions: &Interactions,
        users: Option<&IdMap>,
        items: Option<&IdMap>,
        proposals: &[Proposal],
    ) -> Result<()> {
        let tables = self.to_save(interactions, proposals)?;
        let refs: Vec<(ProposalKey, &AliasTable)> = tables.iter().map(|(k, t)| (*k, t)).collect();
        file_format::save_parts(path, interactions, users, items, &refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> Arc<Interactions> {
        Arc::new(Interactions::from_coo(&[0, 0, 1, 2], &[1, 2, 2, 3], None, Some(6)).unwrap())
    }

    #[test]
    fn a_stored_table_is_used_and_gives_the_same_draws() {
        let m = matrix();
        let popular = Proposal::Popularity { alpha: 0.5 };
        let empty = StoredTables::default();
        assert!(empty.get(&popular).is_none());
        let stored = StoredTables::from(empty.to_save(&m, std::slice::from_ref(&popular)).unwrap());
        assert_eq!(stored.len(), 1);
        assert_eq!(stored.iter().next().unwrap().0, ProposalKey::of(&popular));
        let table = stored.get(&popular).unwrap();
        assert_eq!(table.slots(), popular.table(&m).unwrap().slots());
        assert!(stored.get(&Proposal::Uniform).is_none());
        // From the stored table or built: the same draws.
        let a = stored.sampler(m.clone(), &popular, 7).unwrap();
        let b = empty.sampler(m.clone(), &popular, 7).unwrap();
        let (mut out_a, mut out_b) = ([0u32; 15], [0u32; 15]);
        a.negatives_into(&[0, 1, 2], 5, 0, &mut out_a).unwrap();
        b.negatives_into(&[0, 1, 2], 5, 0, &mut out_b).unwrap();
        assert_eq!(out_a, out_b);
    }

    #[test]
    fn to_save_keeps_each_proposal_once_in_order() {
        let m = matrix();
        let stored = StoredTables::default();
        let proposals = [
            Proposal::Uniform,
            Proposal::Popularity { alpha: 0.75 },
            Proposal::Uniform,
        ];
        let keys: Vec<_> = stored
            .to_save(&m, &proposals)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            vec![ProposalKey::Uniform, ProposalKey::of(&proposals[1])]
        );
        let bad = stored
            .to_save(&m, &[Proposal::Weights(vec![1.0; 2])])
            .unwrap_err();
        assert!(bad.to_string().starts_with("weights.length is 2"), "{bad}");
    }
}
