//! TLS for every HTTPS client zen makes (providers, `zen stress --url https://…`, `zen top`,
//! OTLP export) is rustls with the `ring` provider: a Rust build, where rustls' default
//! (aws-lc) needs C and cmake. reqwest is built without a provider, so one must be installed
//! before the first client: every constructor of a client calls [`use_ring`] first.

/// Install ring as the process's TLS provider; harmless when one is installed already.
pub fn use_ring() {
    // Err only when a provider is already installed, which is the state we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
