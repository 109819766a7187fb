//! The real binary on a PostgreSQL database (`[store] url`): the owner's changes, the calls they
//! decide and the call log all go through it. Skipped without `SAIDNO_TEST_DATABASE_URL` (and
//! failed without it in CI), like the store's own PostgreSQL tests.

use saidno::store::test_db::TestDb;
use saidno::store::{CallHistory, CallQuery, OwnerRecord, PostgresStore};
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) fn on_postgres(database: &TestDb) -> Binary {
    Binary::new(&format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\nurl = \"{}\"\n", database.url))
}

pub(crate) fn admin(server: &Server, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut request =
            saidno::tls::client().request(method, format!("{}/api/v1{path}", server.url)).bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn a_number_declined_through_the_admin_api_is_refused_and_logged_in_postgres() {
    let Some(database) = TestDb::new() else { return };
    let saidno = on_postgres(&database);
    let mut server = saidno.serve();
    assert_eq!(server.get("/readyz").0, 200, "{}", server.log());

    let (status, saved) =
        admin(&server, reqwest::Method::POST, "/declines", Some(json!({"number": PUSHY, "company": "Everest"})));
    assert!(status == 200 || status == 201, "{status}: {saved}");
    let twiml = server.call("CA1", PUSHY);
    assert!(twiml.contains("<Say") && twiml.contains("<Hangup") && !twiml.contains("<Dial"), "refused: {twiml}");
    let forwarded = server.call("CA2", "+442079460555");
    assert!(forwarded.contains("<Dial"), "anyone else rings through: {forwarded}");

    // The log is written in batches a moment after the call; the bound only stops a broken test.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let calls = loop {
        let (status, calls) = admin(&server, reqwest::Method::GET, "/calls?limit=10", None);
        assert_eq!(status, 200, "{calls}");
        if calls.as_array().unwrap().len() == 2 || std::time::Instant::now() > deadline {
            break calls;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let logged: Vec<(&str, &str)> = calls
        .as_array()
        .unwrap()
        .iter()
        .map(|call| (call["call_sid"].as_str().unwrap(), call["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(logged, [("CA2", "forward"), ("CA1", "decline")]);

    // The command line opens the database beside the running server and reads it itself.
    let listed = saidno.json(&["decline", "list", "--json"]);
    assert!(listed.to_string().contains(PUSHY), "{listed}");
    server.terminate();

    // What the server kept is in PostgreSQL, not in a database of its own under data_dir.
    assert!(!saidno.dir.path().join("data").join("db").exists(), "no embedded database was made");
    let store = PostgresStore::open(&database.url).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        assert_eq!(store.declines().await.unwrap().len(), 1);
        let refused = CallQuery { declined_only: true, limit: 10, ..Default::default() };
        let refused = store.calls(&refused).await.unwrap();
        assert_eq!(refused.iter().map(|call| call.call_id.as_str()).collect::<Vec<_>>(), ["CA1"]);
    });
}

#[test]
fn a_malformed_store_url_from_the_environment_is_refused_by_name_without_its_password() {
    let saidno = Binary::new("");
    let output = saidno
        .command()
        .env("SAIDNO_STORE__URL", "mysql://saidno:hunter2@db.example.com/saidno")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(said.contains("store.url") && said.contains("postgres://user:password@host:5432/database"), "{said}");
    assert!(!said.contains("hunter2"), "{said}");
}

#[test]
fn the_command_line_changes_the_postgres_database_itself_while_no_server_runs() {
    let Some(database) = TestDb::new() else { return };
    let saidno = on_postgres(&database);
    let added = saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    assert!(added.contains("Declined +442079460123 (Everest Windows)"), "{added}");
    assert!(!saidno.dir.path().join("data").join("db").exists(), "no embedded database was made");

    // The server started afterwards reads the decline from PostgreSQL and refuses the number.
    let server = saidno.serve();
    let twiml = server.call("CA1", "+442079460123");
    assert!(twiml.contains("<Hangup") && !twiml.contains("<Dial"), "refused: {twiml}");
}

#[test]
fn doctor_checks_the_postgres_database_and_backups_point_to_pg_dump() {
    let Some(database) = TestDb::new() else { return };
    let saidno = on_postgres(&database);
    let checked = saidno.run(&["doctor"]);
    let said = stdout(&checked) + &stderr(&checked);
    assert!(said.contains("the PostgreSQL database answers, with the schema this saidno knows"), "{said}");

    let backup = saidno.run(&["backup", saidno.dir.path().join("copy").to_str().unwrap()]);
    assert!(!backup.status.success());
    assert!(stderr(&backup).contains("backed up with pg_dump"), "{}", stderr(&backup));
    assert!(!saidno.dir.path().join("copy").exists() && !saidno.dir.path().join("copy.partial").exists());
}
