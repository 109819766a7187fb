//! PostgreSQL's errors as the store's, and the database as messages name it.

use tokio_postgres::config::Host;

use super::super::StoreError;

/// The database as named in messages: host, port and name, without the user or the password.
pub fn shown(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{host}:{port}/{}", config.get_dbname().unwrap_or_default())
}

/// A failure to reach the database at all: the store is unavailable, and the server forwards calls.
pub fn connecting(shown: &str, error: tokio_postgres::Error) -> StoreError {
    if let Some(why) = super::tls::refused_certificate(&error) {
        return StoreError::Unavailable(format!(
            "cannot connect to the PostgreSQL database at {shown}: its certificate is not trusted ({why}): \
             [store] ca_file must name the authority that signed it"
        ));
    }
    StoreError::Unavailable(format!("cannot connect to the PostgreSQL database at {shown}: {}", described(&error)))
}

/// Any other failure of a query. A connection lost, or a server shutting down or not yet taking
/// connections, makes the store unavailable (until it answers again) rather than failed: what was
/// being written can be tried again.
pub fn pg(error: tokio_postgres::Error) -> StoreError {
    if lost(&error) {
        return StoreError::Unavailable(format!("PostgreSQL: {}", described(&error)));
    }
    StoreError::Backend(format!("PostgreSQL: {}", described(&error)))
}

fn lost(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    let io = std::error::Error::source(error).is_some_and(|cause| cause.is::<std::io::Error>());
    // Class 08 is the connection exceptions.
    let refused = error.code().is_some_and(|code| {
        code.code().starts_with("08")
            || [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(code)
    });
    error.is_closed() || io || refused
}

/// The server's own words for a database error (tokio-postgres shows only "db error"), or the
/// error and its cause.
pub fn described(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return db.message().to_owned();
    }
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// A value that could not be written as JSON.
pub fn encoding(error: serde_json::Error) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// A stored value that does not read back.
pub fn decoding(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} in the PostgreSQL database does not read back: {error}"))
}
