//! HTTPS: the certificate and key from the configuration, reloadable.
//!
//! [`TlsCertificates`] holds the current rustls configuration. It is read
//! once per accepted connection, so [`TlsCertificates::reload`] (on SIGHUP)
//! takes effect for the next connection while connections already open
//! keep the certificate they started with. A reload that fails (a missing
//! file, a key that does not match the certificate) keeps the certificate
//! in use and says why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};

/// `[tls]`: HTTPS listeners and their certificate.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Addresses to serve HTTPS on.
    pub listen: Vec<std::net::SocketAddr>,
    /// The certificate chain, PEM, leaf first (e.g. Let's Encrypt's
    /// `fullchain.pem`).
    pub cert: PathBuf,
    /// The private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("tls.{setting} = {path}: {detail}")]
    File {
        /// `cert` or `key`.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, with what to do.
        detail: String,
    },
    /// rustls refused the pair (most often: the key is not the
    /// certificate's).
    #[error(
        "tls.cert = {cert} and tls.key = {key} cannot be used together: {source}; check that the key belongs to the certificate"
    )]
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        #[source]
        source: rustls::Error,
    },
}

/// The certificate in use, swapped whole by [`TlsCertificates::reload`].
#[derive(Debug)]
pub struct TlsCertificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

impl TlsCertificates {
    /// Loads the certificate and key of `config`.
    ///
    /// # Errors
    ///
    /// [`TlsError`] naming the file and what is wrong with it.
    pub fn load(config: &TlsConfig) -> Result<Self, TlsError> {
        let current = server_config(&config.cert, &config.key)?;
        Ok(Self {
            cert: config.cert.clone(),
            key: config.key.clone(),
            current: RwLock::new(Arc::new(current)),
        })
    }

    /// Reads the files again and, when they are usable, serves the new
    /// certificate to the next connections.
    ///
    /// # Errors
    ///
    /// [`TlsError`]; the certificate in use is kept.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(server_config(&self.cert, &self.key)?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// An acceptor with the current certificate.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        let config = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        TlsAcceptor::from(config)
    }
}

fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let file_error = |setting, path: &Path, detail: String| TlsError::File {
        setting,
        path: path.to_path_buf(),
        detail,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| file_error("cert", cert, format!("cannot read a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(file_error(
            "cert",
            cert,
            "holds no CERTIFICATE block; give the PEM certificate chain".into(),
        ));
    }
    let private_key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        file_error(
            "key",
            key,
            format!("cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}"),
        )
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let pair = |source| TlsError::Pair {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(pair)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(pair)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
