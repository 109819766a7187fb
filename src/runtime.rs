//! Files the running server keeps in the data folder for the command line: where it listens, and
//! the admin token. The data folder is the owner's, so whoever can read it may administer saidno.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::config::Settings;

const TOKEN_FILE: &str = "admin.token";
const SERVER_FILE: &str = "server.json";

/// What a running server tells the command line about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerFile {
    /// Where the admin API answers, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    pub pid: u32,
}

/// The admin token: the configured one, else the one kept in the data folder, made on first use.
pub fn admin_token(settings: &Settings) -> io::Result<String> {
    if let Some(token) = read_admin_token(settings) {
        return Ok(token);
    }
    let token = unguessable_token();
    write_private(&settings.data_dir.join(TOKEN_FILE), token.as_bytes())?;
    Ok(token)
}

/// 256 random bits, URL-safe.
pub fn unguessable_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The admin token if there is one, without making one.
pub fn read_admin_token(settings: &Settings) -> Option<String> {
    let configured = settings.admin.token.trim();
    if !configured.is_empty() {
        return Some(configured.to_owned());
    }
    let kept = std::fs::read_to_string(settings.data_dir.join(TOKEN_FILE)).ok()?;
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

pub fn write_server_file(settings: &Settings, address: SocketAddr) -> io::Result<()> {
    let file = ServerFile { url: format!("http://{}", reachable(address)), pid: std::process::id() };
    write_private(&server_file_path(settings), &serde_json::to_vec(&file).map_err(io::Error::other)?)
}

pub fn read_server_file(settings: &Settings) -> Option<ServerFile> {
    serde_json::from_slice(&std::fs::read(server_file_path(settings)).ok()?).ok()
}

pub fn remove_server_file(settings: &Settings) {
    let _ = std::fs::remove_file(server_file_path(settings));
}

fn server_file_path(settings: &Settings) -> PathBuf {
    settings.data_dir.join(SERVER_FILE)
}

/// A server listening on every address is reached on loopback.
fn reachable(address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), address.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), address.port()),
        _ => address,
    }
}

/// Written to a temporary file and renamed, readable by the owner only.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}
