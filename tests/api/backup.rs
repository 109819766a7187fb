//! Backups taken while the server runs restore everything, exactly; damaged ones restore nothing.

use crate::helpers::*;

/// Declines of each kind, an allow, the pause, and calls with outcomes, through a running server.
fn populate(saidno: &Binary, server: &Server) {
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows", "--note", "kitchen upsell"]);
    saidno.ok(&["decline", "add", "+44 1632 9601*", "--company", "Rotating Ltd"]);
    saidno.ok(&["decline", "add", "--pattern", r"\+23480\d{8}", "--mode", "reject"]);
    saidno.ok(&["allow", "add", "020 7946 0555", "--name", "Mum"]);
    server.call("CA1", "+442079460123");
    server.call("CA2", "+442079460777");
    saidno.ok(&["pause"]);
}

#[test]
fn a_backup_taken_while_serving_restores_everything_exactly() {
    let saidno = Binary::new("");
    let mut server = saidno.serve();
    populate(&saidno, &server);
    let file = saidno.dir.path().join("saidno.backup");
    let said = saidno.ok(&["backup", file.to_str().unwrap()]);
    assert!(said.contains("Backed up"), "{said}");
    // A change after the backup, which the restore must take away.
    saidno.ok(&["decline", "add", "020 7946 0999", "--company", "After Ltd"]);
    let before = (saidno.json(&["decline", "list", "--json"]), saidno.json(&["log", "--json"]));
    server.terminate();

    let restored = saidno.ok(&["restore", file.to_str().unwrap()]);
    assert!(restored.contains("Restored") && restored.contains("kept at"), "{restored}");

    let declines = saidno.json(&["decline", "list", "--json"]);
    assert_eq!(declines.as_array().unwrap().len(), 3, "{declines}");
    assert!(!declines.to_string().contains("After Ltd"));
    assert_eq!(saidno.json(&["log", "--json"]), before.1, "the call log came back whole");
    assert!(saidno.ok(&["check", "020 7946 0123"]).contains("paused"), "the pause came back too");

    // Everything: a backup of the restored database is the same file, byte for byte.
    let again = saidno.dir.path().join("again.backup");
    saidno.ok(&["backup", again.to_str().unwrap()]);
    assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(&again).unwrap());
    assert_ne!(before.0, declines, "the decline added after the backup is gone");
}

#[test]
fn a_damaged_or_cut_backup_is_refused_and_changes_nothing() {
    let saidno = Binary::new("");
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    let file = saidno.dir.path().join("saidno.backup");
    saidno.ok(&["backup", file.to_str().unwrap()]);
    saidno.ok(&["decline", "add", "020 7946 0124", "--company", "Kept Ltd"]);
    let bytes = std::fs::read(&file).unwrap();

    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x40;
    let cut = &bytes[..bytes.len() - 10];
    for (name, content) in [("damaged.backup", &damaged[..]), ("cut.backup", cut), ("other.backup", b"not a backup")] {
        let path = saidno.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let output = saidno.run(&["restore", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("nothing was changed"), "{name}");
    }
    let declines = saidno.json(&["decline", "list", "--json"]);
    assert_eq!(declines.as_array().unwrap().len(), 2, "both declines are still there: {declines}");
}

#[test]
fn a_restore_waits_for_the_server_to_stop() {
    let saidno = Binary::new("");
    let _server = saidno.serve();
    let file = saidno.dir.path().join("saidno.backup");
    saidno.ok(&["backup", file.to_str().unwrap()]);
    let output = saidno.run(&["restore", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("stop the server"));
}
