//! A deployment hosting several businesses on one PostgreSQL database, set up as its operator
//! sets it up: the real binary, each business added with its settings and line on the command line.

use std::time::{Duration, Instant};

use reqwest::Method;
use saidno::store::test_db::TestDb;
use serde_json::Value;

use super::{ADMIN_TOKEN, Binary, OPERATOR_TOKEN, Server, api_at};
use crate::postgres_instances::GIVE_UP_AFTER;

/// A deployment on `database` with the operator's API on.
pub fn hosting(database: &TestDb) -> Binary {
    hosting_with(database, "")
}

/// The same, with more of the deployment's configuration (`extra`, its own sections).
pub fn hosting_with(database: &TestDb, extra: &str) -> Binary {
    Binary::new(&format!(
        "[admin]\ntoken = \"{ADMIN_TOKEN}\"\noperator_token = \"{OPERATOR_TOKEN}\"\n[store]\nurl = \"{}\"\n{extra}",
        database.url
    ))
}

/// Adds a business through the command line, with its settings, and returns its admin token.
pub fn add_business(saidno: &Binary, name: &str, settings: &str, line: &str) -> String {
    let file = saidno.dir.path().join(format!("{name}.toml"));
    std::fs::write(&file, settings).unwrap();
    let added = saidno.ok(&["business", "add", name, "--settings", file.to_str().unwrap()]);
    saidno.ok(&["line", "add", line, "--business", name]);
    added.lines().rev().find(|line| !line.trim().is_empty()).unwrap().trim().to_owned()
}

/// Sets a business's web password, as its owner would on the command line.
pub fn set_business_password(saidno: &Binary, name: &str, password: &str) {
    let set = saidno.with_input(&["--business", name, "admin", "set-password"], &format!("{password}\n"));
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
}

/// An admin API request with a business's token, its answer read as JSON.
pub fn api(server: &Server, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, body) = api_at(&server.url, token, method, path, body);
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The ids of the calls in a business's log, once it holds `count` (the log is written in batches
/// a moment after each call).
pub fn logged(server: &Server, token: &str, count: usize) -> Vec<String> {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let (status, calls) = api(server, token, Method::GET, "/calls?limit=50", None);
        assert_eq!(status, 200, "{calls}");
        let ids: Vec<String> =
            calls.as_array().unwrap().iter().map(|call| call["call_sid"].as_str().unwrap().to_owned()).collect();
        if ids.len() >= count || Instant::now() > deadline {
            return ids;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Everything of a business's that its admin API shows.
pub fn records(server: &Server, token: &str) -> Vec<Value> {
    ["/declines", "/allows", "/calls?limit=50", "/companies", "/legal-holds", "/pause"]
        .iter()
        .map(|path| {
            let (status, body) = api(server, token, Method::GET, path, None);
            assert_eq!(status, 200, "{path}: {body}");
            body
        })
        .collect()
}
