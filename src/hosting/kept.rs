//! The businesses and lines as last read, kept in the data folder, so that a server that starts
//! while the database cannot be reached still knows whose line each call is for, and forwards it
//! to that business's phones rather than the deployment's.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::domain::{Business, BusinessId, BusinessName, Line, PhoneNumber};
use crate::store::{Answer, Businesses, NewBusiness, Store, StoreError, UnavailableStore};

#[derive(Serialize, Deserialize)]
struct Kept {
    businesses: Vec<Business>,
    lines: Vec<Line>,
}

/// Where the copy is kept under `data_dir`.
pub fn path_under(data_dir: &Path) -> PathBuf {
    data_dir.join("businesses.json")
}

/// Replaces the copy whole (written beside it, then renamed over it), so that a crash mid-write
/// leaves the last one; unless it already holds exactly this, as `last` (a digest of what was
/// last kept) says.
pub fn keep(path: &Path, businesses: &[Business], lines: &[Line], last: &AtomicU64) -> std::io::Result<()> {
    let kept = Kept { businesses: businesses.to_vec(), lines: lines.to_vec() };
    let text = serde_json::to_vec(&kept).map_err(std::io::Error::other)?;
    let digest = {
        let mut hasher = std::hash::DefaultHasher::new();
        text.hash(&mut hasher);
        hasher.finish()
    };
    if last.load(Ordering::Relaxed) == digest {
        return Ok(());
    }
    let beside = path.with_extension("json.new");
    std::fs::write(&beside, text)?;
    std::fs::rename(beside, path)?;
    last.store(digest, Ordering::Relaxed);
    Ok(())
}

/// The businesses as last kept, answering reads from memory; every business's records are
/// unavailable, for the reason the database could not be reached, so their calls are forwarded.
pub struct KeptBusinesses {
    kept: Kept,
    reason: String,
}

impl KeptBusinesses {
    /// The copy at `path`, if there is one that reads back.
    pub fn read(path: &Path, reason: &str) -> Option<Self> {
        let kept = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Some(Self { kept, reason: reason.to_owned() })
    }

    fn unavailable<T: Send + 'static>(&self) -> Answer<'_, T> {
        let error = StoreError::Unavailable(self.reason.clone());
        Box::pin(std::future::ready(Err(error)))
    }

    fn answer<T: Send + 'static>(value: T) -> Answer<'static, T> {
        Box::pin(std::future::ready(Ok(value)))
    }
}

impl Businesses for KeptBusinesses {
    fn businesses(&self) -> Answer<'_, Vec<Business>> {
        Self::answer(self.kept.businesses.clone())
    }

    fn business(&self, id: BusinessId) -> Answer<'_, Option<Business>> {
        Self::answer(self.kept.businesses.iter().find(|business| business.id == id).cloned())
    }

    fn business_named(&self, name: &BusinessName) -> Answer<'_, Option<Business>> {
        Self::answer(self.kept.businesses.iter().find(|business| &business.name == name).cloned())
    }

    fn add_business(&self, _: NewBusiness) -> Answer<'_, Business> {
        self.unavailable()
    }

    fn update_business(&self, _: Business) -> Answer<'_, ()> {
        self.unavailable()
    }

    fn remove_business(&self, _: BusinessId) -> Answer<'_, Option<Business>> {
        self.unavailable()
    }

    fn lines(&self) -> Answer<'_, Vec<Line>> {
        Self::answer(self.kept.lines.clone())
    }

    fn add_line(&self, _: Line) -> Answer<'_, ()> {
        self.unavailable()
    }

    fn remove_line(&self, _: &PhoneNumber) -> Answer<'_, Option<Line>> {
        self.unavailable()
    }

    fn store_of(&self, _: BusinessId) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(UnavailableStore::new(self.reason.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_kept_reads_back_and_a_damaged_copy_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_under(dir.path());
        let business = Business {
            id: BusinessId(7),
            name: BusinessName::parse("acme").unwrap(),
            settings: "business_name = \"Acme\"\n".into(),
            token_sha256: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let line = Line { number: PhoneNumber::from_e164("+442079460100").unwrap(), business: BusinessId(7) };
        keep(&path, std::slice::from_ref(&business), std::slice::from_ref(&line), &AtomicU64::new(0)).unwrap();
        let kept = KeptBusinesses::read(&path, "down").unwrap();
        assert_eq!(kept.kept.businesses, [business]);
        assert_eq!(kept.kept.lines, [line]);
        std::fs::write(&path, b"{\"businesses\": [").unwrap();
        assert!(KeptBusinesses::read(&path, "down").is_none());
    }
}
