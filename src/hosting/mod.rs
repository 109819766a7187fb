//! Many businesses in one deployment: what is known of all of them (`Directory`), read from the
//! store and read again whenever they change, in this process or another.

mod directory;
mod kept;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use arc_swap::ArcSwap;

pub use directory::{Directory, digest_of_hex};
pub use kept::{KeptBusinesses, path_under as kept_under};

use crate::store::{Businesses, StoreError};

/// How often the directory is read again whatever was announced: a business or line added at
/// another server is served here within this even when its announcement was lost.
const READ_AGAIN_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The directory in effect, and the store it is read from.
pub struct Hosting {
    pub businesses: Arc<dyn Businesses>,
    directory: ArcSwap<Directory>,
    /// Where a copy of what was read is kept, for a start without the database (`kept`).
    keep_at: Option<PathBuf>,
    kept: AtomicU64,
}

impl Hosting {
    /// Reads the directory; a change made later by any process is read again as it is made.
    pub async fn open(businesses: Arc<dyn Businesses>, keep_at: Option<PathBuf>) -> Result<Arc<Self>, StoreError> {
        let hosting = Arc::new(Self {
            businesses,
            directory: ArcSwap::from_pointee(Directory::default()),
            keep_at,
            kept: AtomicU64::new(0),
        });
        hosting.directory.store(Arc::new(hosting.read().await?));
        let weak = Arc::downgrade(&hosting);
        hosting.businesses.follow_businesses(Arc::new(move || {
            if let Some(hosting) = weak.upgrade() {
                tokio::spawn(async move { hosting.reread().await });
            }
        }));
        // An announcement lost with a dropped connection is made up for here.
        let weak = Arc::downgrade(&hosting);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(READ_AGAIN_EVERY).await;
                let Some(hosting) = weak.upgrade() else { return };
                hosting.reread().await;
            }
        });
        Ok(hosting)
    }

    pub fn directory(&self) -> arc_swap::Guard<Arc<Directory>> {
        self.directory.load()
    }

    /// Reads the directory again: after a change this process made, so that its next request
    /// sees it, and when another process says it made one. A failed read keeps the last one.
    pub async fn reread(&self) {
        match self.read().await {
            Ok(directory) => self.directory.store(Arc::new(directory)),
            Err(error) => tracing::warn!(%error, "the businesses could not be read again; the last read stands"),
        }
    }
}

impl Hosting {
    async fn read(&self) -> Result<Directory, StoreError> {
        let (businesses, lines) = (self.businesses.businesses().await?, self.businesses.lines().await?);
        if let Some(path) = &self.keep_at
            && let Err(error) = kept::keep(path, &businesses, &lines, &self.kept)
        {
            tracing::warn!(%error, path = %path.display(), "the copy of the businesses for a start without the database was not kept");
        }
        Ok(Directory::new(businesses, lines))
    }
}
