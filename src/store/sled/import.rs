//! Large imports in bounded batches that still land whole or not at all.
//!
//! sled holds every page a batch touches in memory until the batch is written (gigabytes for a
//! million rows), so a large file is written a batch at a time. Each batch also keeps what it
//! overwrote, under `undo:<key>`, and `meta:importing` marks an import under way: an import that
//! did not finish (a crash, a power cut) is undone the next time the database is opened.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::{COMPANY, SledStore, backend, decline_key, encode, key};
use crate::domain::{Decline, company_key};
use crate::store::{Store, StoreError};

/// Rows written per batch; a file of up to this many goes in one batch and needs no undo records.
pub(super) const BATCH_ROWS: usize = 20_000;
const UNDO: &[u8] = b"undo:";
const IMPORTING: &[u8] = b"meta:importing";
/// The first byte of an undo record: the key had no value, or had the value that follows.
const WAS_ABSENT: u8 = 0;
const WAS: u8 = 1;

impl SledStore {
    /// Saves declines a batch at a time, each batch durable, the whole file undone if it is cut short.
    pub(super) fn save_declines_in_batches(&self, declines: &[Decline]) -> Result<(), StoreError> {
        // Other owner changes wait until the file is in: undoing it must not take one of theirs.
        let mut generation = self.generation.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (n, rows) in declines.chunks(BATCH_ROWS).enumerate() {
            self.commit_holding(&mut generation, self.import_batch(n == 0, rows)?)?;
        }
        let mut done = sled::Batch::default();
        done.remove(IMPORTING);
        self.commit_holding(&mut generation, done)?;
        drop(generation);
        // The import stands; its undo records are only clutter now (and are cleared at the next
        // opening if this is cut short).
        self.forget_undo()
    }

    /// One batch of an import: its rows, what they overwrite, and for the first, the import's mark.
    fn import_batch(&self, first: bool, rows: &[Decline]) -> Result<sled::Batch, StoreError> {
        let mut batch = sled::Batch::default();
        if first {
            batch.insert(IMPORTING, &[][..]);
        }
        {
            let mut new_companies = HashMap::new();
            for decline in rows {
                if let Some(company) = &decline.company
                    && let Entry::Vacant(entry) = new_companies.entry(key(COMPANY, company_key(company).as_bytes()))
                {
                    let known = self.db.contains_key(entry.key()).map_err(backend)?;
                    entry.insert((!known).then(|| company.clone()));
                }
                let decline_key = decline_key(&decline.target);
                self.keep_undo(&mut batch, &decline_key)?;
                batch.insert(decline_key, encode(decline)?);
            }
            for (company_key, company) in new_companies {
                if let Some(company) = company {
                    batch.insert(key(UNDO, &company_key), &[WAS_ABSENT][..]);
                    batch.insert(company_key, encode(&company)?);
                }
            }
        }
        Ok(batch)
    }

    fn keep_undo(&self, batch: &mut sled::Batch, stored_key: &[u8]) -> Result<(), StoreError> {
        let record = match self.db.get(stored_key).map_err(backend)? {
            Some(old) => [&[WAS][..], &old].concat(),
            None => vec![WAS_ABSENT],
        };
        batch.insert(key(UNDO, stored_key), record);
        Ok(())
    }

    /// At opening: undoes an import that was cut short, or clears what a finished one left.
    /// Returns how many records an undone import had written.
    pub(super) fn settle_interrupted_import(&self) -> Result<usize, StoreError> {
        if !self.db.contains_key(IMPORTING).map_err(backend)? {
            self.forget_undo()?;
            return Ok(0);
        }
        let mut undone = 0;
        loop {
            // Each batch restores some keys and drops their undo records together, so an undo cut
            // short in turn carries on from where it stopped.
            let records: Vec<(sled::IVec, sled::IVec)> =
                self.db.scan_prefix(UNDO).take(BATCH_ROWS).collect::<Result<_, _>>().map_err(backend)?;
            if records.is_empty() {
                break;
            }
            let mut batch = sled::Batch::default();
            for (undo_key, record) in &records {
                let stored_key = &undo_key[UNDO.len()..];
                match record.split_first() {
                    Some((&WAS, old)) => batch.insert(stored_key, old),
                    _ => batch.remove(stored_key),
                }
                batch.remove(undo_key.clone());
            }
            self.apply(batch)?;
            undone += records.len();
        }
        let mut done = sled::Batch::default();
        done.remove(IMPORTING);
        self.apply(done)?;
        self.flush()?;
        Ok(undone)
    }

    fn forget_undo(&self) -> Result<(), StoreError> {
        loop {
            let keys: Vec<sled::IVec> =
                self.db.scan_prefix(UNDO).keys().take(BATCH_ROWS).collect::<Result<_, _>>().map_err(backend)?;
            if keys.is_empty() {
                return Ok(());
            }
            let mut batch = sled::Batch::default();
            for undo_key in keys {
                batch.remove(undo_key);
            }
            self.apply(batch)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::domain::{PhoneNumber, Target};

    fn decline(number: &str, company: &str) -> Decline {
        let number = PhoneNumber::from_e164(number).unwrap();
        Decline { company: Some(company.into()), ..Decline::new(Target::Number(number), Timestamp::UNIX_EPOCH) }
    }

    fn everything(store: &SledStore) -> Vec<(sled::IVec, sled::IVec)> {
        store
            .db
            .iter()
            .filter(|entry| !entry.as_ref().unwrap().0.starts_with(b"setting:"))
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn an_import_cut_short_is_undone_when_the_database_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let rows: Vec<Decline> =
            (0..BATCH_ROWS as u32 + 10).map(|n| decline(&format!("+44113{:07}", n), "Imported Co")).collect();
        let before = {
            let store = SledStore::reopen(&path).unwrap();
            // A decline the file overwrites, and a company it names anew.
            store.save_declines(&[decline("+441130000003", "Everest")]).unwrap();
            let before = everything(&store);
            // The first batch is written, then the process dies.
            let mut generation = store.generation.lock().unwrap();
            store.commit_holding(&mut generation, store.import_batch(true, &rows[..BATCH_ROWS]).unwrap()).unwrap();
            drop(generation);
            assert!(store.db.contains_key(b"decline:+441130000003").unwrap());
            assert_ne!(everything(&store), before);
            before
        };
        let store = SledStore::reopen(&path).unwrap();
        assert_eq!(everything(&store), before);
        assert_eq!(store.declines().unwrap().len(), 1);
        assert_eq!(store.company_name("imported co").unwrap(), None);
    }

    #[test]
    fn a_large_import_lands_whole_and_leaves_no_undo_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), 8).unwrap();
        let rows: Vec<Decline> =
            (0..BATCH_ROWS as u32 * 2 + 1).map(|n| decline(&format!("+44113{:07}", n), "Imported Co")).collect();
        store.save_declines(&rows).unwrap();
        assert_eq!(store.declines().unwrap().len(), rows.len());
        assert!(!store.db.contains_key(IMPORTING).unwrap());
        assert_eq!(store.db.scan_prefix(UNDO).count(), 0);
        assert_eq!(store.company_name("imported co").unwrap().as_deref(), Some("Imported Co"));
    }
}
