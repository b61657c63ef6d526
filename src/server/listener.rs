//! One listening port: accepts connections and serves HTTP/1.1 and h2 (h2c,
//! or over TLS when the plane has a certificate) on each with the limits
//! tonic leaves open, until told to stop; then drains.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::Request;
use hyper::body::Incoming;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

use super::head_limit::HeadLimit;
use super::refusals::{Enveloped, Refusals};
use super::services::PortService;
use super::tls::{TlsEndpoint, peer_identity};
use super::{Limits, ServerError};

/// Connections the kernel completes and queues before we accept them.
/// tokio's `TcpListener::bind` asks for 128, which a burst of connects
/// (many clients at once, or an attacker opening a thousand) overflows in
/// well under a millisecond; each one dropped then costs its client a 1 s
/// SYN retransmit. The kernel caps this at `net.core.somaxconn`.
const ACCEPT_BACKLOG: u32 = 4096;

/// A bound listener and the address it got (port 0 picks a free one).
pub(super) fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ServerError> {
    let error = |source| ServerError::Bind { addr, source };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(error)?;
    // As `TcpListener::bind` does: a restart may rebind at once, without
    // waiting out the old connections' TIME_WAIT.
    socket.set_reuseaddr(true).map_err(error)?;
    socket.bind(addr).map_err(error)?;
    let listener = socket.listen(ACCEPT_BACKLOG).map_err(error)?;
    let local = listener.local_addr().map_err(error)?;
    Ok((listener, local))
}

/// Accepts connections until `stop`, serving HTTP/1.1 and h2 on one port
/// with the limits tonic leaves open, then drains the open connections.
pub(super) async fn serve(
    listener: TcpListener,
    service: impl PortService,
    limits: Limits,
    tls: Option<Arc<TlsEndpoint>>,
    domain: Arc<str>,
    stop: CancellationToken,
) {
    let builder = connection_builder(&limits);
    let refusals = Arc::new(Refusals::new(&domain, limits.max_http1_head_bytes));
    let service = HeadLimit::new(service, limits.max_header_list_bytes as usize, &domain);
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let (stream, _peer) = match accepted {
            Ok(conn) => conn,
            Err(err) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match &tls {
            None => {
                // No HTTP/1.1 upgrades: nothing here speaks WebSocket, and hyper
                // does not do `Upgrade: h2c` (h2c clients start with the preface).
                let connection = builder
                    .serve_connection(
                        TokioIo::new(Enveloped::new(stream, Arc::clone(&refusals))),
                        TowerToHyperService::new(service.clone()),
                    )
                    .into_owned();
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = watched.await {
                        tracing::debug!(error = %err, "connection ended with an error");
                    }
                });
            }
            Some(tls) => {
                // The handshake runs in the connection's own task, under a
                // timeout, so a slow or silent client holds up nobody else.
                let handshake = Handshake {
                    acceptor: tls.acceptor(),
                    timeout: limits.tls_handshake_timeout,
                    watcher: graceful.watcher(),
                    refusals: Arc::clone(&refusals),
                };
                tokio::spawn(handshake.serve(stream, builder.clone(), service.clone()));
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timeout: closing the remaining connections");
    }
}

struct Handshake {
    acceptor: tokio_rustls::TlsAcceptor,
    timeout: Duration,
    watcher: hyper_util::server::graceful::Watcher,
    refusals: Arc<Refusals>,
}

impl Handshake {
    /// Completes the handshake, then serves the connection, putting the
    /// client certificate's identity (mTLS) on each of its requests.
    async fn serve(
        self,
        stream: TcpStream,
        builder: auto::Builder<TokioExecutor>,
        service: impl PortService,
    ) {
        let stream = match tokio::time::timeout(self.timeout, self.acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!("TLS handshake timed out");
                return;
            }
        };
        let peer = peer_identity(stream.get_ref().1);
        let service =
            tower::ServiceExt::map_request(service, move |mut request: Request<Incoming>| {
                if let Some(peer) = &peer {
                    request.extensions_mut().insert(peer.clone());
                }
                request
            });
        let connection = builder
            .serve_connection(
                TokioIo::new(Enveloped::new(stream, self.refusals)),
                TowerToHyperService::new(service),
            )
            .into_owned();
        if let Err(err) = self.watcher.watch(connection).await {
            tracing::debug!(error = %err, "connection ended with an error");
        }
    }
}

fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_http1_head_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .max_local_error_reset_streams(limits.max_local_error_resets)
        .max_pending_accept_reset_streams(limits.max_pending_accept_resets)
        .max_header_list_size(limits.max_header_list_bytes)
        .keep_alive_interval(Some(Duration::from_secs(30)));
    builder
}
