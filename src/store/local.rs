//! The embedded store on this machine's disk, opened for the rest of the program, which so never
//! names the engine underneath.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{SledStore, Store, StoreError};

/// Opens (or makes) the database at `path` with a cache of `cache_mb`. `StoreError::Locked` means
/// another process, usually the running server, has it open.
pub fn open_local(path: &Path, cache_mb: u64) -> Result<Arc<dyn Store>, StoreError> {
    // A damaged file can make the engine panic rather than fail; either way it is not usable.
    match std::panic::catch_unwind(|| SledStore::open(path, cache_mb)) {
        Ok(opened) => Ok(Arc::new(opened?)),
        Err(_) => Err(StoreError::Corrupt(format!(
            "the database at {} could not be opened: restore a backup (saidno restore FILE)",
            path.display()
        ))),
    }
}

/// Replaces the database at `path`, which must not be open, with the records of a backup. The
/// one it replaces is kept beside it; returns how many records were restored and where that is.
pub fn restore_local(path: &Path, input: &mut dyn std::io::Read) -> Result<(u64, PathBuf), StoreError> {
    SledStore::restore(path, input)
}
