//! The store over TLS (`sslmode` in the url, `[store] ca_file`), on the test server's TLS port.
//! Skipped without `SAIDNO_TEST_DATABASE_TLS_URL` (see `test_db::tls_server`).

use super::test_db::TestDb;
use super::*;

/// Whether the store's own connections are encrypted, as the server sees them.
fn encrypted(store: &PostgresStore) -> bool {
    store
        .block(|shared| async move {
            let connection = shared.connection().await?;
            let row = connection
                .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
                .await
                .map_err(pg)?;
            Ok(row.get(0))
        })
        .unwrap()
}

#[tokio::test]
async fn a_store_over_tls_checked_against_its_authority_logs_and_reads_calls() {
    let Some((database, server)) = TestDb::with_tls() else { return };
    let url = database.url_over(&server);
    assert!(url.contains("sslmode=verify-full"), "{url}");
    let store = PostgresStore::open_with(&url, Some(&server.ca_file)).unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&store));
    store.append_calls(&[CallRecord { call_id: "CA1".into(), ..Default::default() }]).unwrap();
    let page = store.call_page(&CallQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(page.calls.iter().map(|call| call.call_id.as_str()).collect::<Vec<_>>(), ["CA1"]);
}

#[tokio::test]
async fn a_server_whose_certificate_another_authority_signed_is_not_trusted() {
    let Some((database, server)) = TestDb::with_tls() else { return };
    let unrelated = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/unrelated-ca.pem"));
    let error = PostgresStore::open_with(&database.url_over(&server), Some(unrelated)).err().expect("refused");
    let StoreError::Unavailable(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("its certificate is not trusted"), "{message}");
    assert!(message.contains("[store] ca_file must name the authority that signed it"), "{message}");
}

#[tokio::test]
async fn sslmode_require_encrypts_without_a_file_of_authorities() {
    let Some((database, server)) = TestDb::with_tls() else { return };
    let url = database.url_over(&server).replace("sslmode=verify-full", "sslmode=require");
    let store = PostgresStore::open(&url).unwrap_or_else(|e| panic!("{e}"));
    assert!(encrypted(&store));
}

#[tokio::test]
async fn without_sslmode_the_connection_stays_plain() {
    let Some((database, store)) = TestDb::with_store() else { return };
    assert!(!encrypted(&store), "{}", database.url);
}
