//! The checks of this machine: the public address, the data folder, the database.

use std::os::unix::fs::PermissionsExt;

use super::{Finding, Verdict};
use crate::config::Settings;
use crate::runtime;
use crate::store::{StoreError, open_store};

/// Below this the database may fill the disk within days; below the warning, within weeks.
const DISK_CRITICAL: u64 = 200 * 1024 * 1024;
const DISK_LOW: u64 = 2 * 1024 * 1024 * 1024;

pub fn public_url(settings: &Settings) -> Vec<Finding> {
    let verdict = match settings.public_url() {
        Some(url) if url.starts_with("https://") => Verdict::Ok(format!("{url} is https")),
        Some(url) => Verdict::Fix(format!(
            "{url} is not https: providers send calls only to https addresses, and a plain http address lets \
             anyone on the way read and change them. Put saidno behind a proxy with a certificate and set \
             public_url to its https address"
        )),
        None if settings.auth_token().is_none() => Verdict::Warn(
            "not set: fine for trying saidno on this machine; for a real line set it to the https address \
             the provider calls, which every signature is checked against"
                .into(),
        ),
        None => Verdict::Fix(
            "not set: signatures are then checked against each request's Host header, which is wrong behind \
             a proxy or a tunnel. Set public_url to the https address the provider calls"
                .into(),
        ),
    };
    vec![Finding::new("public_url", verdict)]
}

pub fn data_folder(settings: &Settings) -> Vec<Finding> {
    let folder = &settings.data_dir;
    let shown = folder.display();
    let metadata = match std::fs::metadata(folder) {
        Ok(metadata) if metadata.is_dir() => metadata,
        Ok(_) => return vec![Finding::new("data folder", Verdict::Fix(format!("{shown} is a file, not a folder")))],
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return vec![Finding::new(
                "data folder",
                Verdict::Warn(format!("{shown} does not exist yet: saidno makes it at its first start")),
            )];
        }
        Err(error) => return vec![Finding::new("data folder", Verdict::Fix(format!("{shown}: {error}")))],
    };
    let mut findings = Vec::new();
    let probe = folder.join(".doctor-probe");
    let writable = std::fs::write(&probe, b"probe").and_then(|()| std::fs::remove_file(&probe));
    let mode = metadata.permissions().mode() & 0o777;
    findings.push(Finding::new(
        "data folder",
        match writable {
            Err(error) => Verdict::Fix(format!(
                "{shown} cannot be written ({error}): run saidno as the user that owns it, or chown it to that user"
            )),
            Ok(()) if mode & 0o077 != 0 => Verdict::Warn(format!(
                "{shown} can be read by other users (mode {mode:o}); it holds the declines and the admin \
                 token: chmod 700 {shown}"
            )),
            Ok(()) => Verdict::Ok(format!("{shown} is writable and private (mode {mode:o})")),
        },
    ));
    findings.push(Finding::new(
        "free disk",
        match rustix::fs::statvfs(folder.as_path()) {
            Ok(stats) => {
                let free = stats.f_bavail.saturating_mul(stats.f_frsize);
                let shown_free = format!("{:.1} GB free under {shown}", free as f64 / 1e9);
                if free < DISK_CRITICAL {
                    Verdict::Fix(format!("only {shown_free}: free some space before the database fills the disk"))
                } else if free < DISK_LOW {
                    Verdict::Warn(format!("{shown_free}: the call log grows with every call; free some space soon"))
                } else {
                    Verdict::Ok(shown_free)
                }
            }
            Err(error) => Verdict::Warn(format!("the free space under {shown} could not be read: {error}")),
        },
    ));
    findings
}

/// The database read back whole, or, when a server holds it, the server's own readiness.
pub async fn database(settings: &Settings) -> Finding {
    let path = settings.database_path();
    if settings.store.url().is_none() && !path.exists() {
        return Finding::new("database", Verdict::Ok("none yet: saidno makes it at its first start".into()));
    }
    let healthy = match settings.store.url() {
        Some(_) => "the PostgreSQL database answers, with the schema this saidno knows".to_owned(),
        None => format!("{} reads back whole", path.display()),
    };
    let verdict = match open_store(&settings.store, &path) {
        Err(StoreError::Locked(_)) => running_server(settings).await,
        Err(error) => Verdict::Fix(format!("{error}")),
        Ok(store) => match store.verify() {
            Ok(()) => Verdict::Ok(healthy),
            Err(error) => Verdict::Fix(error.to_string()),
        },
    };
    Finding::new("database", verdict)
}

/// What the running server says at `/readyz`.
async fn running_server(settings: &Settings) -> Verdict {
    let Some(server) = runtime::read_server_file(settings) else {
        return Verdict::Fix(
            "the database is held by another process, but no running saidno server says where it listens: \
             stop the other process"
                .into(),
        );
    };
    let url = format!("{}/readyz", server.url);
    match crate::tls::client().get(&url).send().await {
        Ok(response) if response.status().is_success() => {
            Verdict::Ok(format!("in use by the running server (pid {}), which is ready", server.pid))
        }
        Ok(response) => {
            let body = response.text().await.unwrap_or_default();
            Verdict::Fix(format!("the running server is not ready: {}", body.trim()))
        }
        Err(error) => Verdict::Fix(format!(
            "the database is held, but the server at {} does not answer: {}",
            server.url,
            error.without_url()
        )),
    }
}
