//! With its database unusable, saidno still starts, forwards every call, says so loudly, and
//! reports the state at `/readyz`, instead of leaving the line dead.

use std::path::Path;
use std::process::Command;

use saidno::store::SledStore;

use crate::helpers::*;

pub(crate) fn assert_degraded(server: &Server, reason_has: &str) {
    // Damage is found by reading everything back after start; the rest is known at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (status, body) = loop {
        let (status, body) = server.get("/readyz");
        if status != 200 || std::time::Instant::now() > deadline {
            break (status, body);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(reason_has), "{body} should mention {reason_has:?}");
    let twiml = server.call("CA1", PUSHY);
    assert!(twiml.contains("<Dial") && twiml.contains(OWNER_PHONE), "the call is forwarded: {twiml}");
    assert_eq!(server.get("/healthz").0, 200);
    assert!(server.log().contains("DEGRADED"), "{}", server.log());
}

#[test]
fn a_healthy_server_is_ready() {
    let saidno = Binary::new("");
    let server = saidno.serve();
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 200, "{body}");
    assert!(!server.log().contains("DEGRADED"));
}

#[test]
fn a_database_held_by_another_process_degrades_to_forwarding() {
    let saidno = Binary::new("");
    let data = saidno.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let _held = SledStore::open(&data.join("db"), 8).unwrap();
    saidno.ok_offline_is_impossible();
    let server = saidno.serve();
    assert_degraded(&server, "in use by another process");
}

#[test]
fn a_postgres_database_that_does_not_answer_degrades_to_forwarding() {
    // Nothing listens on port 1 of loopback, so the connection is refused at once.
    let saidno = Binary::new("[store]\nurl = \"postgres://saidno:hunter2@127.0.0.1:1/saidno\"\n");
    let server = saidno.serve();
    assert_degraded(&server, "cannot connect to the PostgreSQL database at postgres://127.0.0.1:1/saidno");
    assert!(!server.log().contains("hunter2"), "{}", server.log());
}

#[test]
fn a_data_folder_that_cannot_be_written_degrades_to_forwarding() {
    let saidno = Binary::new("");
    let data = saidno.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let _read_only = ReadOnly::make(&data);
    let server = saidno.serve();
    assert_degraded(&server, "data folder");
}

#[test]
fn a_full_disk_degrades_to_forwarding() {
    let saidno = Binary::new("");
    let db = saidno.dir.path().join("data/db");
    std::fs::create_dir_all(&db).unwrap();
    // Every write to /dev/full fails with "no space left on device".
    std::os::unix::fs::symlink("/dev/full", db.join("db")).unwrap();
    let server = saidno.serve();
    assert_degraded(&server, "No space left on device");
}

#[test]
fn a_damaged_database_is_not_trusted_and_degrades_to_forwarding() {
    let saidno = Binary::new("");
    for n in 0..20 {
        saidno.ok(&["decline", "add", &format!("+4420794601{n:02}"), "--company", "Everest Windows"]);
    }
    // Damage the file the way a bad disk does: stripes of garbage all through it.
    let file = saidno.dir.path().join("data/db/db");
    let mut bytes = std::fs::read(&file).unwrap();
    for stripe in bytes.chunks_mut(512) {
        let end = stripe.len().min(16);
        stripe[..end].fill(0xAB);
    }
    std::fs::write(&file, bytes).unwrap();

    let listed = saidno.run(&["decline", "list"]);
    assert!(!listed.status.success(), "the command line does not show a damaged database as empty");
    assert!(String::from_utf8_lossy(&listed.stderr).contains("damaged"));

    let server = saidno.serve();
    assert_degraded(&server, "damaged");
}

impl Binary {
    /// While another process holds the database, the command line cannot open it either.
    fn ok_offline_is_impossible(&self) {
        assert!(!self.run(&["decline", "list"]).status.success());
    }
}

/// A folder nobody may write, root included: a read-only mount where possible, else no write bits.
struct ReadOnly {
    path: std::path::PathBuf,
    mounted: bool,
}

impl ReadOnly {
    fn make(path: &Path) -> Self {
        let root = Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        if root {
            let status = Command::new("mount").args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"]).arg(path).status();
            assert!(status.is_ok_and(|s| s.success()), "root can mount a read-only folder");
            return Self { path: path.to_owned(), mounted: true };
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o500)).unwrap();
        Self { path: path.to_owned(), mounted: false }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.path).status();
        }
    }
}
