//! Outgoing HTTP clients. HTTPS goes through rustls with the ring provider, which builds without
//! any system tools; the provider is chosen once per process, before the first client.

/// A client builder with the TLS provider in place.
pub fn client_builder() -> reqwest::ClientBuilder {
    // Fails only when a provider is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A client with the defaults.
pub fn client() -> reqwest::Client {
    client_builder().build().expect("an HTTP client with default settings builds")
}
