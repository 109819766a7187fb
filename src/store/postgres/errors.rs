//! PostgreSQL's errors as the store's, and the url checked before anything connects.

use tokio_postgres::config::Host;

use super::super::StoreError;

/// The url as a connection's settings, or what is wrong with it. The message never repeats the url,
/// which may hold a password.
pub fn check_url(url: &str) -> Result<tokio_postgres::Config, String> {
    let form = "postgres://user:password@host:5432/database";
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!("must be a PostgreSQL url such as {form}"));
    }
    let config: tokio_postgres::Config =
        url.parse().map_err(|e| format!("is not a PostgreSQL url such as {form} ({e})"))?;
    if config.get_hosts().is_empty() {
        return Err(format!("names no host: write it as {form}"));
    }
    if config.get_dbname().is_none() {
        return Err(format!("names no database: write it as {form}"));
    }
    Ok(config)
}

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
    StoreError::Unavailable(format!("cannot connect to the PostgreSQL database at {shown}: {}", described(&error)))
}

/// Any other failure of a query.
pub fn pg(error: tokio_postgres::Error) -> StoreError {
    if error.is_closed() {
        return StoreError::Unavailable(format!("PostgreSQL: {}", described(&error)));
    }
    StoreError::Backend(format!("PostgreSQL: {}", described(&error)))
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
