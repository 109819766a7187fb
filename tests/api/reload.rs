//! SIGHUP: the configuration is read again and put in effect without closing the listener.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::helpers::*;

/// The configuration `Binary::new` wrote, under another business name and with `extra` at its end.
fn rewrite(saidno: &Binary, business: &str, extra: &str) {
    let path = saidno.config_path();
    let written = std::fs::read_to_string(&path).unwrap();
    let first = written.split("\n# changed\n").next().unwrap();
    let renamed: Vec<String> = first
        .lines()
        .map(|line| match line.starts_with("business_name") {
            true => format!("business_name = \"{business}\""),
            false => line.to_owned(),
        })
        .collect();
    std::fs::write(&path, format!("{}\n# changed\n{extra}\n", renamed.join("\n"))).unwrap();
}

#[test]
fn sighup_puts_a_changed_configuration_in_effect_without_dropping_a_call() {
    let saidno = Binary::new("");
    let server = saidno.serve();
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    assert!(server.call("CA0001", PUSHY).contains("this is Acme Plumbing"));

    // Calls keep coming while the configuration changes under them; each must be answered.
    let stop = Arc::new(AtomicBool::new(false));
    let caller = {
        let (stop, url) = (stop.clone(), server.url.clone());
        std::thread::spawn(move || {
            let mut answered = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = call_at(&url, &format!("CB{answered:05}"), "+442079460555");
                assert!(body.contains("<Dial"), "{body}");
                answered += 1;
            }
            answered
        })
    };
    rewrite(&saidno, "Brightside Dental", "");
    server.signal("HUP");
    server.wait_for_log("configuration reloaded", 1);
    assert!(server.call("CA0002", PUSHY).contains("this is Brightside Dental"));
    rewrite(&saidno, "Corner Bakery", "");
    server.signal("HUP");
    server.wait_for_log("configuration reloaded", 2);
    stop.store(true, Ordering::Relaxed);
    assert!(caller.join().unwrap() > 0);
    assert!(server.call("CA0003", PUSHY).contains("this is Corner Bakery"));
    // The record and the log carried over.
    assert_eq!(saidno.json(&["decline", "list", "--json"])[0]["company"], "Everest Windows");
}

#[test]
fn a_reload_with_a_broken_configuration_keeps_the_running_one_and_says_why() {
    let saidno = Binary::new("");
    let server = saidno.serve();
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    rewrite(&saidno, "Brightside Dental", "[twilo]\nauth_token = \"x\"");
    server.signal("HUP");
    server.wait_for_log("the configuration was not reloaded", 1);
    assert!(server.log().contains("unknown section `[twilo]`"), "{}", server.log());
    assert!(server.call("CA0001", PUSHY).contains("this is Acme Plumbing"));
}

#[test]
fn a_setting_that_needs_a_restart_is_named_and_the_rest_apply() {
    let saidno = Binary::new("");
    let server = saidno.serve();
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    let path = saidno.config_path();
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\"");
    std::fs::write(&path, text.replace("Acme Plumbing", "Brightside Dental")).unwrap();
    server.signal("HUP");
    server.wait_for_log("configuration reloaded", 1);
    assert!(server.log().contains("key=\"listen\""), "{}", server.log());
    assert!(server.log().contains("takes effect at the next restart"));
    assert!(server.call("CA0001", PUSHY).contains("this is Brightside Dental"));
}
