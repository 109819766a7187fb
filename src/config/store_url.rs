//! `[store] url` and `[store] ca_file`, checked when the configuration is read, before anything
//! connects.

use std::path::Path;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tokio_postgres::config::SslMode;

/// How the connection to the database is protected, from the url's `sslmode`, as PostgreSQL's
/// own clients read it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tls {
    /// `disable`, or no `sslmode`: a plain connection.
    #[default]
    Off,
    /// `prefer`: TLS when the server offers it, plain otherwise.
    Prefer,
    /// `require`: TLS always; the certificate is checked only against `ca_file` when one is set.
    Require,
    /// `verify-ca`: TLS, with a certificate signed by a trusted authority, whatever name it bears.
    VerifyCa,
    /// `verify-full`: TLS, with a trusted certificate for the host the url names.
    VerifyFull,
}

/// The database's url as a connection's settings.
pub struct StoreUrl {
    pub config: tokio_postgres::Config,
    pub tls: Tls,
}

const SSL_MODES: &str = "disable, prefer, require, verify-ca or verify-full";

/// The url as a connection's settings, or what is wrong with it. The message never repeats the url,
/// which may hold a password.
pub fn check_url(url: &str) -> Result<StoreUrl, String> {
    let form = "postgres://user:password@host:5432/database";
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!("must be a PostgreSQL url such as {form}"));
    }
    // tokio-postgres knows `sslmode` only up to `require`; the checks beyond it are saidno's, so the
    // mode is read here and the rest of the url left to it.
    let (base, parameters) = url.split_once('?').unwrap_or((url, ""));
    let mut tls = Tls::Off;
    let mut kept = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(parameters.as_bytes()) {
        if key == "sslmode" {
            tls = match &*value {
                "disable" => Tls::Off,
                "prefer" => Tls::Prefer,
                "require" => Tls::Require,
                "verify-ca" => Tls::VerifyCa,
                "verify-full" => Tls::VerifyFull,
                _ => return Err(format!("takes sslmode={SSL_MODES}")),
            };
        } else {
            kept.append_pair(&key, &value);
        }
    }
    let kept = kept.finish();
    let rest = if kept.is_empty() { base.to_owned() } else { format!("{base}?{kept}") };
    let mut config: tokio_postgres::Config =
        rest.parse().map_err(|e| format!("is not a PostgreSQL url such as {form} ({e})"))?;
    if config.get_hosts().is_empty() {
        return Err(format!("names no host: write it as {form}"));
    }
    if config.get_dbname().is_none() {
        return Err(format!("names no database: write it as {form}"));
    }
    config.ssl_mode(match tls {
        Tls::Off => SslMode::Disable,
        Tls::Prefer => SslMode::Prefer,
        Tls::Require | Tls::VerifyCa | Tls::VerifyFull => SslMode::Require,
    });
    Ok(StoreUrl { config, tls })
}

/// The certificates of the authorities in `path` (PEM), which the database's certificate must be
/// signed by; what is wrong with the file otherwise.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let certificates = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM file of certificates: {e}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{} holds no certificate (-----BEGIN CERTIFICATE-----)", path.display()));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_is_read_from_the_url_and_the_rest_left_to_the_connection() {
        let read = |url: &str| check_url(url).map(|url| url.tls);
        assert_eq!(read("postgres://saidno@db/saidno"), Ok(Tls::Off));
        assert_eq!(read("postgres://saidno@db/saidno?sslmode=disable"), Ok(Tls::Off));
        assert_eq!(read("postgres://saidno@db/saidno?sslmode=prefer"), Ok(Tls::Prefer));
        assert_eq!(read("postgres://saidno@db/saidno?sslmode=require"), Ok(Tls::Require));
        assert_eq!(read("postgres://saidno@db/saidno?sslmode=verify-ca"), Ok(Tls::VerifyCa));
        let full = check_url("postgres://saidno@db/saidno?connect_timeout=7&sslmode=verify-full").unwrap();
        assert_eq!(full.tls, Tls::VerifyFull);
        assert_eq!(full.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(full.config.get_connect_timeout(), Some(&std::time::Duration::from_secs(7)), "kept");
        assert_eq!(check_url("postgres://saidno@db/saidno").unwrap().config.get_ssl_mode(), SslMode::Disable);
    }

    #[test]
    fn an_sslmode_saidno_does_not_know_is_refused_with_those_it_does() {
        for mode in ["allow", "verify_full", ""] {
            let error = check_url(&format!("postgres://saidno:hunter2@db/saidno?sslmode={mode}")).err().unwrap();
            assert_eq!(error, format!("takes sslmode={SSL_MODES}"));
        }
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused_by_path() {
        let folder = tempfile::tempdir().unwrap();
        let missing = folder.path().join("missing.pem");
        let error = read_ca_file(&missing).err().unwrap();
        assert!(error.starts_with(&format!("cannot read {}", missing.display())), "{error}");
        let empty = folder.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = read_ca_file(&empty).err().unwrap();
        assert!(error.contains("holds no certificate"), "{error}");
    }
}
