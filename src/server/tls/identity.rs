//! What a certificate says that the server uses: the client's identity
//! (its first SAN URI, e.g. a SPIFFE id, else its first SAN DNS name) and
//! when a certificate stops being valid.

use std::time::{Duration, SystemTime};

use rustls::pki_types::CertificateDer;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::auth::PeerIdentity;

/// The verified client certificate's identity, when the handshake had
/// one; `None` for a certificate without a SAN URI or DNS name (the
/// caller is then unauthenticated wherever a policy applies).
pub fn peer_identity(connection: &rustls::ServerConnection) -> Option<PeerIdentity> {
    let cert = connection.peer_certificates()?.first()?;
    let subject = subject(cert);
    if subject.is_none() {
        tracing::debug!("client certificate has no SAN URI or DNS name: no principal");
    }
    Some(PeerIdentity::new(subject?, not_after(cert)))
}

fn subject(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let names = parsed.subject_alternative_name().ok()??;
    let names = &names.value.general_names;
    let uri = names.iter().find_map(|name| {
        if let GeneralName::URI(uri) = name {
            Some(*uri)
        } else {
            None
        }
    });
    let dns = || {
        names.iter().find_map(|name| {
            if let GeneralName::DNSName(dns) = name {
                Some(*dns)
            } else {
                None
            }
        })
    };
    uri.or_else(dns).map(str::to_owned)
}

/// The certificate's `notAfter`.
pub fn not_after(cert: &CertificateDer<'_>) -> Option<SystemTime> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let seconds = parsed.validity().not_after.timestamp();
    let seconds = u64::try_from(seconds).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}
