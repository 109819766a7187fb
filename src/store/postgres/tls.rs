//! The connection's TLS, as the url's `sslmode` asks (`config::Tls`), through rustls with the
//! ring provider, as outgoing HTTPS (`crate::tls`). The server's certificate is checked against
//! `[store] ca_file` when it is set, else against the system's trusted authorities.

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, Client, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::super::StoreError;
use crate::config::{Tls, read_ca_file};

/// How connections are made: plain, or over TLS with the checks the url asks for.
#[derive(Clone)]
pub enum Connector {
    Plain,
    Rustls(MakeRustlsConnect),
}

/// What a connection says besides the answers to its queries (announcements, mostly), until it
/// ends; it does its work only while this is polled.
pub type Messages = Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

impl Connector {
    pub fn new(tls: Tls, ca_file: Option<&Path>) -> Result<Self, StoreError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Backend(format!("TLS to PostgreSQL: {e}")))?;
        let trusted = || trusted(ca_file);
        let config = match (tls, ca_file) {
            (Tls::Off, _) => return Ok(Self::Plain),
            (Tls::VerifyFull, _) => builder.with_root_certificates(trusted()?).with_no_client_auth(),
            // As PostgreSQL's own clients do: `require` with a file of authorities checks the chain.
            (Tls::VerifyCa, _) | (Tls::Prefer | Tls::Require, Some(_)) => {
                let chain = WebPkiServerVerifier::builder_with_provider(Arc::new(trusted()?), provider)
                    .build()
                    .map_err(|e| StoreError::Unavailable(format!("TLS to PostgreSQL: {e}")))?;
                builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyName(chain))).with_no_client_auth()
            }
            (Tls::Prefer | Tls::Require, None) => {
                let signatures = provider.signature_verification_algorithms;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Unchecked(signatures)))
                    .with_no_client_auth()
            }
        };
        Ok(Self::Rustls(MakeRustlsConnect::new(config)))
    }

    /// A pool of connections with these settings.
    pub fn manager(&self, config: tokio_postgres::Config) -> deadpool_postgres::Manager {
        let recycling = deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast };
        match self {
            Self::Plain => deadpool_postgres::Manager::from_config(config, NoTls, recycling),
            Self::Rustls(tls) => deadpool_postgres::Manager::from_config(config, tls.clone(), recycling),
        }
    }

    /// One connection of its own, with what it says besides its answers.
    pub async fn connect(&self, config: &tokio_postgres::Config) -> Result<(Client, Messages), tokio_postgres::Error> {
        match self {
            Self::Plain => connect_with(config, NoTls).await,
            Self::Rustls(tls) => connect_with(config, tls.clone()).await,
        }
    }
}

async fn connect_with<T>(config: &tokio_postgres::Config, tls: T) -> Result<(Client, Messages), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, mut connection) = config.connect(tls).await?;
    let messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    Ok((client, Box::pin(messages)))
}

/// The authorities a certificate is checked against: `ca_file`'s, or the system's.
fn trusted(ca_file: Option<&Path>) -> Result<RootCertStore, StoreError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let (_, refused) = roots.add_parsable_certificates(read_ca_file(path).map_err(StoreError::Unavailable)?);
            if refused > 0 || roots.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "{} holds a certificate that is not an authority's ([store] ca_file)",
                    path.display()
                )));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err(StoreError::Unavailable(
                    "the system has no trusted certificate authorities to check the PostgreSQL server's certificate \
                     against: set [store] ca_file"
                        .into(),
                ));
            }
        }
    }
    Ok(roots)
}

/// `verify-ca`: a certificate signed by a trusted authority, for whatever name. The chain is
/// checked before the name, so a certificate refused only for its name passed the chain.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            checked => checked,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` and `prefer` without a file of authorities, as PostgreSQL's own clients take them:
/// the connection is encrypted, and whoever answers is not checked. The handshake's signatures
/// still are, so the session is with the holder of the certificate's key.
#[derive(Debug)]
struct Unchecked(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// The certificate the server was refused for, when that is why a connection failed.
pub fn refused_certificate(error: &tokio_postgres::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(error) = cause {
        let found = error
            .downcast_ref::<rustls::Error>()
            .or_else(|| error.downcast_ref::<std::io::Error>()?.get_ref()?.downcast_ref::<rustls::Error>());
        if let Some(rustls::Error::InvalidCertificate(why)) = found {
            return Some(format!("{why:?}"));
        }
        cause = error.source();
    }
    None
}
