//! The command line, against the store directly and against a running server.

use serde_json::Value;

use crate::helpers::*;

fn numbers(declines: &Value) -> Vec<&str> {
    declines.as_array().unwrap().iter().map(|d| d["number"].as_str().unwrap()).collect()
}

#[test]
fn offline_the_command_line_declines_lists_checks_and_removes() {
    let saidno = Binary::new("");
    let added = saidno.ok(&[
        "decline",
        "add",
        "020 7946 0123",
        "--company",
        "Everest Windows",
        "--note",
        "kitchen upsell",
        "--by",
        "Sam",
    ]);
    assert!(added.contains("Declined +442079460123 (Everest Windows)"), "{added}");

    let declines = saidno.json(&["decline", "list", "--json"]);
    assert_eq!(numbers(&declines), ["+442079460123"]);
    assert_eq!(declines[0]["company"], "Everest Windows");
    assert_eq!(declines[0]["declined_by"], "Sam");
    assert_eq!(declines[0]["channel"], "command_line");

    let table = saidno.ok(&["decline", "list"]);
    assert!(table.contains("Everest Windows") && table.contains("kitchen upsell"), "{table}");

    let check = saidno.ok(&["check", "+442079460123"]);
    assert!(check.contains("decline") && check.contains("Everest Windows"), "{check}");
    assert!(check.contains("Acme Plumbing"), "the preview says what the caller hears: {check}");
    let other = saidno.ok(&["check", "020 7946 0555"]);
    assert!(other.contains("forward"), "{other}");

    saidno.ok(&["decline", "remove", "02079460123"]);
    assert_eq!(saidno.json(&["decline", "list", "--json"]), Value::Array(vec![]));
}

#[test]
fn offline_allows_are_added_listed_and_removed() {
    let saidno = Binary::new("");
    saidno.ok(&["allow", "add", "020 7946 0555", "--name", "Mum"]);
    let allows = saidno.json(&["allow", "list", "--json"]);
    assert_eq!(allows[0]["number"], "+442079460555");
    assert_eq!(allows[0]["name"], "Mum");
    saidno.ok(&["decline", "add", "020 7946 0555"]);
    assert!(saidno.ok(&["check", "020 7946 0555"]).contains("forward"));
    saidno.ok(&["allow", "remove", "+442079460555"]);
    assert!(saidno.ok(&["check", "020 7946 0555"]).contains("decline"));
}

#[test]
fn a_number_the_plan_does_not_know_is_refused_with_the_flag_that_takes_it() {
    let saidno = Binary::new("");
    let refused = saidno.run(&["decline", "add", "01632 960123"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not a number in use") && stderr.contains("--force"), "{stderr}");
    assert_eq!(saidno.json(&["decline", "list", "--json"]), Value::Array(vec![]));
    saidno.ok(&["decline", "add", "01632 960123", "--force"]);
    assert_eq!(saidno.json(&["decline", "list", "--json"])[0]["number"], "+441632960123");
}

#[test]
fn bad_input_exits_non_zero_with_a_one_line_reason_and_changes_nothing() {
    let saidno = Binary::new("");
    for args in [
        vec!["decline", "add", "0800 FLOWERS"],
        vec!["decline", "add", "not-a-number"],
        vec!["decline", "add", "01632 960123"],
        vec!["decline", "add", "020 7946 0123", "--mode", "shout"],
        vec!["decline", "add", "020 7946 0123", "--colour", "red"],
        vec!["log", "--since", "last tuesday"],
        vec!["log", "--limit", "0"],
    ] {
        let output = saidno.run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.trim().is_empty(), "{args:?} gave no reason");
    }
    let output = saidno.run(&["decline", "add", "0800 FLOWERS"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("letters"), "{stderr}");
    assert_eq!(saidno.json(&["decline", "list", "--json"]), Value::Array(vec![]));
}

#[test]
fn removing_a_number_that_is_not_declined_fails() {
    let saidno = Binary::new("");
    let output = saidno.run(&["decline", "remove", "020 7946 0123"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not declined"));
}

#[test]
fn a_missing_config_file_is_an_error() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_saidno"))
        .args(["--config", "/nonexistent/saidno.toml", "decline", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}

#[test]
fn environment_variables_override_the_config_file() {
    let saidno = Binary::new("");
    let elsewhere = saidno.dir.path().join("elsewhere");
    let output = saidno
        .command()
        .env("SAIDNO_DATA_DIR", &elsewhere)
        .env("SAIDNO_REGION", "US")
        .args(["decline", "add", "(212) 555-0100", "--force"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(elsewhere.join("db").exists(), "the store was opened in SAIDNO_DATA_DIR");
    let listed =
        saidno.command().env("SAIDNO_DATA_DIR", &elsewhere).args(["decline", "list", "--json"]).output().unwrap();
    let declines: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(numbers(&declines), ["+12125550100"]);
}

#[test]
fn while_the_server_runs_the_command_line_goes_through_its_api() {
    let saidno = Binary::new("");
    let server = saidno.serve();

    let added = saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    assert!(added.contains("Declined +442079460123"), "{added}");
    // The running server sees it at once: the next call is refused.
    let twiml = server.call("CA1000", "+442079460123");
    assert!(twiml.contains("<Say") && twiml.contains("Everest Windows"), "{twiml}");
    server.call("CA1001", "+442079460555");

    let declines = saidno.json(&["decline", "list", "--json"]);
    assert_eq!(numbers(&declines), ["+442079460123"]);
    assert_eq!(declines[0]["channel"], "command_line");

    let log = saidno.json(&["log", "--json"]);
    let sids: Vec<&str> = log.as_array().unwrap().iter().map(|c| c["call_sid"].as_str().unwrap()).collect();
    assert_eq!(sids, ["CA1001", "CA1000"]);
    for field in ["call_sid", "from", "to", "at", "decision", "reason"] {
        assert!(!log[0][field].is_null(), "log --json has {field}");
    }
    let refused = saidno.json(&["log", "--json", "--declined"]);
    assert_eq!(refused.as_array().unwrap().len(), 1);
    assert_eq!(refused[0]["decision"], "decline");
    assert_eq!(saidno.json(&["log", "--json", "--limit", "1"]).as_array().unwrap().len(), 1);
    assert_eq!(saidno.json(&["log", "--json", "--since", "2099-01-01"]), Value::Array(vec![]));
    assert_eq!(saidno.json(&["log", "--json", "--since", "1h"]).as_array().unwrap().len(), 2);

    let table = saidno.ok(&["log"]);
    assert!(table.contains("refused: Everest Windows"), "{table}");

    assert!(saidno.ok(&["check", "+442079460123"]).contains("decline"));
    saidno.ok(&["allow", "add", "+442079460123", "--name", "Service desk"]);
    assert!(saidno.ok(&["check", "+442079460123"]).contains("forward"));
    saidno.ok(&["allow", "remove", "+442079460123"]);
    saidno.ok(&["decline", "remove", "+442079460123"]);
    assert!(server.call("CA1002", "+442079460123").contains("<Dial"));

    let bad = saidno.run(&["decline", "add", "0800 FLOWERS"]);
    assert_eq!(bad.status.code(), Some(2), "bad input through the server is still bad input");
}

#[test]
fn a_server_that_refuses_the_token_fails_the_command() {
    let saidno = Binary::new("");
    let _server = saidno.serve();
    let output = saidno
        .command()
        .env("SAIDNO_ADMIN__TOKEN", "not-the-servers-token")
        .args(["decline", "add", "020 7946 0123"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refused the admin token"));
}

impl Binary {
    /// Runs a command with `input` on standard input.
    pub fn with_input(&self, args: &[&str], input: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

#[test]
fn declines_export_and_import_offline_and_a_bad_file_changes_nothing() {
    let saidno = Binary::new("");
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows", "--note", "a, \"quoted\" note"]);
    saidno.ok(&["decline", "add", "020 7946 0124", "--mode", "reject"]);
    let csv = saidno.ok(&["export", "declines"]);
    let json_file = saidno.dir.path().join("declines.json");
    saidno.ok(&["export", "declines", "--format", "json", "--output", json_file.to_str().unwrap()]);

    let fresh = Binary::new("");
    let csv_file = fresh.dir.path().join("declines.csv");
    std::fs::write(&csv_file, &csv).unwrap();
    assert!(fresh.ok(&["import", "declines", csv_file.to_str().unwrap()]).contains("Imported 2"));
    assert_eq!(fresh.ok(&["export", "declines"]), csv, "the round trip is exact");
    let from_json = Binary::new("");
    from_json.ok(&["import", "declines", json_file.to_str().unwrap()]);
    assert_eq!(from_json.ok(&["export", "declines"]), csv);

    let bad = Binary::new("");
    let bad_file = bad.dir.path().join("bad.csv");
    std::fs::write(&bad_file, format!("{csv}banana,,,,X,,2026-11-03T10:00:00Z,,web,,,,\n")).unwrap();
    let output = bad.run(&["import", "declines", bad_file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 4: number:"), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(bad.json(&["decline", "list", "--json"]), Value::Array(vec![]));
    let partial = bad.ok(&["import", "declines", bad_file.to_str().unwrap(), "--skip-bad-rows"]);
    assert!(partial.contains("Imported 2") && partial.contains("Skipped line 4"), "{partial}");
}

#[test]
fn a_published_list_of_bare_numbers_imports_dated_at_the_import() {
    let saidno = Binary::new("");
    let file = saidno.dir.path().join("robocallers.csv");
    std::fs::write(&file, "number\n+442079460123\n020 7946 0124\n").unwrap();
    let before = jiff::Timestamp::now();
    assert!(saidno.ok(&["import", "declines", file.to_str().unwrap()]).contains("Imported 2"));
    let declines = saidno.json(&["decline", "list", "--json"]);
    let numbers: Vec<&str> = declines.as_array().unwrap().iter().map(|d| d["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["+442079460123", "+442079460124"]);
    for decline in declines.as_array().unwrap() {
        let at: jiff::Timestamp = decline["declined_at"].as_str().unwrap().parse().unwrap();
        assert!(at >= before && at <= jiff::Timestamp::now(), "{decline}");
    }

    // A bad number in such a list is still named by its line, and nothing is imported.
    let bad = Binary::new("");
    let bad_file = bad.dir.path().join("robocallers.csv");
    std::fs::write(&bad_file, "number\n+442079460123\nnot a number\n").unwrap();
    let output = bad.run(&["import", "declines", bad_file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3: number:"), "{stderr}");
    assert_eq!(bad.json(&["decline", "list", "--json"]), Value::Array(vec![]));
}

#[test]
fn while_the_server_runs_export_import_evidence_and_the_password_go_through_its_api() {
    let saidno = Binary::new("");
    let set = saidno.with_input(&["admin", "set-password"], "too short\n");
    assert_eq!(set.status.code(), Some(2), "a short password is refused");
    let server = saidno.serve();
    let set = saidno.with_input(&["admin", "set-password"], "correct horse battery\n");
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));

    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows", "--by", "Sam"]);
    server.call("CA1100", "+442079460123");
    server.call("CA1101", "+442079460123");

    let table = saidno.ok(&["decline", "list"]);
    let header: Vec<&str> =
        table.lines().next().unwrap().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    let row: Vec<&str> = table.lines().nth(1).unwrap().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    let calls_since = header.iter().position(|column| *column == "CALLS SINCE").expect("a CALLS SINCE column");
    assert_eq!(row[calls_since], "2", "{table}");
    let listed = saidno.json(&["decline", "list", "--json"]);
    assert_eq!(listed[0]["follow_ups"]["count"], 2);

    let evidence = saidno.ok(&["export", "evidence", "everest windows"]);
    assert_eq!(evidence.lines().filter(|line| line.starts_with("attempt,")).count(), 2, "{evidence}");
    assert!(evidence.contains("CA1101"));
    let calls = saidno.ok(&["export", "calls", "--since", "1h"]);
    assert!(calls.contains("CA1100") && calls.contains("CA1101"), "{calls}");

    let csv = saidno.ok(&["export", "declines"]);
    saidno.ok(&["decline", "remove", "020 7946 0123"]);
    let file = saidno.dir.path().join("back.csv");
    std::fs::write(&file, &csv).unwrap();
    assert!(saidno.ok(&["import", "declines", file.to_str().unwrap()]).contains("Imported 1"));
    assert!(server.call("CA1102", "+442079460123").contains("<Say"));
    std::fs::write(&file, "number\nbanana\n").unwrap();
    let refused = saidno.run(&["import", "declines", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 2"));
}

#[test]
fn ranges_patterns_and_caller_names_are_declined_and_removed_from_the_command_line() {
    let saidno = Binary::new("");
    assert!(saidno.ok(&["decline", "add", "01632 9601*", "--company", "Rotating Ltd"]).contains("+4416329601*"));
    saidno.ok(&["decline", "add", "--pattern", r"\+23480\d{8}", "--mode", "reject"]);
    saidno.ok(&["decline", "add", "--caller-name", r"V\d{15}"]);
    let declines = saidno.json(&["decline", "list", "--json"]);
    let mut kinds: Vec<String> = declines
        .as_array()
        .unwrap()
        .iter()
        .map(|d| ["number", "prefix", "pattern", "caller_name"].iter().find(|k| !d[**k].is_null()).unwrap().to_string())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["caller_name", "pattern", "prefix"]);

    assert!(saidno.ok(&["check", "+441632960123"]).contains("Rotating Ltd (+4416329601*)"));
    assert!(saidno.ok(&["check", "+2348012345678"]).contains("busy signal"));
    let robot = saidno.ok(&["check", "020 7946 0555", "--caller-name", "V123456789012345"]);
    assert!(robot.contains("decline"), "{robot}");

    let bad = saidno.run(&["decline", "add", "--pattern", r"\+44("]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unclosed group"));

    saidno.ok(&["decline", "remove", "+4416329601*"]);
    saidno.ok(&["decline", "remove", "--pattern", r"\+23480\d{8}"]);
    saidno.ok(&["decline", "remove", "--caller-name", r"V\d{15}"]);
    assert_eq!(saidno.json(&["decline", "list", "--json"]), Value::Array(vec![]));
}

#[test]
fn an_expected_callback_rings_through_in_its_window_and_check_previews_any_moment() {
    let saidno = Binary::new("");
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    let added = saidno.ok(&[
        "allow",
        "add",
        "020 7946 0123",
        "--name",
        "Kitchen callback",
        "--from",
        "2030-01-08 14:00",
        "--until",
        "2030-01-08 16:00",
        "--once",
    ]);
    assert!(added.contains("from 8 Jan 14:00 until 8 Jan 16:00 once"), "{added}");
    let inside = saidno.ok(&["check", "020 7946 0123", "--at", "2030-01-08 15:00"]);
    assert!(inside.contains(": forward") && inside.contains("Kitchen callback"), "{inside}");
    let outside = saidno.ok(&["check", "020 7946 0123", "--at", "2030-01-08 17:00"]);
    assert!(outside.contains(": decline") && outside.contains("ended 8 Jan 16:00"), "{outside}");

    saidno.ok(&["allow", "add", "020 7946 0555", "--for", "2h"]);
    assert!(saidno.ok(&["allow", "list"]).contains("until"));
    let bad =
        saidno.run(&["allow", "add", "020 7946 0555", "--from", "2030-01-08 16:00", "--until", "2030-01-08 14:00"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_not_before_decline_and_the_withheld_preview() {
    let saidno = Binary::new("[policy]\nwithheld = \"screen\"\n");
    let added = saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Gym", "--not-before", "2030-03-01"]);
    assert!(added.contains("Declined"), "{added}");
    assert!(saidno.ok(&["decline", "list"]).contains("until 1 Mar 2030"));
    let before = saidno.ok(&["check", "020 7946 0123"]);
    assert!(before.contains("not to call this number before 1 March 2030"), "{before}");
    let after = saidno.ok(&["check", "020 7946 0123", "--at", "2030-03-02"]);
    assert!(after.contains(": forward") && after.contains("lapsed on 1 Mar 2030"), "{after}");
    let withheld = saidno.ok(&["check", "--withheld"]);
    assert!(withheld.contains("withheld: screen"), "{withheld}");
}

#[test]
fn pause_and_resume_work_offline_and_through_the_server() {
    let saidno = Binary::new("");
    saidno.ok(&["decline", "add", "020 7946 0123"]);
    assert!(saidno.ok(&["pause"]).contains("Paused"));
    assert!(saidno.ok(&["check", "020 7946 0123"]).contains("paused"));
    let server = saidno.serve();
    assert!(server.call("CA1", "+442079460123").contains("<Dial"));
    assert!(saidno.ok(&["resume"]).contains("Resumed"));
    assert!(server.call("CA2", "+442079460123").contains("<Say"));
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_commands() {
    let saidno = Binary::new("");
    for (shell, marker) in [("bash", "complete -F _saidno"), ("zsh", "#compdef saidno"), ("fish", "complete -c saidno")]
    {
        let script = saidno.ok(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for command in ["decline", "doctor", "legal-hold", "completions", "business", "line"] {
            assert!(script.contains(command), "the {shell} script offers {command}");
        }
    }
}

#[test]
fn bash_completes_a_command_and_its_subcommands() {
    let saidno = Binary::new("");
    let script = saidno.dir.path().join("saidno.bash");
    std::fs::write(&script, saidno.ok(&["completions", "bash"])).unwrap();
    // As bash calls the function on Tab: the words so far, the index of the one being completed.
    let complete = |words: &str, current: usize, word: &str, previous: &str| {
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={current}; _saidno saidno '{word}' '{previous}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let output =
            std::process::Command::new("bash").args(["--noprofile", "--norc", "-c", &program]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    assert_eq!(complete("saidno dec", 1, "dec", "saidno").trim(), "decline");
    let subcommands = complete("saidno decline ''", 2, "", "decline");
    for subcommand in ["add", "remove", "list"] {
        assert!(subcommands.lines().any(|line| line == subcommand), "{subcommands}");
    }
}

#[test]
fn an_unknown_shell_is_bad_input() {
    let output = Binary::new("").run(&["completions", "powershell"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bash") && stderr.contains("zsh") && stderr.contains("fish"), "{stderr}");
}

#[test]
fn the_manual_page_covers_every_command_and_its_options() {
    let page = Binary::new("").ok(&["manual"]);
    assert!(page.starts_with(".TH SAIDNO 1 "), "{page}");
    for command in [
        "saidno decline add",
        "saidno allow add",
        "saidno doctor",
        "saidno config check",
        "saidno backup",
        "saidno business add",
        "saidno business remove",
        "saidno line add",
    ] {
        assert!(page.contains(&format!(".SS \"{command}\"")), "a section for {command}");
    }
    assert!(page.contains(r"\fB\-\-not\-before\fR"), "options are listed under their command");
    assert!(!page.contains(".SS \"saidno manual\""), "the hidden command stays hidden");
    assert_eq!(page.matches(".SH SYNOPSIS").count(), 1, "one page, one synopsis at the top");
}

/// Signs in to the server at `url` and returns the session cookie.
pub fn signed_in_cookie(url: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = saidno::tls::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = http
            .post(format!("{url}/login"))
            .header("origin", url)
            .form(&[("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    })
}

/// A page fetched with `cookie`: its status, and where it sent the browser.
fn page_with(url: &str, path: &str, cookie: &str) -> (u16, Option<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = saidno::tls::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = http.get(format!("{url}{path}")).header("cookie", cookie).send().await.unwrap();
        let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_owned());
        (response.status().as_u16(), location)
    })
}

#[test]
fn a_signed_in_browser_stays_signed_in_across_a_restart_and_a_new_password_signs_it_out() {
    let saidno = Binary::new("");
    assert!(saidno.with_input(&["admin", "set-password"], &format!("{PASSWORD}\n")).status.success());
    let mut server = saidno.serve();
    let cookie = signed_in_cookie(&server.url);
    assert_eq!(page_with(&server.url, "/calls", &cookie).0, 200);
    assert!(server.terminate().success());

    let server = saidno.serve();
    assert_eq!(page_with(&server.url, "/calls", &cookie), (200, None), "still signed in after the restart");
    // The password changed (through the running server's API): the old session is over.
    assert!(saidno.with_input(&["admin", "set-password"], "another long password\n").status.success());
    assert_eq!(page_with(&server.url, "/calls", &cookie), (303, Some("/login".into())));
}
