//! The client verbs' TLS flags: which CA to trust for an `https://` server
//! and which certificate to show when the server asks for one (mTLS).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

#[derive(Args, Clone, Debug, Default)]
pub struct ClientTlsArgs {
    /// PEM CA certificates to trust for https:// servers [default: the
    /// Mozilla roots built in].
    #[arg(
        long,
        env = "LONGRUN_CA_FILE",
        global = true,
        help_heading = "Global options"
    )]
    pub ca_file: Option<PathBuf>,

    /// PEM client certificate to show an mTLS server (with --key).
    #[arg(
        long,
        env = "LONGRUN_CLIENT_CERT",
        requires = "key",
        global = true,
        help_heading = "Global options"
    )]
    pub cert: Option<PathBuf>,

    /// PEM private key of --cert.
    #[arg(
        long,
        env = "LONGRUN_CLIENT_KEY",
        requires = "cert",
        global = true,
        help_heading = "Global options"
    )]
    pub key: Option<PathBuf>,
}

impl ClientTlsArgs {
    /// The TLS settings of every `https://` connection, read once.
    pub fn load(&self) -> anyhow::Result<ClientTlsConfig> {
        let mut tls = ClientTlsConfig::new();
        tls = match &self.ca_file {
            Some(path) => tls.ca_certificate(Certificate::from_pem(read(path, "--ca-file")?)),
            None => tls.with_enabled_roots(),
        };
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            tls = tls.identity(Identity::from_pem(
                read(cert, "--cert")?,
                read(key, "--key")?,
            ));
        }
        Ok(tls)
    }

    /// True when a flag only makes sense over TLS.
    pub fn any(&self) -> bool {
        self.ca_file.is_some() || self.cert.is_some()
    }
}

fn read(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))
}

/// The TLS settings for `url`: `Some` for `https://`, `None` for
/// `http://`, and an error for TLS flags given with a plain URL (a typo
/// that would otherwise send calls unencrypted without a word).
pub fn for_url(
    url: &str,
    flag: &str,
    tls: &ClientTlsArgs,
) -> anyhow::Result<Option<ClientTlsConfig>> {
    if url.starts_with("https://") {
        return tls.load().map(Some);
    }
    if tls.any() {
        bail!("--ca-file and --cert need an https:// {flag} URL, not {url:?}");
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_flags_with_a_plain_url_are_refused() {
        let tls = ClientTlsArgs {
            ca_file: Some("ca.pem".into()),
            ..ClientTlsArgs::default()
        };
        let err = for_url("http://127.0.0.1:8080", "--server", &tls).expect_err("plain url");
        assert!(err.to_string().contains("https://"), "{err}");
        assert!(
            for_url("http://x", "--server", &ClientTlsArgs::default())
                .expect("plain")
                .is_none()
        );
    }

    #[test]
    fn missing_ca_file_names_the_flag() {
        let tls = ClientTlsArgs {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..ClientTlsArgs::default()
        };
        let err = for_url("https://x", "--server", &tls).expect_err("missing");
        assert!(err.to_string().contains("--ca-file"), "{err}");
    }
}
