//! Opens the store the configuration names: PostgreSQL when `[store] url` is set, else the
//! embedded store under the data folder.

use std::path::Path;
use std::sync::Arc;

use super::{PostgresStore, Store, StoreError, open_local};
use crate::config;

/// `StoreError::Locked` means another process, usually the running server, has the embedded store
/// open; a PostgreSQL database is shared by every process that opens it.
pub fn open_store(settings: &config::Store, local_path: &Path) -> Result<Arc<dyn Store>, StoreError> {
    match settings.url() {
        Some(url) => Ok(Arc::new(PostgresStore::open_with(url, settings.ca_file())?)),
        None => open_local(local_path, settings.cache_mb),
    }
}
