//! The TLS flags of `longrun serve`: a certificate and key per plane, and
//! the client CAs that turn on mTLS (docs/security.md).

use std::path::PathBuf;

use clap::Args;

use crate::server::{TlsFiles, TlsSettings};

#[derive(Args, Clone, Debug, Default)]
#[command(next_help_heading = "TLS")]
pub struct TlsArgs {
    /// Serve the public port over TLS with this PEM certificate chain
    /// (server certificate first). SIGHUP reloads it.
    #[arg(long, env = "LONGRUN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert. SIGHUP reloads it.
    #[arg(long, env = "LONGRUN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require public clients to show a certificate signed by a CA in this
    /// PEM file (mTLS); its SAN URI, else DNS name, is the caller's
    /// `subject:` for --policy.
    #[arg(long, env = "LONGRUN_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,

    /// Serve the control port over TLS with this PEM certificate chain.
    /// SIGHUP reloads it.
    #[arg(long, env = "LONGRUN_CONTROL_TLS_CERT", requires = "control_tls_key")]
    pub control_tls_cert: Option<PathBuf>,

    /// The PEM private key of --control-tls-cert. SIGHUP reloads it.
    #[arg(long, env = "LONGRUN_CONTROL_TLS_KEY", requires = "control_tls_cert")]
    pub control_tls_key: Option<PathBuf>,

    /// Require control clients (workers) to show a certificate signed by a
    /// CA in this PEM file (mTLS); its SAN URI, else DNS name, is the
    /// caller's `subject:` for --control-policy.
    #[arg(
        long,
        env = "LONGRUN_CONTROL_TLS_CLIENT_CA",
        requires = "control_tls_cert"
    )]
    pub control_tls_client_ca: Option<PathBuf>,
}

impl TlsArgs {
    pub fn into_settings(self) -> TlsSettings {
        let files = |cert: Option<PathBuf>, key: Option<PathBuf>, client_ca| {
            Some(TlsFiles {
                cert: cert?,
                key: key?,
                client_ca,
            })
        };
        TlsSettings {
            public: files(self.tls_cert, self.tls_key, self.tls_client_ca),
            control: files(
                self.control_tls_cert,
                self.control_tls_key,
                self.control_tls_client_ca,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        tls: TlsArgs,
    }

    #[test]
    fn tls_flags_fill_each_plane() {
        let args = Harness::try_parse_from([
            "t",
            "--tls-cert=c.pem",
            "--tls-key=k.pem",
            "--control-tls-cert=cc.pem",
            "--control-tls-key=ck.pem",
            "--control-tls-client-ca=ca.pem",
        ])
        .expect("flags");
        let settings = args.tls.into_settings();
        let public = settings.public.expect("public");
        assert_eq!(public.cert, PathBuf::from("c.pem"));
        assert_eq!(public.client_ca, None);
        let control = settings.control.expect("control");
        assert_eq!(control.key, PathBuf::from("ck.pem"));
        assert_eq!(control.client_ca, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn tls_cert_without_key_is_refused() {
        assert!(Harness::try_parse_from(["t", "--tls-cert=c.pem"]).is_err());
        assert!(Harness::try_parse_from(["t", "--control-tls-client-ca=ca.pem"]).is_err());
        let none = Harness::try_parse_from(["t"]).expect("no flags");
        assert!(none.tls.into_settings().public.is_none());
    }
}
