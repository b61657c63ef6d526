//! TLS on a listening port: the certificate, key and optional client CA
//! (mTLS) of each plane, loaded at start and reloaded on SIGHUP. The
//! certificate is served through a resolver over an `ArcSwap`, so a reload
//! changes what new handshakes see and leaves open connections alone. ALPN
//! offers `h2` and `http/1.1`, so gRPC, gRPC-Web and REST still share the
//! port. rustls with ring; no OpenSSL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

mod identity;

pub(super) use identity::peer_identity;

/// A certificate that expires sooner than this is warned about, at start
/// and on every reload: a week is time enough to renew it.
const EXPIRY_WARNING: Duration = Duration::from_secs(7 * 24 * 3600);

/// The files of one plane's TLS (`--tls-*` or `--control-tls-*`).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The PEM certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Require client certificates signed by one of these PEM CAs (mTLS).
    pub client_ca: Option<PathBuf>,
}

/// TLS per plane; `None` serves plain HTTP/1.1 and h2c.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    pub public: Option<TlsFiles>,
    pub control: Option<TlsFiles>,
}

/// Why TLS could not be set up or reloaded; names the plane and the file.
#[derive(Debug, thiserror::Error)]
#[error("{plane} TLS: {message}")]
pub struct TlsError {
    plane: &'static str,
    message: String,
}

/// One plane's TLS: the acceptor for new connections and the resolver that
/// a reload swaps the certificate in.
pub struct TlsEndpoint {
    plane: &'static str,
    files: TlsFiles,
    resolver: Arc<Resolver>,
    acceptor: TlsAcceptor,
}

impl TlsEndpoint {
    /// Reads the files now, so a broken set-up fails at start.
    pub fn load(plane: &'static str, files: TlsFiles) -> Result<Self, TlsError> {
        let error = |message: String| TlsError { plane, message };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(&files, &provider).map_err(error)?;
        warn_if_expiring(plane, &files.cert, &key);
        let resolver = Arc::new(Resolver(ArcSwap::from_pointee(key)));
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| error(e.to_string()))?;
        let builder = match &files.client_ca {
            None => builder.with_no_client_auth(),
            Some(path) => {
                let roots = client_roots(path).map_err(error)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| error(format!("client CA {}: {e}", path.display())))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_cert_resolver(Arc::clone(&resolver) as _);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            plane,
            files,
            resolver,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Reads the certificate and key again. On any error the served ones
    /// stay; handshakes under way and open connections are not touched.
    pub fn reload(&self) -> Result<(), TlsError> {
        let provider = rustls::crypto::ring::default_provider();
        let key = certified_key(&self.files, &provider).map_err(|message| TlsError {
            plane: self.plane,
            message,
        })?;
        warn_if_expiring(self.plane, &self.files.cert, &key);
        self.resolver.0.store(Arc::new(key));
        tracing::info!(plane = self.plane, cert = %self.files.cert.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// True when clients must show a certificate from the client CA: the
    /// handshake then authenticates them.
    pub fn requires_client_certificate(&self) -> bool {
        self.files.client_ca.is_some()
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }
}

/// Serves whichever certificate was loaded last, whatever the client asks
/// for (one server name per port).
#[derive(Debug)]
struct Resolver(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The chain and key of `files`, checked to belong together.
fn certified_key(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let chain = certificates(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("cannot read the private key {}: {e}", files.key.display()))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        format!(
            "key {} does not fit certificate {}: {e}",
            files.key.display(),
            files.cert.display()
        )
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(chain)
}

fn client_roots(path: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("client CA {}: {e}", path.display()))?;
    }
    Ok(roots)
}

fn warn_if_expiring(plane: &'static str, path: &Path, key: &CertifiedKey) {
    let Some(not_after) = key.cert.first().and_then(identity::not_after) else {
        return;
    };
    let now = SystemTime::now();
    let expiry = humantime_like(not_after);
    match not_after.duration_since(now) {
        Err(_) => {
            tracing::warn!(plane, cert = %path.display(), not_after = %expiry, "TLS certificate has expired");
        }
        Ok(left) if left < EXPIRY_WARNING => {
            tracing::warn!(plane, cert = %path.display(), not_after = %expiry,
                hours_left = left.as_secs() / 3600, "TLS certificate expires within 7 days");
        }
        Ok(_) => {}
    }
}

/// Seconds since the epoch, as the certificate's `notAfter` reads in logs.
fn humantime_like(at: SystemTime) -> String {
    match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => format!("unix:{}", since.as_secs()),
        Err(_) => "before 1970".to_owned(),
    }
}
