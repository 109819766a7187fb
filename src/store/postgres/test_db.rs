//! A fresh database for each test, on the server `SAIDNO_TEST_DATABASE_URL` names, so tests run in
//! parallel and leave nothing behind. Used by the tests alone; it is public for those in `tests/`.

use tokio_postgres::NoTls;

use super::PostgresStore;

/// The database a test made; dropped (with any connection still open to it) when the test ends.
pub struct TestDb {
    admin: String,
    name: String,
    pub url: String,
}

/// Without `SAIDNO_TEST_DATABASE_URL` a test is skipped, and says so; in CI (with `CI` set) a
/// missing database fails it, so that the tests cannot quietly stop running.
pub fn server() -> Option<String> {
    match std::env::var("SAIDNO_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) => {
            panic!("SAIDNO_TEST_DATABASE_URL is not set, and CI runs every PostgreSQL test")
        }
        _ => {
            // Once, and past the test harness's capture, so that the note shows in a passing run.
            static TOLD: std::sync::Once = std::sync::Once::new();
            TOLD.call_once(|| {
                let note = "note: PostgreSQL tests skipped: set SAIDNO_TEST_DATABASE_URL to a server to run them\n";
                let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
            });
            None
        }
    }
}

/// The test server over TLS, for the tests of TLS alone.
pub struct TlsServer {
    /// `SAIDNO_TEST_DATABASE_TLS_URL`: the server `SAIDNO_TEST_DATABASE_URL` names, with an
    /// `sslmode` and the host its certificate is for.
    pub url: String,
    /// `SAIDNO_TEST_DATABASE_CA_FILE`: the authority that signed the server's certificate.
    pub ca_file: std::path::PathBuf,
}

/// The server over TLS, skipped with a note without it and failed without it in CI, as `server`.
pub fn tls_server() -> Option<TlsServer> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    match (variable("SAIDNO_TEST_DATABASE_TLS_URL"), variable("SAIDNO_TEST_DATABASE_CA_FILE")) {
        (Some(url), Some(ca_file)) => Some(TlsServer { url, ca_file: ca_file.into() }),
        _ if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) => {
            panic!(
                "SAIDNO_TEST_DATABASE_TLS_URL or SAIDNO_TEST_DATABASE_CA_FILE is not set, and CI runs every TLS test"
            )
        }
        _ => {
            static TOLD: std::sync::Once = std::sync::Once::new();
            TOLD.call_once(|| {
                let note = "note: PostgreSQL TLS tests skipped: set SAIDNO_TEST_DATABASE_TLS_URL and \
                            SAIDNO_TEST_DATABASE_CA_FILE to run them (see .ci/run)\n";
                let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
            });
            None
        }
    }
}

impl TestDb {
    /// A new, empty database on the test server and, when it is reachable over TLS, that server.
    pub fn with_tls() -> Option<(Self, TlsServer)> {
        let tls = tls_server()?;
        Some((Self::new()?, tls))
    }

    /// This database's url over TLS: `server`'s url, naming this database.
    pub fn url_over(&self, server: &TlsServer) -> String {
        let (base, parameters) = server.url.split_once('?').unwrap_or((&server.url, ""));
        let host_end = base.find("://").map_or(0, |at| at + 3);
        let host = base[host_end..].split('/').next().unwrap_or_default();
        format!("{}{host}/{}?{parameters}", &base[..host_end], self.name)
    }

    /// A new, empty database, or `None` when there is no server to make it on.
    pub fn new() -> Option<Self> {
        let admin = server()?;
        let name = format!("saidno_test_{}", crate::runtime::unguessable_token().to_lowercase());
        let name: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(60).collect();
        admin_statement(&admin, format!("CREATE DATABASE {name}"));
        let mut config: tokio_postgres::Config = admin.parse().expect("SAIDNO_TEST_DATABASE_URL is a PostgreSQL url");
        config.dbname(&name);
        let url = url_of(&config);
        Some(Self { admin, name, url })
    }

    /// A new database with a store open on it.
    pub fn with_store() -> Option<(Self, PostgresStore)> {
        let database = Self::new()?;
        let store = PostgresStore::open(&database.url).unwrap_or_else(|e| panic!("the test database opens: {e}"));
        Some((database, store))
    }
}

impl TestDb {
    /// Runs `statement` on this database, from outside any store.
    pub fn execute(&self, statement: &str) {
        admin_statement(&self.url, statement.to_owned());
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        admin_statement(&self.admin, format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// Runs one statement on the server, on a thread and runtime of its own, so that it works from a
/// test's runtime or outside one.
fn admin_statement(admin: &str, statement: String) {
    let admin = admin.to_owned();
    std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the test server");
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&admin, NoTls).await.expect("the test server answers");
            tokio::spawn(connection);
            client.batch_execute(&statement).await.unwrap_or_else(|e| panic!("{statement}: {e:?}"));
        })
    })
    .join()
    .expect("the test server took the statement");
}

/// A url for `config`, which the tests' configurations take.
fn url_of(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let password = config.get_password().map(|p| format!(":{}", String::from_utf8_lossy(p))).unwrap_or_default();
    format!("postgres://{user}{password}@{host}:{port}/{}", config.get_dbname().unwrap_or_default())
}
