//! Imports cut short by an older release, which wrote a large file a batch at a time: each batch
//! kept what it overwrote under `undo:<key>`, and `meta:importing` marked an import under way. At
//! opening, such an import is undone. Imports now land in one batch (see `number_declines`), so
//! nothing new is written in this layout.

use super::{Database, backend};
use crate::store::StoreError;

/// Undo records restored per batch.
const AT_A_TIME: usize = 20_000;
const UNDO: &[u8] = b"undo:";
const IMPORTING: &[u8] = b"meta:importing";
/// The first byte of an undo record: the key had the value that follows (else it had none).
const WAS: u8 = 1;

impl Database {
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
                self.db.scan_prefix(UNDO).take(AT_A_TIME).collect::<Result<_, _>>().map_err(backend)?;
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
            self.write_batch(batch)?;
            undone += records.len();
        }
        let mut done = sled::Batch::default();
        done.remove(IMPORTING);
        self.write_batch(done)?;
        self.db.flush().map_err(super::backend)?;
        Ok(undone)
    }

    fn forget_undo(&self) -> Result<(), StoreError> {
        loop {
            let keys: Vec<sled::IVec> =
                self.db.scan_prefix(UNDO).keys().take(AT_A_TIME).collect::<Result<_, _>>().map_err(backend)?;
            if keys.is_empty() {
                return Ok(());
            }
            let mut batch = sled::Batch::default();
            for undo_key in keys {
                batch.remove(undo_key);
            }
            self.write_batch(batch)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::domain::{Decline, PhoneNumber, Target};
    use crate::store::{Change, OwnerRecord, Publish, SledStore};

    fn decline(number: &str, company: &str) -> Decline {
        let number = PhoneNumber::from_e164(number).unwrap();
        Decline { company: Some(company.into()), ..Decline::new(Target::Number(number), Timestamp::UNIX_EPOCH) }
    }

    #[tokio::test]
    async fn an_import_an_older_release_left_cut_short_is_undone_when_the_database_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::reopen(&path).unwrap();
            let declines = [decline("+441130000003", "Everest")].into_iter().collect();
            store.apply(Change::Declines(std::sync::Arc::new(declines)), Publish::nowhere()).await.unwrap();
            // What the older release left: one row it overwrote, one it added, a company it named.
            let db = &store.inner.db;
            db.insert(IMPORTING, &[][..]).unwrap();
            let overwritten = serde_json::to_vec(&decline("+441130000003", "Imported Co")).unwrap();
            let old = serde_json::to_vec(&decline("+441130000003", "Everest")).unwrap();
            db.insert(b"decline:+441130000003", overwritten).unwrap();
            db.insert(b"undo:decline:+441130000003", [&[WAS][..], &old].concat()).unwrap();
            db.insert(b"decline:+441130000004", serde_json::to_vec(&decline("+441130000004", "Imported Co")).unwrap())
                .unwrap();
            db.insert(b"undo:decline:+441130000004", &[0][..]).unwrap();
            db.insert(b"company:imported co", &b"\"Imported Co\""[..]).unwrap();
            db.insert(b"undo:company:imported co", &[0][..]).unwrap();
            db.flush().unwrap();
        }
        let store = SledStore::reopen(&path).unwrap();
        // The row it overwrote is as before, once, and nothing it added is left.
        assert_eq!(store.declines().await.unwrap(), [decline("+441130000003", "Everest")]);
        assert_eq!(store.company_name("imported co").await.unwrap(), None);
        assert!(!store.inner.db.contains_key(IMPORTING).unwrap());
        assert_eq!(store.inner.db.scan_prefix(UNDO).count(), 0);
    }

    #[tokio::test]
    async fn a_large_import_lands_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), 8).unwrap();
        let rows: Vec<Decline> = (0..50_001).map(|n| decline(&format!("+44113{:07}", n), "Imported Co")).collect();
        let declines = std::sync::Arc::new(rows.iter().cloned().collect());
        store.apply(Change::Declines(declines), Publish::nowhere()).await.unwrap();
        assert_eq!(store.declines().await.unwrap(), rows);
        assert_eq!(store.company_name("imported co").await.unwrap().as_deref(), Some("Imported Co"));
    }
}
