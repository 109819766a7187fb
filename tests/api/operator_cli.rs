//! `saidno business`, `saidno line` and `--business`: the real binary on a PostgreSQL database,
//! and refused on the embedded store, which holds one business.

use std::io::Write;
use std::process::Stdio;

use saidno::store::test_db::TestDb;
use serde_json::Value;

use crate::helpers::*;
use crate::postgres::on_postgres;

fn names(businesses: &Value) -> Vec<&str> {
    businesses.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect()
}

/// The token a command printed: the line after the one saying it is shown once.
fn token_in(printed: &str) -> &str {
    let mut lines = printed.lines().skip_while(|line| !line.contains("shown this once"));
    lines.nth(1).unwrap_or_else(|| panic!("no token in {printed}")).trim()
}

fn refused(saidno: &Binary, args: &[&str]) -> String {
    let output = saidno.run(args);
    assert_eq!(output.status.code(), Some(2), "saidno {args:?}: {}", stderr(&output));
    stderr(&output)
}

#[test]
fn businesses_are_added_listed_re_set_re_tokened_and_removed_in_postgres() {
    let Some(database) = TestDb::new() else { return };
    let saidno = on_postgres(&database);
    let settings = saidno.dir.path().join("acme.toml");
    std::fs::write(&settings, "business_name = \"Acme Widgets\"\n").unwrap();
    let added = saidno.ok(&["business", "add", "acme", "--settings", settings.to_str().unwrap()]);
    assert!(added.contains("Added business acme."), "{added}");
    let token = token_in(&added).to_owned();
    assert_eq!(token.len(), 43, "{added}");

    let listed = saidno.json(&["business", "list", "--json"]);
    assert_eq!(names(&listed), ["default", "acme"]);
    assert_eq!(listed[1]["settings"], "business_name = \"Acme Widgets\"\n");
    let shown = saidno.ok(&["business", "show", "acme"]);
    assert!(shown.contains("Acme Widgets") && shown.contains("token: issued"), "{shown}");

    std::fs::write(&settings, "[refusal]\nmesage = \"Go away\"\n").unwrap();
    let said = refused(&saidno, &["business", "settings", "acme", settings.to_str().unwrap()]);
    assert!(said.contains("unknown key `mesage` in `[refusal]`") && said.contains("did you mean `message`?"), "{said}");
    std::fs::write(&settings, "[store]\nurl = \"\"\n").unwrap();
    let said = refused(&saidno, &["business", "settings", "acme", settings.to_str().unwrap()]);
    assert!(said.contains("`store` at line 1 is the deployment's setting"), "{said}");
    assert!(saidno.ok(&["business", "show", "acme"]).contains("Acme Widgets"), "refused settings changed nothing");
    std::fs::write(&settings, "business_name = \"Acme Gadgets\"\n").unwrap();
    saidno.ok(&["business", "settings", "acme", settings.to_str().unwrap()]);
    assert!(saidno.ok(&["business", "show", "acme"]).contains("Acme Gadgets"));

    let renewed = saidno.ok(&["business", "token", "acme"]);
    assert_ne!(token_in(&renewed), token, "{renewed}");

    assert!(refused(&saidno, &["business", "add", "acme"]).contains("acme"));
    assert!(refused(&saidno, &["business", "add", "Acme Widgets"]).contains("lower-case letters"));
    assert_eq!(saidno.run(&["business", "show", "nobody"]).status.code(), Some(1));

    let mut answering_no = saidno.command();
    answering_no
        .args(["business", "remove", "acme"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = answering_no.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("acme was not removed"), "{}", stderr(&output));
    assert_eq!(names(&saidno.json(&["business", "list", "--json"])), ["default", "acme"]);

    assert!(saidno.ok(&["business", "remove", "acme", "--yes"]).contains("Removed acme"));
    assert_eq!(names(&saidno.json(&["business", "list", "--json"])), ["default"]);
    assert!(refused(&saidno, &["business", "remove", "default", "--yes"]).contains("default"));
}

#[test]
fn a_line_belongs_to_one_business_and_goes_with_it_in_postgres() {
    let Some(database) = TestDb::new() else { return };
    let saidno = on_postgres(&database);
    saidno.ok(&["business", "add", "acme"]);
    saidno.ok(&["business", "add", "bolt"]);
    let added = saidno.ok(&["line", "add", "020 7946 0123", "--business", "acme"]);
    assert!(added.contains("+442079460123 brings calls to acme"), "{added}");
    saidno.ok(&["line", "add", "+442079460123", "--business", "acme"]);
    let said = refused(&saidno, &["line", "add", "+44 20 7946 0123", "--business", "bolt"]);
    assert!(said.contains("+442079460123 is already a line of acme"), "{said}");
    assert!(refused(&saidno, &["line", "add", "0800 FLOWERS", "--business", "bolt"]).contains("letters"));
    assert!(refused(&saidno, &["line", "add", "020 7946 0124"]).contains("--business"));
    let lines = saidno.json(&["line", "list", "--json"]);
    assert_eq!(lines, serde_json::json!([{ "number": "+442079460123", "business": "acme" }]));
    assert!(saidno.ok(&["business", "list"]).contains("acme  +442079460123"));
    assert_eq!(saidno.json(&["line", "list", "--json", "--business", "bolt"]), serde_json::json!([]));

    let removed = saidno.ok(&["line", "remove", "02079460123"]);
    assert!(removed.contains("+442079460123 no longer brings calls to acme"), "{removed}");
    assert_eq!(saidno.run(&["line", "remove", "02079460123"]).status.code(), Some(1));
    saidno.ok(&["line", "add", "020 7946 0123", "--business", "acme"]);
    saidno.ok(&["business", "remove", "acme", "--yes"]);
    assert_eq!(saidno.json(&["line", "list", "--json"]), serde_json::json!([]));
}

#[test]
fn with_business_the_owner_s_commands_act_on_that_business_alone() {
    let Some(database) = TestDb::new() else { return };
    let saidno = on_postgres(&database);
    let settings = saidno.dir.path().join("acme.toml");
    std::fs::write(&settings, "business_name = \"Acme Widgets\"\n").unwrap();
    saidno.ok(&["business", "add", "acme", "--settings", settings.to_str().unwrap()]);

    saidno.ok(&["--business", "acme", "decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    let acme = saidno.json(&["decline", "list", "--json", "--business", "acme"]);
    assert_eq!(acme[0]["number"], "+442079460123");
    assert_eq!(saidno.json(&["decline", "list", "--json"]), Value::Array(vec![]));
    let check = saidno.ok(&["check", "020 7946 0123", "--business", "acme"]);
    assert!(check.contains("Acme Widgets"), "the business's own name is what the caller hears: {check}");
    assert!(saidno.ok(&["check", "020 7946 0123"]).contains("forward"));

    saidno.ok(&["--business", "acme", "pause"]);
    assert!(saidno.ok(&["check", "020 7946 0123", "--business", "acme"]).contains("forward"));
    let output = saidno.run(&["--business", "nobody", "decline", "list"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("no business called \"nobody\""), "{}", stderr(&output));
}

#[test]
fn the_embedded_store_holds_one_business_and_refuses_more() {
    let saidno = Binary::new("");
    let said = refused(&saidno, &["business", "add", "acme"]);
    assert!(said.contains("hosting more than one business needs a PostgreSQL store"), "{said}");
    let said = refused(&saidno, &["line", "add", "020 7946 0123", "--business", "default"]);
    assert!(said.contains("needs a PostgreSQL store"), "{said}");
    assert_eq!(names(&saidno.json(&["business", "list", "--json"])), ["default"]);
    let said = refused(&saidno, &["--business", "acme", "decline", "list"]);
    assert!(said.contains("only a PostgreSQL store"), "{said}");
    saidno.ok(&["--business", "default", "decline", "add", "020 7946 0123"]);
    assert_eq!(saidno.json(&["decline", "list", "--json"])[0]["number"], "+442079460123");
    let said = refused(&saidno, &["--business", "default", "business", "list"]);
    assert!(said.contains("does not apply here"), "{said}");
    // With the server holding the store, the default business is reached through it.
    let _server = saidno.serve();
    saidno.ok(&["--business", "default", "decline", "add", "020 7946 0124"]);
    assert_eq!(saidno.json(&["decline", "list", "--json"]).as_array().unwrap().len(), 2);
}

/// A request to a running server's API with `token`.
fn call(server: &Server, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let url = format!("{}/api/v1{path}", server.url);
        let mut request = saidno::tls::client().request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    })
}

fn with_operator(store: &str) -> String {
    format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\noperator_token = \"{OPERATOR_TOKEN}\"\n{store}")
}

#[test]
fn the_server_serves_the_operator_s_api_on_postgres_and_the_command_line_sees_its_changes() {
    let Some(database) = TestDb::new() else { return };
    let saidno = Binary::new(&with_operator(&format!("[store]\nurl = \"{}\"\n", database.url)));
    let server = saidno.serve();
    let new = serde_json::json!({ "name": "acme", "settings": "business_name = \"Acme Widgets\"\n" });
    let (status, added) = call(&server, OPERATOR_TOKEN, reqwest::Method::POST, "/operator/businesses", Some(new));
    assert_eq!(status, 201, "{added}");
    let line = serde_json::json!({ "number": "020 7946 0123", "business": "acme" });
    assert_eq!(call(&server, OPERATOR_TOKEN, reqwest::Method::POST, "/operator/lines", Some(line)).0, 201);
    assert_eq!(names(&saidno.json(&["business", "list", "--json"])), ["default", "acme"]);
    assert_eq!(saidno.json(&["line", "list", "--json"])[0]["business"], "acme");
    saidno.ok(&["business", "add", "bolt"]);
    let (_, listed) = call(&server, OPERATOR_TOKEN, reqwest::Method::GET, "/operator/businesses", None);
    assert_eq!(names(&listed), ["default", "acme", "bolt"]);
    assert_eq!(call(&server, ADMIN_TOKEN, reqwest::Method::GET, "/operator/businesses", None).0, 401);
}

#[test]
fn on_the_embedded_store_the_operator_s_api_shows_the_one_business_and_takes_no_other() {
    let saidno = Binary::new(&with_operator(""));
    let server = saidno.serve();
    let (status, listed) = call(&server, OPERATOR_TOKEN, reqwest::Method::GET, "/operator/businesses", None);
    assert_eq!((status, names(&listed)), (200, vec!["default"]));
    let new = serde_json::json!({ "name": "acme" });
    let (status, error) = call(&server, OPERATOR_TOKEN, reqwest::Method::POST, "/operator/businesses", Some(new));
    assert_eq!(status, 400, "{error}");
    assert!(error["error"].as_str().unwrap().contains("needs a PostgreSQL store"), "{error}");
}

#[test]
fn an_operator_token_that_is_also_the_admin_token_is_refused_without_being_shown() {
    let saidno = Binary::new("[admin]\ntoken = \"same-secret-token\"\noperator_token = \"same-secret-token\"\n");
    let said = refused(&saidno, &["decline", "list"]);
    assert!(said.contains("admin.operator_token") && said.contains("must differ from [admin] token"), "{said}");
    assert!(!said.contains("same-secret-token"), "{said}");
}

#[test]
fn a_reload_that_sets_the_operator_token_turns_the_operator_s_api_on_and_one_that_clears_it_off() {
    let admin_only = format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n");
    let saidno = Binary::new(&admin_only);
    let server = saidno.serve();
    let businesses = |server: &Server| call(server, OPERATOR_TOKEN, reqwest::Method::GET, "/operator/businesses", None);
    assert_eq!(businesses(&server).0, 404, "no operator token, no operator's API");

    let path = saidno.config_path();
    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, written.replace(&admin_only, &with_operator(""))).unwrap();
    server.signal("HUP");
    server.wait_for_log("configuration reloaded", 1);
    let (status, listed) = businesses(&server);
    assert_eq!((status, names(&listed)), (200, vec!["default"]));

    std::fs::write(&path, written).unwrap();
    server.signal("HUP");
    server.wait_for_log("configuration reloaded", 2);
    assert_eq!(businesses(&server).0, 404, "the token cleared, the API is off again");
}
