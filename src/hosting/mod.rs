//! Many businesses in one deployment: what is known of all of them (`Directory`), read from the
//! store and read again whenever they change, in this process or another.

mod directory;

use std::sync::Arc;

use arc_swap::ArcSwap;

pub use directory::{Directory, digest_of_hex};

use crate::store::{Businesses, StoreError};

/// The directory in effect, and the store it is read from.
pub struct Hosting {
    pub businesses: Arc<dyn Businesses>,
    directory: ArcSwap<Directory>,
}

impl Hosting {
    /// Reads the directory; a change made later by any process is read again as it is made.
    pub async fn open(businesses: Arc<dyn Businesses>) -> Result<Arc<Self>, StoreError> {
        let directory = read(businesses.as_ref()).await?;
        let hosting = Arc::new(Self { businesses, directory: ArcSwap::from_pointee(directory) });
        let weak = Arc::downgrade(&hosting);
        hosting.businesses.follow_businesses(Arc::new(move || {
            if let Some(hosting) = weak.upgrade() {
                tokio::spawn(async move { hosting.reread().await });
            }
        }));
        Ok(hosting)
    }

    pub fn directory(&self) -> arc_swap::Guard<Arc<Directory>> {
        self.directory.load()
    }

    /// Reads the directory again: after a change this process made, so that its next request
    /// sees it, and when another process says it made one. A failed read keeps the last one.
    pub async fn reread(&self) {
        match read(self.businesses.as_ref()).await {
            Ok(directory) => self.directory.store(Arc::new(directory)),
            Err(error) => tracing::warn!(%error, "the businesses could not be read again; the last read stands"),
        }
    }
}

async fn read(businesses: &dyn Businesses) -> Result<Directory, StoreError> {
    Ok(Directory::new(businesses.businesses().await?, businesses.lines().await?))
}
