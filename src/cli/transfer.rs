//! `saidno backup` and `saidno restore`: the whole database to a file and back, checked both ways.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::CliError;
use super::backend::Backend;
use crate::backup::{self, BackupError};
use crate::config::Settings;
use crate::store::{StoreError, restore_local};

/// Writes to `FILE.partial`, reads it back whole, and only then names it `FILE`: a backup that
/// exists is a backup that restores.
pub async fn backup(backend: &Backend, file: &Path) -> Result<(), CliError> {
    let partial = with_suffix(file, "partial");
    let failed = |e: std::io::Error| CliError::Unavailable(format!("{}: {e}", partial.display()));
    let mut out = BufWriter::new(File::create(&partial).map_err(failed)?);
    let written = backend.backup(&mut out).await;
    let flushed = out.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all());
    let checked = written.and_then(|()| flushed.map_err(failed)).and_then(|()| count(&partial));
    match checked {
        Ok(records) => {
            std::fs::rename(&partial, file).map_err(|e| CliError::Unavailable(format!("{}: {e}", file.display())))?;
            println!("Backed up {records} records to {}.", file.display());
            Ok(())
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error)
        }
    }
}

pub fn restore(settings: &Settings, file: &Path) -> Result<(), CliError> {
    if settings.store.url().is_some() {
        return Err(CliError::Invalid(
            "[store] url names a PostgreSQL database, which is restored with pg_restore from a pg_dump, \
             not from a saidno backup"
                .into(),
        ));
    }
    let mut input = File::open(file).map_err(|e| CliError::Invalid(format!("{}: {e}", file.display())))?;
    match restore_local(&settings.database_path(), &mut input) {
        Ok((records, kept)) => {
            println!("Restored {records} records from {}.", file.display());
            if kept.exists() {
                println!("The database it replaced is kept at {}.", kept.display());
            }
            Ok(())
        }
        Err(StoreError::Locked(path)) => {
            Err(CliError::Unavailable(format!("the database at {path} is in use: stop the server, then restore")))
        }
        Err(StoreError::Corrupt(why)) => {
            Err(CliError::Invalid(format!("{}: {why}; nothing was changed", file.display())))
        }
        Err(other) => Err(CliError::Unavailable(other.to_string())),
    }
}

fn count(path: &Path) -> Result<u64, CliError> {
    let file = File::open(path).map_err(|e| CliError::Unavailable(format!("{}: {e}", path.display())))?;
    backup::read(file, |_, _| Ok::<_, BackupError>(()))
        .map_err(|e| CliError::Unavailable(format!("the backup did not read back whole ({e}); nothing was kept")))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}
