//! `[store] url`, checked when the configuration is read, before anything connects.

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
